/** What a build's output folder becomes as uploads, and where their sha256 comes from. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { uploadsOf } from './upload.js';

let dir: string;
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-uploads-'));
  const out = join(dir, 'out');
  await mkdir(join(out, 'image.oci', 'blobs'), { recursive: true });
  await writeFile(join(out, 'image.raw'), 'raw');
  await writeFile(join(out, 'build.json'), '{}');
  await writeFile(join(out, 'kiln.lock'), 'lock');
  await writeFile(join(out, 'image.oci', 'index.json'), '{}');
  await writeFile(join(out, 'image.oci', 'blobs', 'b'), 'blob');
  // kiln's SHA256SUMS: the image's line says what kiln hashed while writing it.
  await writeFile(join(out, 'SHA256SUMS'), `${'a'.repeat(64)}  image.raw\n${sha('{}')}  image.oci/index.json\n`);
});

after(() => rm(dir, { recursive: true, force: true }));

void test('files listed in SHA256SUMS take its sha256, a folder goes up as a tar hashed while written, build.json last', async () => {
  const uploads = await uploadsOf(join(dir, 'out'), join(dir, 'staging'));
  assert.deepEqual(uploads.map((u) => u.name), ['SHA256SUMS', 'image.oci.tar', 'image.raw', 'kiln.lock', 'build.json']);
  const byName = new Map(uploads.map((u) => [u.name, u]));
  assert.equal(byName.get('image.raw')?.sha256, 'a'.repeat(64));
  assert.equal(byName.get('kiln.lock')?.sha256, undefined, 'not listed: hashed when it is uploaded');
  const tar = byName.get('image.oci.tar');
  assert.ok(tar);
  assert.equal(tar.sha256, sha(readFileSync(tar.path)));
});
