/**
 * The developer's loop, timed on an image that is already built (its build folder): node's and
 * kiln's own start (`kiln --version`), `kiln shell` to a command's end, and `kiln run --check`
 * against `kiln boot --check` of the same image. Prints medians.
 *   KILN_CACHE=<the build's store> node dist/bench/devloop.js BUILD_DIR [runs=5]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './median.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node dist/bench/devloop.js BUILD_DIR [runs=5]');
const runs = Number(process.argv[3] ?? 5);

function timed(args: string[], ok = [0]): number {
  const t = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (!ok.includes(result.status ?? -1)) throw new Error(`kiln ${args.join(' ')} failed (${result.status}): ${result.stderr.toString().slice(-2000)}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const repeat = (n: number, f: () => number) => Array.from({ length: n }, f);
const show = (label: string, xs: number[]) => process.stdout.write(`${label.padEnd(44)} median ${median(xs).toFixed(2)} s  (${xs.map((x) => x.toFixed(2)).join(', ')})\n`);

const version = repeat(runs, () => timed(['--version']));
show('kiln --version (node and kiln start)', version);
const shell = repeat(runs, () => timed(['shell', dir, '--', 'true']));
show('kiln shell BUILD_DIR -- true', shell);
const status = repeat(runs, () => timed(['shell', dir, '--', 'sh', '-c', 'exit 3'], [3]));
show('kiln shell BUILD_DIR -- sh -c "exit 3"', status);
const run = repeat(Math.min(runs, 3), () => timed(['run', dir, '--check']));
show('kiln run --check (to multi-user)', run);
const image = readdirSync(dir).find((f) => f.endsWith('.raw'));
if (image) {
  const boot = repeat(1, () => timed(['boot', join(dir, image), '--check', '--timeout', '900', '--log', join(dir, 'bench-boot.log')]));
  show('kiln boot --check (QEMU TCG, to login)', boot);
  process.stdout.write(`kiln run --check is ${(median(boot) / median(run)).toFixed(0)}x faster than kiln boot --check\n`);
}
