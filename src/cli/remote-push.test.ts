import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pushRequest } from './remote-push.js';

void test('remote push sends a blueprint as application/toml, --lenient and --type as the query, a folder with them too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-push-'));
  try {
    writeFileSync(join(dir, 'image.toml'), 'name = "x"\n');
    writeFileSync(join(dir, 'recipe.yaml'), 'name: x\n');
    const blueprint = await pushRequest(join(dir, 'image.toml'), { lenient: true, type: 'qcow2' });
    assert.equal(blueprint.query, '?file=image.toml&lenient=true&type=qcow2');
    assert.equal(blueprint.contentType, 'application/toml');
    const plain = await pushRequest(join(dir, 'image.toml'), {});
    assert.equal(plain.query, '?file=image.toml', 'without the flags the server translates at each build, as before');
    const yaml = await pushRequest(join(dir, 'recipe.yaml'), { name: 'other' });
    assert.deepEqual([yaml.query, yaml.contentType], ['?file=recipe.yaml&name=other', 'application/yaml']);
    const folder = await pushRequest(dir, { file: 'image.toml', type: 'raw' });
    assert.deepEqual([folder.query, folder.contentType], ['?file=image.toml&type=raw', 'application/gzip']);
    await assert.rejects(pushRequest(join(dir, 'recipe.yaml'), { file: 'x.yaml' }), /--file names the recipe inside a folder/);
    await assert.rejects(pushRequest(join(dir, 'nope.toml'), {}), /nope\.toml: no such file or folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
