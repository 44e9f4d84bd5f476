/**
 * A grub.cfg that boots its first entry at once from the file system with `bootUuid`, on the
 * serial console too when asked: the grub stage writes one for the tree's kernel, ostree-deploy
 * one for each deployment.
 */
export interface MenuEntry {
  title: string;
  /** The kernel's path and its command line. */
  linux: string;
  initrd: string;
}

export function grubMenu(comment: string, o: { bootUuid: string; serial: boolean }, entries: MenuEntry[]): string {
  return [
    `# ${comment}`,
    ...(o.serial ? ['serial --unit=0 --speed=115200', 'terminal_input serial console', 'terminal_output serial console'] : []),
    'set default=0',
    'set timeout=0',
    'insmod part_gpt',
    'insmod part_msdos',
    'insmod ext2',
    `search --no-floppy --fs-uuid --set=root ${o.bootUuid}`,
    ...entries.flatMap((e) => [`menuentry '${e.title.replace(/'/g, '')}' {`, `  linux ${e.linux}`, `  initrd ${e.initrd}`, '}']),
    '',
  ].join('\n');
}
