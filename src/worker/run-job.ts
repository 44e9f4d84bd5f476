/**
 * One lease, from claim to finish: fetch and unpack the bundle, run `kiln build --json`, stream its
 * events, upload the outputs, report the result. A canceled lease kills the build and reports
 * failure; a lost lease (the server gave the build to someone else) kills it and reports nothing.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { JobEventsAnswer, type Job, type WorkerEvent } from '../service/protocol.js';
import { ApiError, backoffMs, sleep, type ApiClient } from './api.js';
import { unpackBundle } from './bundle.js';
import { startBuild, type BuildExit, type BuildProcess } from './build-process.js';
import { EventSender } from './event-sender.js';
import { routes } from './routes.js';
import { fromStderrLine, fromStdoutLine } from './translate.js';
import { uploadOutputs, uploadsOf } from './upload.js';
import type { WorkerLog } from './log.js';

export interface JobOptions {
  api: ApiClient;
  job: Job;
  workerName: string;
  kilnMain: string;
  workDir: string;
  /** Hand the outputs to the server by path (it runs on this machine). */
  localFiles?: boolean;
  log: WorkerLog;
  /** SIGTERM first, SIGKILL after this long (kiln build needs a moment to unmount). */
  killGraceMs: number;
  /** Set by the worker's hard stop: kill the build and leave the lease to expire (it is requeued). */
  abandon: AbortSignal;
  /** Test hook: how often events are sent. */
  eventIntervalMs?: number;
}

type Stop = { kind: 'cancel'; reason: string } | { kind: 'lost'; reason: string };

export class RunningJob {
  readonly lease: string;
  private stopReason: Stop | undefined;
  private readonly aborter = new AbortController();
  private build: BuildProcess | undefined;

  constructor(private readonly o: JobOptions) {
    this.lease = o.job.lease;
    o.abandon.addEventListener('abort', () => this.stop({ kind: 'lost', reason: 'the worker is stopping at once' }), { once: true });
  }

  /** The build was canceled: stop it and report failure. */
  cancel(reason = 'canceled on request'): void {
    this.stop({ kind: 'cancel', reason });
  }

  /** The server no longer honours this lease: stop and say nothing more. */
  lose(reason = 'the server gave up this lease'): void {
    this.stop({ kind: 'lost', reason });
  }

  private stop(why: Stop): void {
    // A loss overrides a cancel: there is no one left to report the cancel to.
    if (this.stopReason && !(why.kind === 'lost' && this.stopReason.kind === 'cancel')) return;
    this.stopReason = why;
    this.o.log.info({ lease: this.lease, build: this.o.job.build.id, reason: why.reason }, `stopping build (${why.kind})`);
    this.aborter.abort();
    this.build?.stop(this.o.killGraceMs);
  }

  // Methods, not property reads: a stop arrives from heartbeats between any two awaits.
  private isLost(): boolean {
    return this.stopReason?.kind === 'lost';
  }

  private stoppedBecause(): string | undefined {
    return this.stopReason?.reason;
  }

  async run(): Promise<void> {
    const { job, api, log } = this.o;
    const headers = { 'x-kiln-job-token': job.jobToken };
    const dir = join(this.o.workDir, job.lease);
    const sender = new EventSender({
      post: async (events: WorkerEvent[]) => {
        const answer = await api.json(JobEventsAnswer, 'POST', routes.jobEvents(job.lease), { json: { events }, headers, signal: AbortSignal.timeout(30_000) });
        // Sooner than the next heartbeat.
        if (answer.cancel) this.cancel();
      },
      onRefused: (err) => (isLost(err) ? this.lose(err.message) : this.cancel(`the server refused the build's events: ${err.message}`)),
      ...(this.o.eventIntervalMs ? { intervalMs: this.o.eventIntervalMs } : {}),
    });
    const note = (line: string) => sender.push({ type: 'log', time: new Date().toISOString(), line: `worker ${this.o.workerName}: ${line}` });
    log.info({ lease: job.lease, build: job.build.id, recipe: job.build.recipe, arch: job.build.arch }, 'build claimed');
    let result: { ok: boolean; error?: string };
    try {
      note(`building ${job.build.recipe} version ${job.build.version} for ${job.build.arch}${job.build.attempt ? ` (attempt ${job.build.attempt + 1})` : ''}`);
      await mkdir(join(dir, 'bundle'), { recursive: true });
      const bundle = await api.request('GET', job.bundleUrl, { headers, signal: this.aborter.signal });
      if (!bundle.body) throw new Error('the bundle came without a body');
      await unpackBundle(Readable.fromWeb(bundle.body as WebReadableStream<Uint8Array>), join(dir, 'bundle'));
      const exit = await this.runBuild(dir, sender);
      result = await this.outcome(exit, dir, note);
    } catch (err) {
      result = { ok: false, error: this.stoppedBecause() ?? (err instanceof Error ? err.message : String(err)) };
    }
    try {
      if (this.isLost()) return;
      if (!result.ok) note(`failed: ${result.error ?? ''}`);
      await sender.flush().catch((err: unknown) => log.warn({ lease: job.lease, err: String(err) }, 'events not delivered'));
      if (this.isLost()) return;
      await this.finish(result);
      log.info({ lease: job.lease, build: job.build.id, ok: result.ok, error: result.error }, 'build finished');
    } finally {
      sender.stop();
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) => log.warn({ dir, err: String(err) }, 'could not remove the work folder'));
    }
  }

  private async runBuild(dir: string, sender: EventSender): Promise<BuildExit> {
    if (this.stopReason) throw new Error(this.stopReason.reason);
    const { job } = this.o;
    this.build = await startBuild(
      { kilnMain: this.o.kilnMain, recipeFile: join(dir, 'bundle', job.file), outputDir: join(dir, 'out'), set: job.build.set, arch: job.build.arch, cwd: join(dir, 'bundle') },
      (line) => {
        const e = fromStdoutLine(line, new Date().toISOString());
        if (e) sender.push(e);
      },
      (line) => {
        const e = fromStderrLine(line, new Date().toISOString());
        if (e) sender.push(e);
      },
    );
    // A stop that came while the build was starting.
    if (this.stoppedBecause() !== undefined) this.build.stop(this.o.killGraceMs);
    return this.build.done;
  }

  private async outcome(exit: BuildExit, dir: string, note: (line: string) => void): Promise<{ ok: boolean; error?: string }> {
    if (this.stopReason) return { ok: false, error: this.stopReason.reason };
    if (exit.code !== 0) return { ok: false, error: failureText(exit) };
    try {
      const uploads = await uploadsOf(join(dir, 'out'), join(dir, 'upload'));
      const count = await uploadOutputs({ api: this.o.api, lease: this.lease, jobToken: this.o.job.jobToken, uploads, signal: this.aborter.signal, ...(this.o.localFiles ? { local: true } : {}) });
      note(`uploaded ${count} files`);
      return { ok: true };
    } catch (err) {
      if (err instanceof ApiError && isLost(err)) this.lose(err.message);
      return { ok: false, error: this.stoppedBecause() ?? (err instanceof Error ? err.message : String(err)) };
    }
  }

  /** Reports the result; network errors are retried until the server answers or the lease is gone. */
  private async finish(result: { ok: boolean; error?: string }): Promise<void> {
    const body = result.error === undefined ? { ok: result.ok } : { ok: result.ok, error: result.error.slice(0, 65536) };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.api.request('POST', routes.jobFinish(this.lease), { json: body, headers: { 'x-kiln-job-token': this.o.job.jobToken }, signal: AbortSignal.timeout(30_000) });
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || !err.retryable) {
          this.o.log.warn({ lease: this.lease, err: String(err) }, 'the server did not take the result');
          return;
        }
        if (this.o.abandon.aborted) return;
        await sleep(backoffMs(attempt), this.o.abandon);
      }
    }
  }
}

/** The server's word that this lease is no longer ours. */
export function isLost(err: ApiError): boolean {
  return err.code === 'lease_lost' || err.status === 401 || err.status === 403 || err.status === 404 || err.status === 409 || err.status === 410;
}

/** kiln's own words for the failure ("error: stage ... failed" and what follows), else the exit status. */
export function failureText(exit: BuildExit): string {
  const at = exit.tail.findIndex((l) => l.startsWith('error:') || l.startsWith('kiln: internal error'));
  if (at >= 0) return exit.tail.slice(at).join('\n').replace(/^error: /, '').slice(0, 4000);
  return exit.signal ? `kiln build was killed by ${exit.signal}` : `kiln build exited with code ${String(exit.code)}`;
}
