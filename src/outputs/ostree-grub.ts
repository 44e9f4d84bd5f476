/**
 * GRUB's menu for a deployed OSTree sysroot, made from the boot entries `ostree admin deploy`
 * writes (Boot Loader Specification files in boot/loader/entries). Debian's GRUB has no blscfg
 * module to read them itself, so kiln turns each into a menu entry, the newest deployment first.
 */
import { grubMenu } from './grub-menu.js';

export interface BootEntry {
  title: string;
  /** OSTree numbers its entries: the highest is the newest deployment, the default. */
  version: number;
  linux: string;
  initrd: string;
  options: string;
}

/** One entry file: `key value` lines; a missing key the menu needs is an error naming the file. */
export function parseBootEntry(name: string, text: string): BootEntry {
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+)\s+(.*?)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined && !line.trimStart().startsWith('#')) keys.set(m[1], m[2]);
  }
  const need = (key: string): string => {
    const value = keys.get(key);
    if (value === undefined) throw new Error(`boot entry ${name} has no ${key} line`);
    return value;
  };
  return { title: keys.get('title') ?? name, version: Number(keys.get('version') ?? 0), linux: need('linux'), initrd: need('initrd'), options: need('options') };
}

/** `bootPath`: where the entries' paths (relative to OSTree's /boot) start on the file system with that UUID. */
export function deploymentGrubCfg(o: { bootUuid: string; bootPath: string; serial: boolean; entries: BootEntry[] }): string {
  const newestFirst = [...o.entries].sort((a, b) => b.version - a.version);
  return grubMenu(
    'Written by kiln from the boot entries of the OSTree deployments (loader/entries).',
    o,
    newestFirst.map((e) => ({ title: e.title, linux: `${o.bootPath}${e.linux} ${e.options}`, initrd: `${o.bootPath}${e.initrd}` })),
  );
}

/**
 * /boot/grub/grub.cfg of a deployed disk, which never changes: it reads the menu of the current
 * boot configuration. OSTree swaps the `loader` link (to loader.0 or loader.1) at every deployment
 * change, and on the device writes that folder's grub.cfg with grub-mkconfig (its grub2 backend);
 * kiln writes the first one (deploymentGrubCfg) at build time, where grub-mkconfig has no devices.
 */
export function loaderGrubCfg(o: { bootPath: string }): string {
  return [
    '# Written by kiln. The menu is the current OSTree boot configuration\'s (loader links to',
    '# loader.0 or loader.1); ostree admin upgrade writes the next one with grub-mkconfig.',
    `source ${o.bootPath}/loader/grub.cfg`,
    '',
  ].join('\n');
}

/**
 * /etc/default/grub for grub-mkconfig on the device (kiln writes none elsewhere): the first entry,
 * the newest deployment, boots at once; every kernel argument is in the deployments' own boot
 * entries, so none are added here.
 */
export function grubDefaults(o: { serial: boolean }): string {
  return [
    '# Written by kiln: read by grub-mkconfig when OSTree rewrites the boot menu (ostree admin upgrade).',
    'GRUB_DEFAULT=0',
    'GRUB_TIMEOUT=0',
    'GRUB_CMDLINE_LINUX_DEFAULT=""',
    'GRUB_CMDLINE_LINUX=""',
    'GRUB_DISABLE_OS_PROBER=true',
    'GRUB_DISABLE_RECOVERY=true',
    ...(o.serial ? ['GRUB_TERMINAL="serial console"', 'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"'] : []),
    '',
  ].join('\n');
}

/** An empty GRUB environment block (what grub-editenv create writes): 1024 bytes GRUB can rewrite in place. */
export function grubEnvBlock(vars: Record<string, string> = {}): string {
  const head = ['# GRUB Environment Block', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ''].join('\n');
  if (head.length > 1024) throw new Error('the GRUB environment block holds 1024 bytes');
  return head.padEnd(1024, '#');
}
