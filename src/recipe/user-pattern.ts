/**
 * Regular expressions written by users (a layer variable's `pattern`), matched in bounded time. A
 * backtracking pattern such as ^(a+)+$ takes exponential time on a crafted value, and recipes come
 * from the network too: a match runs in a V8 context with a time limit, which stops even a regexp
 * in the middle of its backtracking.
 */
import { createContext, runInContext } from 'node:vm';

export const PATTERN_MAX_LENGTH = 1000;
export const MATCH_TIMEOUT_MS = 250;

const context = createContext({ pattern: '', value: '' });

/** Whether `value` matches `source`, or why the pattern cannot be used. */
export function matchUserPattern(source: string, value: string): { matches: boolean } | { error: string } {
  if (source.length > PATTERN_MAX_LENGTH) return { error: `is ${source.length} characters long, over the limit of ${PATTERN_MAX_LENGTH} for a pattern` };
  try {
    new RegExp(source);
  } catch {
    return { error: 'is not a regular expression' };
  }
  Object.assign(context, { pattern: source, value });
  try {
    return { matches: runInContext('new RegExp(pattern).test(value)', context, { timeout: MATCH_TIMEOUT_MS }) === true };
  } catch {
    return { error: `took over ${MATCH_TIMEOUT_MS} ms to match ${JSON.stringify(value.slice(0, 40))}: it backtracks exponentially (e.g. nested repeats like (a+)+); simplify it` };
  }
}
