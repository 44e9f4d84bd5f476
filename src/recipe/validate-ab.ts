/**
 * Rules for the A/B layout: GRUB on UEFI counts a new slot's boots in its environment block on the
 * ESP, a slot is a fixed-size ext4 root that carries its own kernel, and OSTree is the other way to
 * update (one or the other).
 */
import { slotName, SLOTS } from '../disk/slots.js';
import { parseSize } from './sizes.js';
import type { Recipe } from './schema.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

export function validateAb(recipe: Recipe, fail: Fail): void {
  if (recipe.disk.layout !== 'ab') return;
  const parts = recipe.disk.partitions;
  if (recipe.bootloader !== 'grub-efi') fail(['bootloader'], `${show(recipe.bootloader)} cannot switch slots: an A/B disk boots with GRUB, which counts a new slot's boots in its environment block on the ESP; use bootloader: grub-efi`);
  if (recipe.disk.table !== 'gpt') fail(['disk', 'table'], 'an A/B disk needs table: gpt (the kernel finds a slot by its GPT partition name)');
  if (recipe.ostree) fail(['ostree'], 'cannot go with disk.layout: ab: OSTree updates a device by deployments in one root file system; choose one of them');
  if (recipe.secure_boot !== undefined) fail(['secure_boot'], 'cannot go with disk.layout: ab yet: the signed boot chain reads its grub.cfg from the root file system, and an A/B disk keeps GRUB on the ESP; remove secure_boot');
  const root = parts.findIndex((p) => p.mount === '/');
  const rootPart = parts[root];
  if (rootPart) {
    const size = parseSize(rootPart.size);
    if (size === 'rest' || (size !== undefined && 'percent' in size)) fail(['disk', 'partitions', root, 'size'], `${show(rootPart.size)}: a slot needs a fixed size, the same for both slots and for every update (e.g. size: 2G)`);
    if (rootPart.grow) fail(['disk', 'partitions', root, 'grow'], 'a slot cannot grow: both slots keep the size every update image is made for; remove grow');
    if (rootPart.label !== undefined) fail(['disk', 'partitions', root, 'label'], `is set by kiln on an A/B disk (${SLOTS.map(slotName).join(', ')}: GRUB finds each slot by it); remove label`);
  }
  const boot = parts.findIndex((p) => p.mount === '/boot');
  if (boot >= 0) fail(['disk', 'partitions', boot, 'mount'], '"/boot" cannot be a partition of its own on an A/B disk: each slot carries its own kernel in its /boot; remove this partition');
  parts.forEach((p, i) => {
    if (p.mount !== '/' && SLOTS.some((slot) => slotName(slot) === p.name)) fail(['disk', 'partitions', i, 'name'], `${show(p.name)} is the name kiln gives a slot; name this partition otherwise`);
  });
}
