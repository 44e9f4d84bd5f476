/**
 * A build worker: registers with the server, then keeps `concurrency` slots busy, each waiting for
 * a job with a long poll (the server answers the moment one is queued), and heartbeats meanwhile.
 * The same function is `kiln worker` on other machines and the in-process worker of `kiln serve`.
 *
 * Stopping: `signal` drains (take nothing new, finish the running builds, then resolve);
 * `abandon` stops at once (builds are killed and not reported; the server requeues them when the
 * heartbeats stop).
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ArchName } from '../arch/table.js';
import { HeartbeatAnswer, Job, WorkerInfo } from '../service/protocol.js';
import { ApiClient, ApiError, backoffMs, sleep } from './api.js';
import type { WorkerLog } from './log.js';
import { routes } from './routes.js';
import { RunningJob } from './run-job.js';
import type { z } from 'zod';

export interface WorkerOptions {
  server: string;
  token: string;
  /** Stable per machine: re-registering a name requeues that worker's old jobs at once. */
  name?: string;
  arches: ArchName[];
  concurrency: number;
  heartbeatSeconds: number;
  /** Drain: finish what runs, take nothing new, then resolve. */
  signal: AbortSignal;
  /** Stop at once: kill the builds without reporting them. */
  abandon?: AbortSignal;
  /** kiln's main.js; default: the one beside this worker. Tests pass a script that acts like it. */
  kilnMain?: string;
  /** Bundles and outputs of running builds (one folder per lease, removed when it ends). */
  workDir: string;
  /** The server runs on this machine and takes the outputs by path (`kiln serve`'s own worker). */
  localFiles?: boolean;
  log: WorkerLog;
  version?: string;
  /** Long-poll length of a claim (the server caps it at 60). */
  claimWaitSeconds?: number;
  /** SIGTERM → SIGKILL grace for a canceled build. */
  killGraceMs?: number;
  eventIntervalMs?: number;
}

type Registered = z.infer<typeof WorkerInfo>;

export const DEFAULT_KILN_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export async function runWorker(o: WorkerOptions): Promise<void> {
  const api = new ApiClient(o.server, o.token);
  const name = o.name ?? hostname();
  // A slot that meets a refusal it cannot get past (a revoked token) stops the others at once.
  const fatal = new AbortController();
  const abandon = o.abandon ? AbortSignal.any([o.abandon, fatal.signal]) : fatal.signal;
  const jobs = new Map<string, RunningJob>();
  let heartbeatSeconds = o.heartbeatSeconds;
  let me: Registered | undefined;

  const register = async (): Promise<Registered | undefined> => {
    for (let attempt = 0; !o.signal.aborted; attempt++) {
      try {
        const info = await api.json(WorkerInfo, 'POST', routes.workers(), {
          json: { name, arches: o.arches, concurrency: o.concurrency, version: o.version ?? 'unknown' },
          signal: AbortSignal.any([o.signal, AbortSignal.timeout(30_000)]),
        });
        o.log.info({ worker: info.id, name, arches: o.arches.join(','), concurrency: o.concurrency, server: api.server }, 'registered');
        return info;
      } catch (err) {
        if (o.signal.aborted) return undefined;
        if (err instanceof ApiError && !err.retryable) throw err;
        o.log.warn({ err: String(err instanceof Error ? err.message : err) }, 'cannot register; trying again');
        await sleep(backoffMs(attempt), o.signal);
      }
    }
    return undefined;
  };

  /** The server forgot this worker (its database was reset, or it declared us lost): start over. */
  let reregistering: Promise<void> | undefined;
  const reregister = () =>
    (reregistering ??= (async () => {
      for (const job of jobs.values()) job.lose('the server no longer knows this worker');
      me = await register();
    })().finally(() => (reregistering = undefined)));

  me = await register();
  if (!me) return;

  // Heartbeats: the state, and the leases held; the answer names leases to cancel or give up.
  const heartbeats = new AbortController();
  const heartbeat = async () => {
    while (!heartbeats.signal.aborted) {
      await sleep(heartbeatSeconds * 1000, heartbeats.signal);
      if (heartbeats.signal.aborted || !me) break;
      const state = o.signal.aborted ? 'draining' : jobs.size ? 'busy' : 'idle';
      try {
        const answer = await api.json(HeartbeatAnswer, 'POST', routes.heartbeat(me.id), {
          json: { state, leases: [...jobs.keys()] },
          signal: AbortSignal.timeout(Math.max(5, heartbeatSeconds) * 1000),
        });
        for (const lease of answer.cancel) jobs.get(lease)?.cancel();
        for (const lease of answer.lost) jobs.get(lease)?.lose();
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) await reregister();
        else o.log.warn({ err: String(err instanceof Error ? err.message : err) }, 'heartbeat failed');
      }
    }
  };
  const beating = heartbeat();

  const slot = async (index: number) => {
    let failures = 0;
    while (!o.signal.aborted && !abandon.aborted) {
      if (reregistering) await reregistering;
      if (!me) return;
      let job: Job | undefined;
      try {
        const wait = o.claimWaitSeconds ?? 30;
        const asked = Date.now();
        const response = await api.request('POST', routes.claim(me.id, wait), {
          // The long poll ends early when draining starts; a little longer than the wait for slow answers.
          signal: AbortSignal.any([o.signal, abandon, AbortSignal.timeout((wait + 15) * 1000)]),
        });
        failures = 0;
        if (response.status === 204) {
          await response.body?.cancel();
          // A server that answers "nothing" at once (it thinks this worker drains) is not asked in a tight loop.
          if (Date.now() - asked < Math.min(wait * 500, 1000)) await sleep(1000, o.signal);
          continue;
        }
        job = Job.parse(await response.json());
      } catch (err) {
        if (o.signal.aborted || abandon.aborted) return;
        if (err instanceof ApiError && err.status === 404) {
          await reregister();
          continue;
        }
        if (err instanceof ApiError && !err.retryable) throw err;
        // A timeout of the claim itself is a network problem like any other: back off and retry.
        o.log.warn({ slot: index, err: String(err instanceof Error ? err.message : err) }, 'claim failed; trying again');
        await sleep(backoffMs(failures++), o.signal);
        continue;
      }
      // The server's heartbeat period wins: it is the one that decides when a worker is lost.
      heartbeatSeconds = Math.min(heartbeatSeconds, job.heartbeatSeconds);
      const running = new RunningJob({
        api,
        job,
        workerName: name,
        kilnMain: o.kilnMain ?? DEFAULT_KILN_MAIN,
        workDir: o.workDir,
        ...(o.localFiles ? { localFiles: true } : {}),
        log: o.log,
        killGraceMs: o.killGraceMs ?? 20_000,
        abandon,
        ...(o.eventIntervalMs ? { eventIntervalMs: o.eventIntervalMs } : {}),
      });
      jobs.set(job.lease, running);
      try {
        await running.run();
      } catch (err) {
        o.log.error({ lease: job.lease, err: String(err instanceof Error ? (err.stack ?? err.message) : err) }, 'job failed in the worker');
      } finally {
        jobs.delete(job.lease);
      }
    }
  };

  if (o.signal.aborted) o.log.info({}, 'draining');
  else o.signal.addEventListener('abort', () => o.log.info({ running: jobs.size }, 'draining: finishing running builds, taking no new ones'), { once: true });
  const ends = await Promise.allSettled(
    Array.from({ length: o.concurrency }, (_, i) =>
      slot(i).catch((err: unknown) => {
        fatal.abort();
        throw err;
      }),
    ),
  );
  heartbeats.abort();
  await beating;
  // A last word, so the list of workers shows this one stopped taking jobs rather than idle.
  if (me) {
    await api
      .request('POST', routes.heartbeat(me.id), { json: { state: 'draining', leases: [] }, signal: AbortSignal.timeout(5000) })
      .then((r) => r.body?.cancel())
      .catch(() => undefined);
  }
  const failed = ends.find((e) => e.status === 'rejected');
  if (failed) throw failed.reason;
  o.log.info({}, 'stopped');
}
