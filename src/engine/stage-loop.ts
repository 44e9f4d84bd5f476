/**
 * The stage loop with the store. A stage whose id is stored is not run: its facts are taken from
 * the entry and its layer (or files) serve the next stage. `--rebuild-from` and `--no-cache` force
 * stages to run; their results replace the stored ones (and whatever was built on those).
 *
 * Each stage that runs is locked by id: a second build of the same stage waits, then reuses it.
 * Its result is built in the workspace and renamed into the store only once complete.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BuildError, isSystemError } from '../errors.js';
import type { Stage } from '../stages/define.js';
import { checkMadeFacts, storedFacts, type Facts } from '../stages/facts.js';
import { stageByName } from '../stages/registry.js';
import type { Lock } from '../host/lock.js';
import { diskUsage, folderOf, removeTree, type EntryMeta, type Store } from '../store/store.js';
import { makeChroot } from '../host/chroot.js';
import type { BuildEventInput } from './events.js';
import { makeExec } from '../host/exec.js';
import type { Manifest } from '../manifest/index.js';
import type { StageRecord } from './build-record.js';
import type { ImageRoot } from './image-root.js';
import { unmountAll } from '../host/overlay.js';
import type { Workspace } from './workspace.js';

/** What the stage loop needs of a build's options (executor.ts's BuildOptions has them all). */
export interface StageLoopOptions {
  manifest: Manifest;
  signal: AbortSignal;
  recipeFile: string;
  rebuildFrom?: string;
  noCache?: boolean;
}

/** Seconds since a performance.now() reading, to hundredths. */
export function elapsed(since: number): number {
  return Math.round((performance.now() - since) / 10) / 100;
}

export class StageLoop {
  readonly done: StageRecord[] = [];
  private facts: Facts = {};
  /** Store id of the latest image stage, whose files the next image stage starts from. */
  private imageEntry: string | undefined;

  constructor(
    private readonly o: StageLoopOptions,
    private readonly store: Store,
    private readonly workspace: Workspace,
    private readonly root: ImageRoot,
    private readonly emit: (event: BuildEventInput) => void,
    private readonly writeLog: (stage: string, line: string) => void,
  ) {}

  async runAll(): Promise<{ facts: Facts; imageEntry: string | undefined }> {
    const { stages } = this.o.manifest;
    const forcedFrom = this.o.rebuildFrom === undefined ? stages.length : stages.findIndex((s) => s.stage === this.o.rebuildFrom);
    for (const [index, step] of stages.entries()) {
      const stage = stageByName(step.stage);
      if (!stage) throw new Error(`unknown stage ${step.stage}`);
      this.emit({ type: 'stage-start', stage: step.stage, index, total: stages.length });
      const t = performance.now();
      const log = (line: string) => {
        this.writeLog(step.stage, line);
        this.emit({ type: 'output', stage: step.stage, line });
      };
      const forced = this.o.noCache === true || index >= forcedFrom;
      let entry = forced ? undefined : await this.store.get(step.id);
      const holder = entry || forced || stage.kind !== 'image' ? undefined : await this.storedLater(index, forcedFrom);
      if (holder) {
        log(`cached: within the stored result of ${holder} (an image stage's result is kept until the next one is stored)`);
        this.done.push({ name: step.stage, id: step.id, cached: true, seconds: elapsed(t) });
        this.emit({ type: 'stage-end', stage: step.stage, seconds: elapsed(t), cached: true });
        continue;
      }
      let held: Lock | undefined;
      try {
        if (!entry) {
          held = await this.store.lockEntry(step.id, { signal: this.o.signal, onWait: () => log('another build is making this stage: waiting to reuse its result') });
          if (!forced) entry = await this.store.get(step.id);
        }
        if (entry) {
          this.reuse(stage, entry);
          log(`cached: made ${entry.created} by ${entry.recipe.file} in ${entry.seconds} s`);
          this.done.push({ name: step.stage, id: step.id, cached: true, seconds: elapsed(t), builtSeconds: entry.seconds });
          this.emit({ type: 'stage-end', stage: step.stage, seconds: elapsed(t), cached: true });
          continue;
        }
        await this.run(stage, step.id, step.options, log, t);
      } catch (err) {
        const failure = inStage(err, step.stage);
        const message = failure instanceof Error ? failure.message : String(failure);
        this.writeLog(step.stage, `FAILED: ${message}`);
        this.emit({ type: 'stage-fail', stage: step.stage, seconds: elapsed(t), message });
        throw failure;
      } finally {
        await held?.release();
      }
      this.done.push({ name: step.stage, id: step.id, cached: false, seconds: elapsed(t) });
      this.emit({ type: 'stage-end', stage: step.stage, seconds: elapsed(t), cached: false });
    }
    return { facts: this.facts, imageEntry: this.imageEntry };
  }

  /**
   * The stored image stage, among those that directly follow `index`, that already holds the
   * result of this image stage: every image stage works on a copy of the one before, and only the
   * latest is kept (see run), so its predecessors need not run.
   */
  private async storedLater(index: number, forcedFrom: number): Promise<string | undefined> {
    const { stages } = this.o.manifest;
    for (let k = index + 1; k < Math.min(stages.length, forcedFrom); k++) {
      const later = stages[k];
      if (!later || stageByName(later.stage)?.kind !== 'image') return undefined;
      if (await this.store.get(later.id)) return later.stage;
    }
    return undefined;
  }

  private reuse(stage: Stage, entry: EntryMeta): void {
    this.facts = storedFacts(entry.facts);
    if (stage.kind === 'tree') this.root.push(entry.id, stage.name);
    else this.imageEntry = entry.id;
    void this.store.touch(entry.id);
  }

  private async run(stage: Stage, id: string, options: unknown, log: (line: string) => void, t: number): Promise<void> {
    const { o, workspace, store } = this;
    const built = join(workspace.entries, folderOf(id));
    removeTree(built);
    const scratch = await mkdtemp(join(workspace.scratch, `${stage.name}-`));
    const epoch = this.facts.sourceDateEpoch;
    const exec = makeExec({ stage: stage.name, signal: o.signal, onLine: log, env: epoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(epoch) } });
    let root: string;
    let work = scratch;
    // Taken before the stage's own upper layer joins the stack.
    const layers = this.root.layerTrees();
    if (stage.kind === 'tree') {
      root = await this.root.writable(join(built, 'tree'));
    } else {
      root = await this.root.readOnly();
      work = join(built, 'files');
      await mkdir(work, { recursive: true });
      // Sparse, and reflinked where the file system can: the next image stage changes its copy.
      if (this.imageEntry) await exec('cp', ['-a', '--sparse=always', '--reflink=auto', `${store.filesOf(this.imageEntry)}/.`, work]);
    }
    try {
      const result = await stage.run(
        { root, layers, work, scratch, folders: o.manifest.folders, exec, chroot: makeChroot(exec, root), log, facts: this.facts, signal: o.signal, packageCache: store.packages },
        stage.options.parse(options),
      );
      this.facts = { ...this.facts, ...checkMadeFacts(stage.name, stage.makes ?? [], result) };
    } finally {
      // Cleaning up must work after Ctrl-C too, so not with the stage's (aborted) exec.
      await unmountAll(makeExec({ stage: stage.name, signal: new AbortController().signal, onLine: log }), scratch);
      if (stage.kind === 'tree') await this.root.release();
      removeTree(scratch);
    }
    // An image stage's result is a whole new copy of the image before it, which is then no longer
    // kept (a store holds one image per recipe, not one per image stage): the new entry stacks on
    // what the replaced one stacked on.
    const replaced = stage.kind === 'image' ? this.imageEntry : undefined;
    const input = replaced ? ((await store.get(replaced))?.input ?? null) : (this.done.at(-1)?.id ?? null);
    const meta: EntryMeta = {
      id,
      stage: stage.name,
      kind: stage.kind,
      input,
      recipe: { name: o.manifest.name, file: o.recipeFile },
      created: new Date().toISOString(),
      seconds: elapsed(t),
      bytes: diskUsage(built),
      facts: this.facts,
    };
    await store.commit(built, meta);
    if (replaced) await store.remove(replaced);
    if (stage.kind === 'tree') this.root.push(id, stage.name);
    else this.imageEntry = id;
  }
}

/**
 * Names the stage in a failure. A system error (no space left, permission denied) is the host's
 * problem, not a bug in kiln: it becomes a BuildError too, so the user sees it plainly.
 */
function inStage(err: unknown, stage: string): unknown {
  if (err instanceof BuildError) return err.stage ? err : new BuildError(err.message, stage, err.command, err.tail);
  if (isSystemError(err)) return new BuildError(err.message, stage);
  return err;
}
