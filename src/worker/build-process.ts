/**
 * One `kiln build --json` as a child process in a process group of its own. Its JSON events come
 * on stdout, its messages on stderr, line by line. Stopping it is SIGTERM to the group (kiln then
 * unmounts and removes its work folders), SIGKILL after a grace period; a build that ends leaves
 * nothing behind: whatever is left in its group is killed when its first process exits.
 *
 * `setpriv --pdeathsig KILL` ties the build to this worker: a worker killed with SIGKILL takes its
 * builds along (kiln build runs in its own mount and pid namespaces, so nothing stays mounted).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface BuildCommand {
  /** kiln's main.js (or, in tests, a script that behaves like it). */
  kilnMain: string;
  recipeFile: string;
  outputDir: string;
  set: Record<string, string>;
  arch: string;
  cwd: string;
  env?: Record<string, string>;
}

export interface BuildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stderr, for the failure message. */
  tail: string[];
}

export interface BuildProcess {
  pid: number;
  /** Resolves when the build ended and its output streams are closed. */
  done: Promise<BuildExit>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs` if it is still there. */
  stop(graceMs: number): void;
}

/** The argument list after `node`: main.js build FILE -o DIR --json --arch A --set K=V ... */
export function buildArgs(c: BuildCommand): string[] {
  const set = Object.entries(c.set).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  return [c.kilnMain, 'build', c.recipeFile, '-o', c.outputDir, '--json', '--arch', c.arch, ...set];
}

const TAIL = 20;

export function startBuild(c: BuildCommand, onStdout: (line: string) => void, onStderr: (line: string) => void): Promise<BuildProcess> {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, ...buildArgs(c)], {
    cwd: c.cwd,
    // Its own process group (and session): the worker signals the group, and a Ctrl-C meant for
    // the worker on a terminal does not reach the build.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...c.env },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      const pid = child.pid as number;
      const tail: string[] = [];
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onStdout);
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        tail.push(line);
        if (tail.length > TAIL) tail.shift();
        onStderr(line);
      });
      let killTimer: NodeJS.Timeout | undefined;
      const done = new Promise<BuildExit>((resolveDone) => {
        let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
        child.once('exit', (code, signal) => {
          exit = { code, signal };
          clearTimeout(killTimer);
          // Whatever the build started and left in its group goes with it.
          signalGroup(pid, 'SIGKILL');
        });
        child.once('close', () => resolveDone({ ...(exit ?? { code: child.exitCode, signal: child.signalCode }), tail }));
      });
      resolve({
        pid,
        done,
        stop(graceMs) {
          if (child.exitCode !== null || child.signalCode !== null || killTimer) return;
          signalGroup(pid, 'SIGTERM');
          killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        },
      });
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
