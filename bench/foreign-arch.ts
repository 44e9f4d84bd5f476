/**
 * A foreign architecture's cold build against the host's own, of the same recipe, in turns on the
 * same machine, each with an empty cache folder (package cache and native toolboxes included):
 * the recipe built with `--arch <host>` and with its own arch (whose programs run under
 * qemu-user). Prints the medians, the ratio and where the foreign build's time goes.
 *   node dist/bench/foreign-arch.js [runs=3] [recipe=examples/arm64-vm.yaml] [--default-initramfs]
 * --default-initramfs drops the recipe's kernel.initramfs_modules, so both builds make Debian's
 * default initramfs (every storage driver, MODULES=most), as a recipe for real hardware does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { hostArch } from '../src/arch/host-arch.js';
import { buildPhases, hashSeconds, type BuildRecord } from './build-phases.js';
import { median } from './median.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const runs = Number(positional[0] ?? 3);
const given = positional[1] ?? 'examples/arm64-vm.yaml';
const defaultInitramfs = process.argv.includes('--default-initramfs');

// The recipe without its initramfs module list, beside it (so its relative paths still resolve).
let recipe = given;
if (defaultInitramfs) {
  recipe = join(dirname(given), `.bench-default-initramfs-${basename(given)}`);
  const doc = parseDocument(readFileSync(join(repo, given), 'utf8'));
  doc.deleteIn(['kernel', 'initramfs_modules']);
  writeFileSync(join(repo, recipe), doc.toString());
  process.on('exit', () => rmSync(join(repo, recipe), { force: true }));
}
const foreign = (parseDocument(readFileSync(join(repo, recipe), 'utf8')).toJS() as { arch?: string }).arch ?? 'amd64';
const host = hostArch();
if (foreign === host) throw new Error(`${recipe} is for ${host}, this host's own architecture: give a recipe for another one`);

type BuildJson = BuildRecord & { seconds: number };
function build(arch: string): { seconds: number; record: BuildJson; log: string; hashed: Record<string, number> } {
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-arch-'));
  try {
    const out = join(scratch, 'out');
    const t = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [main, 'build', recipe, '--arch', arch, '-o', out], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KILN_CACHE: join(scratch, 'cache') } });
    if (result.status !== 0) throw new Error(`kiln build --arch ${arch} failed: ${result.stderr.toString().slice(-2000)}`);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as BuildJson;
    return { seconds, record, log: readFileSync(join(out, 'build.log'), 'utf8'), hashed: hashSeconds(join(scratch, 'cache')) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const times: Record<string, number[]> = { [host]: [], [foreign]: [] };
const stageTimes = new Map<string, number[]>();
const phaseTimes = new Map<string, number[]>();
for (let i = 0; i < runs; i++) {
  // Alternating which goes first, so neither always meets the machine in the same state.
  for (const arch of i % 2 ? [foreign, host] : [host, foreign]) {
    const { seconds, record, log, hashed } = build(arch);
    times[arch]?.push(seconds);
    if (arch !== foreign) continue;
    for (const { name, seconds: s } of record.stages) stageTimes.set(name, [...(stageTimes.get(name) ?? []), s]);
    for (const [name, s] of buildPhases(log, record, hashed)) phaseTimes.set(name, [...(phaseTimes.get(name) ?? []), s]);
  }
  process.stderr.write(`run ${i + 1}/${runs}: ${host} ${times[host]?.at(-1)?.toFixed(1)} s, ${foreign} ${times[foreign]?.at(-1)?.toFixed(1)} s\n`);
}

const line = (label: string, values: number[]) => console.log(`${label.padEnd(34)} ${median(values).toFixed(1).padStart(6)} s   (runs: ${values.map((v) => v.toFixed(1)).join(', ')})`);
console.log(`recipe                             ${given}${defaultInitramfs ? ', without kernel.initramfs_modules (Debian\'s default initramfs)' : ''}`);
line(`cold build, --arch ${host}`, times[host] ?? []);
line(`cold build, --arch ${foreign}`, times[foreign] ?? []);
console.log(`ratio ${foreign} / ${host}                ${(median(times[foreign] ?? []) / median(times[host] ?? [])).toFixed(2)}   (target ≤ 2)`);
console.log(`the ${foreign} build by stage (medians):`);
for (const [name, values] of stageTimes) if (median(values) >= 0.1) console.log(`  ${name.padEnd(26)} ${median(values).toFixed(1).padStart(6)} s`);
console.log(`where the ${foreign} build goes (medians; the lines add up to the build):`);
for (const [name, values] of phaseTimes) console.log(`  ${name.padEnd(52)} ${median(values).toFixed(1).padStart(6)} s`);
