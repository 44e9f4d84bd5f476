/** What the OSTree device tests share: `kiln serve-repo` on the host, which a QEMU guest reaches as 10.0.2.2. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { MAIN } from './kiln.js';

export interface RepoServer {
  /** Everything the server printed so far: one line per response (`GET PATH STATUS BYTES`). */
  log: () => string;
  stop: () => void;
}

/** Starts `kiln serve-repo REPO` on 127.0.0.1:PORT and waits until it serves. */
export async function serveRepo(repo: string, port: number): Promise<RepoServer> {
  const server = spawn(process.execPath, [MAIN, 'serve-repo', repo, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  server.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  for (let i = 0; !log.includes('serving '); i++) {
    if (i >= 100 || server.exitCode !== null) server.kill('SIGTERM');
    assert.ok(i < 100 && server.exitCode === null, `kiln serve-repo did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { log: () => log, stop: () => server.kill('SIGTERM') };
}
