import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { STAGES } from './registry.js';

void test('stage names are unique and every stage documents itself', () => {
  const names = STAGES.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  for (const stage of STAGES) {
    assert.match(stage.name, /^[a-z][a-z0-9-]*$/);
    assert.ok(stage.version >= 1 && stage.summary.length > 40, `${stage.name} has a version and a summary`);
  }
});

void test('every stage options schema compiles to a closed JSON schema', () => {
  for (const stage of STAGES) {
    const schema = z.toJSONSchema(stage.options) as { type?: string; additionalProperties?: boolean };
    assert.equal(schema.type, 'object', stage.name);
    assert.equal(schema.additionalProperties, false, `${stage.name} rejects unknown options`);
  }
});
