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
import { readFileSync } from 'node:fs';

const MARK = 'KILN_ISOLATED';

export function isIsolated(): boolean {
  return process.env[MARK] === '1';
}

/** The pid of the kiln the user started, as the host sees it (inside, process.pid is 1). */
export function hostPid(): number {
  return Number(process.env.KILN_HOST_PID ?? process.pid);
}

/** Re-runs this very command line isolated; resolves with its exit code. */
export function runIsolated(): Promise<number> {
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    // Its own session: a Ctrl-C on the terminal reaches only this process, which forwards it once.
    { stdio: 'inherit', detached: true, env: { ...process.env, [MARK]: '1', KILN_HOST_PID: String(process.pid) } },
  );
  const forward = (signal: NodeJS.Signals) => {
    for (const pid of childrenOf(child.pid)) {
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
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
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
