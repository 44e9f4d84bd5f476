/**
 * Boot to login under QEMU's software emulation (TCG), as `kiln boot` starts it (OVMF, 1 GiB):
 * a recipe with the vm layer, and with the vm and emulated layers, booted in turns. For each boot
 * the seconds from QEMU's start to the login prompt, then, logged in, systemd-analyze's split
 * (firmware, loader, kernel, initrd, userspace) and the three slowest units. Prints medians.
 * systemd-analyze leaves out what the firmware and boot loader do not report (OVMF and
 * systemd-boot here) and counts initramfs-tools' initrd as kernel time: "before the kernel" is
 * then the time to login less kernel and userspace (firmware, boot loader, the login prompt).
 *   node dist/bench/boot-time.js [runs=3] [recipe=examples/minimal.yaml]
 * The recipe logs in as root with password "root" (examples/minimal.yaml does).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Console } from '../test/e2e/console.js';
import { median } from './median.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
const recipe = process.argv[3] ?? 'examples/minimal.yaml';

/** systemd-analyze's phases, in seconds ("1min 2.5s", "830ms"). */
const PHASES = ['firmware', 'loader', 'kernel', 'initrd', 'userspace'] as const;
function phases(line: string): Partial<Record<(typeof PHASES)[number], number>> {
  const out: Partial<Record<(typeof PHASES)[number], number>> = {};
  for (const m of line.matchAll(/((?:\d+min )?[\d.]+m?s) \((\w+)\)/g)) {
    const [, text = '', phase = ''] = m;
    const minutes = /(\d+)min /.exec(text)?.[1];
    const rest = text.replace(/\d+min /, '');
    const seconds = rest.endsWith('ms') ? parseFloat(rest) / 1000 : parseFloat(rest);
    if ((PHASES as readonly string[]).includes(phase)) out[phase as (typeof PHASES)[number]] = Number(minutes ?? 0) * 60 + seconds;
  }
  return out;
}

interface Boot {
  login: number;
  phases: Partial<Record<(typeof PHASES)[number], number>>;
  blame: string[];
}

async function boot(image: string): Promise<Boot> {
  const vm = Console.start(image);
  try {
    const login = await vm.login('root', 'root');
    await vm.run('dmesg -n 1');
    await vm.run('systemctl is-system-running --wait', 300);
    const time = (await vm.run('systemd-analyze time | head -n1')).out;
    const blame = (await vm.run('systemd-analyze blame --no-pager | head -n3')).out.split('\n').map((l) => l.trim()).filter(Boolean);
    return { login, phases: phases(time), blame };
  } finally {
    await vm.stop();
  }
}

function build(out: string, layers: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [main, 'build', recipe, '-o', out, ...layers.flatMap((l) => ['--layer', l])], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`kiln build failed: ${result.stderr.slice(-2000)}`);
  const raw = spawnSync('sh', ['-c', `ls ${out}/*.raw`], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!raw) throw new Error(`no raw image in ${out}`);
  return raw;
}

const scratch = mkdtempSync(join(tmpdir(), 'kiln-boot-bench-'));
// The stages of an earlier build are reused when KILN_CACHE names its store.
const env: Record<string, string> = process.env.KILN_CACHE ? {} : { KILN_CACHE: join(scratch, 'cache') };
const variants: [string, string[]][] = [
  ['vm', ['vm']],
  ['vm + emulated', ['vm', 'emulated']],
];
try {
  const images = variants.map(([, layers], i) => build(join(scratch, `out-${i}`), layers, env));
  const boots: Boot[][] = variants.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const [i, image] of images.entries()) {
      const b = await boot(image);
      boots[i]?.push(b);
      process.stderr.write(`run ${run + 1} ${variants[i]?.[0]}: login after ${b.login.toFixed(1)} s; ${PHASES.map((p) => `${p} ${b.phases[p]?.toFixed(1) ?? '-'}`).join(', ')}\n`);
    }
  }
  console.log(`${recipe}, ${runs} boots each in turns (QEMU TCG, OVMF, 1 GiB), medians in seconds`);
  console.log(['layers', 'to login', 'before the kernel', ...PHASES, 'runs (to login)'].join(' | '));
  for (const [i, [name]] of variants.entries()) {
    const list = boots[i] ?? [];
    const cells = PHASES.map((p) => {
      const values = list.flatMap((b) => (b.phases[p] === undefined ? [] : [b.phases[p]]));
      return values.length ? median(values).toFixed(1) : '-';
    });
    const before = median(list.map((b) => b.login - (b.phases.kernel ?? 0) - (b.phases.userspace ?? 0) - (b.phases.initrd ?? 0)));
    console.log([name, median(list.map((b) => b.login)).toFixed(1), before.toFixed(1), ...cells, list.map((b) => b.login.toFixed(1)).join(', ')].join(' | '));
    console.log(`  slowest units (last boot): ${list.at(-1)?.blame.join('; ') ?? ''}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
