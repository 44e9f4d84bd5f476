/**
 * Which QEMU CPU model boots an image with the least work under software emulation (TCG): the
 * image booted as `kiln boot --check` boots it (OVMF, 1 GiB, 2 vCPUs), once per model in turns,
 * to its login prompt. For each boot the wall time and the CPU time QEMU used (its user + system
 * time from /proc), which is what a busy host (a CI runner booting two images at once) pays.
 *   node dist/bench/boot-cpu.js IMAGE [runs=5] [models=max,qemu64]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOvmf, qemuArgs } from '../src/vm/qemu.js';
import { plain } from '../test/e2e/kiln.js';
import { median } from './median.js';

const [imageArg, runsArg = '5', modelsArg = 'max,qemu64'] = process.argv.slice(2);
if (!imageArg) throw new Error('usage: boot-cpu.js IMAGE [runs] [models]');
const image: string = imageArg;
const models = modelsArg.split(',');
const LOGIN = /^\S+ login: /m;

/** Clock ticks of the process's user and system time (fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function boot(cpu: string): Promise<{ wall: number; cpu: number }> {
  const firmware = findOvmf('amd64');
  const tmp = mkdtempSync(join(tmpdir(), 'kiln-boot-cpu-'));
  copyFileSync(firmware.vars, join(tmp, 'vars.fd'));
  const args = qemuArgs({ image, format: 'raw', media: 'disk', ovmf: { code: firmware.code, varsCopy: join(tmp, 'vars.fd') }, memoryMiB: 1024, interactive: false, cpu });
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  // Read at the login prompt, before QEMU is killed: its /proc entry goes with it.
  let measured: { wall: number; cpu: number } | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (measured || child.pid === undefined || !LOGIN.test(plain(text))) return;
      measured = { wall: (Date.now() - started) / 1000, cpu: cpuSeconds(child.pid) };
      child.kill('SIGKILL');
    });
    child.once('close', () => {
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true });
      if (measured) resolve(measured);
      else reject(new Error(`-cpu ${cpu}: QEMU ended before a login prompt; last output:\n${plain(text).slice(-1500)}`));
    });
  });
}

const results = new Map(models.map((m) => [m, [] as { wall: number; cpu: number }[]]));
for (let run = 1; run <= Number(runsArg); run++) {
  for (const model of models) {
    const b = await boot(model);
    results.get(model)?.push(b);
    process.stderr.write(`run ${run} -cpu ${model}: login after ${b.wall.toFixed(1)} s, ${b.cpu.toFixed(1)} CPU-s\n`);
  }
}
console.log(`${image}: ${runsArg} boots per CPU model in turns (QEMU TCG, OVMF, 1 GiB, 2 vCPUs), medians`);
console.log('model | to login (s) | QEMU CPU time (s) | runs (CPU s)');
for (const [model, list] of results) {
  console.log([model, median(list.map((b) => b.wall)).toFixed(1), median(list.map((b) => b.cpu)).toFixed(1), list.map((b) => b.cpu.toFixed(1)).join(', ')].join(' | '));
}
