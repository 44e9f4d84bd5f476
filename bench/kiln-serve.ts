/** `kiln serve` as its own process for the benchmarks: tokens made with the CLI, 127.0.0.1, a free port. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/testing/free-port.js';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
const main = join(repo, 'dist/src/cli/main.js');

export interface Server {
  url: string;
  admin: string;
  worker: string;
  stop(): Promise<void>;
}

export function kilnSync(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startServe(data: string, database: string | undefined, workers: number, env: Record<string, string> = {}): Promise<Server> {
  const db = database ? ['--database', database] : [];
  const admin = kilnSync(['serve', 'token', 'create', '--data', data, ...db, '--scope', 'admin', '--name', 'bench', '--quiet']);
  const worker = kilnSync(['serve', 'token', 'create', '--data', data, ...db, '--scope', 'worker', '--name', 'bench-workers', '--quiet']);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [main, 'serve', '--listen', `127.0.0.1:${port}`, '--data', data, ...db, '--workers', String(workers)], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (i > 300 || child.exitCode !== null) throw new Error('kiln serve did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    admin,
    worker,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

