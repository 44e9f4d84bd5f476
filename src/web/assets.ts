/**
 * The interface's files, read once at start: the client modules tsc compiled next to this file, the
 * stylesheet and index.html. Assets live under /ui/<hash of them all>/, so they are cached for a
 * year and a new kiln changes every URL at once. Each is gzipped at start (a few ms for all) and
 * brotli-compressed at the highest quality on the thread pool (about half a second of CPU, so it
 * never blocks the event loop); until that is done gzip is sent. Source maps are compressed only
 * when someone asks for them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzipSync } from 'node:zlib';
import { webConfig } from './config.js';
import { linkModules } from './link.js';
import { indexHtml } from './page.js';
import { STYLES } from './styles.js';

export interface Asset {
  type: string;
  etag: string;
  raw: Buffer;
  /** Made on first use for source maps. */
  gzip: () => Buffer;
  /** Set once the background compression is done. */
  br?: Buffer;
}

export interface UiAssets {
  /** /ui/<hash>/ */
  base: string;
  index: Asset;
  /** By path under `base`, e.g. client/app.js. */
  files: Map<string, Asset>;
  /** Resolves when every asset but the source maps has its brotli form. */
  ready: Promise<void>;
}

const brotli = promisify(brotliCompress);

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8', '.html': 'text/html; charset=utf-8' };

function asset(name: string, raw: Buffer): Asset {
  const ext = /\.[a-z]+$/.exec(name)?.[0] ?? '';
  let gzip = name.endsWith('.map') ? undefined : gzipSync(raw, { level: 9 });
  return {
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
    raw,
    gzip: () => (gzip ??= gzipSync(raw, { level: 9 })),
  };
}

async function addBrotli(a: Asset): Promise<void> {
  a.br = await brotli(a.raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: a.raw.length } });
}

/** Every compiled client module (tests and type declarations left out), by path relative to `dir`. */
export function clientFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if ((e.name.endsWith('.js') || e.name.endsWith('.js.map')) && !/\.test\.js(\.map)?$/.test(e.name)) out.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));
export const ENTRY = 'client/app.js';
/** The modules joined into one script (link.ts). */
export const JOINED = 'app.js';

export function loadAssets(clientDir = CLIENT_DIR): UiAssets {
  const sources = new Map<string, Buffer>([['app.css', Buffer.from(STYLES)]]);
  for (const [path, data] of clientFiles(clientDir)) sources.set(`client/${path}`, data);
  if (!sources.has(ENTRY)) throw new Error(`the web interface is not built: ${join(clientDir, 'app.js')} is missing (run npm run build)`);
  const hash = createHash('sha256');
  for (const [path, data] of sources) hash.update(`${path}\0${data.length}\0`).update(data);
  const base = `/ui/${hash.digest('hex').slice(0, 16)}/`;
  const files = new Map([...sources].map(([path, data]) => [path, asset(path, data)]));
  // One script when the modules join (link.ts); else each module, preloaded.
  let entry = ENTRY;
  let preload = [...files.keys()].filter((p) => p.endsWith('.js'));
  try {
    const modules = new Map([...sources].filter(([p]) => p.startsWith('client/') && p.endsWith('.js')).map(([p, data]) => [p, data.toString()]));
    files.set(JOINED, asset(JOINED, Buffer.from(linkModules(modules, ENTRY))));
    entry = JOINED;
    preload = [];
  } catch (err) {
    process.emitWarning(`web interface: serving its modules one by one (${err instanceof Error ? err.message : String(err)})`);
  }
  const index = asset('index.html', Buffer.from(indexHtml(base, preload, entry, webConfig())));
  const ready = Promise.all([index, ...[...files].filter(([p]) => !p.endsWith('.map')).map(([, a]) => a)].map(addBrotli)).then(() => undefined);
  return { base, files, index, ready };
}

/** The encoding to send for an Accept-Encoding header, from those on offer (in order of preference). */
export function pickEncoding(accept: string | undefined, offers: readonly ('br' | 'gzip')[] = ['br', 'gzip']): 'br' | 'gzip' | undefined {
  const offered = new Map<string, number>();
  for (const part of (accept ?? '').toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    offered.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const ok = (name: string) => (offered.get(name) ?? offered.get('*') ?? 0) > 0;
  return offers.find(ok);
}
