import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { parseRecipe } from '../recipe/index.js';
import { devContainerRecipe, DEVTOOLS } from './dev-container.js';
import { plannedPackages } from '../manifest/package-sets.js';

void test('a development container is the recipe plus build tools, with no kernel, disk or bootloader', () => {
  const loaded = parseRecipe('r.yaml', 'name: board\narch: arm64\npackages: [curl]\nroot_password: root\n', process.cwd(), { env: {} });
  const manifest = checkedManifest(devContainerRecipe(loaded));
  assert.equal(manifest.name, 'board-dev');
  assert.equal(manifest.arch, 'arm64');
  const stages = manifest.stages.map((s) => s.stage);
  assert.ok(!stages.includes('kernel') && !stages.includes('partition-table') && !stages.includes('systemd-boot'), stages.join(' '));
  assert.deepEqual(manifest.stages.find((s) => s.stage === 'outputs')?.options.formats, ['oci']);
  const packages = plannedPackages(manifest.stages);
  for (const p of ['curl', 'systemd-sysv', ...DEVTOOLS]) assert.ok(packages.includes(p), p);
  assert.ok(!packages.includes('linux-image-arm64'));
  assert.deepEqual(manifest.provenance.packages['gdb'], ['devtools']);
  assert.equal(manifest.stages.find((s) => s.stage === 'system')?.options.hostname, 'board');
});
