/**
 * `kiln shell` and `kiln run`: a command (or a shell) in a stored image root, and the image's own
 * init booted in a container. Both hold the store lock shared, like a build, so `kiln cache prune`
 * cannot take a layer from under a running container.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BuildError, InterruptedError } from '../errors.js';
import { machineName, type Bind } from '../host/nspawn.js';
import type { LoadOptions } from '../recipe/index.js';
import type { Store } from '../store/store.js';
import { ConsoleWatcher } from '../vm/console-watch.js';
import { checkContainerHost, exitOf, startContainer, stopContainer } from './container.js';
import { containerInits, failedUnits } from './container-init.js';
import { findStoredTree } from './stored-tree.js';

export interface ShellRequest {
  /** A recipe file or a build folder. */
  target: string;
  load: LoadOptions;
  command: readonly string[];
  writable: boolean;
  binds: readonly Bind[];
  /** A terminal is attached (stdin and stdout): nspawn then gives the container one. */
  tty: boolean;
}

/** Runs the command in the image root; resolves with its exit status. */
export async function shell(store: Store, request: ShellRequest): Promise<number> {
  const tree = await findStoredTree(store, request.target, request.load);
  const binds = checkContainerHost(tree.arch, request.binds);
  const held = await store.use();
  const run = startContainer(
    store,
    tree,
    { machine: machineName(tree.name), console: request.tty ? 'interactive' : 'pipe', binds, command: request.command, env: { KILN_SHELL: tree.name } },
    request.writable,
    'inherit',
  );
  const stop = forwardSignals(run.child);
  try {
    return await exitOf(run.child);
  } finally {
    stop();
    await stopContainer(run.child);
    run.cleanup();
    await held.release();
  }
}

/**
 * The container gets the terminal's Ctrl-C itself (kiln ignores it and waits); SIGTERM or SIGHUP
 * to kiln ends the container. Returns the function that undoes this.
 */
function forwardSignals(child: ChildProcess): () => void {
  const ignore = () => undefined;
  const end = () => void stopContainer(child);
  process.on('SIGINT', ignore);
  process.on('SIGTERM', end);
  process.on('SIGHUP', end);
  return () => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', end);
    process.off('SIGHUP', end);
  };
}

export interface RunRequest {
  target: string;
  load: LoadOptions;
  check: boolean;
  timeoutSeconds: number;
  tty: boolean;
  signal: AbortSignal;
  /** Console output while --check waits (a terminal shows it dimmed). */
  onOutput?: (chunk: string) => void;
}

export interface RunResult {
  /** multi-user: reached multi-user.target or a login prompt; otherwise why not. */
  result: 'multi-user' | 'emergency' | 'exited' | 'timeout';
  seconds: number;
  tail: string[];
  /** At multi-user: the units systemd in the container counts as failed (systemctl --failed). */
  failedUnits: string[];
}

// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[[0-9;]*m/g;
// systemd's status line, with or without the unit's description (systemd 252 and 257 differ).
const MULTI_USER = /Reached target .*(multi-user\.target|Multi-User System)/;

/** Boots the tree with its own init. Without `check` the console is the user's; resolves with nspawn's status. */
export async function runContainer(store: Store, request: RunRequest): Promise<RunResult | number> {
  const tree = await findStoredTree(store, request.target, request.load);
  checkContainerHost(tree.arch, []);
  const held = await store.use();
  const t = performance.now();
  const spec = { machine: machineName(tree.name), boot: true, volatile: true, console: request.check || !request.tty ? ('read-only' as const) : ('interactive' as const) };
  const run = startContainer(store, tree, spec, false, request.check ? 'pipe' : 'inherit');
  const stop = request.check ? () => undefined : forwardSignals(run.child);
  try {
    if (!request.check) return await exitOf(run.child);
    return await watch(run.child, request, t);
  } finally {
    stop();
    await stopContainer(run.child);
    run.cleanup();
    await held.release();
  }
}

async function watch(child: ChildProcess, request: RunRequest, t: number): Promise<RunResult> {
  const watcher = new ConsoleWatcher();
  const lines: string[] = [];
  let pending = '';
  return new Promise((done, fail) => {
    const finish = (result: RunResult['result']) => {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', abort);
      const tail = [...lines.slice(-20), pending].map((l) => l.replace(COLOUR, '').replace(/\r/g, '')).filter((l) => l.trim());
      const seconds = Math.round((performance.now() - t) / 100) / 10;
      // nspawn is unshare's child (child.pid: setpriv execs unshare); its child is the container's init.
      const init = result === 'multi-user' ? containerInits((_, parent) => parent === child.pid)[0] : undefined;
      done({ result, seconds, tail, failedUnits: init ? failedUnits(init) : [] });
    };
    const abort = () => fail(new InterruptedError('SIGINT'));
    const timer = setTimeout(() => finish('timeout'), request.timeoutSeconds * 1000);
    request.signal.addEventListener('abort', abort, { once: true });
    const feed = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      request.onOutput?.(text);
      const parts = (pending + text).split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length > 200) lines.splice(0, lines.length - 200);
      const verdict = watcher.push(text);
      if (verdict === 'login' || [...parts, pending].some((l) => MULTI_USER.test(l))) finish('multi-user');
      else if (verdict === 'emergency') finish('emergency');
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
    child.on('exit', () => finish('exited'));
    child.on('error', (err) => fail(new BuildError(`cannot start the container: ${err.message}`)));
  });
}
