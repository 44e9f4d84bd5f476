/**
 * Runs a manifest: each stage in order with its own exec, chroot and log, then publishes the
 * outputs and the build record. The workspace is always removed, whatever happens.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BuildError, InterruptedError } from '../errors.js';
import type { Manifest } from '../manifest/index.js';
import type { Facts } from '../stages/define.js';
import { stageByName } from '../stages/registry.js';
import { makeChroot } from './chroot.js';
import type { BuildEventInput, Listener } from './events.js';
import { makeExec } from './exec.js';
import { installedPackages, type InstalledPackage } from './packages.js';
import { checkHost, checkMirror, checkOutputDir } from './preflight.js';
import { Staging, type PublishedFile } from './publish.js';
import { createWorkspace } from './workspace.js';

export interface BuildOptions {
  manifest: Manifest;
  recipeFolder: string;
  outputDir: string;
  listener: Listener;
  signal: AbortSignal;
  cacheDir?: string;
  kilnVersion: string;
}

export interface BuildRecord {
  name: string;
  kiln: string;
  recipeHash: string;
  arch: string;
  started: string;
  seconds: number;
  stages: { name: string; id: string; cached: boolean; seconds: number }[];
  packages: InstalledPackage[];
  outputs: PublishedFile[];
}

export async function build(o: BuildOptions): Promise<BuildRecord> {
  const { manifest } = o;
  const started = new Date();
  const t0 = performance.now();
  const elapsed = (since: number) => Math.round((performance.now() - since) / 10) / 100;
  const emit = (event: BuildEventInput) => o.listener({ ...event, time: new Date().toISOString() });

  checkHost();
  const bootstrap = manifest.stages.find((s) => s.stage === 'bootstrap')?.options as { mirror: string; release: string; packages: string[] } | undefined;
  if (bootstrap) await checkMirror(bootstrap.mirror, bootstrap.release, o.signal);
  await checkOutputDir(o.outputDir);

  const workspace = await createWorkspace(o.cacheDir);
  const logPath = join(workspace.dir, 'build.log');
  const log = createWriteStream(logPath);
  const writeLog = (stage: string, line: string) => log.write(`${new Date().toISOString()} [${stage}] ${line}\n`);
  const logClosed = new Promise<void>((resolve) => log.on('close', resolve));
  const closeLog = () => {
    if (!log.writableEnded) log.end();
    return logClosed;
  };
  const record: BuildRecord = {
    name: manifest.name,
    kiln: o.kilnVersion,
    recipeHash: manifest.recipeHash,
    arch: manifest.arch,
    started: started.toISOString(),
    seconds: 0,
    stages: [],
    packages: [],
    outputs: [],
  };
  let staging: Staging | undefined;
  emit({ type: 'build-start', name: manifest.name, stages: manifest.stages.map((s) => ({ name: s.stage, id: s.id, summary: stageByName(s.stage)?.summary ?? '' })) });
  try {
    const facts: Facts = {};
    for (const [index, step] of manifest.stages.entries()) {
      const stage = stageByName(step.stage);
      if (!stage) throw new Error(`unknown stage ${step.stage}`);
      emit({ type: 'stage-start', stage: step.stage, index, total: manifest.stages.length });
      const t = performance.now();
      const onLine = (line: string) => {
        writeLog(step.stage, line);
        emit({ type: 'output', stage: step.stage, line });
      };
      const exec = makeExec({ stage: step.stage, signal: o.signal, onLine });
      try {
        const result = await stage.run(
          { root: workspace.root, work: workspace.work, recipeFolder: o.recipeFolder, exec, chroot: makeChroot(exec, workspace.root), log: onLine, facts, signal: o.signal },
          stage.options.parse(step.options),
        );
        Object.assign(facts, result ?? {});
      } catch (err) {
        const failure = inStage(err, step.stage);
        const message = failure instanceof Error ? failure.message : String(failure);
        writeLog(step.stage, `FAILED: ${message}`);
        emit({ type: 'stage-fail', stage: step.stage, seconds: elapsed(t), message });
        throw failure;
      }
      record.stages.push({ name: step.stage, id: step.id, cached: false, seconds: elapsed(t) });
      emit({ type: 'stage-end', stage: step.stage, seconds: elapsed(t), cached: false });
    }

    const exec = makeExec({ stage: 'publish', signal: o.signal, onLine: (line) => writeLog('publish', line) });
    record.packages = await installedPackages(exec, workspace.root, bootstrap?.packages ?? []);
    staging = await Staging.open(o.outputDir);
    for (const output of manifest.outputs) {
      if (typeof facts.image !== 'string') throw new Error('no disk image was made');
      record.outputs.push(await staging.take(exec, facts.image, output.file, output.format));
    }
    record.seconds = elapsed(t0);
    await staging.write('SHA256SUMS', record.outputs.map((f) => `${f.sha256}  ${f.file}\n`).join(''));
    await closeLog();
    await staging.copy(logPath, 'build.log');
    await staging.write('build.json', `${JSON.stringify(record, null, 2)}\n`);
    await staging.commit('build.json');
    emit({ type: 'build-end', ok: true, seconds: record.seconds, outputDir: o.outputDir });
    return record;
  } catch (err) {
    await staging?.discard();
    await closeLog();
    await saveFailedLog(logPath, o.outputDir);
    emit({ type: 'build-end', ok: false, seconds: elapsed(t0) });
    throw err instanceof InterruptedError || !o.signal.aborted ? err : new InterruptedError('SIGINT');
  } finally {
    await workspace.remove();
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

export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** The log of a failed build is kept beside (never over) the last good build's files. */
async function saveFailedLog(logPath: string, outputDir: string): Promise<void> {
  await mkdir(outputDir, { recursive: true });
  await copyFile(logPath, join(outputDir, 'build-failed.log')).catch(() => undefined);
}
