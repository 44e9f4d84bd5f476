/**
 * A service for tests: a fresh store (SQLite or PostgreSQL), a temporary data folder, the app
 * without a port (`app.inject`), an admin token, and helpers to make tokens and tar bundles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import tar from 'tar-stream';
import { createToken } from '../auth/tokens.js';
import type { App } from '../context.js';
import type { ServiceStore } from '../db/service-store.js';
import { ErrorBody, type Scope } from '../protocol.js';
import { createApp, type ServerOptions } from '../server.js';

export type OpenStore = (dataDir: string) => Promise<ServiceStore>;

export interface Harness {
  app: App;
  store: ServiceStore;
  dataDir: string;
  admin: string;
  /** Every log line the server wrote, to check what it never writes (tokens). */
  logs: string[];
  token(scopes: Scope[]): Promise<string>;
  auth(token: string): { authorization: string };
  close(): Promise<void>;
}

export async function harness(open: OpenStore, options: Partial<ServerOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kiln-service-test-'));
  const store = await open(dataDir);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const service = await createApp({ store, dataDir, logger: pino({ level: 'debug' }, sink), ...options });
  const admin = (await createToken(store, 'test admin', ['admin'])).token;
  return {
    app: service.app,
    store,
    dataDir,
    admin,
    logs,
    token: async (scopes) => (await createToken(store, `test ${scopes.join('+')}`, scopes)).token,
    auth: (token) => ({ authorization: `Bearer ${token}` }),
    async close() {
      await service.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  body?: string;
  mode?: number;
  linkname?: string;
}

/** A tar made entry by entry, so tests can build the hostile ones no tool would. */
export async function makeTar(entries: TarEntry[], gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0), ...(e.linkname !== undefined ? { linkname: e.linkname } : {}) };
    if (type === 'file') pack.entry(header, e.body ?? '');
    else pack.entry({ ...header, ...(type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}) });
  }
  pack.finalize();
  const data = await collected;
  return gzip ? gzipSync(data) : data;
}

export const HELLO = 'name: hello\nkernel: {package: none}\nbootloader: none\noutputs: [tar]\n';

/** Runs `fn` with a fresh service and always closes it. */
export async function withService(open: OpenStore, fn: (h: Harness) => Promise<void>, options: Partial<ServerOptions> = {}): Promise<void> {
  const h = await harness(open, options);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Pushes a recipe YAML as the admin and returns the answer's JSON. */
export async function pushYaml(h: Harness, text: string, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await h.app.inject({ method: 'POST', url: `/v1/recipes${query}`, headers: { ...h.auth(h.admin), 'content-type': 'application/yaml' }, payload: text });
  return { status: res.statusCode, body: res.json() };
}

/** A JSON answer whose fields a test reads without a schema. */
export type Loose = Record<string, unknown>;

/** The error of an answer, checked to be an ErrorBody. */
export function errorOf(res: { json(): unknown }): ErrorBody['error'] {
  return ErrorBody.parse(res.json()).error;
}
