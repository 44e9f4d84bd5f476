/**
 * The timeline's rows, merged from two sources that race: the build as fetched (its stage list as
 * the server had it when it answered) and the event stream (which may already be further on). A
 * page fetches the build when a state event arrives, and by the time the answer lands the worker's
 * `stages` and `stage-start` events may have been drawn: the older answer must not undo them.
 */
import type { Build } from './api.js';

export interface StageRow {
  name: string;
  summary?: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  cached?: boolean;
  seconds?: number;
  /** ms epoch when a running stage started (its bar grows until it ends). */
  startedAt?: number;
}

const RANK: Record<StageRow['state'], number> = { pending: 0, running: 1, done: 2, failed: 2 };

/**
 * The rows after a fetched build: its list, except where the stream has already gone further (a
 * row further along, or a list the answer predates). A new attempt (a lost worker's job requeued)
 * starts over from the server's list.
 */
export function mergeStageRows(known: StageRow[], knownAttempt: number | undefined, build: Pick<Build, 'stages' | 'attempt'>): StageRow[] {
  if (knownAttempt !== undefined && knownAttempt !== build.attempt) return build.stages.map((s) => ({ ...s }));
  if (!build.stages.length) return known;
  const byName = new Map(known.map((s) => [s.name, s]));
  return build.stages.map((s) => {
    const mine = byName.get(s.name);
    if (!mine) return { ...s };
    return RANK[mine.state] > RANK[s.state] ? mine : { ...mine, ...s };
  });
}
