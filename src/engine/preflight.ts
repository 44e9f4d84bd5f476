/** Checks made before a build's first command: the user learns of a missing tool or mirror at once. */
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { canRun } from '../arch/binfmt.js';
import { archInfo, type ArchName } from '../arch/table.js';
import { missingTools } from './tools.js';

export function checkHost(arch: ArchName = 'amd64'): void {
  if (process.getuid?.() !== 0) {
    throw new BuildError('kiln build must run as root (mmdebstrap --mode=root, chroot and mkfs need it); try: sudo kiln build ...');
  }
  // A foreign build also needs what mmdebstrap needs for one (qemu-user itself is checked by running it).
  const missing = missingTools(arch === 'amd64' ? ['build'] : ['build', 'cross-build']);
  if (missing.length) {
    const names = missing.map((t) => `${t.name} (Debian package ${t.package})`).join(', ');
    throw new BuildError(`missing host tools: ${names}; install them with: kiln doctor --install`);
  }
  if (!canRun(arch)) {
    const how = archInfo(arch).native ? 'a kernel with IA32 emulation, or qemu-user-static through binfmt_misc' : 'qemu-user-static through binfmt_misc';
    throw new BuildError(`this machine cannot run ${arch} programs, which building an ${arch} image needs (${how}); fix it with: kiln doctor --install`);
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
