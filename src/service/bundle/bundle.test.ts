import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packCanonical } from './canonical.js';
import { linkInside, safeName } from './unpack.js';

void describe('bundle entry names', () => {
  void it('normalises relative names and refuses absolute ones and `..`', () => {
    assert.equal(safeName('./a//b/./c'), 'a/b/c');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', '', '.', 'a\0b']) assert.equal(safeName(bad), undefined, bad);
  });
  void it('lets links point only inside the bundle', () => {
    assert.equal(linkInside('a/b', 'c'), 'a/c');
    assert.equal(linkInside('a/b', '../c'), 'c');
    assert.equal(linkInside('a/b', '../../c'), undefined);
    assert.equal(linkInside('a', '/etc'), undefined);
    assert.equal(linkInside('a', '..'), undefined);
  });
});

void describe('canonical bundles', () => {
  void it('hash the same files the same, whatever order and times they were made in', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kiln-canonical-'));
    try {
      const make = async (dir: string, order: string[]) => {
        await mkdir(join(dir, 'sub'), { recursive: true });
        for (const name of order) await writeFile(join(dir, name), `${name}\n`, { mode: name.endsWith('.sh') ? 0o750 : 0o600 });
        await symlink('sub/x.yaml', join(dir, 'link'));
        await new Promise((r) => setTimeout(r, 20));
      };
      await make(join(root, 'a'), ['recipe.yaml', 'sub/x.yaml', 'hook.sh']);
      await make(join(root, 'b'), ['hook.sh', 'sub/x.yaml', 'recipe.yaml']);
      const a = await packCanonical(join(root, 'a'), join(root, 'a.tar'));
      const b = await packCanonical(join(root, 'b'), join(root, 'b.tar'));
      assert.equal(a.sha256, b.sha256);
      assert.deepEqual(a.paths, ['hook.sh', 'link', 'recipe.yaml', 'sub/x.yaml']);
      assert.equal(a.files, 3);
      await chmod(join(root, 'b', 'hook.sh'), 0o644);
      const c = await packCanonical(join(root, 'b'), join(root, 'c.tar'));
      assert.notEqual(c.sha256, a.sha256, 'the executable bit is content');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
