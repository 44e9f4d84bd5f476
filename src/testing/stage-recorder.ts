/**
 * A stage context for unit tests of one stage: commands are recorded, not run (a stage never runs
 * them itself, so the record is everything it asked for), and the files it writes land in a
 * temporary image root the test prepares. `onCall` lets a test play a command's effect on the
 * tree (groupadd adding a line to /etc/group) where the stage reads it back. The temporary folder
 * is removed after the test (or the file, when made outside a test) that made it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import type { ExecOptions } from '../host/exec.js';
import type { StageContext } from '../stages/define.js';

export interface Call {
  where: 'host' | 'chroot';
  command: string;
  args: string[];
  options?: ExecOptions | undefined;
}

export interface Recorder {
  ctx: StageContext;
  calls: Call[];
  logs: string[];
  /** Writes a file into the image root, making its folders. */
  write(path: string, text: string): void;
}

export function stageRecorder(onCall?: (call: Call, root: string) => void): Recorder {
  const base = mkdtempSync(join(tmpdir(), 'kiln-stage-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  for (const dir of [root, join(base, 'work'), join(base, 'scratch')]) mkdirSync(dir);
  const calls: Call[] = [];
  const logs: string[] = [];
  const exec = (where: Call['where']) => (command: string, args: readonly string[], options?: ExecOptions) => {
    const call = { where, command, args: [...args], options };
    calls.push(call);
    onCall?.(call, root);
    return Promise.resolve({ stdout: '' });
  };
  const ctx: StageContext = {
    root,
    layers: [],
    work: join(base, 'work'),
    scratch: join(base, 'scratch'),
    packageCache: join(base, 'packages'),
    folders: { recipe: base },
    exec: exec('host'),
    chroot: exec('chroot'),
    log: (line) => logs.push(line),
    facts: {},
    signal: new AbortController().signal,
  };
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  return { ctx, calls, logs, write };
}
