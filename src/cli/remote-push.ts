/**
 * What `kiln remote push` sends: one file as it is (a blueprint as application/toml), or a folder
 * packed as tar.gz (remote-pack.ts), and the query naming the recipe and a blueprint's options.
 * Whether --lenient and --type fit the recipe is the server's to say: for a folder only it knows
 * which file is the recipe.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { isBlueprintFile } from '../blueprint/index.js';
import { UserError } from '../errors.js';
import { packList, packStream } from './remote-pack.js';

export interface PushFlags {
  file?: string;
  name?: string;
  lenient?: boolean;
  type?: string;
}

export interface PushRequest {
  /** `?...` or empty. */
  query: string;
  body: BodyInit;
  contentType: string;
  /** Paths of a folder left out of the pack. */
  skipped: string[];
}

export async function pushRequest(path: string, flags: PushFlags): Promise<PushRequest> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UserError(`${path}: no such file or folder`);
  const query = new URLSearchParams();
  let request: Omit<PushRequest, 'query'>;
  if (st.isDirectory()) {
    const { entries, skipped } = await packList(resolve(path));
    if (flags.file) query.set('file', flags.file);
    request = { body: Readable.toWeb(packStream(entries)) as ReadableStream<Uint8Array>, contentType: 'application/gzip', skipped };
  } else {
    if (flags.file) throw new UserError('--file names the recipe inside a folder; push the folder, or push the file alone without --file');
    query.set('file', basename(path));
    request = { body: await readFile(path), contentType: isBlueprintFile(path) ? 'application/toml' : 'application/yaml', skipped: [] };
  }
  if (flags.name) query.set('name', flags.name);
  if (flags.lenient) query.set('lenient', 'true');
  if (flags.type !== undefined) query.set('type', flags.type);
  return { ...request, query: query.size ? `?${query.toString()}` : '' };
}
