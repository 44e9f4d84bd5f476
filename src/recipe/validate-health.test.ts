/** Health checks in recipes and layers: refusals at file:line:col, and what a valid one plans. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { recipeError } from '../testing/recipe-error.js';
import { parseRecipe } from './load.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-health-'));
after(() => rmSync(folder, { recursive: true, force: true }));
mkdirSync(join(folder, 'checks/more'), { recursive: true });
for (const name of ['ping', 'ping~', 'disk', 'more/ping']) writeFileSync(join(folder, 'checks', name), '#!/bin/sh\nexit 0\n');
mkdirSync(join(folder, 'layers/fleet/checks'), { recursive: true });
mkdirSync(join(folder, 'layers/other'));
writeFileSync(join(folder, 'layers/fleet/layer.yaml'), 'description: reports to the fleet\nhealth:\n  green: [checks/report]\n  boot_tries: 5\n');
writeFileSync(join(folder, 'layers/fleet/checks/report'), '#!/bin/sh\nexit 0\n');
chmodSync(join(folder, 'checks/ping'), 0o644);

const CASES: [string, string, string][] = [
  ['a missing script', 'name: a\nhealth:\n  required: [checks/gone]\n', 'r.yaml:3:14 health.required[0]: "checks/gone" does not exist (paths are relative to the recipe file)'],
  ['an editor backup', 'name: a\nhealth:\n  wanted: [checks/ping~]\n', 'r.yaml:3:12 health.wanted[0]: "checks/ping~": the file name is an editor or dpkg backup file name, so it would never run; rename the file'],
  ['two scripts with one name', 'name: a\nhealth:\n  required: [checks/ping, checks/more/ping]\n', 'r.yaml:3:27 health.required[1]: "checks/more/ping" has the same file name as health.required[0]; both would be /etc/kiln-health/required.d/ping in the image'],
  ['a folder', 'name: a\nhealth:\n  red: [checks/more]\n', 'r.yaml:3:9 health.red[0]: "checks/more" is a folder; give one script per entry'],
  ['a path out of the folder', 'name: a\nhealth:\n  green: [../x]\n', "r.yaml:3:11 health.green[0]: \"../x\" leaves the recipe's folder; keep referenced files inside it"],
  ['boot_tries out of range', 'name: a\nhealth:\n  boot_tries: 0\n', 'r.yaml:3:15 health.boot_tries: 0 is too small (minimum 1)'],
];

for (const [name, text, expected] of CASES) {
  void test(`health: ${name} is refused at its line`, () => {
    assert.equal(recipeError(folder, text), expected);
  });
}

void test('health: scripts land executable in their folders, boot_tries in /etc/default/kiln-health, and the health layer comes with them', () => {
  const m = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: a\nhealth:\n  required: [checks/ping]\n  wanted: [checks/disk]\n  boot_tries: 2\n', folder, { env: {} }));
  const items = (m.stages.find((s) => s.stage === 'files')?.options as { items: { dst: string; mode?: string; kind: string; content?: string; from: string }[] }).items;
  const health = items.filter((i) => i.dst.includes('kiln-health'));
  assert.deepEqual(health.map((i) => [i.dst, i.mode, i.kind, i.from]), [
    ['/etc/kiln-health/required.d/ping', '0755', 'file', 'recipe'],
    ['/etc/kiln-health/wanted.d/disk', '0755', 'file', 'recipe'],
    ['/etc/default/kiln-health', undefined, 'content', 'recipe'],
  ]);
  assert.equal(health[2]?.content, 'BOOT_TRIES=2\n');
  // The layer's overlay (its scripts, unit and GRUB snippet) comes first, and its unit is enabled.
  assert.ok(items.some((i) => i.from === 'health' && i.kind === 'tree'));
  assert.ok((m.stages.find((s) => s.stage === 'services')?.options as { enable: string[] }).enable.includes('kiln-health'));
});

void test("health: a layer's scripts are its own folder's, and the layer brings the health layer in", () => {
  const m = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: a\nlayers: [fleet]\n', folder, { env: {} }));
  const items = (m.stages.find((s) => s.stage === 'files')?.options as { items: { dst: string; from: string; content?: string }[] }).items;
  assert.deepEqual(items.filter((i) => i.dst.includes('kiln-health')).map((i) => [i.dst, i.from, i.content]), [
    ['/etc/kiln-health/green.d/report', 'fleet', undefined],
    ['/etc/default/kiln-health', 'fleet', 'BOOT_TRIES=5\n'],
  ]);
  assert.ok((m.stages.find((s) => s.stage === 'services')?.options as { enable: string[] }).enable.includes('kiln-health'));
  // Two layers that disagree are refused; the recipe's boot_tries settles it.
  writeFileSync(join(folder, 'layers/other/layer.yaml'), 'health:\n  boot_tries: 2\n');
  assert.match(recipeError(folder, 'name: a\nlayers: [fleet, other]\n'), /layers\/other\/layer\.yaml:2:15 health\.boot_tries: "2" conflicts with "5" from layer "fleet" \(.*layers\/fleet\/layer\.yaml:4:15\); set health\.boot_tries in the recipe to choose/);
  const own = checkedManifest(parseRecipe(join(folder, 'r.yaml'), 'name: a\nlayers: [fleet, other]\nhealth: { boot_tries: 1 }\n', folder, { env: {} }));
  const tries = (own.stages.find((s) => s.stage === 'files')?.options as { items: { dst: string; content?: string }[] }).items.filter((i) => i.dst === '/etc/default/kiln-health');
  assert.deepEqual(tries.map((i) => i.content), ['BOOT_TRIES=1\n']);
});
