/**
 * What a stage is: a name, a version (bumped whenever its behaviour changes, so cached results of
 * the old behaviour are never reused), an options schema, a user-facing summary and `run`.
 * Stages never spawn processes themselves: they get `exec` and `chroot` from the executor, which
 * logs, streams and cancels every command, and lets unit tests record calls instead.
 */
import type { z } from 'zod';

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  /** How the command is named in logs and errors when `command` is only a wrapper (chroot). */
  label?: string;
}

export interface ExecResult {
  stdout: string;
}

export type Exec = (command: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** JSON facts a stage hands to later stages (e.g. the kernel version, the disk layout). */
export type Facts = Record<string, unknown>;

export interface StageContext {
  /** The image root tree that tree stages change. */
  root: string;
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
  /** Facts returned by the stages before this one, merged. */
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
  return typeof ctx.facts.sourceDateEpoch === 'number' ? ctx.facts.sourceDateEpoch : undefined;
}

export interface Stage<S extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  /** tree: changes the image root (its cache entry is an overlay layer); image: makes files from it. */
  kind: 'tree' | 'image';
  summary: string;
  options: S;
  run(ctx: StageContext, options: z.output<S>): Promise<Facts | void>;
}

/** Returns its argument: exists so TypeScript infers `options` in `run` from the schema. */
export function defineStage<S extends z.ZodType>(stage: Stage<S>): Stage<S> {
  return stage;
}
