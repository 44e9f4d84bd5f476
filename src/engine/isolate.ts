/**
 * Runs a build inside its own mount and pid namespaces, so that nothing it starts can outlive it.
 *
 * A build mounts its image root (overlayfs over the cached stage layers) and runs apt, dpkg and
 * hooks. kiln re-executes itself as pid 1 of a new pid namespace with a private mount namespace:
 * - when that process ends for any reason, even SIGKILL, the kernel kills every process left in
 *   the namespace, and the mounts vanish with the last of them;
 * - the outer kiln only waits and forwards SIGINT/SIGTERM; `setpriv --pdeathsig KILL` makes the
 *   inner side die with it if the outer kiln is killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';

const MARK = 'KILN_ISOLATED';

export function isIsolated(): boolean {
  return process.env[MARK] === '1';
}

/** The pid of the kiln the user started, as the host sees it (inside, process.pid is 1). */
export function hostPid(): number {
  return Number(process.env.KILN_HOST_PID ?? process.pid);
}

let early: NodeJS.Signals | undefined;

/** The file descriptor on which the isolated kiln says its signal handlers are in place. */
const READY_FD = 3;

/**
 * Isolated, kiln is pid 1 of its namespace, and the kernel drops a signal sent to pid 1 that has no
 * handler of its own (Node's start-up handler only restores the terminal and re-raises it). main.ts
 * calls this first thing: a Ctrl-C that comes while kiln is still loading is noted, `earlySignal`
 * tells the real handler (the CLI's interruptible) that it came, and the outer kiln is told that
 * from now on a forwarded signal counts.
 */
export function noteEarlySignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (early ??= signal));
  if (process.env.KILN_READY_FD !== String(READY_FD)) return;
  delete process.env.KILN_READY_FD;
  try {
    writeSync(READY_FD, '1');
    closeSync(READY_FD);
  } catch {
    // The outer kiln is gone; a signal can only come from inside now.
  }
}

export function earlySignal(): NodeJS.Signals | undefined {
  return early;
}

/** Re-runs this very command line isolated; resolves with its exit code. */
export function runIsolated(): Promise<number> {
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    // Its own session: a Ctrl-C on the terminal reaches only this process, which forwards it once.
    { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], detached: true, env: { ...process.env, [MARK]: '1', KILN_HOST_PID: String(process.pid), KILN_READY_FD: String(READY_FD) } },
  );
  let ready = false;
  const readyPipe = child.stdio[READY_FD] as Readable | null;
  readyPipe?.once('data', () => (ready = true));
  readyPipe?.on('error', () => undefined);
  let killedEarly = false;
  const forward = (signal: NodeJS.Signals) => {
    // The kernel would drop the signal for an isolated kiln that does not handle it yet (still
    // loading, or not forked), and unshare ignores it while it waits: then unshare is killed, and
    // takes the isolated kiln along (--kill-child). Nothing has started yet.
    const inner = ready ? childrenOf(child.pid) : [];
    if (!inner.length && child.pid) {
      killedEarly = true;
      child.kill('SIGKILL');
      return;
    }
    for (const pid of inner) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || killedEarly ? 130 : 1)));
  });
}

/** unshare forks the isolated kiln; that child is the one to signal. */
function childrenOf(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
