/**
 * What the stage store and the package cache buy, on examples/server.yaml. Each run uses a fresh
 * cache folder and a copy of the examples, and measures in the same run:
 *   (a) cold: empty stage store, empty package cache
 *   (b) empty stage store, warm package cache
 *   (c) unchanged recipe, warm caches
 *   (d) one overlay file changed
 *   (e) one package added
 * kiln's peak memory, and the store size one build leaves, against the tree and the final image. Prints medians and
 * the ratios the targets are about; over --link-mbit also how many .debs (b) fetched (0 expected).
 *   node dist/bench/cache.js [runs=3] [--link-mbit N]
 * --link-mbit fetches every package through a local proxy limited to N Mbit/s (throttled-mirror.ts).
 */
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startThrottledMirror } from './throttled-mirror.js';
import { median } from './median.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const main = join(repo, 'dist/src/cli/main.js');
const args = process.argv.slice(2);
const linkAt = args.indexOf('--link-mbit');
const linkMbit = linkAt >= 0 ? Number(args.splice(linkAt, 2)[1]) : undefined;
const runs = Number(args[0] ?? 3);
// A package per run that server.yaml does not have, so (e) always has something new to install.
const EXTRA = ['less', 'file', 'bzip2', 'rsync', 'lsof'];

/** kiln's peak memory in each build (build.json). */
const peakRss: number[] = [];

// Not spawnSync: the throttling proxy lives in this process and must keep serving.
async function build(recipe: string, out: string, cache: string): Promise<number> {
  const t = process.hrtime.bigint();
  const result = await execa(process.execPath, [main, 'build', recipe, '-o', out], { stdin: 'ignore', stdout: 'ignore', reject: false, env: { KILN_CACHE: cache } });
  if (result.exitCode !== 0) throw new Error(`kiln build failed: ${result.stderr.slice(-3000)}`);
  peakRss.push((JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { peakRssMiB?: number }).peakRssMiB ?? NaN);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function du(path: string): number {
  return Number(spawnSync('du', ['-s', '-B1', path], { encoding: 'utf8' }).stdout.split('\t')[0]) || 0;
}

/** The bytes of the store's tree layers: together they are the image's root tree. */
function treeLayers(stages: string): number {
  return readdirSync(stages)
    .filter((n) => /^[0-9a-f]{64}$/.test(n))
    .filter((n) => (JSON.parse(readFileSync(join(stages, n, 'meta.json'), 'utf8')) as { kind: string }).kind === 'tree')
    .reduce((sum, n) => sum + du(join(stages, n)), 0);
}

const rows: Record<string, number[]> = { a: [], b: [], c: [], d: [], e: [] };
const storeSizes: number[] = [];
const storeRatios: number[] = [];
const debsInB: number[] = [];
const packageSizes: number[] = [];
// The cache must be on the same file system as a real one (overlayfs, hard links): under ~/.cache.
const base = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kiln-bench');
const mirror = linkMbit === undefined ? undefined : await startThrottledMirror('http://deb.debian.org/debian', linkMbit);
for (let i = 0; i < runs; i++) {
  const scratch = mkdtempSync(`${base}-`);
  try {
    const cache = join(scratch, 'cache');
    const examples = join(scratch, 'examples');
    cpSync(join(repo, 'examples'), examples, { recursive: true });
    const recipe = join(examples, 'server.yaml');
    if (mirror) appendFileSync(recipe, `distro:\n  mirror: ${mirror.url}\n`);
    const out = join(scratch, 'out');
    rows.a?.push(await build(recipe, out, cache));
    const store = du(join(cache, 'stages'));
    storeSizes.push(store);
    storeRatios.push(store / (treeLayers(join(cache, 'stages')) + du(join(out, 'server.raw'))));
    packageSizes.push(du(join(cache, 'packages')));
    rmSync(join(cache, 'stages'), { recursive: true, force: true });
    const before = mirror?.debRequests() ?? 0;
    rows.b?.push(await build(recipe, out, cache));
    if (mirror) debsInB.push(mirror.debRequests() - before);
    rows.c?.push(await build(recipe, out, cache));
    appendFileSync(join(examples, 'server/overlay/etc/systemd/network/80-dhcp.network'), `# run ${i}\n`);
    rows.d?.push(await build(recipe, out, cache));
    const text = readFileSync(recipe, 'utf8').replace('packages: [openssh-server, sudo]', `packages: [openssh-server, sudo, ${EXTRA[i % EXTRA.length] ?? 'less'}]`);
    writeFileSync(recipe, text);
    rows.e?.push(await build(recipe, out, cache));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stderr.write(`run ${i + 1}/${runs}: ${Object.entries(rows).map(([k, v]) => `${k} ${v.at(-1)?.toFixed(1)} s`).join(', ')}\n`);
}

const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)])) as Record<'a' | 'b' | 'c' | 'd' | 'e', number>;
const line = (label: string, key: keyof typeof m, target = '') =>
  console.log(`${label.padEnd(46)} ${m[key].toFixed(1).padStart(6)} s   (runs: ${rows[key]?.map((t) => t.toFixed(1)).join(', ')})${target}`);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
await mirror?.close();
console.log(`examples/server.yaml, ${runs} runs, medians${linkMbit === undefined ? '' : `, packages fetched over a ${linkMbit} Mbit/s link`}`);
line('(a) cold, empty caches', 'a');
// The package cache's target: 0.8 on the machine's mirror, 0.5 over a 20 Mbit/s link (or slower).
const bTarget = linkMbit !== undefined && linkMbit <= 20 ? '0.50' : '0.80';
line('(b) empty stage store, warm package cache', 'b', `   b/a = ${(m.b / m.a).toFixed(2)} (target ≤ ${bTarget})`);
line('(c) unchanged recipe, warm caches', 'c', '   (target ≤ 5 s)');
line('(d) one overlay file changed', 'd', `   d/a = ${(m.d / m.a).toFixed(2)} (target ≤ 0.15)`);
line('(e) one package added', 'e', `   e/a = ${(m.e / m.a).toFixed(2)}`);
console.log(`store size per build (stages/)                 ${mib(median(storeSizes))}   ${median(storeRatios).toFixed(2)} × (tree + final image) (target ≤ 1.30)`);
if (mirror) console.log(`.debs fetched by (b)                           ${debsInB.join(', ')}   (target 0)`);
console.log(`package cache after one build                  ${mib(median(packageSizes))}`);
console.log(`kiln peak RSS                                  ${Math.max(...peakRss)} MiB   (largest of every build; target < 300)`);
