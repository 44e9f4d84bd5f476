/** Checks made before a build's first command: the user learns of a missing tool or mirror at once. */
import { constants, existsSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { missingTools } from './tools.js';

export function checkHost(): void {
  if (process.getuid?.() !== 0) {
    throw new BuildError('kiln build must run as root (mmdebstrap --mode=root, chroot and mkfs need it); try: sudo kiln build ...');
  }
  const missing = missingTools(['build']);
  if (missing.length) {
    const names = missing.map((t) => `${t.name} (Debian package ${t.package})`).join(', ');
    throw new BuildError(`missing host tools: ${names}; install them with: kiln doctor --install`);
  }
}

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

/** An output folder kiln cannot write would otherwise be found out only after the whole build. */
export async function checkOutputDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new BuildError(`cannot write the output folder ${dir} (${reason}); choose another with -o DIR`);
  }
}
