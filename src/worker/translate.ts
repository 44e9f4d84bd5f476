/**
 * What `kiln build --json` prints, turned into the service's worker events. Pure: the numbering
 * (1, 2, 3 ... per lease) lives here, so a resend carries the very numbers the server dedupes by.
 */
import type { BuildEvent } from '../engine/events.js';
import type { WorkerEvent } from '../service/protocol.js';

/** The protocol's limit for one log line; longer ones are cut and marked. */
export const MAX_LINE = 65536;

type Unnumbered = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, 'n'> : never) : never;

/** The worker event a build event becomes; build-end says nothing the finish call does not. */
export function fromBuildEvent(e: BuildEvent): Unnumbered | undefined {
  switch (e.type) {
    case 'build-start':
      return { type: 'stages', time: e.time, stages: e.stages.map(({ name, summary }) => ({ name, summary })) };
    case 'stage-start':
      return { type: 'stage-start', time: e.time, stage: e.stage, index: e.index, total: e.total };
    case 'output':
      return { type: 'log', time: e.time, stage: e.stage, line: cut(e.line) };
    case 'stage-end':
      return { type: 'stage-end', time: e.time, stage: e.stage, cached: e.cached, seconds: e.seconds };
    case 'stage-fail':
      return { type: 'stage-fail', time: e.time, stage: e.stage, seconds: e.seconds, message: e.message };
    case 'build-end':
      return undefined;
  }
}

const TYPES = new Set(['build-start', 'stage-start', 'output', 'stage-end', 'stage-fail', 'build-end']);

/**
 * One line of the build's stdout: a JSON build event, or (anything else, e.g. a tool that wrote
 * to stdout) a plain log line, so nothing the build says is lost.
 */
export function fromStdoutLine(line: string, time: string): Unnumbered | undefined {
  if (line.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(line);
      if (isBuildEvent(value)) return fromBuildEvent(value);
    } catch {
      // Not JSON after all: a log line.
    }
  }
  return line === '' ? undefined : { type: 'log', time, line: cut(line) };
}

/** A stderr line: kiln's own messages (errors, warnings) go to the log without a stage. */
export function fromStderrLine(line: string, time: string): Unnumbered | undefined {
  return line === '' ? undefined : { type: 'log', time, line: cut(line) };
}

function isBuildEvent(value: unknown): value is BuildEvent {
  return typeof value === 'object' && value !== null && TYPES.has((value as { type?: unknown }).type as string) && typeof (value as { time?: unknown }).time === 'string';
}

function cut(line: string): string {
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 20)} [... line cut]`;
}

/** Numbers events from 1 in the order they happened; one per lease. */
export class EventNumberer {
  private n = 0;
  number(e: Unnumbered): WorkerEvent {
    this.n += 1;
    return { ...e, n: this.n };
  }
  get last(): number {
    return this.n;
  }
}

export type { Unnumbered as UnnumberedWorkerEvent };
