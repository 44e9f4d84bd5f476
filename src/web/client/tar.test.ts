import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import tarStream from 'tar-stream';
import { readTar, splitPath, tarOf } from './tar.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** What tar-stream (the server's reader) sees in an archive: path, mode, type, content. */
async function extract(tar: Uint8Array): Promise<{ name: string; mode: number; type: string; text: string }[]> {
  const out: { name: string; mode: number; type: string; text: string }[] = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({ name: header.name, mode: header.mode ?? 0, type: header.type ?? '', text: Buffer.concat(chunks).toString() });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([Buffer.from(tar)]).pipe(ex);
  await done;
  return out;
}

void test('tar-stream reads what tarOf writes: sorted paths, modes, contents', async () => {
  const tar = tarOf([
    { path: 'recipe.yaml', data: bytes('name: x\n') },
    { path: 'hooks/10-a.sh', data: bytes('#!/bin/sh\necho hi\n'), executable: true },
    { path: 'overlay/etc/empty', data: new Uint8Array(0) },
  ]);
  assert.equal(tar.length % 512, 0);
  assert.deepEqual(await extract(tar), [
    { name: 'hooks/10-a.sh', mode: 0o755, type: 'file', text: '#!/bin/sh\necho hi\n' },
    { name: 'overlay/etc/empty', mode: 0o644, type: 'file', text: '' },
    { name: 'recipe.yaml', mode: 0o644, type: 'file', text: 'name: x\n' },
  ]);
});

void test('a path over 100 bytes goes into the ustar prefix, and reads back whole', async () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}.yaml`;
  assert.deepEqual(splitPath(long), { prefix: `${'d'.repeat(60)}/${'e'.repeat(60)}`, name: `${'f'.repeat(90)}.yaml` });
  const tar = tarOf([{ path: long, data: bytes('x') }]);
  assert.deepEqual((await extract(tar)).map((e) => e.name), [long]);
  assert.deepEqual([...readTar(tar).keys()], [long]);
});

void test('the same files in any order give the same bytes', () => {
  const a = { path: 'a', data: bytes('1') };
  const b = { path: 'b/c', data: bytes('2'.repeat(700)) };
  assert.deepEqual(tarOf([a, b]), tarOf([b, a]));
});

void test('paths that would leave the folder are refused, and names too long say so', () => {
  for (const path of ['/etc/passwd', '../x', 'a/../../x', 'a//b', '']) assert.throws(() => tarOf([{ path, data: bytes('') }]), /not a relative path inside the folder/);
  assert.throws(() => tarOf([{ path: 'x'.repeat(101), data: bytes('') }]), /too long for a tar bundle/);
});

void test('readTar reads tarOf and tar-stream archives, with pax long names', async () => {
  const ours = readTar(tarOf([{ path: 'a.yaml', data: bytes('a: 1\n') }, { path: 'b/c.txt', data: bytes('c'.repeat(600)) }]));
  assert.equal(new TextDecoder().decode(ours.get('a.yaml')), 'a: 1\n');
  assert.equal(ours.get('b/c.txt')?.length, 600);
  const pack = tarStream.pack();
  const long = `${'p'.repeat(120)}.yaml`;
  pack.entry({ name: 'dir', type: 'directory' });
  pack.entry({ name: long }, 'long: yes\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const theirs = readTar(new Uint8Array(Buffer.concat(chunks)));
  assert.deepEqual([...theirs.keys()], [long]);
  assert.equal(new TextDecoder().decode(theirs.get(long)), 'long: yes\n');
});
