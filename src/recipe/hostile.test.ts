/**
 * Hostile and malformed recipes: each ends in a UserError (exit 2) whose first line names the file,
 * the position where one exists and the limit or the fix, in bounded time. Table: input → message.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../errors.js';
import { loadRecipe, parseRecipe } from './load.js';

const folder = mkdtempSync(join(tmpdir(), 'kiln-hostile-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function firstError(text: string): string {
  try {
    parseRecipe('r.yaml', text, folder, { env: {} });
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err instanceof Error ? err.stack : String(err)}`);
    return err.message.split('\n')[0] ?? '';
  }
  return 'no error';
}

const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', ...'bcde'.split('').map((n, i) => `${n}: &${n} [${Array(10).fill(`*${'abcd'[i]}`).join(',')}]`), 'f: [*e,*e]'].join('\n');

const CASES: [string, string, string][] = [
  ['an alias bomb', bomb, 'r.yaml:5:29 the document expands to more than 100000 values (the limit) through its aliases; is it an alias bomb?'],
  ['an alias inside its own anchor', 'name: x\npackages: &a [vim, *a]\n', 'r.yaml:2:20 the alias *a is inside its own anchor &a, which makes an endless value'],
  ['an alias without anchor', 'name: x\nhostname: *nope\n', 'r.yaml:2:11 the alias *nope has no anchor &nope before it'],
  ['deep nesting', `name: x\nfiles: ${'['.repeat(40)}${']'.repeat(40)}\n`, 'r.yaml:2:39 values are nested more than 32 levels deep (the limit); a recipe needs a handful'],
  // Never parsed: the parser's recursion would overflow, or exhaust memory on a megabyte of "[".
  ['very deep nesting', `name: x\nfiles: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'r.yaml:2:135 values are nested far more than 32 levels deep (the limit); a recipe needs a handful'],
  ['a megabyte of [', '['.repeat(1024 * 1024 - 1), 'r.yaml:1:128 values are nested far more than 32 levels deep (the limit); a recipe needs a handful'],
  ['one line of nested lists', `${'- '.repeat(300000)}x\n`, 'r.yaml:1:257 values are nested far more than 32 levels deep (the limit); a recipe needs a handful'],
  ['deeply indented keys', `${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} x\n`, 'r.yaml:129:129 values are nested far more than 32 levels deep (the limit); a recipe needs a handful'],
  ['brackets in quotes and block scalars are text', `name: x\nfiles:\n  - { dst: /a, content: "${'['.repeat(300)}" }\n  - dst: /b\n    content: |\n      ${'{'.repeat(300)}\n`, 'no error'],
  ['a long string', `name: x\nhostname: ${'a'.repeat(70000)}\n`, 'r.yaml:2:11 a string of 70000 characters is longer than the limit of 65536'],
  ['too many packages', `name: x\npackages: [${Array.from({ length: 10001 }, (_, i) => `p${i}`).join(',')}]\n`, 'r.yaml:2:11 packages: has 10001 entries, over the limit of 10000'],
  ['too many partitions', `name: x\ndisk:\n  partitions: [${Array.from({ length: 129 }, (_, i) => `{name: p${i}, size: 1M}`).join(',')}]\n`, 'r.yaml:3:15 disk.partitions: has 129 entries, over the limit of 128'],
  ['an empty file', '', 'r.yaml is empty; the smallest recipe is one line: "name: my-image"'],
  ['only comments', '# nothing\n', 'r.yaml is empty; the smallest recipe is one line: "name: my-image"'],
  ['a list', '- name: x\n', 'r.yaml:1:1 the recipe must be a mapping of keys to values (start with "name: my-image")'],
  ['a scalar', 'just text\n', 'r.yaml:1:1 the recipe must be a mapping of keys to values (start with "name: my-image")'],
  ['two documents', 'name: x\n---\nname: y\n', 'r.yaml:2:1 a recipe is one YAML document: remove the "---" line and what follows, or move it to a file of its own'],
  ['a duplicate key', 'name: x\nname: y\n', 'r.yaml:2:1 Map keys must be unique: the same key is given twice in one mapping; keep one'],
  ['a tab', 'name: x\ndistro:\n\trelease: sid\n', 'r.yaml:3:1 Tabs are not allowed as indentation: indent with spaces'],
  ['a complex key', 'name: x\n? [a]\n: 1\n', 'r.yaml:2:3 a key must be a plain name, not a list or mapping'],
  ['a tag', 'name: x\nhostname: !!binary aGVsbG8=\n', 'r.yaml:2:20 the tag !!binary is not used in recipes (remove it and write the value as plain text)'],
  ['a number that overflows', 'name: x\nusers: [{name: a, uid: 1e400}]\n', 'r.yaml:2:24 1e400 is too large a number (the largest kiln takes is 9007199254740991)'],
  ['an integer past 2^53', 'name: x\nhostname: 12345678901234567890\n', 'r.yaml:2:11 12345678901234567890 is too large a number (the largest kiln takes is 9007199254740991)'],
  ['a size of 1e309', 'name: x\ndisk: {size: 1e309}\n', 'r.yaml:2:14 1e309 is too large a number (the largest kiln takes is 9007199254740991)'],
  ['a negative size', 'name: x\ndisk: {size: -5M}\n', 'r.yaml:2:14 disk.size: "-5M" is not a size (examples: auto, 2G, 1500M)'],
  ['a size past 8 PiB', 'name: x\ndisk: {size: 99999999999999999999T}\n', 'r.yaml:2:14 disk.size: "99999999999999999999T" is larger than 8192T, the largest size kiln takes'],
  ['a right-to-left override', 'name: x\nhostname: "a\\u202eb"\n', 'r.yaml:2:11 "a\u202eb" contains U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible character that hides or reorders what is shown; remove it'],
  ['a zero-width space in a path', 'name: x\nfiles: [{dst: "/etc/a\\u200bb", content: x}]\n', 'r.yaml:2:15 "/etc/a\u200bb" contains U+200B (ZERO WIDTH SPACE), an invisible character that hides or reorders what is shown; remove it'],
  ['a line break in a name', 'name: x\nusers: [{name: "a\\nb"}]\n', 'r.yaml:2:16 "a\\nb" contains U+000A (a line break), a control character: outside content and descriptions, values are one line of printable text; remove it'],
  ['a NUL escape', 'name: "a\\0b"\n', 'r.yaml:1:7 "a\\u0000b" contains U+0000 (NUL), a control character: outside content and descriptions, values are one line of printable text; remove it'],
  ['a name that makes a bad hostname', 'name: web-\n', 'r.yaml:1:7 name: gives the image the hostname "web-", which is not valid (letters, digits and "-", not first or last, at most 63 per dot-separated label); set hostname: or change the name'],
  ['a container of a commit without ostree', 'name: x\noutputs: [ostree-container]\n', 'r.yaml:2:11 outputs[0]: serves an OSTree commit, which needs ostree: { ref: ... } (e.g. ref: debian/trixie/amd64/edge, repo: ./repo) and the ostree-repo output'],
];

for (const [name, text, expected] of CASES) {
  void test(`hostile recipe: ${name}`, () => {
    const started = Date.now();
    assert.equal(firstError(text), expected);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
}

void test('an --arch kiln does not build names the flag, not a line of the recipe', () => {
  assert.throws(() => parseRecipe('r.yaml', 'name: x\n', folder, { env: {}, arch: 'sparc' }), { message: '--arch sparc: not an architecture kiln builds (supported: amd64, arm64, armhf, i386)' });
});

void test('free text keeps tabs and any character; a name becomes a valid hostname', () => {
  assert.equal(firstError('name: x\nfiles: [{dst: /etc/a, content: "tab\\there \\u202e ok"}]\n'), 'no error');
  assert.equal(firstError('name: my_image\n'), 'no error');
});

void test('a recipe file that is not text, too big, a device or a folder is refused before parsing', () => {
  const at = (name: string, content: string | Buffer) => {
    writeFileSync(join(folder, name), content);
    return join(folder, name);
  };
  const error = (file: string) => {
    try {
      loadRecipe(file);
    } catch (err) {
      assert.ok(err instanceof UserError);
      return err.message.replace(folder, 'F');
    }
    return 'no error';
  };
  assert.equal(error(at('nul.yaml', Buffer.from('name: a\0b\n'))), 'F/nul.yaml:1:8 holds a NUL byte: a recipe file is UTF-8 text (is this the right file?)');
  assert.equal(error(at('latin1.yaml', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]))), 'F/latin1.yaml:1:7 holds the byte 0xe9, which is not UTF-8: a recipe file is UTF-8 text (is this the right file?)');
  assert.equal(error(at('big.yaml', `name: x\n#${'x'.repeat(1024 * 1024)}\n`)), 'F/big.yaml is 1048586 bytes, over the limit of 1048576 for a recipe file (keep big files next to it and name them with files: src)');
  assert.equal(error('/dev/zero'), '/dev/zero is not a regular file (a device, FIFO or socket); give a recipe YAML file');
  assert.equal(error(folder), 'F is a folder (give the path to a recipe YAML file)');
  assert.equal(error(join(folder, 'missing.yaml')), 'F/missing.yaml no such recipe file (give the path to a recipe YAML file, e.g. examples/minimal.yaml)');
});

void test('links that leave the recipe folder and special files are refused, with the key that names them', (t) => {
  const dir = join(folder, 'links');
  mkdirSync(join(dir, 'layers'), { recursive: true });
  mkdirSync(join(dir, 'overlay'));
  symlinkSync('/etc/passwd', join(dir, 'secret'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'kiln-elsewhere-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  writeFileSync(join(elsewhere, 'layer.yaml'), 'description: outside\n');
  symlinkSync(elsewhere, join(dir, 'layers', 'evil'));
  execFileSync('mkfifo', [join(dir, 'fifo'), join(dir, 'overlay', 'pipe')]);
  const error = (text: string) => {
    writeFileSync(join(dir, 'r.yaml'), text);
    try {
      loadRecipe(join(dir, 'r.yaml'), { env: {} });
    } catch (err) {
      assert.ok(err instanceof UserError);
      return err.message.replace(`${dir}/`, '');
    }
    return 'no error';
  };
  assert.equal(error('name: x\nfiles: [{src: secret, dst: /etc/x}]\n'), 'r.yaml:2:15 files[0].src: "secret" is a link that leaves the recipe\'s folder; keep referenced files inside it');
  assert.equal(error('name: x\nlayers: [evil]\n'), 'r.yaml:2:10 layers[0]: layers/evil is a link that leaves the recipe\'s folder; keep referenced files inside it (for layers kept elsewhere, name their folder in KILN_LAYER_PATH)');
  assert.equal(error('name: x\nfiles: [{src: fifo, dst: /etc/x}]\n'), 'r.yaml:2:15 files[0].src: "fifo" is a FIFO; kiln copies files, folders and symbolic links');
  assert.equal(error('name: x\nfiles: [{src: overlay/, dst: /}]\n'), 'r.yaml:2:15 files[0].src: "overlay/" holds pipe, which is a FIFO; kiln copies files, folders and symbolic links');
});

void test('a layer variable pattern that backtracks exponentially is stopped, and plain ones match', async () => {
  const { matchUserPattern } = await import('./user-pattern.js');
  assert.deepEqual(matchUserPattern('^[a-z_][a-z0-9_-]{0,31}$', 'dev'), { matches: true });
  assert.deepEqual(matchUserPattern('^(a+)+$', `${'a'.repeat(5000)}b`), { matches: false });
  const started = Date.now();
  const runaway = matchUserPattern('^(a|a?)+\\1$', `${'a'.repeat(40)}b`);
  assert.ok('error' in runaway && /backtracks exponentially/.test(runaway.error), JSON.stringify(runaway));
  assert.ok(Date.now() - started < 10_000);
  assert.deepEqual(matchUserPattern('(', 'x'), { error: 'is not a regular expression' });
});
