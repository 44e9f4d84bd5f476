/**
 * Regular expressions written by users (a layer variable's `pattern`), matched in bounded time. A
 * backtracking pattern such as ^(a+)+$ takes exponential time on a crafted value, and recipes come
 * from the network too. A pattern V8's linear-time engine can run is run there (deterministic,
 * linear); the rest (back-references, lookaround, counted repeats over 16) run in a V8 context
 * with a time limit, which stops even a regexp in the middle of its backtracking.
 */
import { setFlagsFromString } from 'node:v8';
import { createContext, runInContext } from 'node:vm';
import { LIMITS } from './limits.js';

// Lets `new RegExp(p, 'l')` choose the linear engine; it changes nothing for other regexps.
setFlagsFromString('--enable-experimental-regexp-engine');

/** Far above what any real pattern needs, so only a runaway pattern meets it, even on a busy host. */
export const MATCH_TIMEOUT_MS = 2000;

const context = createContext({ pattern: '', value: '' });

/** Whether `value` matches `source`, or why the pattern cannot be used. */
export function matchUserPattern(source: string, value: string): { matches: boolean } | { error: string } {
  if (source.length > LIMITS.patternLength) return { error: `is ${source.length} characters long, over the limit of ${LIMITS.patternLength} for a pattern` };
  try {
    new RegExp(source);
  } catch {
    return { error: 'is not a regular expression' };
  }
  const linear = linearPattern(source);
  if (linear) return { matches: linear.test(value) };
  Object.assign(context, { pattern: source, value });
  try {
    return { matches: runInContext('new RegExp(pattern).test(value)', context, { timeout: MATCH_TIMEOUT_MS }) === true };
  } catch {
    return { error: `took over ${MATCH_TIMEOUT_MS} ms to match ${JSON.stringify(value.slice(0, 40))}: it backtracks exponentially (e.g. nested repeats like (a+)+); simplify it` };
  }
}

function linearPattern(source: string): RegExp | undefined {
  try {
    // eslint-disable-next-line no-invalid-regexp -- `l` (linear) exists once the flag above is set
    return new RegExp(source, 'l');
  } catch {
    return undefined;
  }
}
