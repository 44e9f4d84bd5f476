/**
 * What a stage is: a name, a version (bumped whenever its behaviour changes, so cached results of
 * the old behaviour are never reused), an options schema, a user-facing summary, the facts it
 * makes and `run`. Stages never spawn processes themselves: they get `exec` and `chroot` from the
 * executor, which logs, streams and cancels every command, and lets unit tests record calls instead.
 */
import type { z } from 'zod';
import type { Exec } from '../host/exec.js';
import type { FactName, Facts, MadeFacts } from './facts.js';

export interface StageContext {
  /** The image root tree that tree stages change. */
  root: string;
  /**
   * The store layers the root is stacked from, bottom first, each with the stage that made it: what
   * each earlier stage changed (the initramfs stage reads what changed since the kernel stage).
   */
  layers: readonly { stage: string; tree: string }[];
  /**
   * Image stages: the folder of image files. It starts with a copy of the previous image stage's
   * files; whatever is in it when the stage ends is the stage's result (and its cache entry).
   */
  work: string;
  /** An empty folder for temporary files, removed after the stage. */
  scratch: string;
  /** The machine's shared .deb cache (the bootstrap stage reads and fills it). */
  packageCache: string;
  /** Where relative paths (files, hooks) start, by origin: "recipe" and each layer's name. */
  folders: Record<string, string>;
  /** Runs a command on the host. */
  exec: Exec;
  /** Runs a command inside the image root with /proc, /sys, /dev and /run mounted. */
  chroot: Exec;
  /** A line for build.log and the progress display. */
  log: (line: string) => void;
  /** Facts returned by the stages before this one, merged, checked against their schemas (facts.ts). */
  facts: Facts;
  signal: AbortSignal;
}

/** The folder a recipe's or layer's relative paths start from. */
export function originFolder(ctx: Pick<StageContext, 'folders'>, from: string): string {
  const folder = ctx.folders[from];
  if (folder === undefined) throw new Error(`no folder is known for ${from === 'recipe' ? 'the recipe' : `layer ${from}`}`);
  return folder;
}

/** The build's SOURCE_DATE_EPOCH: the bootstrap stage chooses it and hands it on as a fact. */
export function sourceDateEpoch(ctx: Pick<StageContext, 'facts'>): number | undefined {
  return ctx.facts.sourceDateEpoch;
}

/**
 * `N` is the stage's name as a literal type and `S` its options schema, so the registry can type
 * the compiler's `add(name, options)`; `F` is what `run` returns: the facts it `makes`.
 */
export interface Stage<S extends z.ZodType = z.ZodType, N extends string = string, F extends Facts | void = Facts | void> {
  name: N;
  version: number;
  /** tree: changes the image root (its cache entry is an overlay layer); image: makes files from it. */
  kind: 'tree' | 'image';
  summary: string;
  options: S;
  /** The facts `run` returns, every one of them (see facts.ts); none when absent. */
  makes?: readonly FactName[];
  run(ctx: StageContext, options: z.output<S>): Promise<F>;
}

/** What `run` of a stage that makes the facts K returns: nothing when it makes none. */
type Returns<K extends FactName> = [K] extends [never] ? void : Pick<MadeFacts, K>;

/**
 * Returns its argument: exists so TypeScript infers `options` in `run` from the schema, keeps the
 * literal name, and holds `run` to returning exactly the facts named in `makes`.
 */
export function defineStage<const N extends string, S extends z.ZodType, K extends FactName = never>(
  stage: Stage<S, N, NoInfer<Returns<K>>> & { makes?: readonly K[] },
): Stage<S, N, Returns<K>> {
  return stage;
}
