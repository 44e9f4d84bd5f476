import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { linkStaysInside } from './link-walk.js';

let root: string;

before(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'kiln-link-walk-')));
  await mkdir(join(root, 'x0', 'x1'), { recursive: true });
  await writeFile(join(root, 'x0', 'file'), 'x');
  // Each link's text stays inside; some of them climb out through another link on the way.
  await symlink('../..', join(root, 'x0', 'x1', 'up'));
  await symlink('up/../../etc/evil', join(root, 'x0', 'x1', 'escape'));
  await symlink('up/x0/file', join(root, 'x0', 'x1', 'through'));
  await symlink('up/missing/later', join(root, 'x0', 'x1', 'dangling'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));
  await symlink('/etc/passwd', join(root, 'absolute'));
});

after(() => rm(root, { recursive: true, force: true }));

void test('a link is followed on disk, through the links on its way, and must stay inside', async () => {
  assert.equal(await linkStaysInside(root, join(root, 'x0', 'x1', 'up')), true);
  assert.equal(await linkStaysInside(root, join(root, 'x0', 'x1', 'through')), true);
  assert.equal(await linkStaysInside(root, join(root, 'x0', 'x1', 'dangling')), true, 'dangling but inside: resolved later, in the image');
  assert.equal(await linkStaysInside(root, join(root, 'x0', 'x1', 'escape')), false, 'its text stays inside, its way does not');
  assert.equal(await linkStaysInside(root, join(root, 'loop-a')), false);
  assert.equal(await linkStaysInside(root, join(root, 'absolute')), false);
});
