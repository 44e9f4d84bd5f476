import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleWatcher } from './console-watch.js';

function feed(...chunks: string[]): ConsoleWatcher {
  const watcher = new ConsoleWatcher();
  for (const chunk of chunks) watcher.push(chunk);
  return watcher;
}

void test('detects a getty prompt that has no trailing newline', () => {
  const w = feed('Debian GNU/Linux 12 kiln ttyS0\r\n\r\nkiln login: ');
  assert.equal(w.result, 'login');
  assert.equal(w.line, 'kiln login:');
});

void test('detects a prompt split across chunks, one character at a time', () => {
  const w = new ConsoleWatcher();
  const text = '[  OK  ] Started getty@ttyS0.service\r\n\r\nkiln lo';
  for (const ch of text) assert.equal(w.push(ch), undefined);
  w.push('gin');
  assert.equal(w.result, undefined);
  w.push(': ');
  assert.equal(w.result, 'login');
});

void test('strips ANSI sequences, including ones cut in half by a chunk boundary', () => {
  const w = feed('\x1b[0;1;32mkiln\x1b[0m lo', 'gin:\x1b[', '0m ');
  assert.equal(w.result, 'login');
  assert.equal(w.line, 'kiln login:');
});

void test('a prompt followed by later output on the next line still counts', () => {
  const w = feed('kiln login: \r\n[   12.3] random: crng init done\r\n');
  assert.equal(w.result, 'login');
});

void test('a kernel message in the same chunk right after the prompt does not hide it', () => {
  const w = feed('Debian GNU/Linux 13 bios-mbr ttyS0\r\n\r\nbios-mbr login: [   23.647368] [drm] Initialized bochs-drm\r\n');
  assert.equal(w.result, 'login');
  assert.match(w.line ?? '', /^bios-mbr login: \[/);
  // Also when the kernel line is still unfinished at the end of the chunk.
  assert.equal(feed('kiln login: [   23.6', '47368] scsi host1: ahci\r\n').result, 'login');
  // A kernel line that merely mentions "login: " is not a prompt.
  assert.equal(feed('[    5.1] audit: login: pid=1\r\n').result, undefined);
});

void test('detects a kernel panic split across chunks', () => {
  const w = feed('[    2.1] Kernel pa', 'nic - not syncing: VFS: Unable to mount root fs\r\n');
  assert.equal(w.result, 'panic');
  assert.match(w.line ?? '', /VFS: Unable to mount root fs/);
});

void test('detects the systemd emergency shell', () => {
  assert.equal(feed('You are in emergency mode. After logging in, type "journalctl -xb"\r\n').result, 'emergency');
  assert.equal(feed('Give root password for mainte', 'nance\r\n(or press Control-D to continue): ').result, 'emergency');
});

void test('the first verdict wins and later output is ignored', () => {
  const w = feed('Kernel panic - not syncing: Attempted to kill init!\r\n', 'kiln login: ');
  assert.equal(w.result, 'panic');
});

void test('no false positive on "Last login:" lines', () => {
  const w = feed('Last login: Mon Jan  1 00:00:00 UTC 2024 on ttyS0\r\n');
  assert.equal(w.result, undefined);
  // Even when the chunk boundary falls right after the word.
  assert.equal(feed('Last login: ', 'Mon Jan  1 00:00:00 UTC 2024\r\n').result, undefined);
});

void test('no false positive on "login: " in the middle of a line', () => {
  assert.equal(feed('sshd: failed login: user root from 10.0.2.2\r\n').result, undefined);
  assert.equal(feed('Starting systemd-logind.service - User Login Management...\r\n').result, undefined);
  assert.equal(feed('loginctl: login:x\r\n').result, undefined);
  assert.equal(feed('blogin: ').result, undefined);
});

void test('firmware noise: backspace spinners and screen clears', () => {
  const spinner = 'Press Ctrl-B for the iPXE command line...' + '\b \b'.repeat(40);
  const w = feed('\x1b[2J\x1b[01;01H\x1b[=3h', spinner, '\r\nNothing to boot\r\n');
  assert.equal(w.result, undefined);
  assert.equal(feed('kiln loq\bgin: ').result, 'login');
});

void test('bounded memory on output without newlines', () => {
  const w = new ConsoleWatcher();
  for (let i = 0; i < 1000; i++) w.push('x'.repeat(100));
  w.push(' kiln login: ');
  assert.equal(w.result, 'login');
  assert.ok((w.line ?? '').length <= 4096);
});

void test('the UEFI shell after a failed boot is a failure, seen at once', () => {
  const w = new ConsoleWatcher();
  w.push('BdsDxe: failed to load Boot0001 "UEFI QEMU HARDDISK" from PciRoot(0x0)\r\n');
  assert.equal(w.result, undefined);
  w.push('\x1b[0mUEFI Interactive Shell v2.2\r\n');
  assert.equal(w.result, 'no-boot');
});

void test('Secure Boot refusing the loader is a failure of its own, seen at once', () => {
  const w = new ConsoleWatcher();
  w.push('BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0)\r\n');
  assert.equal(w.result, undefined);
  w.push('BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0): Access Denied\r\n');
  assert.equal(w.result, 'refused');
  assert.match(w.line ?? '', /Access Denied$/);
});
