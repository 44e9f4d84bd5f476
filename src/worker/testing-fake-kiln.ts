/**
 * The source of a stand-in for `kiln build --json`, for the worker's tests: it reads what to do
 * from comments in the recipe (`# mode: ok|slow|stubborn|once|badsums`, `# pidfile: PATH`,
 * `# marker: PATH`), prints build events like kiln does, and writes outputs. "stubborn" ignores
 * SIGTERM and starts a grandchild that does too, so only a SIGKILL of the whole group ends them.
 */
export const FAKE_KILN = String.raw`
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = process.argv.slice(2);
const recipe = readFileSync(args[1], 'utf8');
const out = args[args.indexOf('-o') + 1];
const opt = (k) => (new RegExp('# ' + k + ': (\\S+)').exec(recipe) ?? [])[1];
let mode = opt('mode') ?? 'ok';
const marker = opt('marker');
if (mode === 'once') {
  mode = marker && existsSync(marker) ? 'ok' : 'stubborn';
  if (marker) writeFileSync(marker, 'ran');
}
const now = () => new Date().toISOString();
const emit = (e) => process.stdout.write(JSON.stringify({ ...e, time: now() }) + '\n');
emit({ type: 'build-start', name: 'fake', stages: [{ name: 'one', id: 'i1', summary: 'the first' }, { name: 'two', id: 'i2', summary: 'the second' }] });
emit({ type: 'stage-start', stage: 'one', index: 0, total: 2 });
emit({ type: 'output', stage: 'one', line: 'working on ' + args.slice(5).join(' ') });
process.stderr.write('a note on stderr\n');
if (mode === 'stubborn') {
  process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\n'));
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
  writeFileSync(opt('pidfile'), process.pid + ' ' + child.pid);
  setInterval(() => {}, 1000);
} else {
  await new Promise((r) => setTimeout(r, mode === 'slow' ? 1500 : 10));
  emit({ type: 'stage-end', stage: 'one', seconds: 0.1, cached: false });
  emit({ type: 'stage-start', stage: 'two', index: 1, total: 2 });
  emit({ type: 'stage-end', stage: 'two', seconds: 0, cached: true });
  mkdirSync(join(out, 'oci', 'blobs'), { recursive: true });
  writeFileSync(join(out, 'fake.tar'), 'image bytes '.repeat(1000));
  writeFileSync(join(out, 'oci', 'index.json'), '{}');
  writeFileSync(join(out, 'oci', 'blobs', 'b'), 'blob');
  // "badsums": kiln's SHA256SUMS is wrong about the image, which the server must notice.
  writeFileSync(join(out, 'SHA256SUMS'), mode === 'badsums' ? '0'.repeat(64) + '  fake.tar\n' : '');
  writeFileSync(join(out, 'build.json'), '{"name":"fake"}');
  emit({ type: 'build-end', ok: true, seconds: 0.2, outputDir: out });
}
`;
