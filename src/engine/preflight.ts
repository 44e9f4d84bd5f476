/** Checks made before a build's first command: the user learns of a missing tool at once. */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { BuildError } from '../errors.js';
import { canRun } from '../arch/binfmt.js';
import { archInfo, type ArchName } from '../arch/table.js';
import { missingTools } from '../host/tools.js';

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
