/**
 * build.json, the record a build leaves beside its outputs: the executor writes it, and
 * `readBuildRecord` is the one place that reads it back (kiln sbom, kiln diff, kiln boot, tests).
 * The schema is the record's core, the part every kiln version has written; the rest (layers,
 * packages, operations) is kept as it is read.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { Operation } from '../manifest/index.js';
import type { InstalledPackage } from './packages.js';

export const StageRecord = z.object({
  name: z.string(),
  id: z.string(),
  cached: z.boolean(),
  /** Time this build spent on the stage. */
  seconds: z.number(),
  /** For a cached stage: how long it took when it was built. */
  builtSeconds: z.number().optional(),
});
export type StageRecord = z.output<typeof StageRecord>;

export const PublishedFile = z.object({ file: z.string(), format: z.string(), size: z.number(), sha256: z.string() });
export type PublishedFile = z.output<typeof PublishedFile>;

const BuildRecordCore = z.looseObject({
  name: z.string(),
  /** The kiln version that built it. */
  kiln: z.string(),
  recipeHash: z.string(),
  arch: z.string(),
  started: z.string(),
  seconds: z.number(),
  stages: z.array(StageRecord),
  outputs: z.array(PublishedFile),
});
export type BuildRecordCore = z.output<typeof BuildRecordCore>;

export interface BuildRecord extends BuildRecordCore {
  /** The layers applied, in order. */
  layers: { name: string; description: string; variables: Record<string, string> }[];
  packages: InstalledPackage[];
  /** Every file copied, user made, service enabled and hook run, with who asked for it. */
  operations: Operation[];
  /** The kiln process's peak resident memory in MiB (in `kiln serve` the whole server's). */
  peakRssMiB?: number;
  /** With ostree: the commit made on the ref, its parent, the repository it was published into (null: none given), the signing key's fingerprint. */
  ostree?: { ref: string; commit: string; parent: string | null; repo: string | null; delta: string | null; signedBy: string | null };
}

/** build.json at `path`, checked; a UserError names the file when it is missing or not a build record. */
export function readBuildRecord(path: string): BuildRecordCore {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: cannot read the build record (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = BuildRecordCore.safeParse(value);
  if (!parsed.success) throw new UserError(`${path}: not a kiln build record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
