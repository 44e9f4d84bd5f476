/**
 * What an image's bytes are: the disk image's allocated size, and its root tree by kind of
 * content (kernel modules, firmware, documentation, locales...), for a recipe as it is, with the
 * slim layer, and with slim and vm. One stage store for all three, so what they share is built once.
 *   node dist/bench/image-size.js [recipe=examples/minimal.yaml]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const recipe = process.argv[2] ?? 'examples/minimal.yaml';

/** Folders reported on their own, largest kinds first; the rest of the tree is "everything else". */
const KINDS: [string, string][] = [
  ['kernel modules', '/usr/lib/modules'],
  ['firmware', '/usr/lib/firmware'],
  ['/boot (kernel, initramfs)', '/boot'],
  ['documentation', '/usr/share/doc'],
  ['man and info pages', '/usr/share/man /usr/share/info'],
  ['translations', '/usr/share/locale'],
  ['apt lists and caches', '/var/lib/apt/lists /var/cache/apt'],
  ['dpkg database', '/var/lib/dpkg'],
  ['shared libraries', '/usr/lib/*-linux-gnu'],
];

function kiln(args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [main, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`kiln ${args.join(' ')} failed: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

/** Bytes under each folder list, read by du inside the built tree. */
function treeBytes(out: string, env: Record<string, string>): { total: number; kinds: number[] } {
  const script = ['du -sx -B1 / | cut -f1', ...KINDS.map(([, paths]) => `du -scx -B1 ${paths} 2>/dev/null | tail -n1 | cut -f1`)].join('; ');
  const lines = kiln(['shell', out, '--', 'sh', '-c', script], env).trim().split('\n').map(Number);
  return { total: lines[0] ?? NaN, kinds: lines.slice(1) };
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const scratch = mkdtempSync(join(tmpdir(), 'kiln-size-'));
const env = { KILN_CACHE: join(scratch, 'cache') };
const variants: [string, string[]][] = [
  ['as it is', []],
  ['+ slim', ['--layer', 'slim']],
  ['+ slim + vm', ['--layer', 'slim', '--layer', 'vm']],
];
const rows: string[][] = [['', ...variants.map(([name]) => name)]];
try {
  const measured = variants.map(([name, layers], i) => {
    const out = join(scratch, `out-${i}`);
    kiln(['build', recipe, '-o', out, ...layers], env);
    process.stderr.write(`built ${recipe} ${name}\n`);
    const raw = spawnSync('sh', ['-c', `ls ${out}/*.raw`], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
    const stat = statSync(raw);
    return { apparent: stat.size, allocated: stat.blocks * 512, tree: treeBytes(out, env) };
  });
  rows.push(['disk image, allocated', ...measured.map((m) => `${mib(m.allocated)} (of ${mib(m.apparent)})`)]);
  rows.push(['root tree', ...measured.map((m) => mib(m.tree.total))]);
  KINDS.forEach(([label], k) => rows.push([`  ${label}`, ...measured.map((m) => mib(m.tree.kinds[k] ?? NaN))]));
  rows.push(['  everything else', ...measured.map((m) => mib(m.tree.total - m.tree.kinds.reduce((a, b) => a + b, 0)))]);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
console.log(`${recipe}`);
for (const row of rows) console.log(row.map((cell, i) => (i ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('   '));
