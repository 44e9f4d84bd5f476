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
