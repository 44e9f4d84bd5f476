/**
 * Questions to a Debian mirror: whether it has the release (asked before the bootstrap stage runs,
 * so "unreachable" is said in seconds) and the date of its Release file (SOURCE_DATE_EPOCH).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BuildError } from '../errors.js';

/** Asks the mirror for the release's Release file, so "unreachable" is said in seconds, not minutes. */
export async function checkMirror(mirror: string, release: string, signal: AbortSignal): Promise<void> {
  const url = `${mirror.replace(/\/+$/, '')}/dists/${release}/Release`;
  if (url.startsWith('file://')) {
    if (!existsSync(new URL(url))) throw new BuildError(`mirror ${mirror} has no release ${release} (${url} does not exist)`);
    return;
  }
  let status: number;
  try {
    const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.any([signal, AbortSignal.timeout(20000)]) });
    status = response.status;
  } catch (err) {
    if (signal.aborted) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new BuildError(`mirror ${mirror} is unreachable (${cause}); check the network or set distro.mirror`);
  }
  if (status === 404) throw new BuildError(`mirror ${mirror} has no release "${release}" (${url}: 404); check distro.release`);
  if (status >= 400) throw new BuildError(`mirror ${mirror} answered ${status} for ${url}`);
}

/**
 * The `Date:` of the release's Release file, in seconds since 1970: what SOURCE_DATE_EPOCH is when
 * neither the environment nor a lock sets it. The same mirror state gives the same date, so two
 * builds from it clamp their timestamps alike.
 */
export async function releaseDate(mirror: string, release: string, signal: AbortSignal): Promise<number> {
  const url = `${mirror.replace(/\/+$/, '')}/dists/${release}/Release`;
  let text: string;
  try {
    if (url.startsWith('file://')) text = await readFile(new URL(url), 'utf8');
    else {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(60000)]) });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      text = await response.text();
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw new BuildError(`cannot read the Release file of ${release} for its date (${err instanceof Error ? err.message : String(err)}); set SOURCE_DATE_EPOCH to build anyway`);
  }
  const date = /^Date:\s*(.+)$/m.exec(text)?.[1];
  const seconds = date ? Date.parse(date) / 1000 : NaN;
  if (!Number.isInteger(seconds)) throw new BuildError(`the Release file of ${release} on ${mirror} has no Date: field; set SOURCE_DATE_EPOCH`);
  return seconds;
}
