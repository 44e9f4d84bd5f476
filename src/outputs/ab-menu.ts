/**
 * GRUB's half of the A/B layout: a grub.cfg on the ESP that picks the slot to boot from the
 * environment block beside it, and that block's first content. kiln-ab (the ab layer) starts a
 * trial of the other slot (kiln_try, boot_counter); each boot of it takes one from the counter,
 * Debian's GRUB having no arithmetic; with none left GRUB gives up on it (kiln_failed) and boots
 * kiln_slot, the last good one. kiln-health makes a healthy trial slot kiln_slot.
 */
import { SLOTS } from '../disk/slots.js';

/** The most boots health.boot_tries gives a trial; the menu counts down from any of them. */
const MAX_TRIES = 9;
/** Where the ESP holds GRUB's modules, grub.cfg and grubenv (the core image's prefix). */
export const AB_PREFIX = '/EFI/kiln';

/** The slot choice: reads and updates the environment block `env` (a GRUB path), leaves the slot in $slot. */
export function abSlotScript(env: string): string {
  const lines = [`load_env -f ${env} kiln_slot kiln_try boot_counter`, 'set slot=a', 'if [ "${kiln_slot}" = "b" ]; then', '  set slot=b', 'fi'];
  for (const t of SLOTS) {
    lines.push(`if [ "\${kiln_try}" = "${t}" ]; then`);
    lines.push('  if [ "${boot_counter}" = "0" ]; then', `    set kiln_failed=${t}`, '    set kiln_try=', '    set boot_counter=', `    save_env -f ${env} kiln_failed kiln_try boot_counter`);
    for (let n = 1; n <= MAX_TRIES; n++) lines.push(`  elif [ "\${boot_counter}" = "${n}" ]; then`, `    set boot_counter=${n - 1}`, `    set slot=${t}`, `    save_env -f ${env} boot_counter`);
    lines.push('  fi', 'fi');
  }
  return lines.join('\n');
}

export function abMenu(o: { title: string; serial: boolean; cmdline: string[] }): string {
  const env = `$prefix/grubenv`;
  return [
    '# Written by kiln: boots slot A or B of an A/B disk, as grubenv beside this file says (see kiln-ab).',
    ...(o.serial ? ['serial --unit=0 --speed=115200', 'terminal_input serial console', 'terminal_output serial console'] : []),
    'set default=0',
    'set timeout=0',
    'insmod part_gpt',
    'insmod ext2',
    'insmod fat',
    'insmod loadenv',
    abSlotScript(env),
    // Menu entries see only exported variables.
    'export slot',
    // The slot's file system label and partition name are both system_<slot> (src/disk/slots.ts).
    'search --no-floppy --label --set=root system_${slot}',
    `menuentry '${o.title.replace(/'/g, '')} (slot \${slot})' {`,
    `  linux /boot/vmlinuz root=PARTLABEL=system_\${slot} kiln.slot=\${slot} ${o.cmdline.join(' ')}`,
    '  initrd /boot/initrd.img',
    '}',
    '',
  ].join('\n');
}

/** A GRUB environment block: 1024 bytes, the variables, then "#" up to the end. */
export function grubEnvBlock(vars: Record<string, string>): string {
  const head = `# GRUB Environment Block\n${Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join('')}`;
  if (head.length > 1024) throw new Error('a GRUB environment block holds 1024 bytes');
  return head.padEnd(1024, '#');
}
