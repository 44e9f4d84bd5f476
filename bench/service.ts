/**
 * The build service under load, on SQLite and on PostgreSQL (a cluster of its own on 127.0.0.1):
 *   1. API: CLIENTS concurrent clients, each polling every INTERVAL ms (alternately one build's
 *      status and the list of builds, as `kiln remote build --wait` and the web interface do), for
 *      SECONDS; errors and latency percentiles (target: 0 errors, p99 < 50 ms). With
 *      `--interval 0` the clients poll back to back: that measures the server's throughput, and
 *      latency is then just clients / throughput.
 *   2. Queue: 1,000 queued builds claimed by 8 worker loops speaking the real worker protocol
 *      (claim, finish at once: the no-op runner lives here, in the bench only); claims per second,
 *      and proof that no build was claimed twice.
 *   3. A real build (examples/container.yaml) through `kiln serve --workers 1` against the same
 *      build with `kiln build`, in turns, each with an empty stage store and a shared package
 *      cache; the overhead, and the time from POST /v1/builds to the first stage starting.
 *   node dist/bench/service.js [--seconds 60] [--clients 200] [--interval 1000] [--runs 3] [--skip-build] [--skip-api]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '../src/testing/postgres.js';
import { kilnSync, repo, startServe, type Server } from './kiln-serve.js';
import { median } from './median.js';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '200' },
    interval: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    'skip-build': { type: 'boolean', default: false },
    'skip-api': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(flags.seconds);
const CLIENTS = Number(flags.clients);
const RUNS = Number(flags.runs);
const INTERVAL = Number(flags.interval);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function call<T>(s: Server, token: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; json: T }> {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: (text ? JSON.parse(text) : undefined) as T };
}

const RECIPE = 'name: bench\nkernel: { package: none }\nbootloader: none\noutputs: [tar]\n';

async function queueBuilds(s: Server, n: number): Promise<string[]> {
  await call(s, s.admin, 'POST', '/v1/recipes', RECIPE, 'application/yaml');
  const ids: string[] = [];
  // In batches: the point is a full queue, not the speed of submitting it.
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => call<{ id: string }>(s, s.admin, 'POST', '/v1/builds', { recipe: 'bench' })));
    for (const b of batch) {
      if (b.status !== 202) throw new Error(`POST /v1/builds: ${b.status} ${JSON.stringify(b.json)}`);
      ids.push(b.json.id);
    }
  }
  return ids;
}

async function apiLoad(s: Server, buildIds: string[]): Promise<string> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const client = async (c: number) => {
    // Spread the clients over the interval, as real pollers are.
    await new Promise((r) => setTimeout(r, Math.random() * INTERVAL));
    for (let i = 0; Date.now() < end; i++) {
      const started = performance.now();
      const path = i % 2 ? `/v1/builds?limit=50` : `/v1/builds/${buildIds[(c + i) % buildIds.length] ?? ''}`;
      const t = performance.now();
      try {
        const r = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${s.admin}` } });
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL - (performance.now() - started))));
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  latencies.sort((a, b) => a - b);
  const rate = latencies.length / SECONDS;
  return `${CLIENTS} clients every ${INTERVAL} ms, ${SECONDS} s: ${latencies.length} requests (${rate.toFixed(0)}/s), ${errors} errors, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (target < 50)`;
}

async function queueClaims(s: Server): Promise<string> {
  const ids = await queueBuilds(s, 1000);
  const claimed = new Map<string, number>();
  const t = performance.now();
  const loop = async (w: number) => {
    const reg = await call<{ id: string }>(s, s.worker, 'POST', '/v1/workers', { name: `bench-${w}`, arches: ['amd64'], concurrency: 1, version: 'bench' });
    if (reg.status !== 201) throw new Error(`POST /v1/workers: ${reg.status} ${JSON.stringify(reg.json)}`);
    for (;;) {
      const r = await fetch(`${s.url}/v1/workers/${reg.json.id}/claim?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${s.worker}` } });
      if (r.status === 204) return;
      if (r.status !== 200) throw new Error(`claim: ${r.status} ${await r.text()}`);
      const job = (await r.json()) as { lease: string; jobToken: string; build: { id: string } };
      claimed.set(job.build.id, (claimed.get(job.build.id) ?? 0) + 1);
      const fin = await fetch(`${s.url}/v1/jobs/${job.lease}/finish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.worker}`, 'x-kiln-job-token': job.jobToken, 'content-type': 'application/json' },
        body: JSON.stringify({ ok: true }),
      });
      if (!fin.ok) throw new Error(`finish: ${fin.status} ${await fin.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => loop(w)));
  const seconds = (performance.now() - t) / 1000 - 1; // the last empty long poll of each loop
  const twice = [...claimed.values()].filter((n) => n > 1).length;
  const missed = ids.filter((id) => !claimed.has(id)).length;
  return `${claimed.size} queued builds, 8 worker loops: ${(claimed.size / seconds).toFixed(0)} claims/s, claimed twice: ${twice}, never claimed: ${missed}`;
}

async function buildOverhead(): Promise<string> {
  // Every run starts with an empty stage store and the same warm package cache (hard links).
  const warm = mkdtempSync(join(tmpdir(), 'kiln-bench-warm-'));
  kilnSync(['build', 'examples/container.yaml', '-o', join(warm, 'out')], { KILN_CACHE: warm });
  const cacheWithDebs = (dir: string) => {
    spawnSync('mkdir', ['-p', dir]);
    spawnSync('cp', ['-al', join(warm, 'packages'), join(dir, 'packages')]);
    return dir;
  };
  const cli: number[] = [];
  const service: number[] = [];
  const firstStage: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const scratch = mkdtempSync(join(tmpdir(), 'kiln-bench-svc-'));
      try {
        const env = { KILN_CACHE: cacheWithDebs(join(scratch, 'cli-cache')) };
        const t = performance.now();
        kilnSync(['build', 'examples/container.yaml', '-o', join(scratch, 'out')], env);
        cli.push((performance.now() - t) / 1000);

        const s = await startServe(join(scratch, 'data'), undefined, 1, { KILN_CACHE: cacheWithDebs(join(scratch, 'svc-cache')) });
        try {
          const folder = join(repo, 'examples/container.yaml');
          kilnSync(['remote', 'push', folder, '--server', s.url, '--token', s.admin]);
          const t0 = performance.now();
          const created = await call<{ id: string }>(s, s.admin, 'POST', '/v1/builds', { recipe: 'container' });
          let started = 0;
          for (;;) {
            const b = await call<{ state: string; stages: { state: string }[] }>(s, s.admin, 'GET', `/v1/builds/${created.json.id}`);
            if (!started && b.json.stages.some((st) => st.state !== 'pending')) started = performance.now();
            if (['succeeded', 'failed', 'canceled'].includes(b.json.state)) {
              if (b.json.state !== 'succeeded') throw new Error(`service build ${b.json.state}`);
              break;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          service.push((performance.now() - t0) / 1000);
          firstStage.push((started - t0) / 1000);
        } finally {
          await s.stop();
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      process.stderr.write(`run ${i + 1}/${RUNS}: kiln build ${cli.at(-1)?.toFixed(1)} s, service ${service.at(-1)?.toFixed(1)} s, first stage after ${firstStage.at(-1)?.toFixed(2)} s\n`);
    }
  } finally {
    rmSync(warm, { recursive: true, force: true });
  }
  const overhead = (median(service) / median(cli) - 1) * 100;
  // Each pair ran back to back, so its ratio sees the same machine; the median of those is the steadier figure.
  const pairs = service.map((s, i) => (s / (cli[i] ?? NaN) - 1) * 100);
  return [
    `kiln build, median            ${median(cli).toFixed(1)} s (runs: ${cli.map((x) => x.toFixed(1)).join(', ')})`,
    `through the service, median   ${median(service).toFixed(1)} s (runs: ${service.map((x) => x.toFixed(1)).join(', ')})`,
    `overhead                      ${overhead.toFixed(1)} % of the medians; median of the pairs ${median(pairs).toFixed(1)} % (pairs: ${pairs.map((x) => x.toFixed(1)).join(', ')}; target ≤ 5)`,
    `POST to first stage, median   ${median(firstStage).toFixed(2)} s (target < 1)`,
  ].join('\n');
}

/** Parts 1 and 2, on SQLite and on a PostgreSQL cluster of the bench's own. */
async function apiAndQueue(): Promise<void> {
  const pg = await startPostgres();
  try {
    for (const [engine, database] of [['sqlite', undefined], ['postgres', pg.url]] as const) {
      const data = mkdtempSync(join(tmpdir(), `kiln-bench-${engine}-`));
      const s = await startServe(data, database, 0);
      try {
        const ids = await queueBuilds(s, 200);
        console.log(`${engine.padEnd(8)} API    ${await apiLoad(s, ids)}`);
        console.log(`${engine.padEnd(8)} queue  ${await queueClaims(s)}`);
      } finally {
        await s.stop();
        rmSync(data, { recursive: true, force: true });
      }
    }
  } finally {
    await pg.stop();
  }
}

if (!flags['skip-api']) await apiAndQueue();
if (!flags['skip-build']) console.log(await buildOverhead());
