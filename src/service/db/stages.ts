/**
 * A build's per-stage progress, derived from its events as they are appended (pure). Kept in the
 * builds row so showing or listing builds never reads the event log.
 */
import type { Build } from '../protocol.js';
import type { NewBuildEvent } from './service-store.js';

export type StageProgress = Build['stages'][number];

/** The entry an event about `stage` refers to: at `index` if its name matches, else the first not yet finished. */
function find(stages: StageProgress[], stage: string, index?: number): number {
  if (index !== undefined && stages[index]?.name === stage) return index;
  const open = stages.findIndex((s) => s.name === stage && (s.state === 'running' || s.state === 'pending'));
  return open >= 0 ? open : stages.findIndex((s) => s.name === stage);
}

/** The stages after `e`, or undefined when `e` does not change them. */
export function applyStageEvent(stages: StageProgress[], e: NewBuildEvent): StageProgress[] | undefined {
  switch (e.type) {
    case 'stages':
      return e.stages.map((s) => ({ name: s.name, state: 'pending' }));
    case 'stage-start': {
      const next = [...stages];
      const i = find(next, e.stage, e.index);
      if (i < 0) next.push({ name: e.stage, state: 'running' });
      else next[i] = { name: e.stage, state: 'running' };
      return next;
    }
    case 'stage-end':
    case 'stage-fail': {
      const next = [...stages];
      const done: StageProgress =
        e.type === 'stage-end' ? { name: e.stage, state: 'done', cached: e.cached, seconds: e.seconds } : { name: e.stage, state: 'failed', seconds: e.seconds };
      const i = find(next, e.stage);
      if (i < 0) next.push(done);
      else next[i] = done;
      return next;
    }
    default:
      return undefined;
  }
}
