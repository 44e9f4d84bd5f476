import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyStageEvent, type StageProgress } from './stages.js';

const time = '2026-01-01T00:00:00.000Z';

void test('stage progress follows stages, stage-start, stage-end and stage-fail events', () => {
  let s: StageProgress[] = [];
  const step = (e: Parameters<typeof applyStageEvent>[1]) => {
    s = applyStageEvent(s, e) ?? s;
  };
  step({ type: 'stages', time, stages: [{ name: 'files', summary: '' }, { name: 'files', summary: '' }, { name: 'tar', summary: '' }] });
  step({ type: 'stage-start', time, stage: 'files', index: 0, total: 3 });
  step({ type: 'stage-end', time, stage: 'files', cached: true, seconds: 0 });
  step({ type: 'stage-start', time, stage: 'files', index: 1, total: 3 });
  assert.deepEqual(s, [
    { name: 'files', state: 'done', cached: true, seconds: 0 },
    { name: 'files', state: 'running' },
    { name: 'tar', state: 'pending' },
  ]);
  step({ type: 'stage-end', time, stage: 'files', cached: false, seconds: 2 });
  step({ type: 'stage-start', time, stage: 'tar', index: 2, total: 3 });
  step({ type: 'stage-fail', time, stage: 'tar', seconds: 1, message: 'no space' });
  assert.deepEqual(s.map((x) => x.state), ['done', 'done', 'failed']);
  assert.equal(applyStageEvent(s, { type: 'log', time, line: 'x' }), undefined);
  // A stage the list did not announce is added rather than lost.
  assert.deepEqual(applyStageEvent([], { type: 'stage-start', time, stage: 'sbom', index: 5, total: 6 }), [{ name: 'sbom', state: 'running' }]);
});
