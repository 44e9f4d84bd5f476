/**
 * A remote build's stream shown like a local build: the service's events become the BuildEvents
 * kiln's reporters draw (task list on a terminal, plain lines elsewhere). Pure.
 */
import type { BuildEvent } from '../engine/events.js';
import { FINAL_STATES, type Build, type BuildStreamEvent } from '../service/protocol.js';

/** What one stream event means on the terminal: a build event, a note, or nothing. */
export type Shown = { event: BuildEvent } | { note: string } | undefined;

export function toBuildEvent(e: BuildStreamEvent, build: Pick<Build, 'id' | 'recipe'>, startedAt?: string): Shown {
  switch (e.type) {
    case 'stages':
      return { event: { type: 'build-start', name: build.recipe, stages: e.stages.map((s) => ({ name: s.name, id: '', summary: s.summary })), time: e.time } };
    case 'stage-start':
      return { event: { type: 'stage-start', stage: e.stage, index: e.index, total: e.total, time: e.time } };
    case 'stage-end':
      return { event: { type: 'stage-end', stage: e.stage, cached: e.cached, seconds: e.seconds, time: e.time } };
    case 'stage-fail':
      return { event: { type: 'stage-fail', stage: e.stage, seconds: e.seconds, message: e.message, time: e.time } };
    case 'log':
      // Lines without a stage are kiln's and the worker's own words: shown under "kiln".
      return { event: { type: 'output', stage: e.stage ?? 'kiln', line: e.line, time: e.time } };
    case 'artifact':
      return undefined;
    case 'state': {
      if (!FINAL_STATES.includes(e.state)) return { note: `${e.time.slice(11, 19)} ${e.state}${e.worker ? ` on ${e.worker}` : ''}` };
      const seconds = startedAt ? Math.max(0, (Date.parse(e.time) - Date.parse(startedAt)) / 1000) : 0;
      const ok = e.state === 'succeeded';
      return { event: { type: 'build-end', ok, seconds, time: e.time, ...(ok ? { outputDir: `download with: kiln remote download ${build.id}` } : {}) } };
    }
  }
}

export function isFinalState(e: BuildStreamEvent): e is Extract<BuildStreamEvent, { type: 'state' }> {
  return e.type === 'state' && FINAL_STATES.includes(e.state);
}
