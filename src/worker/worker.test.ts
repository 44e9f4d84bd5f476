/**
 * A real worker against a real server (SQLite in a temporary folder, 127.0.0.1, a free port),
 * with a stand-in for `kiln build` (testing-fake-kiln.ts): claim → events → artifacts →
 * succeeded; cancel kills the build's whole process group; drain finishes the running build and
 * takes no new one; a lost lease is stopped and never reported.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createToken } from '../service/auth/tokens.js';
import { openServiceStore } from '../service/db/index.js';
import type { ServiceStore } from '../service/db/service-store.js';
import { ArtifactList, Build, type BuildStreamEvent, type BuildState } from '../service/protocol.js';
import { startServer, type RunningServer } from '../service/server.js';
import { ApiClient } from './api.js';
import { routes } from './routes.js';
import { FAKE_KILN } from './testing-fake-kiln.js';
import { runWorker, type WorkerOptions } from './worker.js';

let dir: string;
let store: ServiceStore;
let server: RunningServer;
let api: ApiClient;
let workerToken: string;
let fake: string;
const serverLogs: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-worker-test-'));
  store = await openServiceStore({ sqliteFile: join(dir, 'kiln.db') });
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (serverLogs.push(chunk.toString()), done()) });
  server = await startServer({ store, dataDir: join(dir, 'data'), port: 0, heartbeatSeconds: 1, logger: pino({ level: 'info' }, sink) });
  api = new ApiClient(server.url, (await createToken(store, 'test', ['admin'])).token);
  workerToken = (await createToken(store, 'worker', ['worker'])).token;
  fake = join(dir, 'fake-kiln.mjs');
  await writeFile(fake, FAKE_KILN);
});

after(async () => {
  // Every client is done; undici may still hold a connection it opened but sent nothing on, which
  // Node's server counts as busy until its headers timeout (about 70 s) and close() would wait for.
  server.app.server.closeAllConnections();
  await server.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function worker(signal: AbortSignal, extra: Partial<WorkerOptions> = {}): Promise<void> {
  return runWorker({ server: server.url, token: workerToken, name: `w-${Math.random().toString(36).slice(2, 8)}`, arches: ['amd64'], concurrency: 1, heartbeatSeconds: 1, signal, kilnMain: fake, workDir: join(dir, 'work'), log: silent, claimWaitSeconds: 5, killGraceMs: 800, eventIntervalMs: 50, ...extra });
}

async function queue(name: string, comments: string, set: Record<string, string> = {}): Promise<Build> {
  await api.request('POST', `${routes.recipes()}?file=recipe.yaml`, { body: `name: ${name}\n${comments}\n`, headers: { 'content-type': 'application/yaml' } });
  return api.json(Build, 'POST', routes.builds(), { json: { recipe: name, ...(Object.keys(set).length ? { set } : {}) } });
}

async function until(id: string, states: BuildState[], ms = 20_000): Promise<Build> {
  const end = Date.now() + ms;
  for (;;) {
    const build = await api.json(Build, 'GET', routes.build(id));
    if (states.includes(build.state)) return build;
    if (Date.now() > end) assert.fail(`build ${id} is still ${build.state} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function events(id: string): Promise<BuildStreamEvent[]> {
  const out: BuildStreamEvent[] = [];
  for (let after = 0; ; ) {
    const page = await store.events(id, after, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]?.seq ?? after;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test('a build is claimed, its events streamed in order, its outputs uploaded and checked, and it succeeds', async () => {
  const drain = new AbortController();
  const running = worker(drain.signal);
  try {
    const queued = await queue('t-ok', 'hostname: ${HOST:-kiln}\n# mode: ok', { HOST: 'h1', B: 'x y' });
    const build = await until(queued.id, ['succeeded', 'failed'], 20_000);
    assert.equal(build.state, 'succeeded', build.error);
    const { artifacts } = await api.json(ArtifactList, 'GET', routes.artifacts(build.id));
    assert.deepEqual(artifacts.map((a) => a.name).sort(), ['SHA256SUMS', 'build.json', 'fake.tar', 'oci.tar']);
    const image = artifacts.find((a) => a.name === 'fake.tar');
    assert.equal(image?.sha256, createHash('sha256').update('image bytes '.repeat(1000)).digest('hex'));
    const stream = await events(build.id);
    const types = stream.filter((e) => e.type !== 'log' && e.type !== 'artifact' && e.type !== 'state').map((e) => (e.type === 'stages' ? 'stages' : `${e.type} ${'stage' in e ? e.stage : ''}`));
    assert.deepEqual(types, ['stages', 'stage-start one', 'stage-end one', 'stage-start two', 'stage-end two']);
    const lines = stream.flatMap((e) => (e.type === 'log' ? [e.line] : []));
    assert.ok(lines.includes('working on --arch amd64 --set B=x y --set HOST=h1'), lines.join('\n'));
    assert.ok(lines.includes('a note on stderr'));
    assert.equal(new Set(lines).size, lines.length, 'no line twice');
    assert.deepEqual(stream.map((e) => e.seq), [...stream.map((e) => e.seq)].sort((a, b) => a - b));
  } finally {
    drain.abort();
    await running;
  }
});

void test('cancel stops the build: SIGTERM, then SIGKILL of its whole process group; the build ends canceled', async () => {
  const drain = new AbortController();
  const running = worker(drain.signal);
  try {
    const pidfile = join(dir, 'cancel.pids');
    const queued = await queue('t-cancel', `# mode: stubborn\n# pidfile: ${pidfile}`);
    await waitFor(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').includes(' '), 'the build to start');
    const pids = readFileSync(pidfile, 'utf8').split(' ').map(Number);
    assert.ok(pids.every(alive));
    const response = await api.request('POST', routes.cancel(queued.id));
    assert.equal(response.status, 202);
    const build = await until(queued.id, ['canceled', 'failed', 'succeeded']);
    assert.equal(build.state, 'canceled');
    for (const pid of pids) await waitFor(() => !alive(pid), `pid ${pid} to end`, 3000);
    const lines = (await events(queued.id)).flatMap((e) => (e.type === 'log' ? [e.line] : []));
    assert.ok(lines.includes('ignoring SIGTERM'), 'SIGTERM came first');
  } finally {
    drain.abort();
    await running;
  }
});

void test('drain: the running build finishes and is reported, the next one stays queued, then the worker resolves', async () => {
  const drain = new AbortController();
  const running = worker(drain.signal);
  let resolved = false;
  void running.then(() => (resolved = true));
  const first = await queue('t-drain', '# mode: slow');
  await until(first.id, ['running']);
  drain.abort();
  const second = await queue('t-drain-2', '# mode: ok');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(resolved, false, 'still finishing its build');
  await running;
  assert.equal((await api.json(Build, 'GET', routes.build(first.id))).state, 'succeeded');
  assert.equal((await api.json(Build, 'GET', routes.build(second.id))).state, 'queued');
  await api.request('POST', routes.cancel(second.id));
});

void test('a lost lease: the build is killed and never reported; the requeued attempt runs and succeeds', async () => {
  const drain = new AbortController();
  const running = worker(drain.signal);
  try {
    const pidfile = join(dir, 'lost.pids');
    const queued = await queue('t-lost', `# mode: once\n# pidfile: ${pidfile}\n# marker: ${join(dir, 'lost.marker')}`);
    await waitFor(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').includes(' '), 'the build to start');
    const pids = readFileSync(pidfile, 'utf8').split(' ').map(Number);
    const [lease] = await leasesOf(queued.id);
    assert.ok(lease, 'the build has a lease');
    // As if the worker had been silent for an hour: its lease is taken back and the build requeued.
    await store.expireLeases(new Date(Date.now() + 3_600_000).toISOString(), 1000, 2);
    for (const pid of pids) await waitFor(() => !alive(pid), `pid ${pid} to end`, 5000);
    const build = await until(queued.id, ['succeeded', 'failed'], 20_000);
    assert.equal(build.state, 'succeeded', build.error);
    assert.equal(build.attempt, 1);
    assert.ok(serverLogs.some((l) => l.includes(`/v1/jobs/${lease}/events`)), 'requests are in the server log');
    assert.deepEqual(serverLogs.filter((l) => l.includes(`/v1/jobs/${lease}/finish`)), [], 'the lost lease was never reported');
  } finally {
    drain.abort();
    await running;
  }
});

async function leasesOf(buildId: string): Promise<string[]> {
  const out: string[] = [];
  for (const w of await store.listWorkers()) for (const l of await store.workerLeases(w.id)) if (l.buildId === buildId) out.push(l.id);
  return out;
}

void test("kiln serve's own worker hands its outputs over by path; the server still checks each sha256, and takes paths from no one else", async () => {
  const localWork = join(dir, 'work-local');
  const local = await startServer({ store, dataDir: join(dir, 'data'), port: 0, heartbeatSeconds: 1, logger: false, localWorkDir: localWork });
  const drain = new AbortController();
  const running = worker(drain.signal, { server: local.url, workDir: localWork, localFiles: true });
  try {
    const ok = await until((await queue('t-local', '# mode: ok')).id, ['succeeded', 'failed']);
    assert.equal(ok.state, 'succeeded', ok.error);
    const { artifacts } = await api.json(ArtifactList, 'GET', routes.artifacts(ok.id));
    assert.equal(artifacts.find((a) => a.name === 'fake.tar')?.sha256, createHash('sha256').update('image bytes '.repeat(1000)).digest('hex'));
    const bad = await until((await queue('t-badsums', '# mode: badsums')).id, ['succeeded', 'failed']);
    assert.equal(bad.state, 'failed');
    assert.match(bad.error ?? '', /upload of fake\.tar: .*sha256/);
  } finally {
    drain.abort();
    await running;
    local.app.server.closeAllConnections();
    await local.close();
  }
  // The main server has no in-process worker: a path is refused, and the build fails saying so.
  const remote = new AbortController();
  const elsewhere = worker(remote.signal, { workDir: join(dir, 'work-elsewhere'), localFiles: true });
  try {
    const refused = await until((await queue('t-path-refused', '# mode: ok')).id, ['succeeded', 'failed']);
    assert.equal(refused.state, 'failed');
    assert.match(refused.error ?? '', /only from its own in-process worker/);
  } finally {
    remote.abort();
    await elsewhere;
  }
});
