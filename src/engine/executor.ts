/**
 * Runs a manifest: every stage in order (from the store when it is there, see stage-loop.ts),
 * then publishes the outputs and the build record. The workspace is always removed, whatever happens.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BuildError, InterruptedError } from '../errors.js';
import { lockMismatches, lockText, type LockFile } from '../lockfile/lockfile.js';
import { sha256 as sha256Text, type Manifest } from '../manifest/index.js';
import { readImage, sbomFiles } from '../sbom/index.js';
import { bootstrap } from '../stages/bootstrap.js';
import type { Facts } from '../stages/facts.js';
import { stageByName } from '../stages/registry.js';
import { Store } from '../store/store.js';
import type { BuildEventInput, Listener } from './events.js';
import { makeExec } from '../host/exec.js';
import { ImageRoot } from './image-root.js';
import { unmountAll } from '../host/overlay.js';
import type { BuildRecord } from './build-record.js';
import { installedPackages } from './packages.js';
import type { ArchName } from '../arch/table.js';
import { checkHost, checkOutputDir } from './preflight.js';
import { outputsOf, publishOutput, Staging } from './publish.js';
import { publishCommit } from '../outputs/ostree-repo.js';
import { elapsed, StageLoop } from './stage-loop.js';
import { cacheDir } from './cache-dir.js';
import { createWorkspace } from './workspace.js';

export interface BuildOptions {
  manifest: Manifest;
  outputDir: string;
  listener: Listener;
  signal: AbortSignal;
  cacheDir?: string;
  kilnVersion: string;
  /** The recipe file, named in cache entries so `kiln cache list` can say what made them. */
  recipeFile: string;
  /** Run this stage and every later one even if they are cached. */
  rebuildFrom?: string;
  /** Run every stage; their fresh results replace what the store had. */
  noCache?: boolean;
  /** The lock this build installs from (--lock): every .deb must match it. */
  lock?: LockFile;
}

export async function build(o: BuildOptions): Promise<BuildRecord> {
  const { manifest } = o;
  const started = new Date();
  const t0 = performance.now();
  const emit = (event: BuildEventInput) => o.listener({ ...event, time: new Date().toISOString() });

  checkHost(manifest.arch as ArchName);
  await checkOutputDir(o.outputDir);
  const store = new Store(o.cacheDir ?? cacheDir());
  await mkdir(store.dir, { recursive: true });
  await store.tidy();
  const storeLock = await store.use({ signal: o.signal });
  const workspace = await createWorkspace(store.dir);
  const logPath = join(workspace.dir, 'build.log');
  const log = createWriteStream(logPath);
  const writeLog = (stage: string, line: string) => log.write(`${new Date().toISOString()} [${stage}] ${line}\n`);
  const logClosed = new Promise<void>((resolve) => log.on('close', resolve));
  const closeLog = () => {
    if (!log.writableEnded) log.end();
    return logClosed;
  };
  const hostExec = makeExec({ stage: 'kiln', signal: new AbortController().signal, onLine: (line) => writeLog('kiln', line) });
  const root = new ImageRoot(hostExec, workspace, store);
  const record: BuildRecord = {
    name: manifest.name,
    kiln: o.kilnVersion,
    recipeHash: manifest.recipeHash,
    arch: manifest.arch,
    started: started.toISOString(),
    seconds: 0,
    stages: [],
    layers: manifest.layers.map(({ name, description, variables }) => ({ name, description, variables })),
    packages: [],
    operations: manifest.provenance.operations,
    outputs: [],
  };
  let staging: Staging | undefined;
  emit({ type: 'build-start', name: manifest.name, stages: manifest.stages.map((s) => ({ name: s.stage, id: s.id, summary: stageByName(s.stage)?.summary ?? '' })) });
  try {
    const stages = new StageLoop(o, store, workspace, root, emit, writeLog);
    const { facts, imageEntry } = await stages.runAll();
    record.stages = stages.done;

    const exec = makeExec({ stage: 'publish', signal: o.signal, onLine: (line) => writeLog('publish', line) });
    const tree = await root.readOnly();
    record.packages = await installedPackages(exec, tree, manifest.provenance.packages);
    const contents = manifest.sbom.length ? await readImage(tree) : undefined;
    await root.release();
    staging = await Staging.open(o.outputDir, workspace.dir);
    if (!imageEntry) throw new Error('no image stage ran');
    const sums: string[] = [];
    for (const output of outputsOf(facts)) {
      const published = await publishOutput(exec, store, staging, imageEntry, output);
      record.outputs.push(published.record);
      sums.push(...published.sums);
    }
    const lock = lockOf(manifest, facts);
    if (o.lock) {
      const wrong = lockMismatches(o.lock, lock.packages);
      if (wrong.length) throw new BuildError(`the build does not match --lock: ${wrong.slice(0, 10).join('; ')}${wrong.length > 10 ? ` (and ${wrong.length - 10} more)` : ''}`, 'publish');
    }
    await staging.write('kiln.lock', lockText(lock));
    if (contents) {
      const image = record.outputs.find((f) => f.format !== 'bmap');
      if (!image) throw new Error('an SBOM needs an output to describe');
      // The build's SOURCE_DATE_EPOCH, so the SBOM is as reproducible as the image it describes.
      const created = `${new Date(facts.sourceDateEpoch === undefined ? started.getTime() : facts.sourceDateEpoch * 1000).toISOString().slice(0, 19)}Z`;
      for (const sbom of sbomFiles(manifest.sbom, { name: manifest.name, kilnVersion: o.kilnVersion, created, ...contents, image })) {
        await staging.write(sbom.file, sbom.text);
        const sha256 = sha256Text(sbom.text);
        record.outputs.push({ file: sbom.file, format: sbom.format, size: Buffer.byteLength(sbom.text), sha256 });
        sums.push(`${sha256}  ${sbom.file}\n`);
      }
    }
    if (facts.ostree) {
      const tar = join(store.filesOf(imageEntry), `${manifest.name}.ostree.tar`);
      const key = manifest.ostreeKey === undefined ? {} : { key: manifest.ostreeKey };
      // A stop asked for by now is honoured before the shared repository changes.
      if (o.signal.aborted) throw new InterruptedError('SIGINT');
      record.ostree = manifest.ostreeRepo === undefined ? { ...facts.ostree, repo: null, delta: null } : await publishCommit(exec, { tar, repo: manifest.ostreeRepo, ...facts.ostree, ...key, scratch: workspace.scratch, signal: o.signal });
    }
    record.seconds = elapsed(t0);
    // maxRSS is in KiB: the builder's own memory, not that of the commands it runs.
    record.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    await staging.write('SHA256SUMS', sums.join(''));
    await closeLog();
    await staging.copy(logPath, 'build.log');
    await staging.write('build.json', `${JSON.stringify(record, null, 2)}\n`);
    // A stop asked for while publishing (hashing and copying run no command that would notice it)
    // is honoured here, the last moment before any output name changes.
    if (o.signal.aborted) throw new InterruptedError('SIGINT');
    await staging.commit('build.json');
    // The log of an earlier failure no longer describes these outputs.
    await rm(join(o.outputDir, 'build-failed.log'), { force: true });
    emit({ type: 'build-end', ok: true, seconds: record.seconds, outputDir: o.outputDir });
    return record;
  } catch (err) {
    await staging?.discard();
    await closeLog();
    await saveFailedLog(logPath, o.outputDir);
    emit({ type: 'build-end', ok: false, seconds: elapsed(t0) });
    throw err instanceof InterruptedError || !o.signal.aborted ? err : new InterruptedError('SIGINT');
  } finally {
    await unmountAll(hostExec, workspace.dir);
    await workspace.remove();
    await storeLock.release();
    // The image entries this build replaced are in the trash: emptied now unless another build runs
    // (a failure here costs only space, which the next build's tidy recovers).
    await store.tidy().catch(() => undefined);
  }
}

/** kiln.lock from what the bootstrap stage installed (kept in its facts, so cached builds have it too). */
function lockOf(manifest: Manifest, facts: Facts): LockFile {
  const step = manifest.stages.find((s) => s.stage === bootstrap.name);
  if (!step || !facts.debs) throw new Error('the bootstrap stage reported no packages');
  const { release, mirror, arch } = bootstrap.options.parse(step.options);
  const epoch = facts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: facts.sourceDateEpoch };
  const auto = new Set(facts.autoInstalled ?? []);
  const packages = facts.debs.map((d) => (auto.has(d.name) ? { ...d, auto: true as const } : d));
  return { kilnLock: 1, distro: { name: 'debian', release, mirror }, arch, ...epoch, packages };
}

/** The log of a failed build is kept beside (never over) the last good build's files. */
async function saveFailedLog(logPath: string, outputDir: string): Promise<void> {
  await mkdir(outputDir, { recursive: true });
  await copyFile(logPath, join(outputDir, 'build-failed.log')).catch(() => undefined);
}
