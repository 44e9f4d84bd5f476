/**
 * An image's fstab for a system that runs without the image's disk (a container, a live ISO): the
 * entries naming its partitions (UUID=, PARTUUID=, PARTLABEL=, LABEL=, /dev/...) would send systemd
 * waiting for devices that never come, or remounting the root by them; tmpfs, bind and network
 * entries stay.
 */
export function disklessFstab(fstab: string, why: string): string {
  const kept = fstab.split('\n').filter((line) => !/^\s*(UUID=|PARTUUID=|PARTLABEL=|LABEL=|\/dev\/)/.test(line));
  return `# ${why}\n${kept.join('\n')}`;
}
