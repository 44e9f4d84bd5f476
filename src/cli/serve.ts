/**
 * `kiln serve`: the build service from command-line options. Opens (and migrates) the store,
 * prints the first admin token on a fresh database, starts the HTTP server and the in-process
 * worker, and on the abort signal (SIGTERM, SIGINT) drains that worker, closes the server and the
 * store. `kiln serve token create` makes a token without a running server.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { UserError } from '../errors.js';
import { parseSize } from '../recipe/sizes.js';
import { createToken, firstAdminToken, verifyToken } from '../service/auth/tokens.js';
import { openServiceStore, type ServiceStore } from '../service/db/index.js';
import { Scope } from '../service/protocol.js';
import { DEFAULTS, startServer } from '../service/server.js';
import { hostArch, runWorker } from '../worker/index.js';
import { registerWebUi } from '../web/index.js';

export interface ServeOptions {
  /** HOST:PORT, default 127.0.0.1:8080. */
  listen?: string;
  /** Default /var/lib/kiln: the SQLite database, recipe bundles, artifacts, the worker's work. */
  data?: string;
  /** Builds the in-process worker runs at once; 0 for none. Default 1. */
  workers?: number;
  /** postgres://... (or sqlite:FILE); default SQLite in the data folder. */
  database?: string;
  /** Default <data>/artifacts; one folder shared by every server of one database. */
  artifacts?: string;
  /** Largest recipe push, e.g. 256M (the default). */
  maxUpload?: string;
  /** Largest artifact, e.g. 64G (the default). */
  maxArtifact?: string;
  /** Seconds between a worker's heartbeats (default 15). */
  heartbeat?: number;
  /** Seconds of silence after which a worker is lost and its builds are requeued (default 120). */
  lostAfter?: number;
  /** pino's level for the request and worker log (default info; tests use silent). */
  logLevel?: string;
}

export const DEFAULT_DATA = '/var/lib/kiln';

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UserError(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080 (0.0.0.0:8080 to serve other machines)`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export function parseByteSize(flag: string, text: string): number {
  const size = parseSize(text);
  if (!size || typeof size !== 'object' || !('bytes' in size)) throw new UserError(`${flag} ${text}: expected a size, e.g. 256M or 2G`);
  return size.bytes;
}

function positive(flag: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} ${String(value)}: expected a positive number of seconds`);
  return n;
}

async function openStore(data: string, database: string | undefined): Promise<ServiceStore> {
  return openServiceStore(database ?? { sqliteFile: join(data, 'kiln.db') });
}

/**
 * The in-process worker's own token, kept in the data folder (mode 0600) so restarts do not pile up
 * tokens; made again when it was revoked or the database is new.
 */
async function localWorkerToken(store: ServiceStore, data: string): Promise<string> {
  const file = join(data, 'worker.token');
  const kept = await readFile(file, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
  if (kept && (await verifyToken((id) => store.tokenById(id), kept))) return kept;
  const { token } = await createToken(store, `in-process worker of ${hostname()}`, ['worker']);
  await writeFile(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
  await chmod(`${file}.tmp`, 0o600);
  await rename(`${file}.tmp`, file);
  return token;
}

/** Runs the service until `signal` aborts; `print` gets what a person must see (the first admin token). */
export async function serve(o: ServeOptions, signal: AbortSignal, print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const { host, port } = parseListen(o.listen ?? `${DEFAULTS.host}:${DEFAULTS.port}`);
  const data = o.data ?? DEFAULT_DATA;
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 0) throw new UserError(`--workers ${workers}: expected 0 or more`);
  const heartbeatSeconds = positive('--heartbeat', o.heartbeat, DEFAULTS.heartbeatSeconds);
  const lostAfterSeconds = positive('--lost-after', o.lostAfter, DEFAULTS.lostAfterSeconds);
  if (lostAfterSeconds <= heartbeatSeconds * 2) throw new UserError(`--lost-after ${lostAfterSeconds}: give workers at least two heartbeats (more than ${heartbeatSeconds * 2} s)`);
  const maxUpload = o.maxUpload ? parseByteSize('--max-upload', o.maxUpload) : DEFAULTS.maxUpload;
  const maxArtifact = o.maxArtifact ? parseByteSize('--max-artifact', o.maxArtifact) : DEFAULTS.maxArtifact;
  await mkdir(data, { recursive: true, mode: 0o750 });

  const store = await openStore(data, o.database);
  const logger = pino({ level: o.logLevel ?? 'info' });
  try {
    const first = await firstAdminToken(store);
    if (first) print(`kiln serve: a new service; its admin token (shown once, only its hash is kept):\n  ${first}`);
    const workDir = join(data, 'work');
    const server = await startServer({
      store,
      dataDir: data,
      host,
      port,
      maxUpload,
      maxArtifact,
      heartbeatSeconds,
      lostAfterSeconds,
      ...(o.artifacts ? { artifactsDir: o.artifacts } : {}),
      ...(workers ? { localWorkDir: workDir } : {}),
      logger,
      routes: [registerWebUi],
    });
    print(`kiln serve: listening on ${server.url} (${store.engine}), ${workers ? `in-process worker for ${workers} build${workers > 1 ? 's' : ''} at once` : 'no in-process worker'}`);
    const drain = new AbortController();
    const worker = workers
      ? runWorker({
          server: server.url,
          token: await localWorkerToken(store, data),
          name: `${hostname()}-in-process`,
          arches: [hostArch()],
          concurrency: workers,
          heartbeatSeconds,
          signal: drain.signal,
          workDir,
          // On this machine: outputs are handed to the server by path, not streamed through HTTP.
          localFiles: true,
          log: logger.child({ component: 'worker' }),
        }).catch((err: unknown) => logger.error({ err }, 'the in-process worker stopped'))
      : Promise.resolve();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    // The worker finishes its builds first (it reports them through this server), then the server closes.
    logger.info('stopping: draining the in-process worker, then closing');
    drain.abort();
    await worker;
    await server.close();
  } finally {
    await store.close();
  }
}

/** `kiln serve token create`: a new token straight into the store; returns the token to print. Scopes may be repeated or comma-separated. */
export async function createServeToken(o: { data?: string; database?: string; name: string; scopes: string[] }): Promise<string> {
  const names = o.scopes.flatMap((s) => s.split(',')).filter(Boolean);
  const scopes = names.map((s) => {
    const parsed = Scope.safeParse(s);
    if (!parsed.success) throw new UserError(`--scope ${s}: expected one of ${Scope.options.join(', ')}`);
    return parsed.data;
  });
  if (scopes.length === 0) throw new UserError(`--scope: name at least one (${Scope.options.join(', ')})`);
  const store = await openStore(o.data ?? DEFAULT_DATA, o.database);
  try {
    return (await createToken(store, o.name, scopes)).token;
  } finally {
    await store.close();
  }
}

/** `kiln serve copy-db`: the whole state of a stopped service into a new, empty database. */
export async function copyServiceDatabase(o: { data?: string; database?: string; to: string }, note: (line: string) => void): Promise<void> {
  const from = await openStore(o.data ?? DEFAULT_DATA, o.database);
  try {
    const to = await openServiceStore(o.to);
    try {
      const counts = await from.copyTo(to, note);
      note(`copied ${Object.values(counts).reduce((a, b) => a + b, 0)} rows into the ${to.engine} database; start kiln serve with --database ${o.to.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')}`);
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
