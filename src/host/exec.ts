/**
 * Runs commands for stages: every output line goes to the log and the listener, the last lines are
 * kept for the error message, and the whole process group is killed on abort so no apt or dpkg
 * is left running after Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { BuildError, InterruptedError } from '../errors.js';

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  /** How the command is named in logs and errors when `command` is only a wrapper (chroot). */
  label?: string;
}

export interface ExecResult {
  stdout: string;
}

/** How stages run commands: injected, so a unit test can record the calls instead. */
export type Exec = (command: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** How an Exec runs its commands: for which stage, cancelled by what, with output sent where. */
export interface ExecSettings {
  stage: string;
  signal: AbortSignal;
  onLine: (line: string) => void;
  /** Set for every command (SOURCE_DATE_EPOCH once the bootstrap stage has chosen it). */
  env?: Record<string, string>;
}

const TAIL = 15;

export function quoteCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map(quote).join(' ');
}

export function makeExec(runner: ExecSettings): Exec {
  return (command, args, options = {}) => run(runner, command, args, options);
}

function run(runner: ExecSettings, command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const shown = options.label ?? [command, ...args].map(quote).join(' ');
  const name = options.label ?? command;
  runner.onLine(`$ ${shown}`);
  return new Promise((resolve, reject) => {
    if (runner.signal.aborted) return reject(new InterruptedError('SIGINT'));
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...runner.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const tail: string[] = [];
    let stdout = '';
    const lines = (keep: boolean) => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (keep) stdout += text;
        const parts = (partial + text).split(/\r?\n|\r/);
        partial = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > TAIL) tail.shift();
          runner.onLine(line);
        }
      };
    };
    child.stdout?.on('data', lines(true));
    child.stderr?.on('data', lines(false));
    if (options.input !== undefined) child.stdin?.end(options.input);

    let killTimer: NodeJS.Timeout | undefined;
    const abort = () => {
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5000);
    };
    runner.signal.addEventListener('abort', abort, { once: true });
    child.on('error', (err) => {
      runner.signal.removeEventListener('abort', abort);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new BuildError(missing ? `${name}: command not found (run kiln doctor --install)` : err.message, runner.stage, shown));
    });
    child.on('close', (code, signal) => {
      runner.signal.removeEventListener('abort', abort);
      if (killTimer) clearTimeout(killTimer);
      if (runner.signal.aborted) return reject(new InterruptedError('SIGINT'));
      if (code === 0) return resolve({ stdout });
      const how = signal ? `was killed by ${signal}` : `exited with status ${code ?? '?'}`;
      reject(new BuildError(`${name} ${how}`, runner.stage, shown, [...tail]));
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
