/**
 * Settings for property-based tests (fast-check). `npm test` runs a fixed seed, so CI is the same
 * run every time; KILN_FC_SEED=random explores new cases. The seed is printed either way, and
 * KILN_FC_SEED=<seed> replays a failure exactly. KILN_FC_RUNS scales every property's case count.
 */
import type { Parameters } from 'fast-check';

const FIXED_SEED = 14;
const wanted = process.env.KILN_FC_SEED;
const seed = wanted === undefined ? FIXED_SEED : wanted === 'random' ? Date.now() % 2 ** 31 : Number(wanted);
const scale = process.env.KILN_FC_RUNS === undefined ? 1 : Number(process.env.KILN_FC_RUNS);
let announced = false;

/** fast-check parameters for a property with `runs` cases at the default scale. */
export function propertyParameters<T>(runs: number): Parameters<T> {
  if (!announced) {
    process.stderr.write(`property tests: seed ${seed} (replay with KILN_FC_SEED=${seed})\n`);
    announced = true;
  }
  return { seed, numRuns: Math.max(1, Math.round(runs * scale)), endOnFailure: false };
}
