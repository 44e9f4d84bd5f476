/**
 * Layers are input too (a recipe bundle from the network brings its own): mutated layer.yaml files
 * of every built-in layer and the test fixture's, used by a recipe, plan or fail with a positioned
 * UserError, never anything else, and plan deterministically.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { propertyParameters } from '../testing/property.js';
import { check } from './plan-outcome.js';
import { anyValue } from './recipe-arbitraries.js';
import { stringify } from 'yaml';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// A recipe folder holding copies of every layer, so a mutated copy shadows the built-in.
const folder = mkdtempSync(join(tmpdir(), 'kiln-layer-props-'));
after(() => rmSync(folder, { recursive: true, force: true }));
cpSync(join(REPO, 'layers'), join(folder, 'layers'), { recursive: true });
cpSync(join(REPO, 'test/e2e/fixtures/layered/layers'), join(folder, 'layers'), { recursive: true });
const LAYERS = readdirSync(join(folder, 'layers')).map((name) => ({ name, text: readFileSync(join(folder, 'layers', name, 'layer.yaml'), 'utf8') }));

const edit = fc.oneof(
  fc.record({ at: fc.nat(), text: fc.oneof(fc.constantFrom(':', '- ', '[', '{', '&a ', '*a', '!!binary ', '"', '\t', '\n  ', '${', '${NOPE}', '\u202e', '(a+)+$'), fc.string({ maxLength: 4 })) }).map((e) => (t: string) => {
    const at = t.length ? e.at % t.length : 0;
    return t.slice(0, at) + e.text + t.slice(at);
  }),
  fc.record({ at: fc.nat() }).map((e) => (t: string) => t.slice(0, t.length ? e.at % t.length : 0)),
  fc.record({ key: fc.constantFrom('packages', 'depends', 'variables', 'files', 'hooks', 'kernel', 'bootloader', 'services', 'name', 'disk'), value: anyValue }).map((e) => (t: string) => `${t}\n${stringify({ [e.key]: e.value })}`),
);

void test('mutated layers plan or fail with a positioned UserError, deterministically', () => {
  fc.assert(
    fc.property(fc.constantFrom(...LAYERS), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.constantFrom('', 'bootloader: grub-efi\n', 'arch: arm64\n'), (layer, edits, extra) => {
      const file = join(folder, 'layers', layer.name, 'layer.yaml');
      writeFileSync(file, edits.reduce((text, e) => e(text), layer.text));
      try {
        check(join(folder, 'r.yaml'), `name: props\nlayers: [${layer.name}]\nroot_password: root\n${extra}`);
      } finally {
        writeFileSync(file, layer.text);
      }
    }),
    propertyParameters(300),
  );
});
