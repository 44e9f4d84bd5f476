import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { parseRecipe } from '../recipe/index.js';
import { canonicalJson } from './canonical.js';
import type { Manifest } from './compile.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-manifest-'));
mkdirSync(join(folder, 'overlay/etc'), { recursive: true });
writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=80\n');
writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho hi\n');

const RECIPE = `
name: demo
packages: [vim, curl]
hostname: demo-host
users:
  - { name: admin, password: secret, groups: [sudo] }
files:
  - { src: overlay/, dst: / }
hooks:
  customize: [hook.sh]
`;
// The same recipe with keys in another order and other spacing.
const REORDERED = `
hooks: { customize: [hook.sh] }
files: [{ dst: /, src: overlay/ }]
users: [{ groups: [sudo], password: secret, name: admin }]
hostname: demo-host
packages: [vim, curl]
name: demo
`;

const plan = (text: string): Manifest => checkedManifest(parseRecipe('r.yaml', text, folder, { env: {} }));
const ids = (m: Manifest) => m.stages.map((s) => s.id);

void test('the same recipe and files give byte-identical plans', () => {
  assert.equal(canonicalJson(plan(RECIPE)), canonicalJson(plan(RECIPE)));
});

void test('reordering keys in the recipe changes no id', () => {
  assert.deepEqual(ids(plan(REORDERED)), ids(plan(RECIPE)));
  assert.equal(plan(REORDERED).recipeHash, plan(RECIPE).recipeHash);
});

void test('changing one byte of an overlay file changes the ids from the files stage on, and only those', () => {
  const before = plan(RECIPE);
  writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=81\n');
  const after = plan(RECIPE);
  writeFileSync(join(folder, 'overlay/etc/app.conf'), 'port=80\n');
  const firstChanged = before.stages.findIndex((s, i) => s.id !== after.stages[i]?.id);
  assert.equal(before.stages[firstChanged]?.stage, 'files');
  assert.ok(after.stages.slice(firstChanged).every((s, i) => s.id !== before.stages[firstChanged + i]?.id));
});

void test('changing a hook script changes the customize-hooks id', () => {
  const before = plan(RECIPE);
  writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho bye\n');
  const after = plan(RECIPE);
  writeFileSync(join(folder, 'hook.sh'), '#!/bin/sh\necho hi\n');
  const changed = before.stages.filter((s, i) => s.id !== after.stages[i]?.id).map((s) => s.stage);
  assert.equal(changed[0], 'customize-hooks');
});

void test('plain-text passwords never reach the manifest; hashes are SHA-512 crypt', () => {
  const text = canonicalJson(plan(RECIPE));
  assert.ok(!text.includes('"secret"'));
  assert.match(text, /"passwordHash":"\$6\$[./A-Za-z0-9]{16}\$[./A-Za-z0-9]{86}"/);
});

void test('a bootable image gets its kernel, init and boot loader packages, sorted once', () => {
  const bootstrap = plan(RECIPE).stages[0]?.options as { packages: string[] };
  assert.deepEqual(bootstrap.packages, ['curl', 'linux-image-amd64', 'systemd-boot-efi', 'systemd-sysv', 'udev', 'vim', 'zstd']);
});

void test('the kernel command line finds root by its PARTUUID', () => {
  const m = plan(RECIPE);
  const boot = m.stages.find((s) => s.stage === 'systemd-boot')?.options as { cmdline: string[] };
  const disk = m.stages.find((s) => s.stage === 'partition-table')?.options as { partitions: { name: string; partGuid: string }[] };
  const root = disk.partitions.find((p) => p.name === 'root');
  assert.equal(boot.cmdline[0], `root=PARTUUID=${root?.partGuid.toLowerCase()}`);
});
