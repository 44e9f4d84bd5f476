/**
 * File locks that the kernel releases when their holder dies. A lock is held by a small `flock`
 * process whose stdin is a pipe from kiln: when kiln releases the lock, or exits, or is killed with
 * SIGKILL, the pipe closes, the holder exits and the lock is gone. Lock files that merely exist,
 * or pids written to files, would outlive a killed build and be trusted wrongly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  shared?: boolean;
  /** Called once if the lock is busy and we have to wait for it. */
  onWait?: () => void;
  signal?: AbortSignal;
}

const HOLD = 'echo locked; read _ || true';

export async function lock(file: string, options: LockOptions = {}): Promise<Lock> {
  mkdirSync(dirname(file), { recursive: true });
  const mode = options.shared ? '--shared' : '--exclusive';
  const held = await tryHold(file, mode, ['--nonblock']);
  if (held) return held;
  options.onWait?.();
  const waited = await tryHold(file, mode, [], options.signal);
  if (!waited) throw new Error(`could not lock ${file}`);
  return waited;
}

/** The lock if it is free now, undefined if someone holds it. */
export function tryLock(file: string, options: Pick<LockOptions, 'shared'> = {}): Promise<Lock | undefined> {
  mkdirSync(dirname(file), { recursive: true });
  return tryHold(file, options.shared ? '--shared' : '--exclusive', ['--nonblock']);
}

/** True if some live process holds a lock on the file (shared or exclusive). */
export function isLocked(file: string): boolean {
  const result = spawnSync('flock', ['--exclusive', '--nonblock', file, 'true'], { stdio: 'ignore' });
  return result.status === 1;
}

function tryHold(file: string, mode: string, extra: string[], signal?: AbortSignal): Promise<Lock | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', [mode, ...extra, '--conflict-exit-code', '75', file, 'sh', '-c', HOLD], { stdio: ['pipe', 'pipe', 'ignore'] });
    let settled = false;
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.once('data', () => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // Once held, a forgotten lock must not keep kiln alive; it is released when kiln exits anyway.
      child.unref();
      for (const stream of [child.stdin, child.stdout]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
      resolve({ release: () => releaseHolder(child) });
    });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      if (!settled) reject(err);
    });
    child.on('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      if (code === 75) resolve(undefined);
      else reject(new Error(signal?.aborted ? 'interrupted while waiting for a lock' : `flock ${file} exited with status ${code ?? '?'}`));
    });
  });
}

function releaseHolder(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.ref();
    child.once('exit', () => resolve());
    child.stdin?.end();
  });
}
