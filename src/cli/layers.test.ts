import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../errors.js';
import { searchPath } from '../recipe/layers.js';
import { layersTable, showLayer } from './layers.js';

const BUILTIN = ['ab', 'base', 'cloud-init', 'container-host', 'devuser', 'emulated', 'growroot', 'health', 'kiosk', 'raspberrypi', 'serial-console', 'slim', 'ssh-server', 'systemd-networkd', 'vm'];

void test('kiln layers list shows every built-in layer with its description, and a project layer hiding one', (t) => {
  const project = mkdtempSync(join(tmpdir(), 'kiln-cli-layers-'));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'layers/base'), { recursive: true });
  writeFileSync(join(project, 'layers/base/layer.yaml'), 'description: our own base\n');
  const lines = layersTable(searchPath(project, {})).trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+DESCRIPTION\s+\(FOLDER\)$/);
  assert.match(lines[1] ?? '', /^base\s+our own base\s+\(.*layers\/base\)$/);
  for (const name of BUILTIN) assert.ok(lines.some((l) => l.startsWith(`${name} `)), `${name} is listed`);
  assert.ok(lines.some((l) => /^base\s+\(hidden by .*kiln-cli-layers-.*\)/.test(l)), 'the built-in base is hidden by the project one');
  assert.ok(lines.some((l) => /^ssh-server\s+OpenSSH server; host keys are made on first boot/.test(l)));
});

void test('kiln layers show prints variables with defaults and the values --set gives', () => {
  const text = showLayer('ssh-server', searchPath(undefined, {}), { SSH_PORT: '2222' }, {});
  assert.match(text, /^name: ssh-server$/m);
  assert.match(text, /SSH_PORT:\n\s+default: "22"\n\s+pattern: .*\n\s+description: .*\n\s+value: "2222"/);
  assert.match(text, /Port 2222/);
  assert.match(showLayer('raspberrypi', searchPath(undefined, {}), {}, {}), /customize:\n\s+- hooks\/customize\/10-board/);
});

void test('kiln layers show of an unknown layer suggests the nearest', () => {
  assert.throws(() => showLayer('ssh-srever', searchPath(undefined, {}), {}, {}), (err) => err instanceof UserError && /unknown layer "ssh-srever" \(did you mean "ssh-server"\?\)/.test(err.message));
});

void test('kiln layers list in kiln\'s own folder lists each built-in layer once', () => {
  const repo = new URL('../../../', import.meta.url).pathname;
  const names = layersTable(searchPath(repo, {})).trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names, [...new Set(names)]);
  assert.equal(names.length, BUILTIN.length);
});
