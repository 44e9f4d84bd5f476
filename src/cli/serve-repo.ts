/**
 * `kiln serve-repo DIR`: an OSTree archive repository over plain HTTP, as devices pull from it
 * (`ostree admin upgrade` against the URL a recipe's `ostree.url` names). Read-only static files
 * (@fastify/static: ranges, HEAD, no listing, nothing outside DIR), one log line per request with
 * the bytes sent, and the total when it stops, which is what an update cost on the wire.
 */
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import { UserError } from '../errors.js';
import { repositoryProblem } from '../recipe/validate-ostree.js';

export interface RepoServerOptions {
  dir: string;
  host: string;
  /** 0: any free port. */
  port: number;
  /** The URL path the repository is served at, e.g. /repo. */
  path: string;
  /** One line per request: method, path, status, bytes sent. */
  log: (line: string) => void;
}

export interface RepoServer {
  url: string;
  /** Bytes sent so far, in responses' bodies. */
  bytes(): number;
  close(): Promise<void>;
}

export async function startRepoServer(o: RepoServerOptions): Promise<RepoServer> {
  const dir = resolve(o.dir);
  // An empty folder is fine to commit into, not to serve: only a folder with a config is a repository.
  if (!existsSync(resolve(dir, 'config'))) {
    const what = existsSync(dir) ? 'is not an OSTree repository (it has no config file)' : 'does not exist';
    throw new UserError(`serve-repo ${o.dir}: ${what}; give the folder a recipe's ostree.repo names, after a build`);
  }
  const problem = repositoryProblem(dir);
  if (problem !== undefined) throw new UserError(`serve-repo ${o.dir}: ${problem}`);
  if (!/^\/[\w.-]*(\/[\w.-]+)*$/.test(o.path)) throw new UserError(`--path ${o.path}: expected a URL path such as /repo`);
  const app = Fastify({ logger: false });
  let total = 0;
  app.addHook('onResponse', (request, reply, done) => {
    const bytes = request.method === 'HEAD' ? 0 : Number(reply.getHeader('content-length') ?? 0);
    total += bytes;
    o.log(`${request.method} ${request.url} ${reply.statusCode} ${bytes}`);
    done();
  });
  const prefix = o.path.endsWith('/') ? o.path : `${o.path}/`;
  await app.register(fastifyStatic, { root: dir, prefix, index: false, list: false, dotfiles: 'deny', etag: true, lastModified: true });
  const address = await app.listen({ host: o.host, port: o.port });
  return { url: `${address}${prefix.slice(0, -1)}`, bytes: () => total, close: () => app.close() };
}

/** The command: serves until the signal, then prints the bytes sent. */
export async function serveRepo(o: Omit<RepoServerOptions, 'log'>, signal: AbortSignal): Promise<void> {
  const server = await startRepoServer({ ...o, log: (line) => process.stdout.write(`${line}\n`) });
  const url = new URL(server.url);
  process.stdout.write(`serving ${resolve(o.dir)} at ${server.url} (a guest of kiln boot reaches it as http://10.0.2.2:${url.port}${url.pathname})\n`);
  await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
  await server.close();
  process.stdout.write(`served ${server.bytes()} bytes\n`);
}
