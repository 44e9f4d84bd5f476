/**
 * Cold build of a recipe against a bare mmdebstrap of the same package set and architecture, run
 * in turns on the same machine so both see the same mirror and load; then kiln's warm rebuild of
 * the unchanged recipe, and a build of the recipe with one package added (`hello`, in the
 * recipe's own package set: only that set's stage and the later ones run again). Prints medians
 * and the ratios, where the cold build's time goes stage by stage, and the kiln process's peak
 * memory (from build.json).
 *   node dist/bench/cold-build.js [runs=3] [recipe=examples/minimal.yaml] [--mkosi] [--floor]
 * --mkosi adds a cold build of the same image by mkosi (Debian's mkosi 14 package, `apt-get install
 * mkosi`; its configuration and this host's shims are in bench/mkosi/) to every turn: the package
 * cache, workspace and output emptied each time, as kiln's cache is.
 * --floor adds the same bare mmdebstrap with INITRD=No to every turn: the part of its work that
 * kiln's bootstrap stage leaves to mmdebstrap, apt and dpkg (everything but the initramfs). Its
 * ratio to the bare one is what a build that installs with them costs before it has made an
 * initramfs, a file system or an output.
 * For examples/arm64-vm.yaml both run under qemu-user, and the bare mmdebstrap gets the recipe's
 * initramfs module list too (through an essential hook), so both make the same small initramfs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { fileURLToPath } from 'node:url';
import { buildPhases, hashSeconds, type BuildRecord } from './build-phases.js';
import { median } from './median.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// The kiln compiled beside this bench (dist/, or another --outDir).
const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const runs = Number(positional[0] ?? 3);
const recipe = positional[1] ?? 'examples/minimal.yaml';
const withMkosi = process.argv.includes('--mkosi');
const withFloor = process.argv.includes('--floor');
if (withMkosi && spawnSync('mkosi', ['--version']).status !== 0) throw new Error('--mkosi needs mkosi: apt-get install -y mkosi');

function timed(command: string, args: string[], env: Record<string, string> = {}): number {
  // The run before wrote and removed a root of half a gigabyte: its write-back is not this run's time.
  spawnSync('sync');
  const t = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.toString().slice(-2000)}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const plan = JSON.parse(spawnSync(process.execPath, [main, 'plan', recipe], { cwd: repo, encoding: 'utf8' }).stdout) as {
  name: string;
  stages: { stage: string; options: { release: string; mirror: string; variant: string; arch: string; packages: string[]; initramfsModules?: string[] } }[];
};
const bootstrap = plan.stages.find((s) => s.stage === 'bootstrap')?.options;
if (!bootstrap) throw new Error('the plan has no bootstrap stage');
// The bare mmdebstrap installs every set at once: the base system, the layers' and the recipe's.
const packages = plan.stages.filter((s) => s.stage === 'bootstrap' || s.stage === 'packages').flatMap((s) => s.options.packages);

// The same recipe with one more package, beside it (so its relative paths still resolve).
const added = join(repo, dirname(recipe), `.bench-added-${basename(recipe)}`);
const doc = parseDocument(readFileSync(join(repo, recipe), 'utf8'));
doc.set('packages', [...((doc.toJS() as { packages?: string[] }).packages ?? []), 'hello']);
writeFileSync(added, doc.toString());
process.on('exit', () => rmSync(added, { force: true }));

const kilnTimes: number[] = [];
const bareTimes: number[] = [];
const warmTimes: number[] = [];
const addedTimes: number[] = [];
const mkosiTimes: number[] = [];
const floorTimes: number[] = [];
let mkosiImage = { size: 0, allocated: 0 };
// The kernel stage makes the initramfs, with the recipe's module list if it has one.
const modules = plan.stages.find((s) => s.stage === 'kernel')?.options.initramfsModules ?? [];
const initramfsHook = modules.length
  ? [`--essential-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/bench.conf" && printf '%s\\n' ${modules.join(' ')} > "$1/usr/share/initramfs-tools/modules.d/bench"`]
  : [];
let image = { size: 0, allocated: 0 };
/** Each stage's seconds in every cold build, by its place in the plan (a name can come twice). */
const stageTimes: { name: string; times: number[] }[] = [];
/** The same for the build with one package added (the stages it ran, not those from the store). */
const addedStageTimes: { name: string; times: number[] }[] = [];
const peakRss: number[] = [];
/** The cold build's phases (build-phases.ts), by their place in the list. */
const phaseTimes: { name: string; times: number[] }[] = [];
type BuildJson = BuildRecord & { peakRssMiB?: number };
const readRecord = (dir: string) => JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as BuildJson;
for (let i = 0; i < runs; i++) {
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  try {
    const root = join(scratch, 'root');
    const bare = ['--mode=root', `--variant=${bootstrap.variant}`, `--architectures=${bootstrap.arch}`, `--include=${packages.join(',')}`, ...initramfsHook, bootstrap.release, root, bootstrap.mirror];
    bareTimes.push(timed('mmdebstrap', bare));
    rmSync(root, { recursive: true, force: true });
    if (withFloor) {
      // INITRD=No: the kernel's postinst and initramfs-tools' trigger make no initramfs (as in kiln's bootstrap).
      floorTimes.push(timed('mmdebstrap', bare, { INITRD: 'No' }));
      rmSync(root, { recursive: true, force: true });
    }
    const out = join(scratch, 'out');
    kilnTimes.push(timed(process.execPath, [main, 'build', recipe, '-o', out], { KILN_CACHE: join(scratch, 'cache') }));
    const cold = readRecord(out);
    cold.stages.forEach(({ name, seconds }, n) => (stageTimes[n] ??= { name, times: [] }).times.push(seconds));
    const phases = buildPhases(readFileSync(join(out, 'build.log'), 'utf8'), cold, hashSeconds(join(scratch, 'cache')));
    phases.forEach(([name, seconds], n) => (phaseTimes[n] ??= { name, times: [] }).times.push(seconds));
    if (withMkosi) {
      const folder = join(scratch, 'mkosi');
      mkosiTimes.push(timed('bash', ['bench/mkosi/build.sh', 'cold'], { BENCH: folder }));
      const raw = join(folder, 'output', 'debian~trixie', 'image.raw');
      const stat = statSync(raw);
      mkosiImage = { size: stat.size, allocated: stat.blocks * 512 };
      rmSync(folder, { recursive: true, force: true });
    }
    warmTimes.push(timed(process.execPath, [main, 'build', recipe, '-o', out], { KILN_CACHE: join(scratch, 'cache') }));
    addedTimes.push(timed(process.execPath, [main, 'build', added, '-o', join(scratch, 'added')], { KILN_CACHE: join(scratch, 'cache') }));
    for (const dir of [out, join(scratch, 'added')]) peakRss.push(readRecord(dir).peakRssMiB ?? NaN);
    readRecord(join(scratch, 'added'))
      .stages.filter((st) => !st.cached)
      .forEach(({ name, seconds }, n) => (addedStageTimes[n] ??= { name, times: [] }).times.push(seconds));
    const stat = statSync(join(out, `${plan.name}.raw`));
    image = { size: stat.size, allocated: stat.blocks * 512 };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const mkosiRun = withMkosi ? `, mkosi ${mkosiTimes.at(-1)?.toFixed(1)} s` : '';
  const floorRun = withFloor ? `, without initramfs ${floorTimes.at(-1)?.toFixed(1)} s` : '';
  process.stderr.write(`run ${i + 1}/${runs}: mmdebstrap ${bareTimes.at(-1)?.toFixed(1)} s${floorRun}, kiln ${kilnTimes.at(-1)?.toFixed(1)} s${mkosiRun}, warm ${warmTimes.at(-1)?.toFixed(1)} s, one package added ${addedTimes.at(-1)?.toFixed(1)} s\n`);
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
console.log(`recipe                       ${recipe} (${bootstrap.release}: ${packages.length} packages on ${bootstrap.variant}, ${bootstrap.arch})`);
console.log(`bare mmdebstrap, median      ${median(bareTimes).toFixed(1)} s   (runs: ${bareTimes.map((t) => t.toFixed(1)).join(', ')})`);
console.log(`kiln cold build, median      ${median(kilnTimes).toFixed(1)} s   (runs: ${kilnTimes.map((t) => t.toFixed(1)).join(', ')})`);
console.log(`ratio kiln / mmdebstrap      ${(median(kilnTimes) / median(bareTimes)).toFixed(2)}   (target ≤ 0.60)`);
if (withFloor) {
  console.log(`mmdebstrap, INITRD=No        ${median(floorTimes).toFixed(1)} s   (runs: ${floorTimes.map((t) => t.toFixed(1)).join(', ')})`);
  console.log(`ratio INITRD=No / mmdebstrap ${(median(floorTimes) / median(bareTimes)).toFixed(2)}   (mmdebstrap, apt and dpkg alone, before any initramfs)`);
}
if (withMkosi) {
  console.log(`mkosi cold build, median     ${median(mkosiTimes).toFixed(1)} s   (runs: ${mkosiTimes.map((t) => t.toFixed(1)).join(', ')})`);
  console.log(`ratio kiln / mkosi           ${(median(kilnTimes) / median(mkosiTimes)).toFixed(2)}   (target ≤ 0.75)`);
}
console.log(`kiln warm rebuild, median    ${median(warmTimes).toFixed(1)} s   (runs: ${warmTimes.map((t) => t.toFixed(1)).join(', ')})`);
console.log(`one package added, median    ${median(addedTimes).toFixed(1)} s   (runs: ${addedTimes.map((t) => t.toFixed(1)).join(', ')})`);
console.log(`ratio added / cold           ${(median(addedTimes) / median(kilnTimes)).toFixed(2)}   (target ≤ 0.35)`);
for (const { name, times } of stageTimes) console.log(`  ${name.padEnd(26)} ${median(times).toFixed(1).padStart(6)} s   (cold build, median)`);
console.log('the build with one package added, the stages it ran (medians):');
for (const { name, times } of addedStageTimes) console.log(`  ${name.padEnd(26)} ${median(times).toFixed(1).padStart(6)} s`);
console.log('where the cold build goes (medians; the lines add up to the build):');
for (const { name, times } of phaseTimes) console.log(`  ${name.padEnd(52)} ${median(times).toFixed(1).padStart(6)} s`);
console.log(`kiln peak RSS                ${Math.max(...peakRss)} MiB   (largest of every build; target < 300)`);
console.log(`image size                   ${mib(image.size)} apparent, ${mib(image.allocated)} allocated (sparse)`);
if (withMkosi) console.log(`mkosi's image                ${mib(mkosiImage.size)} apparent, ${mib(mkosiImage.allocated)} allocated (sparse)`);
