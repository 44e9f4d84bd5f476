/** Files handed over by path: only from the lease's own work folder, linked, and still checked. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BundleError } from '../bundle/unpack.js';
import { ApiError } from '../http/errors.js';
import { adoptArtifact, ChecksumMismatch } from './files.js';
import { localSource } from './local-source.js';

let dir: string;
let work: string;
let file: string;
const bytes = 'image bytes '.repeat(1000);
const sha = createHash('sha256').update(bytes).digest('hex');
const rel = { build: 'b1', lease: 'l1', name: 'image.raw' };
const fine = () => Promise.resolve();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-local-artifact-'));
  work = join(dir, 'work');
  await mkdir(join(work, 'l1', 'out'), { recursive: true });
  await mkdir(join(work, 'l2'), { recursive: true });
  file = join(work, 'l1', 'out', 'image.raw');
  await writeFile(file, bytes);
  await writeFile(join(work, 'l2', 'other.raw'), bytes);
  await symlink(join(work, 'l2', 'other.raw'), join(work, 'l1', 'out', 'link.raw'));
  await symlink('/etc/passwd', join(work, 'l1', 'out', 'passwd'));
});

after(() => rm(dir, { recursive: true, force: true }));

void test('a file of the lease is taken; anything else is refused with 400 and says why', async () => {
  assert.equal(await localSource(work, 'l1', file), file);
  const refused = async (workDir: string | undefined, path: string, why: RegExp) => {
    await assert.rejects(localSource(workDir, 'l1', path), (err: unknown) => err instanceof ApiError && err.status === 400 && why.test(err.message));
  };
  await refused(undefined, file, /only from its own in-process worker/);
  await refused(work, 'out/image.raw', /not an absolute path/);
  await refused(work, join(work, 'l2', 'other.raw'), /not a file in the work folder of lease l1/);
  await refused(work, join(work, 'l1', '..', 'l2', 'other.raw'), /not a file in the work folder/);
  await refused(work, join(work, 'l1', 'out', 'link.raw'), /not a file in the work folder/);
  await refused(work, join(work, 'l1', 'out', 'passwd'), /not a file in the work folder/);
  await refused(work, join(work, 'l1', 'out'), /not a regular file/);
  await refused(work, join(work, 'l1', 'out', 'missing.raw'), /not a file in the work folder/);
});

void test('an adopted file is linked into place (one file system), hashed and listed under its name', async () => {
  const artifacts = join(dir, 'artifacts-a');
  const stored = await adoptArtifact(artifacts, rel, file, sha, 1e9, fine);
  assert.deepEqual(stored, { path: 'b1/l1/image.raw', size: bytes.length, sha256: sha });
  const [a, b] = await Promise.all([stat(join(artifacts, stored.path)), stat(file)]);
  assert.equal(a.ino, b.ino, 'a hard link, not a copy');
});

void test('an adopted file with another sha256, over the size limit, or whose lease was lost leaves nothing behind', async () => {
  const artifacts = join(dir, 'artifacts-b');
  const folder = join(artifacts, 'b1', 'l1');
  await assert.rejects(adoptArtifact(artifacts, rel, file, '0'.repeat(64), 1e9, fine), ChecksumMismatch);
  assert.deepEqual(await readdir(folder), []);
  await assert.rejects(adoptArtifact(artifacts, rel, file, sha, 100, fine), (err: unknown) => err instanceof BundleError && err.code === 'too_large');
  assert.deepEqual(await readdir(folder), []);
  await assert.rejects(adoptArtifact(artifacts, rel, file, sha, 1e9, () => Promise.reject(new Error('lease lost'))), /lease lost/);
  assert.deepEqual(await readdir(folder), []);
  assert.ok(existsSync(file), "the worker's file is its own");
});
