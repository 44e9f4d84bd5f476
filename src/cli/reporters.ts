/**
 * Three ways to show a build: a live task list on a terminal (listr2: each stage with a tail of
 * its command's output and its time), plain timestamped lines elsewhere (CI logs), or one JSON
 * event per line (--json) for scripts and the service.
 */
import { DefaultRenderer, Listr, PRESET_TIMER, SimpleRenderer, type ListrTaskWrapper } from 'listr2';
import pc from 'picocolors';
import type { BuildEvent, Listener } from '../engine/events.js';

export interface Reporter {
  listener: Listener;
  /** Resolves once everything is drawn. */
  done(): Promise<void>;
}

export function pickReporter(json: boolean, stream: NodeJS.WriteStream = process.stderr): Reporter {
  if (json) return lineReporter((e) => JSON.stringify(e), process.stdout);
  if (stream.isTTY && process.env.TERM !== 'dumb') return taskListReporter();
  return lineReporter(plainLine, stream);
}

function lineReporter(format: (e: BuildEvent) => string | undefined, stream: NodeJS.WritableStream): Reporter {
  return {
    listener: (event) => {
      const line = format(event);
      if (line !== undefined) stream.write(`${line}\n`);
    },
    done: () => Promise.resolve(),
  };
}

export function plainLine(e: BuildEvent): string | undefined {
  const at = e.time.slice(11, 19);
  switch (e.type) {
    case 'build-start':
      return `${at} build ${e.name}: ${e.stages.length} stages`;
    case 'stage-start':
      return `${at} [${e.index + 1}/${e.total}] ${e.stage}`;
    case 'output':
      return `${at}   ${e.stage}: ${e.line}`;
    case 'stage-end':
      return `${at} ${e.stage} ${e.cached ? 'cached' : 'done'} in ${e.seconds.toFixed(1)} s`;
    case 'stage-fail':
      return `${at} ${e.stage} FAILED after ${e.seconds.toFixed(1)} s: ${e.message}`;
    case 'build-end':
      return `${at} build ${e.ok ? `done in ${e.seconds.toFixed(1)} s: ${e.outputDir ?? ''}` : 'failed'}`;
  }
}

type Task = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;
type Waiter = { task?: Task; resolve?: () => void; reject?: (e: Error) => void; early?: BuildEvent };

function taskListReporter(): Reporter {
  const waiters = new Map<string, Waiter>();
  let running: Promise<unknown> = Promise.resolve();
  const settle = (w: Waiter, e: BuildEvent) => {
    if (e.type === 'stage-end') {
      if (e.cached) w.task?.skip(`${w.task.title} (cached)`);
      w.resolve?.();
    } else if (e.type === 'stage-fail') w.reject?.(new Error(e.message));
  };
  return {
    listener: (event) => {
      if (event.type === 'build-start') {
        const list = new Listr(
          event.stages.map((s) => ({
            title: s.name,
            rendererOptions: { outputBar: 5, persistentOutput: false },
            task: (_ctx: unknown, task: Task) =>
              new Promise<void>((resolve, reject) => {
                const w = waiters.get(s.name) ?? {};
                Object.assign(w, { task, resolve, reject });
                waiters.set(s.name, w);
                if (w.early) settle(w, w.early);
              }),
          })),
          {
            concurrent: false,
            exitOnError: true,
            renderer: 'default',
            rendererOptions: { timer: PRESET_TIMER, collapseErrors: false },
          },
        );
        running = list.run().catch(() => undefined);
      } else if (event.type === 'output') {
        const task = waiters.get(event.stage)?.task;
        if (task) task.output = event.line;
      } else if (event.type === 'stage-end' || event.type === 'stage-fail') {
        const w = waiters.get(event.stage) ?? {};
        w.early = event;
        waiters.set(event.stage, w);
        settle(w, event);
      } else if (event.type === 'build-end' && event.ok) {
        void running.then(() => process.stderr.write(`${pc.green('✔')} built in ${event.seconds.toFixed(1)} s → ${event.outputDir ?? ''}\n`));
      }
    },
    done: () => running.then(() => undefined),
  };
}
