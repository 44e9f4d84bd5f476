/**
 * `kiln remote download`: each artifact into DIR/NAME through DIR/NAME.part, resumed with Range
 * where an earlier download stopped, and checked against the sha256 the server lists before it
 * gets its name. A file already there with the right sha256 is not downloaded again.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BuildError, UserError } from '../errors.js';
import { sha256File } from '../host/sparse-hash.js';
import type { Artifact } from '../service/protocol.js';
import { ApiError, backoffMs, sleep, type ApiClient } from '../worker/api.js';
import { safePath } from '../worker/bundle.js';
import { routes } from '../worker/routes.js';

/** The artifacts named (all when none), or a UserError listing what there is. */
export function pickArtifacts(all: Artifact[], names: string[], buildId: string): Artifact[] {
  if (!names.length) return all;
  const missing = names.filter((n) => !all.some((a) => a.name === n));
  if (missing.length) {
    const have = all.length ? all.map((a) => a.name).join(', ') : 'none (yet)';
    throw new UserError(`build ${buildId} has no artifact ${missing.join(', ')}; it has: ${have}`);
  }
  return all.filter((a) => names.includes(a.name));
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Downloads one artifact; returns 'downloaded', 'resumed' or 'present'. */
export async function downloadArtifact(api: ApiClient, buildId: string, a: Artifact, dir: string): Promise<'downloaded' | 'resumed' | 'present'> {
  const target = join(dir, safePath(a.name));
  if ((await sizeOf(target)) === a.size && (await sha256File(target)) === a.sha256) return 'present';
  const part = `${target}.part`;
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    const existing = await sizeOf(part);
    let have = existing ?? 0;
    if (have > a.size) {
      await rm(part);
      have = 0;
    }
    try {
      // An empty artifact is downloaded too: it is the request that makes the (empty) file.
      if (have < a.size || existing === undefined || have > a.size) {
        const response = await api.request('GET', routes.artifact(buildId, a.name), { headers: have ? { range: `bytes=${have}-` } : {} });
        // A 200 to a Range request is the whole file: start over.
        const append = response.status === 206;
        if (append) resumed = true;
        await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(part, { flags: append ? 'a' : 'w' }));
      }
      break;
    } catch (err) {
      if (!(err instanceof ApiError && err.retryable) && !isStreamError(err)) throw err;
      if (attempt >= 5) throw err;
      await sleep(backoffMs(attempt, 10_000));
    }
  }
  const sha256 = await sha256File(part);
  if (sha256 !== a.sha256) {
    await rm(part, { force: true });
    throw new BuildError(`${a.name}: the download's sha256 is ${sha256}, not ${a.sha256} as the server lists; removed it, download again`);
  }
  await rename(part, target);
  return resumed ? 'resumed' : 'downloaded';
}

/** A connection cut while the body streamed (fetch reports "terminated"). */
function isStreamError(err: unknown): boolean {
  return err instanceof TypeError || (err instanceof Error && /terminated|ECONNRESET|socket/i.test(err.message));
}

export async function downloadAll(api: ApiClient, buildId: string, artifacts: Artifact[], dir: string, note: (line: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const a of artifacts) {
    const how = await downloadArtifact(api, buildId, a, dir);
    note(`${a.name}  ${a.size} bytes  ${how === 'present' ? 'already there' : how}, sha256 checked`);
  }
}
