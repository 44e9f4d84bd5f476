/**
 * Helpers for the build service's end-to-end tests: real `kiln serve` and `kiln worker` processes
 * on 127.0.0.1, the public API over fetch, and a small recipe folder whose builds are quick once
 * its first stages are cached, or as slow as a test needs (SLEEP seconds in a customize hook).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/testing/free-port.js';
import { kiln, MAIN, REPO } from './kiln.js';

/** A recipe folder: a layer, an overlay-free file whose content is a variable, and a hook that sleeps. */
export function recipeFolder(dir: string, extra = ''): string {
  mkdirSync(join(dir, 'hooks'), { recursive: true });
  mkdirSync(join(dir, 'layers/note'), { recursive: true });
  writeFileSync(
    join(dir, 'recipe.yaml'),
    [
      'name: svc',
      'kernel: { package: none }',
      'bootloader: none',
      'layers: [note]',
      'outputs: [tar]',
      'files:',
      '  - { dst: /etc/svc-sleep, content: "${SLEEP:-0}\\n" }',
      'hooks:',
      '  customize: [hooks/10-sleep.sh]',
      extra,
    ].join('\n'),
  );
  writeFileSync(join(dir, 'hooks/10-sleep.sh'), '#!/bin/sh\nset -e\nsleep "$(cat /etc/svc-sleep)"\n', { mode: 0o755 });
  writeFileSync(
    join(dir, 'layers/note/layer.yaml'),
    'description: a note whose text is a variable\nvariables:\n  NOTE: { default: "none", pattern: "^[a-z0-9-]+$", description: "text of /etc/svc-note" }\nfiles:\n  - { dst: /etc/svc-note, content: "${NOTE}\\n" }\n',
  );
  return dir;
}

export interface Serve extends Running {
  url: string;
  admin: string;
  worker: string;
}

export async function tokenFor(data: string, scope: string, database?: string): Promise<string> {
  const made = await kiln(['serve', 'token', 'create', '--data', data, ...(database ? ['--database', database] : []), '--scope', scope, '--name', `e2e-${scope}`, '--quiet']);
  assert.equal(made.code, 0, made.stderr);
  return made.stdout.trim();
}

/** A long-running kiln process (serve, worker) whose output is kept for assertions. */
export interface Running {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  return { child, output: () => text, stop: (signal = 'SIGTERM') => stopProcess(child, signal) };
}

export async function serve(data: string, args: string[], env: Record<string, string>, database?: string): Promise<Serve> {
  const db = database ? ['--database', database] : [];
  const admin = await tokenFor(data, 'admin', database);
  const worker = await tokenFor(data, 'worker', database);
  const port = await freePort();
  const running = start(['serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--log-level', 'warn', ...db, ...args], env);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => fetch(`${url}/healthz`).then((r) => r.ok, () => false), 30, () => `kiln serve did not start:\n${running.output()}`);
  return { url, admin, worker, ...running };
}

export function startWorker(server: Serve, name: string, env: Record<string, string>, args: string[] = []): Running {
  return start(['worker', '--server', server.url, '--token', server.worker, '--name', name, ...args], env);
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export async function api<T>(s: Serve, method: string, path: string, body?: unknown, token = s.admin): Promise<{ status: number; json: T; headers: Headers }> {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: (text ? JSON.parse(text) : undefined) as T, headers: r.headers };
}

export interface BuildView {
  id: string;
  state: string;
  attempt: number;
  worker?: string;
  error?: string;
  retryOf?: string;
  stages: { name: string; state: string; cached?: boolean }[];
}

export async function submit(s: Serve, body: Record<string, unknown>): Promise<string> {
  const made = await api<{ id: string }>(s, 'POST', '/v1/builds', body);
  assert.equal(made.status, 202, JSON.stringify(made.json));
  return made.json.id;
}

export async function waitForBuild(s: Serve, id: string, until: (b: BuildView) => boolean, seconds: number): Promise<BuildView> {
  let last: BuildView | undefined;
  await waitFor(
    async () => {
      last = (await api<BuildView>(s, 'GET', `/v1/builds/${id}`)).json;
      return until(last);
    },
    seconds,
    () => `build ${id} did not get there in ${seconds} s: ${JSON.stringify(last)}\n${s.output().slice(-3000)}`,
  );
  return last as BuildView;
}

export const isFinal = (b: BuildView) => ['succeeded', 'failed', 'canceled'].includes(b.state);

export async function waitFor(check: () => boolean | Promise<boolean>, seconds: number, why: () => string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(why());
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Server-Sent Events of a build until the server ends the stream (after the final state). */
export async function readEvents(s: Serve, id: string, lastEventId?: string): Promise<{ id: string; event: string; data: string }[]> {
  const r = await fetch(`${s.url}/v1/builds/${id}/events`, { headers: { authorization: `Bearer ${s.admin}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
  const text = await r.text();
  return text
    .split('\n\n')
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trimStart())
          .join('\n');
      return { id: field('id'), event: field('event'), data: field('data') };
    })
    .filter((e) => e.id !== '');
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * Processes whose environment names this cache folder, but the server and workers themselves
 * (`except`): what a build of this test left running.
 */
export function processesUsing(cache: string, except: (number | undefined)[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && !except.includes(Number(p)))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`KILN_CACHE=${cache}`)) found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(dir));
}
