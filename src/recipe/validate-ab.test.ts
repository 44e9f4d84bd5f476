/** disk.layout ab: every refusal with its exact message at file:line:col, the default partitions, and the slots. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { withSlots } from '../disk/slots.js';
import { recipeError } from '../testing/recipe-error.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-ab-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const errorOf = (text: string) => recipeError(folder, text);

const AB = 'name: a\nbootloader: grub-efi\n';
const parts = (root: string, more = '') => `disk:\n  layout: ab\n  partitions:\n    - { name: esp, type: esp, size: 64M, fs: vfat, mount: /boot/efi }\n    - ${root}\n${more}`;

const CASES: [string, string, string][] = [
  ['systemd-boot', 'name: a\ndisk: { layout: ab }\n', "r.yaml:1:1 bootloader: \"systemd-boot\" cannot switch slots: an A/B disk boots with GRUB, which counts a new slot's boots in its environment block on the ESP; use bootloader: grub-efi"],
  ['an MBR', `${AB}disk: { layout: ab, table: mbr }\n`, "r.yaml:3:28 disk.table: an A/B disk needs table: gpt (the kernel finds a slot by its GPT partition name)"],
  ['ostree', `${AB}${parts('{ name: root, type: root, size: 1G, fs: ext4, mount: / }')}ostree: { ref: os/edge }\noutputs: [ostree-repo, raw]\n`, "r.yaml:8:9 ostree: cannot go with disk.layout: ab: OSTree updates a device by deployments in one root file system; choose one of them"],
  ['a slot that takes the rest', `${AB}${parts('{ name: root, type: root, size: rest, fs: ext4, mount: / }')}`, "r.yaml:7:39 disk.partitions[1].size: \"rest\": a slot needs a fixed size, the same for both slots and for every update (e.g. size: 2G)"],
  ['a slot that grows', `${AB}${parts('{ name: root, type: root, size: 1G, fs: ext4, mount: /, grow: true }')}`, "r.yaml:7:69 disk.partitions[1].grow: a slot cannot grow: both slots keep the size every update image is made for; remove grow"],
  ['a slot with a label', `${AB}${parts('{ name: root, type: root, size: 1G, fs: ext4, mount: /, label: mine }')}`, "r.yaml:7:70 disk.partitions[1].label: is set by kiln on an A/B disk (system_a, system_b: GRUB finds each slot by it); remove label"],
  ['a /boot partition', `${AB}${parts('{ name: boot, type: linux, size: 512M, fs: ext4, mount: /boot }', '    - { name: root, type: root, size: 1G, fs: ext4, mount: / }\n')}`, "r.yaml:7:63 disk.partitions[1].mount: \"/boot\" cannot be a partition of its own on an A/B disk: each slot carries its own kernel in its /boot; remove this partition"],
  ['a partition named like slot B', `${AB}${parts('{ name: root, type: root, size: 1G, fs: ext4, mount: / }', '    - { name: system_b, type: linux, size: 1G, fs: ext4, mount: /srv }\n')}`, "r.yaml:8:15 disk.partitions[2].name: \"system_b\" is the name kiln gives a slot; name this partition otherwise"],
  ['Secure Boot', `${AB}disk: { layout: ab }\nsecure_boot: debian\n`, "r.yaml:4:14 secure_boot: cannot go with disk.layout: ab yet: the signed boot chain reads its grub.cfg from the root file system, and an A/B disk keeps GRUB on the ESP; remove secure_boot"],
  ['no disk', `${AB}disk: { layout: ab }\noutputs: [tar]\n`, "r.yaml:3:17 disk.layout: lays out a disk, and outputs tar make none (add raw or qcow2)"],
  ['a value that is not a layout', `${AB}disk: { layout: abc }\n`, "r.yaml:3:17 disk.layout: \"abc\" is not valid (supported: plain, ab)"],
];

for (const [what, text, message] of CASES) {
  void test(`A/B rule: ${what}`, () => assert.equal(errorOf(text), message));
}

void test('valid: the default A/B partitions; the recipe\'s own, with the slot where it likes', () => {
  assert.equal(errorOf(`${AB}disk: { layout: ab }\n`), 'no error');
  assert.equal(errorOf(`${AB}${parts('{ name: root, type: root, size: 1G, fs: ext4, mount: / }', '    - { name: data, type: linux, size: rest, fs: ext4, mount: /data }\n')}`), 'no error');
});

void test('the slots: the root partition becomes system_a (named and labelled), system_b follows it without a file system', () => {
  const esp = { name: 'esp', type: 'esp', size: '64M', fs: 'vfat', mount: '/boot/efi', grow: false };
  const root = { name: 'system', type: 'root', size: '1G', fs: 'ext4', mount: '/', grow: false };
  const data = { name: 'data', type: 'linux', size: '64M', fs: 'ext4', mount: '/data', grow: false };
  assert.deepEqual(withSlots([esp, root, data], 'plain'), [esp, root, data]);
  assert.deepEqual(withSlots([esp, root, data], 'ab'), [esp, { ...root, name: 'system_a', label: 'system_a' }, { name: 'system_b', type: 'root', size: '1G', grow: false }, data]);
});
