/**
 * Rules that the schema alone cannot say: supported values, names, sizes, the disk layout as a
 * whole, and files that must exist. Every rule reports the key path; nothing here runs a command.
 */
import { archInfo } from '../arch/table.js';
import { ALLOWED, BOOTLOADERS, buildsDisk } from './allowed.js';
import { resolveGptType } from '../disk/guid.js';
import { resolveMbrType } from '../disk/mbr.js';
import { LayoutError, resolveLayout, MiB } from '../disk/layout.js';
import { resolveInside } from './files.js';
import { hookNameProblem } from './hook-names.js';
import { imageHostname } from './hostname.js';
import type { Origin } from './origins.js';
import { HOOK_PHASES, type Recipe } from './schema.js';
import { parseDiskSize, parseSize, sizeProblem, startOf } from './sizes.js';
import { show, type Issue, type KeyPath } from './source.js';
import { validateInstaller, validateLiveIso, validateRelease, validateSecureBoot, validateUki } from './validate-boot.js';
import { validateSystem } from './validate-system.js';
import { validateAnsible } from './validate-ansible.js';
import { validateAb } from './validate-ab.js';
import { validateHealth } from './validate-health.js';
import { withSlots } from '../disk/slots.js';
import { madeForDisk, validateOstree } from './validate-ostree.js';

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$/;
const SERVICE = /^[A-Za-z0-9@._:-]+$/;
const TIMEZONE = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;
const LOCALE = /^(C|POSIX|C\.UTF-8|[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?)$/;
const CRYPT = /^\$(6|5|y|2[aby])\$[./A-Za-z0-9$=,]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ESP_MOUNTS = ['/boot/efi', '/efi', '/boot'];

/**
 * `originOf` says which file wrote a value and the folder its relative paths start from; `service`:
 * the recipe came over the network, so paths outside its own folder are refused unread.
 */
export function validate(recipe: Recipe, originOf: (path: KeyPath) => Origin, service = false): Issue[] {
  const issues: Issue[] = [];
  const fail = (path: KeyPath, message: string) => issues.push({ path, message });

  // Which values each key takes, the schema (from ALLOWED) has checked: here, how they combine.
  recipe.outputs.forEach((o, i) => recipe.outputs.indexOf(o) !== i && fail(['outputs', i], `${show(o)} is listed twice`));
  if (!recipe.outputs.length) fail(['outputs'], `is empty; give at least one (${ALLOWED.output.values.join(', ')})`);
  const disk = buildsDisk(recipe.outputs);

  // The value the image gets is checked, so a name is judged by the hostname made from it.
  const hostname = imageHostname(recipe);
  if (hostname.length > 253 || !hostname.split('.').every((label) => HOST_LABEL.test(label))) {
    const rule = 'letters, digits and "-", not first or last, at most 63 per dot-separated label';
    if (recipe.hostname !== undefined) fail(['hostname'], `${show(hostname)} is not a valid hostname (${rule})`);
    else fail(['name'], `gives the image the hostname ${show(hostname)}, which is not valid (${rule}); set hostname: or change the name`);
  }
  if (!TIMEZONE.test(recipe.timezone)) fail(['timezone'], `${show(recipe.timezone)} is not a time zone (e.g. Etc/UTC, Europe/Berlin)`);
  if (!LOCALE.test(recipe.locale)) fail(['locale'], `${show(recipe.locale)} is not a locale (e.g. C.UTF-8, en_US.UTF-8)`);
  recipe.packages.forEach((p, i) => PACKAGE.test(p) || fail(['packages', i], `${show(p)} is not a Debian package name (e.g. openssh-server, vim=2:9.0.1378-2)`));
  for (const key of ['exclude', 'include'] as const) {
    recipe[key].forEach((p, i) => p.startsWith('/') || fail([key, i], `${show(p)} must be an absolute path pattern (e.g. /usr/share/doc/*)`));
  }
  for (const key of ['enable', 'disable'] as const) {
    recipe.services[key].forEach((s, i) => SERVICE.test(s) || fail(['services', key, i], `${show(s)} is not a systemd unit name`));
  }

  validateUsers(recipe, fail);
  validateFiles(recipe, originOf, fail);
  validateSystem(recipe, originOf, fail);
  HOOK_PHASES.forEach((phase) =>
    recipe.hooks[phase].forEach((hook, i) => {
      const path = ['hooks', phase, i];
      const badName = hookNameProblem(hook.slice(hook.lastIndexOf('/') + 1));
      const found = inside(originOf(path), hook);
      if (badName) fail(path, `${show(hook)} ${badName}, so it never runs as a hook (rename it)`);
      else if ('error' in found) fail(path, `${show(hook)} ${found.error}`);
      else if (found.kind !== 'file') fail(path, `${show(hook)} is a directory, not a script`);
    }),
  );
  recipe.kernel.initramfs_modules.forEach((m, i) => /^[A-Za-z0-9_-]+$/.test(m) || fail(['kernel', 'initramfs_modules', i], `${show(m)} is not a kernel module name (e.g. virtio_blk)`));
  recipe.kernel.cmdline.forEach((arg, i) => /^\S+$/.test(arg) || fail(['kernel', 'cmdline', i], `${show(arg)} contains spaces; give one argument per list item`));
  if (recipe.kernel.package === 'none' && recipe.bootloader !== 'none') {
    fail(['kernel', 'package'], `"none" needs bootloader: none (a ${recipe.bootloader} image boots a kernel)`);
  } else if (recipe.kernel.package !== 'none' && !PACKAGE.test(recipe.kernel.package)) {
    fail(['kernel', 'package'], `${show(recipe.kernel.package)} is not a Debian package name`);
  }
  validateRelease(recipe, fail);
  validateAnsible(recipe, originOf, fail);
  validateUki(recipe, disk, fail);
  validateLiveIso(recipe, fail);
  validateInstaller(recipe, fail);
  validateOstree(recipe, originOf(['ostree']), service, fail);
  validateHealth(recipe, originOf, fail);
  const imageSources = recipe.files.flatMap((f, i) => {
    const found = f.src === undefined ? undefined : inside(originOf(['files', i]), f.src);
    return found && 'path' in found ? [found.path] : [];
  });
  if (recipe.secure_boot !== undefined) validateSecureBoot(recipe, originOf(['secure_boot']), imageSources, fail);
  if (madeForDisk(recipe)) validateDisk(recipe, fail);
  if (disk) {
    validateAb(recipe, fail);
  } else {
    const none = `outputs ${recipe.outputs.join(', ')} make none`;
    if (recipe.hooks.image.length) fail(['hooks', 'image'], `image hooks work on the disk image, and ${none} (add raw or qcow2, or use a cleanup hook)`);
    if (recipe.disk.layout === 'ab') fail(['disk', 'layout'], `lays out a disk, and ${none} (add raw or qcow2)`);
  }
  return issues;
}

type Fail = (path: KeyPath, message: string) => void;

function validateUsers(recipe: Recipe, fail: Fail): void {
  if (recipe.root_password !== undefined && recipe.root_password_hash !== undefined) {
    fail(['root_password_hash'], 'give root_password or root_password_hash, not both');
  }
  if (recipe.root_password_hash !== undefined && !CRYPT.test(recipe.root_password_hash)) {
    fail(['root_password_hash'], 'is not a crypt(3) hash (make one with: openssl passwd -6)');
  }
  const seen = new Set<string>();
  recipe.users.forEach((user, i) => {
    if (!USER.test(user.name) || user.name === 'root') {
      fail(['users', i, 'name'], `${show(user.name)} is not a valid user name (lowercase letters, digits, "_" and "-", starting with a letter; not root)`);
    } else if (seen.has(user.name)) fail(['users', i, 'name'], `${show(user.name)} is listed twice`);
    seen.add(user.name);
    if (user.password !== undefined && user.password_hash !== undefined) fail(['users', i], 'give password or password_hash, not both');
    if (user.password_hash !== undefined && !CRYPT.test(user.password_hash)) {
      fail(['users', i, 'password_hash'], 'is not a crypt(3) hash (make one with: openssl passwd -6)');
    }
    user.groups.forEach((g, j) => USER.test(g) || fail(['users', i, 'groups', j], `${show(g)} is not a valid group name`));
    if (!user.shell.startsWith('/')) fail(['users', i, 'shell'], `${show(user.shell)} must be an absolute path (e.g. /bin/bash)`);
    user.ssh_keys.forEach((k, j) => /^(ssh-|ecdsa-|sk-)\S+ \S+/.test(k) || fail(['users', i, 'ssh_keys', j], `${show(k)} is not an OpenSSH public key ("ssh-ed25519 AAAA... comment")`));
  });
}

/** A path named by the recipe or a layer, resolved inside that file's own folder. */
function inside(origin: Origin, name: string) {
  return resolveInside(origin.folder, name, origin.name === 'recipe' ? 'recipe' : 'layer');
}

function validateFiles(recipe: Recipe, originOf: (path: KeyPath) => Origin, fail: Fail): void {
  recipe.files.forEach((file, i) => {
    if (!file.dst.startsWith('/') || file.dst.split('/').includes('..')) {
      fail(['files', i, 'dst'], `${show(file.dst)} must be an absolute path in the image without ".."`);
    }
    if ((file.src === undefined) === (file.content === undefined)) {
      fail(['files', i], 'give exactly one of src (a file or folder next to the recipe) or content (inline text)');
      return;
    }
    if (file.src === undefined) return;
    const found = inside(originOf(['files', i]), file.src);
    if ('error' in found) fail(['files', i, 'src'], `${show(file.src)} ${found.error}`);
    else if (found.kind === 'dir' && file.mode !== undefined) fail(['files', i, 'mode'], 'applies to single files; set modes on the files inside the folder');
  });
}

function validateDisk(recipe: Recipe, fail: Fail): void {
  const { disk } = recipe;
  const mbr = disk.table === 'mbr';
  if (disk.id !== undefined && !(mbr ? /^[0-9a-f]{8}$/i.test(disk.id) : UUID.test(disk.id))) {
    fail(['disk', 'id'], `${show(disk.id)} is not ${mbr ? 'an MBR disk id (8 hex digits, e.g. 4b494c4e)' : 'a GUID'}`);
  }
  if (mbr && disk.partitions.length > 4) fail(['disk', 'partitions'], `an MBR holds at most 4 primary partitions and this disk has ${disk.partitions.length} (use table: gpt)`);
  const diskSize = parseDiskSize(disk.size);
  if (diskSize === undefined) fail(['disk', 'size'], sizeProblem(disk.size, 'examples: auto, 2G, 1500M'));

  const names = new Set<string>();
  const mounts = new Map<string, number>();
  let sizesOk = true;
  disk.partitions.forEach((part, i) => {
    const at = (key: string): KeyPath => ['disk', 'partitions', i, key];
    if (names.has(part.name)) fail(at('name'), `${show(part.name)} is used by two partitions`);
    names.add(part.name);
    if (mbr && part.type === 'bios-boot') fail(at('type'), '"bios-boot" is a GPT partition type; on an MBR disk grub-bios puts its core image in the gap before the first partition');
    else if (mbr && resolveMbrType(part.type) === undefined) {
      const byte = /^0x[0-9a-f]{1,2}$/i.test(part.type) ? Number(part.type) : undefined;
      const why = byte === 0xee ? ' (0xee marks a GPT disk: Linux would ignore every partition)' : byte !== undefined && [0x05, 0x0f, 0x85].includes(byte) ? ' (an extended partition: kiln writes primary partitions only)' : '';
      fail(at('type'), `${show(part.type)} is not an MBR partition type${why} (esp, root, swap, linux, xbootldr, data, home, srv, or a type byte such as 0x83)`);
    } else if (!mbr && !resolveGptType(part.type)) {
      fail(at('type'), `${show(part.type)} is not a partition type (esp, root, swap, linux, bios-boot, xbootldr, data, home, srv, or a GPT type GUID)`);
    }
    if (!mbr && part.bootable !== undefined) fail(at('bootable'), 'is for MBR disks (table: mbr); GPT has no boot flag');
    if (parseSize(part.size) === undefined) {
      fail(at('size'), sizeProblem(part.size));
      sizesOk = false;
    }
    if ((part.fs === 'squashfs' || part.fs === 'erofs') && part.mount === undefined) fail(at('mount'), `a ${part.fs} file system is made from its mount point's folder: give it a mount`);
    if (part.fs === 'erofs' && part.label !== undefined) fail(at('label'), "erofs-utils 1.5 (Debian 12) cannot set a label; remove label (the file system's UUID finds it)");
    if (part.fs === 'swap' && part.mount !== undefined) fail(at('mount'), 'swap is not mounted; remove mount');
    if (part.mount !== undefined) {
      if (!part.mount.startsWith('/') || part.mount.split('/').includes('..')) fail(at('mount'), `${show(part.mount)} must be an absolute path`);
      else if (mounts.has(part.mount)) fail(at('mount'), `${show(part.mount)} is mounted by partitions ${mounts.get(part.mount)} and ${i}`);
      if (part.fs === undefined) fail(at('fs'), `is required for a mounted partition (${ALLOWED.fs.values.filter((f) => f !== 'swap').join(', ')})`);
      mounts.set(part.mount, i);
    }
    if (part.uuid !== undefined && !UUID.test(part.uuid)) fail(at('uuid'), `${show(part.uuid)} is not a UUID`);
    if (part.partuuid !== undefined && (mbr || !UUID.test(part.partuuid))) fail(at('partuuid'), mbr ? 'is for GPT; on MBR the PARTUUID is the disk id and the partition number' : `${show(part.partuuid)} is not a GUID`);
    const start = part.start === undefined ? undefined : parseSize(part.start);
    if (part.start !== undefined && (start === undefined || start === 'rest' || !('bytes' in start) || start.bytes % MiB !== 0)) {
      fail(at('start'), `${show(part.start)} is not a start (a size from the start of the disk in whole MiB, e.g. 1M, 4M, 1G)`);
      sizesOk = false;
    }
    const maxLabel = part.fs === 'vfat' ? 11 : 16;
    if (part.label !== undefined && part.label.length > maxLabel) fail(at('label'), `${show(part.label)} is longer than ${maxLabel} characters (the ${part.fs ?? 'file system'} limit)`);
    if (part.grow && part.mount !== '/') fail(at('grow'), 'only the root partition (mount: /) can grow on first boot');
    else if (part.grow && i !== disk.partitions.length - 1) fail(at('grow'), 'a growing partition needs the free space after it: make it the last partition');
  });

  const root = mounts.get('/');
  if (root === undefined) fail(['disk', 'partitions'], 'no partition is mounted at "/" (add one with mount: /)');
  else if (disk.partitions[root]?.fs !== 'ext4') fail(['disk', 'partitions', root, 'fs'], 'the root file system must be ext4');
  const { uefi, bios } = BOOTLOADERS[recipe.bootloader];
  if (bios && !archInfo(recipe.arch).grubBios) {
    fail(['bootloader'], `${recipe.bootloader} boots PCs with a BIOS; ${recipe.arch} machines have none (use systemd-boot or grub-efi)`);
  } else if (recipe.bootloader === 'grub-hybrid' && mbr) fail(['bootloader'], 'grub-hybrid makes one GPT disk that boots with BIOS and UEFI; it needs table: gpt');
  else if (bios && !mbr && !disk.partitions.some((p) => resolveGptType(p.type) === resolveGptType('bios-boot'))) {
    fail(['disk', 'partitions'], `${recipe.bootloader} on a GPT disk needs a bios-boot partition for its core image (add { name: bios, type: bios-boot, size: 1M } first, or use table: mbr)`);
  }
  if (recipe.bootloader === 'rpi-firmware') {
    if (!['arm64', 'armhf'].includes(recipe.arch)) fail(['bootloader'], `rpi-firmware boots Raspberry Pis, which are arm64 or armhf; this recipe builds ${recipe.arch} (set arch: arm64)`);
    if (!mbr) fail(['disk', 'table'], 'rpi-firmware needs table: mbr (the Raspberry Pi 3 boot ROM reads only MBR disks)');
    const firmware = disk.partitions.findIndex((p) => p.mount === '/boot/firmware');
    if (firmware < 0) fail(['disk', 'partitions'], 'rpi-firmware needs a FAT partition for the firmware (add { name: firmware, type: fat32, size: 512M, fs: vfat, mount: /boot/firmware } first)');
    else if (disk.partitions[firmware]?.fs !== 'vfat') fail(['disk', 'partitions', firmware, 'fs'], 'the Raspberry Pi firmware partition needs fs: vfat');
  }
  if (uefi || recipe.kernel.uki) {
    const esp = disk.partitions.findIndex((p) => (mbr ? resolveMbrType(p.type) === resolveMbrType('esp') : resolveGptType(p.type) === resolveGptType('esp')));
    if (esp < 0) fail(['disk', 'partitions'], `${uefi ? recipe.bootloader : 'a unified kernel image (kernel.uki)'} needs an EFI system partition (add { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi })`);
    else if (disk.partitions[esp]?.fs !== 'vfat' || !ESP_MOUNTS.includes(disk.partitions[esp]?.mount ?? '')) {
      fail(['disk', 'partitions', esp], `the EFI system partition needs fs: vfat and mount: ${ESP_MOUNTS.join(' or ')}`);
    }
  }

  if (!sizesOk || diskSize === undefined) return;
  // An A/B disk holds slot B after the root: sized with it, reported at the root's entry.
  const ab = disk.layout === 'ab' && root !== undefined;
  const slotSize = ab ? parseSize(disk.partitions[root]?.size ?? '') : undefined;
  if (ab && (slotSize === 'rest' || (slotSize !== undefined && 'percent' in slotSize))) return;
  try {
    resolveLayout({
      diskSize,
      partitions: withSlots(disk.partitions, disk.layout).map((p) => ({ name: p.name, size: parseSize(p.size) ?? 'rest', minBytes: MiB, ...startOf(p.start) })),
    });
  } catch (err) {
    if (!(err instanceof LayoutError)) throw err;
    const index = ab && err.partition !== undefined && err.partition > root ? err.partition - 1 : err.partition;
    const path: KeyPath = index === undefined ? ['disk', 'size'] : ['disk', 'partitions', index, err.key ?? 'size'];
    fail(path, err.message);
  }
}
