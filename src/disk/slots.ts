/**
 * The A/B layout (disk.layout: ab): the partition mounted at "/" is slot A, renamed system_a, and
 * slot B, system_b, follows it with the same size and type and no file system (an update fills it).
 * GRUB finds a slot by its file system's label, the kernel by its partition name (PARTLABEL), and
 * udev links the running one to /dev/disk/by-slot/active and the other to /dev/disk/by-slot/other.
 */
export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];
export const slotName = (slot: Slot) => `system_${slot}`;

interface PartitionLike {
  name: string;
  type: string;
  size: string;
  mount?: string | undefined;
  fs?: string | undefined;
  label?: string | undefined;
  grow: boolean;
}

/** The partitions as the disk holds them: unchanged for a plain layout. */
export function withSlots<P extends PartitionLike>(partitions: P[], layout: string): P[] {
  if (layout !== 'ab') return partitions;
  return partitions.flatMap((p) => {
    if (p.mount !== '/') return [p];
    const a = { ...p, name: slotName('a'), label: slotName('a') };
    // Slot B is a copy of A's entry without its file system: nothing mounts or fills it at build time.
    const b = { ...p, name: slotName('b'), grow: false };
    delete b.mount;
    delete b.fs;
    delete b.label;
    return [a, b];
  });
}
