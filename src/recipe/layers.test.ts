import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../errors.js';
import { parseRecipe, type LoadOptions } from './load.js';

/** A project folder holding layers/<name>/... files; returns the folder. */
function project(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'kiln-layers-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
  return folder;
}

const load = (folder: string, text: string, options: LoadOptions = {}) => parseRecipe('r.yaml', text, folder, { env: {}, ...options });

function errorOf(folder: string, text: string, options: LoadOptions = {}): string {
  try {
    load(folder, text, options);
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err.message;
  }
  return 'no error';
}

const CHAIN = {
  'layers/app/layer.yaml': 'description: the app\ndepends: [net, base]\npackages: [app-pkg]\n',
  'layers/net/layer.yaml': 'depends: [base]\npackages: [net-pkg]\n',
  'layers/base/layer.yaml': 'packages: [base-pkg]\n',
  'layers/extra/layer.yaml': 'depends: [base]\n',
};

void test('layers resolve depth-first, dependencies first, each once, in the order named', () => {
  const folder = project(CHAIN);
  assert.deepEqual(load(folder, 'name: a\nlayers: [app, extra]\n').layers.map((l) => l.name), ['base', 'net', 'app', 'extra']);
  assert.deepEqual(load(folder, 'name: a\nlayers: [extra, app]\n').layers.map((l) => l.name), ['base', 'extra', 'net', 'app']);
});

void test('lists merge in layer order with the recipe last; names are kept once', () => {
  const folder = project(CHAIN);
  const { recipe } = load(folder, 'name: a\nlayers: [app]\npackages: [mine, base-pkg]\n');
  assert.deepEqual(recipe.packages, ['net-pkg', 'app-pkg', 'mine', 'base-pkg']);
});

void test('a package with arch is installed only on those architectures', () => {
  const folder = project({ 'layers/fw/layer.yaml': 'packages:\n  - all-arches\n  - { name: pi-firmware, arch: [arm64, armhf] }\n  - { name: pc-firmware, arch: [amd64] }\n' });
  assert.deepEqual(load(folder, 'name: a\nlayers: [fw]\n').recipe.packages, ['all-arches', 'pc-firmware']);
});

void test('the recipe sets a scalar over its layers; one layer alone sets it', () => {
  const folder = project({ 'layers/tz/layer.yaml': 'timezone: Europe/Berlin\nhostname: from-layer\n' });
  assert.equal(load(folder, 'name: a\nlayers: [tz]\ntimezone: Asia/Tokyo\n').recipe.timezone, 'Asia/Tokyo');
  assert.equal(load(folder, 'name: a\nlayers: [tz]\n').recipe.timezone, 'Europe/Berlin');
  assert.equal(load(folder, 'name: a\nlayers: [tz]\n').recipe.hostname, 'from-layer');
});

void test('files and hooks of a layer are found in its own folder, with its overlay first', () => {
  const folder = project({
    'layers/web/layer.yaml': 'files:\n  - { src: site.conf, dst: /etc/site.conf }\n',
    'layers/web/site.conf': 'x\n',
    'layers/web/overlay/etc/web': 'y\n',
    'layers/web/hooks/customize/20-b': '#!/bin/sh\n',
    'layers/web/hooks/customize/10-a': '#!/bin/sh\n',
  });
  const loaded = load(folder, 'name: a\nlayers: [web]\nfiles:\n  - { dst: /etc/mine, content: "m" }\n');
  assert.deepEqual(loaded.recipe.files.map((f) => [f.src ?? f.content, loaded.origins.of(['files', loaded.recipe.files.indexOf(f)]).name]), [
    ['overlay/', 'web'],
    ['site.conf', 'web'],
    ['m', 'recipe'],
  ]);
  assert.deepEqual(loaded.recipe.hooks.customize, ['hooks/customize/10-a', 'hooks/customize/20-b']);
});

void test('editor backups and names that are not plain never run', () => {
  const names = ['10-net', '10-net~', '10-net.bak', '10-net.orig', '.10-net.swp', '10-net.dpkg-old', '10-net.dpkg-dist', '#10-net#', 'with space', '20-last'];
  const folder = project({ 'layers/h/layer.yaml': '{}\n', ...Object.fromEntries(names.map((n) => [`layers/h/hooks/customize/${n}`, '#!/bin/sh\nexit 1\n'])) });
  const { recipe, layers } = load(folder, 'name: a\nlayers: [h]\n');
  assert.deepEqual(recipe.hooks.customize, ['hooks/customize/10-net', 'hooks/customize/20-last']);
  assert.equal(layers[0]?.skipped.length, 8);
});

void test('layer variables: --set, KILN_VAR_, the recipe, then the default; hooks get them', () => {
  const folder = project({
    'layers/port/layer.yaml': 'variables:\n  PORT: { default: "22", pattern: "^[0-9]+$" }\nfiles:\n  - { dst: /etc/port, content: "${PORT}" }\n',
    'layers/port/hooks/image/10-x': '#!/bin/sh\n',
  });
  const content = (text: string, options: LoadOptions = {}) => load(folder, text, options).recipe.files[0]?.content;
  assert.equal(content('name: a\nlayers: [port]\n'), '22');
  assert.equal(content('name: a\nlayers: [port]\nvariables: { PORT: 2222 }\n'), '2222');
  assert.equal(content('name: a\nlayers: [port]\nvariables: { PORT: 2222 }\n', { env: { KILN_VAR_PORT: '80' } }), '80');
  assert.equal(content('name: a\nlayers: [port]\n', { env: { KILN_VAR_PORT: '80' }, set: { PORT: '8080' } }), '8080');
  assert.deepEqual(load(folder, 'name: a\nlayers: [port]\n').layers[0]?.variables, { PORT: '22' });
});

void test('grow: true on the root partition brings in the growroot layer', () => {
  const folder = project({});
  const text = 'name: a\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, size: rest, fs: ext4, mount: /, grow: true }\n';
  assert.deepEqual(load(folder, text).layers.map((l) => l.name), ['growroot']);
});

// Every error, with its exact message: file, line and column, key, what is wrong and what to do.
const ERRORS: [string, Record<string, string>, string, (folder: string) => string, LoadOptions?][] = [
  [
    'a cycle, named whole',
    { 'layers/a/layer.yaml': 'depends: [b]\n', 'layers/b/layer.yaml': 'depends: [c]\n', 'layers/c/layer.yaml': 'depends: [a]\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/c/layer.yaml:1:11 depends[0]: layers depend on each other in a cycle: a -> b -> c -> a`,
  ],
  [
    'an unknown layer, with the nearest names',
    { 'layers/ssh-server/layer.yaml': '{}\n', 'layers/ssh-seven/layer.yaml': '{}\n', 'layers/web/layer.yaml': '{}\n' },
    'name: x\nlayers: [ssh-sever]\n',
    () => `r.yaml:2:10 layers[0]: unknown layer "ssh-sever" (did you mean "ssh-server" or "ssh-seven"?); kiln looks in the recipe's layers/ folder, then KILN_LAYER_PATH, then its built-in layers (kiln layers list shows them)`,
  ],
  [
    'an unknown dependency',
    { 'layers/a/layer.yaml': 'description: A\ndepends: [nothing-like-it]\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:2:11 depends[0]: unknown layer "nothing-like-it"; kiln looks in the recipe's layers/ folder, then KILN_LAYER_PATH, then its built-in layers (kiln layers list shows them)`,
  ],
  [
    'two layers setting one scalar differently',
    { 'layers/a/layer.yaml': 'timezone: Europe/Berlin\n', 'layers/b/layer.yaml': 'timezone: Asia/Tokyo\n' },
    'name: x\nlayers: [a, b]\n',
    (f) => `${f}/layers/b/layer.yaml:1:11 timezone: "Asia/Tokyo" conflicts with "Europe/Berlin" from layer "a" (${f}/layers/a/layer.yaml:1:11); set timezone in the recipe to choose`,
  ],
  [
    'a key layers do not have',
    { 'layers/a/layer.yaml': 'disk: { size: 2G }\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:1:1 disk: unknown key (valid keys: description, depends, packages, exclude, include, hostname, timezone, locale, keyboard, ntp, root_password, root_password_hash, groups, users, services, firewall, directories, files, apt, hooks, ansible, health, kernel, bootloader, compress, sbom, variables)`,
  ],
  [
    'a value that does not match its pattern',
    { 'layers/a/layer.yaml': 'variables:\n  PORT: { default: "22", pattern: "^[0-9]+$" }\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:2:9 variables.PORT: "ssh" does not match the pattern ^[0-9]+$`,
    { set: { PORT: 'ssh' } },
  ],
  [
    'a variable nobody set',
    { 'layers/a/layer.yaml': 'variables:\n  TOKEN: { description: an API token }\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:2:10 variables.TOKEN: has no default; set it with --set TOKEN=VALUE, KILN_VAR_TOKEN=VALUE or the recipe's variables:`,
  ],
  [
    'a missing file, relative to the layer',
    { 'layers/a/layer.yaml': 'files:\n  - { src: gone.conf, dst: /etc/gone.conf }\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:2:12 files[0].src: "gone.conf" does not exist (paths are relative to the layer folder)`,
  ],
  [
    'a listed hook named like a backup',
    { 'hooks/10-x~': '#!/bin/sh\n' },
    'name: x\nhooks:\n  customize: [hooks/10-x~]\n',
    () => `r.yaml:3:15 hooks.customize[0]: "hooks/10-x~" is an editor or dpkg backup file name, so it never runs as a hook (rename it)`,
  ],
  ['a reserved name', { 'layers/recipe/layer.yaml': '{}\n' }, 'name: x\nlayers: [recipe]\n', () => `r.yaml:2:10 layers[0]: unknown layer "recipe"; kiln looks in the recipe's layers/ folder, then KILN_LAYER_PATH, then its built-in layers (kiln layers list shows them)`],
  [
    'a package for an architecture that does not exist',
    { 'layers/a/layer.yaml': 'packages:\n  - { name: fw, arch: [arm46] }\n' },
    'name: x\nlayers: [a]\n',
    (f) => `${f}/layers/a/layer.yaml:2:24 packages[0].arch[0]: "arm46" is not an architecture (amd64, arm64, armhf, i386)`,
  ],
  [
    'grow on a partition that is not last',
    {},
    'name: x\ndisk:\n  partitions:\n    - { name: esp, type: esp, size: 256M, fs: vfat, mount: /boot/efi }\n    - { name: root, size: 1G, fs: ext4, mount: /, grow: true }\n    - { name: data, size: rest, fs: ext4, mount: /srv }\n',
    () => 'r.yaml:5:57 disk.partitions[1].grow: a growing partition needs the free space after it: make it the last partition',
  ],
];

for (const [what, files, text, message, options] of ERRORS) {
  void test(`layer error: ${what}`, () => {
    const folder = project(files);
    assert.equal(errorOf(folder, text, options), message(folder));
  });
}

void test('--layer applies layers after the recipe\'s own, once; an unknown one names the flag and the nearest layer', () => {
  const folder = project(CHAIN);
  assert.deepEqual(load(folder, 'name: a\nlayers: [net]\n', { layers: ['extra', 'net'] }).layers.map((l) => l.name), ['base', 'net', 'extra']);
  const vm = load(folder, 'name: a\n', { layers: ['vm'] }).recipe;
  assert.deepEqual(vm.kernel.initramfs_modules.slice(0, 2), ['virtio_pci', 'virtio_blk']);
  // Hardware a VM never has is left out; the NICs hypervisors and clouds present are put back.
  assert.ok(vm.exclude.includes('/*lib/modules/*/kernel/sound/*'));
  assert.ok(vm.exclude.includes('/*lib/modules/*/kernel/drivers/net/ethernet/*'));
  assert.ok(vm.include.includes('/*lib/modules/*/kernel/drivers/net/ethernet/intel/*'));
  assert.match(errorOf(folder, 'name: a\n', { layers: ['extar'] }), /^--layer extar: no such layer \(did you mean extra\?\); kiln looks in the recipe's layers\/ folder/);
});
