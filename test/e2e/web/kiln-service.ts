/**
 * The build service for the browser tests, started the way `kiln serve` starts it (the same
 * function, in this process): SQLite in a temporary folder, 127.0.0.1, a free port, the web
 * interface, and the real in-process worker when asked for. One function, so the tests do not
 * care how the service is put together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../../src/cli/serve.js';

export interface KilnService {
  url: string;
  /** The first admin token `kiln serve` printed, and tokens with one scope made with it. */
  tokens: { admin: string; read: string; worker: string };
  dir: string;
  stop(): Promise<void>;
}

async function makeToken(url: string, admin: string, name: string, scope: string): Promise<string> {
  const response = await fetch(`${url}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: [scope] }) });
  if (!response.ok) throw new Error(`making a ${scope} token: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

export async function startKilnService(options: { workers: number }): Promise<KilnService> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-web-'));
  const stop = new AbortController();
  let admin: string | undefined;
  let url: string | undefined;
  let started: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => (started = resolve));
  const running = serve({ data: dir, listen: '127.0.0.1:0', workers: options.workers, heartbeat: 2, lostAfter: 30, logLevel: 'warn' }, stop.signal, (line) => {
    admin ??= /\b(kiln_\S+)/.exec(line)?.[1];
    url ??= /listening on (http:\/\/\S+)/.exec(line)?.[1];
    if (url) started();
  });
  await Promise.race([listening, running.then(() => Promise.reject(new Error('kiln serve stopped before it listened')))]);
  if (!url || !admin) throw new Error('kiln serve printed no URL or no admin token');
  const tokens = { admin, read: await makeToken(url, admin, 'reader', 'read'), worker: await makeToken(url, admin, 'scripted worker', 'worker') };
  return {
    url,
    tokens,
    dir,
    stop: async () => {
      stop.abort();
      await running;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
