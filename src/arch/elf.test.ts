import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeElf } from '../testing/elf.js';
import { ELF_MACHINES, elfMachine, withInterpreter, withLibraryFolder } from './elf.js';

/** The interpreter path, read the way the kernel reads it: up to the NUL. */
function interpreterOf(elf: Buffer, pathAt: number): string {
  return elf.toString('latin1', pathAt, elf.indexOf(0, pathAt));
}

void test('the interpreter of a 64-bit little-endian program is replaced, NUL-padded, nothing else changes', () => {
  const elf = fakeElf(true, true, ELF_MACHINES['amd64'] ?? 0, '/lib64/ld-linux-x86-64.so.2');
  const pathAt = 64 + 2 * 56;
  const patched = withInterpreter(elf, '/run/kiln-native/ld');
  assert.equal(interpreterOf(patched, pathAt), '/run/kiln-native/ld');
  assert.deepEqual(patched.subarray(pathAt + 19, pathAt + 28), Buffer.alloc(9));
  assert.deepEqual(patched.subarray(0, pathAt), elf.subarray(0, pathAt));
  assert.equal(patched.length, elf.length);
  assert.equal(interpreterOf(elf, pathAt), '/lib64/ld-linux-x86-64.so.2', 'the original is left as it was');
});

void test('a 32-bit big-endian program is read with its own layout', () => {
  const elf = fakeElf(false, false, 8, '/lib/ld.so.1');
  assert.equal(elfMachine(elf), 8);
  assert.equal(interpreterOf(withInterpreter(elf, '/x/ld'), 52 + 2 * 32), '/x/ld');
});

void test('a path longer than the room the program has, a static program and a non-ELF file are refused', () => {
  const elf = fakeElf(true, true, 183, '/lib/ld.so');
  assert.throws(() => withInterpreter(elf, '/run/kiln-native/ld'), /longer than the 10 bytes/);
  const noInterp = Buffer.from(elf);
  noInterp.writeUInt32LE(1, 64 + 56);
  assert.throws(() => withInterpreter(noInterp, '/x'), /no interpreter/);
  assert.throws(() => withInterpreter(Buffer.from('#!/bin/sh\n'), '/x'), /not an ELF file/);
});

void test("the machine of ELF files and of this host's own programs", () => {
  assert.equal(elfMachine(fakeElf(true, true, 183, '/l')), ELF_MACHINES['arm64']);
  assert.equal(elfMachine(Buffer.from('#!/bin/sh\necho hello world\n')), undefined);
  assert.equal(elfMachine(Buffer.from([0x7f, 0x45, 0x4c])), undefined);
  const host = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (host) assert.equal(elfMachine(readFileSync('/bin/true').subarray(0, 20)), ELF_MACHINES[host]);
});

void test("a loader's built-in library folder is renamed wherever it is kept, and the loader then looks there", () => {
  const fake = Buffer.from('\0\0/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/\0/lib/\0...\0/usr/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/x\0', 'latin1');
  const patched = withLibraryFolder(fake, '/usr/lib/x86_64-linux-gnu/', '/run/kiln-native/kiln-lib/');
  assert.equal(patched.toString('latin1').split('/run/kiln-native/kiln-lib/\0').length - 1, 2);
  assert.ok(patched.includes('/usr/lib/x86_64-linux-gnu/x\0'), 'a longer name that starts the same is not the folder');
  assert.throws(() => withLibraryFolder(fake, '/usr/lib/x86_64-linux-gnu/', '/run/x/'), /not as long/);
  assert.throws(() => withLibraryFolder(fake, '/usr/lib/aarch64-linux-gnu/', '/run/kiln-native/kiln-lib_/'), /no built-in library folder/);
  // This host's own loader, where it is a Debian amd64 one: the copy runs, and says where it looks.
  const loader = '/lib64/ld-linux-x86-64.so.2';
  if (process.arch !== 'x64' || !existsSync(loader)) return;
  const dir = mkdtempSync(join(tmpdir(), 'kiln-elf-test-'));
  try {
    const copy = join(dir, 'ld.so');
    writeFileSync(copy, withLibraryFolder(readFileSync(loader), '/usr/lib/x86_64-linux-gnu/', '/run/kiln-native/kiln-lib/'), { mode: 0o755 });
    const diagnostics = execFileSync(copy, ['--list-diagnostics'], { encoding: 'utf8' });
    assert.match(diagnostics, /^path\.system_dirs\[0x1\]="\/run\/kiln-native\/kiln-lib\/"$/m);
    assert.doesNotMatch(diagnostics, /system_dirs.*"\/usr\/lib\/x86_64-linux-gnu\/"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
