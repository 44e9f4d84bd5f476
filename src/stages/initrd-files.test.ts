/** Listing an initramfs: newc archives one after another, the last compressed. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { newc } from '../testing/newc.js';
import { cpioFiles, initrdFiles } from './initrd-files.js';

const DIR = 0o040755;
const FILE = 0o100644;
const LINK = 0o120777;

void test('the files and links of an uncompressed archive, not its folders; where the archives end', () => {
  const early = newc([[DIR, 'kernel', ''], [FILE, 'kernel/x86/microcode/GenuineIntel.bin', 'µcode']]);
  const data = Buffer.concat([early, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]);
  const { files, end } = cpioFiles(data);
  assert.deepEqual([...files], ['kernel/x86/microcode/GenuineIntel.bin']);
  assert.equal(end, early.length);
});

void test('an early archive, then a gzip-compressed main one: every file of both', async () => {
  const base = mkdtempSync(join(tmpdir(), 'kiln-initrd-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const main = newc([[DIR, '.', ''], [DIR, 'usr', ''], [LINK, 'lib', 'usr/lib'], [FILE, 'usr/bin/kmod', 'ELF'], [FILE, './init', '#!/bin/sh']]);
  const initrd = join(base, 'initrd.img');
  writeFileSync(initrd, Buffer.concat([newc([[FILE, 'kernel/x86/microcode/AuthenticAMD.bin', 'x']]), gzipSync(main)]));
  const exec = () => Promise.reject(new Error('gzip needs no command'));
  const files = await initrdFiles(exec, initrd, base);
  assert.deepEqual(files, new Set(['kernel/x86/microcode/AuthenticAMD.bin', 'lib', 'usr/bin/kmod', 'init']));
  // A compression kiln does not read is said, not guessed at.
  writeFileSync(initrd, Buffer.concat([newc([]), Buffer.from('BZh91AY&SY')]));
  const unread = await initrdFiles(exec, initrd, base);
  assert.ok(typeof unread === 'string' && /not one kiln reads/.test(unread), String(typeof unread));
});
