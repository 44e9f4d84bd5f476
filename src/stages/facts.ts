/**
 * The facts stages hand to later stages, one schema each, grouped by the stage that makes them.
 * They are kept here, not in the stage files, so that a stage that reads a fact (grub reads the
 * kernel's) does not import the stage that makes it: stages import no other stage.
 *
 * A stage names the facts it makes (`makes` in defineStage) and `run` is typed to return exactly
 * those; the executor checks what `run` returns, and the facts it reads back from the store, against
 * these schemas. So `ctx.facts` is typed where it is read, with no casts.
 */
import { z } from 'zod';
import { LockedDeb } from '../lockfile/lockfile.js';

const FACTS = {
  // bootstrap
  /** SOURCE_DATE_EPOCH: given, or the Release file's date; every later command is run with it. */
  sourceDateEpoch: z.number().int().nonnegative(),
  /** Every .deb the build installed, for kiln.lock. */
  debs: z.array(LockedDeb),
  /** The packages apt installed only as dependencies (kiln.lock marks them). */
  autoInstalled: z.array(z.string()),

  // packages
  /** A package set asked for a new initramfs, which the kernel stage then makes (once, after every set). */
  initramfsOutdated: z.boolean(),

  // kernel
  kernel: z.strictObject({ version: z.string(), vmlinuz: z.string(), initrd: z.string() }),

  // partition-table
  /** Where each partition lies on the disk (src/disk/layout.ts computes it). */
  layout: z.strictObject({
    diskSize: z.number(),
    partitions: z.array(z.strictObject({ name: z.string(), offset: z.number(), size: z.number(), firstLba: z.number(), lastLba: z.number() })),
  }),
  /** The disk image's file name in the image stages' folder. */
  image: z.string(),

  // ostree-commit
  /** The commit the build made on its ref, the parent it names (null: the ref's first), the key that signed it. */
  ostree: z.strictObject({ ref: z.string(), commit: z.string(), parent: z.string().nullable(), signedBy: z.string().nullable() }),

  // outputs
  /** Every file the build publishes, in the order the recipe lists its formats. */
  outputs: z.array(z.strictObject({ file: z.string(), format: z.string() })),
};

export type FactName = keyof typeof FACTS;

/** The facts of every stage so far: a fact is absent until the stage that makes it has run. */
export const Facts = z.object(FACTS).partial();
export type Facts = z.output<typeof Facts>;
/** Every fact, present: what `run` returns is a pick of this. */
export type MadeFacts = Required<Facts>;

export type KernelFacts = MadeFacts['kernel'];
export type OutputFile = MadeFacts['outputs'][number];

/** Unknown keys are an error in what a stage returns (a typo would otherwise be dropped silently). */
const Returned = z.strictObject(FACTS).partial();

/**
 * What a stage's `run` returned, checked: exactly the facts it `makes`, each matching its schema.
 * A mismatch is a bug in kiln, never in the recipe.
 */
export function checkMadeFacts(stage: string, makes: readonly FactName[], result: unknown): Facts {
  const parsed = Returned.safeParse(result ?? {});
  if (!parsed.success) throw new Error(`stage ${stage} returned facts that do not match their schemas: ${parsed.error.message}`);
  const facts = parsed.data;
  const missing = makes.filter((name) => facts[name] === undefined);
  const unexpected = Object.keys(facts).filter((name) => !(makes as readonly string[]).includes(name));
  if (missing.length || unexpected.length) {
    throw new Error(`stage ${stage} makes ${makes.join(', ') || 'no facts'} but returned ${Object.keys(facts).join(', ') || 'none'}`);
  }
  return facts;
}

/** Facts read back from a store entry's meta.json. */
export function storedFacts(json: unknown): Facts {
  const parsed = Facts.safeParse(json ?? {});
  if (!parsed.success) throw new Error(`a store entry's facts do not match their schemas: ${parsed.error.message}`);
  return parsed.data;
}
