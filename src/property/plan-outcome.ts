/** What the property tests require of any input: a plan, or a UserError that says where. */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { checkedManifest } from '../engine/plan.js';
import { UserError } from '../errors.js';
import { canonicalJson } from '../host/canonical.js';
import { parseRecipe } from '../recipe/index.js';

/**
 * Every line of a UserError names its file (the recipe's or a layer's .yaml, or a file in a
 * layer's folder) with line:col where a position exists, then says what is wrong.
 */
const POSITIONED = /^(\S+\.yaml(:\d+:\d+)?|\S*layers\/\S+) \S/;

/** Plans the text as the recipe `file`; returns the plan's bytes, or undefined for a UserError. */
export function outcome(file: string, text: string): string | undefined {
  try {
    const loaded = parseRecipe(file, text, dirname(file), { env: {}, set: {} });
    return canonicalJson(checkedManifest(loaded));
  } catch (err) {
    if (!(err instanceof UserError)) throw new Error(`not a UserError for\n---\n${text.slice(0, 2000)}\n---\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, { cause: err });
    for (const line of err.message.split('\n')) assert.match(line, POSITIONED, `an error line without a position:\n${err.message}`);
    return undefined;
  }
}

/** Valid input plans the same bytes twice (ids, hashes and salts derive from content alone). */
export function check(file: string, text: string): void {
  const first = outcome(file, text);
  if (first !== undefined) assert.equal(outcome(file, text), first, 'the same recipe planned two different manifests');
}

