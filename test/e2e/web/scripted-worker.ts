/**
 * A worker driven by the test over the real worker protocol (register, claim, events, artifacts,
 * finish), so the interface can be shown exact events at an exact pace: a 100,000-line log, stages
 * that start and end while the page watches. The real worker's build is in real-build.browser.ts.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { Job, WorkerEvent, WorkerInfo } from '../../../src/service/protocol.js';

type NewEvent = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, 'n' | 'time'> : never) : never;

export class ScriptedWorker {
  private n = 0;
  private readonly leases = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private constructor(
    private readonly url: string,
    private readonly token: string,
    readonly id: string,
  ) {}

  /** Registers, and sends a heartbeat every `heartbeatMs` (as a worker must, or it loses its jobs). */
  static async register(url: string, token: string, name: string, heartbeatMs = 2000): Promise<ScriptedWorker> {
    const info = (await call(url, token, 'POST', '/v1/workers', { name, arches: ['amd64', 'arm64'], concurrency: 2, version: 'scripted' })) as z.infer<typeof WorkerInfo>;
    const w = new ScriptedWorker(url, token, info.id);
    w.timer = setInterval(() => void w.heartbeat(w.leases.size ? 'busy' : 'idle', [...w.leases]).catch(() => undefined), heartbeatMs);
    w.timer.unref();
    return w;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The next queued build's job (waits up to `wait` seconds). */
  async claim(wait = 5): Promise<Job> {
    const job = (await call(this.url, this.token, 'POST', `/v1/workers/${this.id}/claim?wait=${wait}`)) as Job | undefined;
    if (!job) throw new Error('no job to claim');
    this.n = 0;
    this.leases.add(job.lease);
    return job;
  }

  async events(job: Job, events: NewEvent[]): Promise<void> {
    const time = new Date().toISOString();
    for (let i = 0; i < events.length; i += 5000) {
      const batch = events.slice(i, i + 5000).map((e) => ({ ...e, n: ++this.n, time }));
      await call(this.url, this.token, 'POST', `/v1/jobs/${job.lease}/events`, { events: batch }, { 'x-kiln-job-token': job.jobToken });
    }
  }

  async artifact(job: Job, name: string, data: Buffer): Promise<string> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    await call(this.url, this.token, 'PUT', `/v1/jobs/${job.lease}/artifacts/${encodeURIComponent(name)}`, data, {
      'x-kiln-job-token': job.jobToken,
      'x-kiln-sha256': sha256,
      'content-type': 'application/octet-stream',
    });
    return sha256;
  }

  async finish(job: Job, ok: boolean, error?: string): Promise<void> {
    await call(this.url, this.token, 'POST', `/v1/jobs/${job.lease}/finish`, { ok, ...(error ? { error } : {}) }, { 'x-kiln-job-token': job.jobToken });
    this.leases.delete(job.lease);
  }

  async heartbeat(state: 'idle' | 'busy', leases: string[]): Promise<void> {
    await call(this.url, this.token, 'POST', `/v1/workers/${this.id}/heartbeat`, { state, leases });
  }
}

/** One API call; JSON in and out (a Buffer goes as it is); throws with the status and body. */
export async function call(url: string, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const isBuffer = Buffer.isBuffer(body);
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !isBuffer ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body === undefined ? {} : { body: isBuffer ? new Uint8Array(body) : JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
}
