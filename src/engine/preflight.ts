/** Checks made before a build's first command: the user learns of a missing tool at once. */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { BuildError, UserError } from '../errors.js';
import { askMirror } from '../distro/mirror-release.js';
import { releaseProblem } from '../distro/release-check.js';
import { DEFAULT_MIRROR, LIVE_FORMATS, type LoadedRecipe } from '../recipe/index.js';
import { canRun } from '../arch/binfmt.js';
import { archInfo, type ArchName } from '../arch/table.js';
import { missingTools, onPath } from '../host/tools.js';
import { openSigningKey } from '../host/signing-key.js';
import { show } from '../recipe/source.js';
import type { Manifest } from '../manifest/index.js';

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

/**
 * Asks the mirror for the recipe's release before anything runs (once an hour per mirror and
 * release: the answer is cached in `cacheDir`). A mirror without the release, or an alias that now
 * means another codename, is a UserError at distro.release. An unreachable mirror is not judged
 * here: a build whose bootstrap is cached needs no network, and one that does says so itself.
 */
export async function checkRelease(loaded: LoadedRecipe, cacheDir: string | undefined, signal?: AbortSignal): Promise<void> {
  const { distro } = loaded.recipe;
  const mirror = distro.mirror ?? DEFAULT_MIRROR[distro.name] ?? '';
  if (!mirror) return;
  const problem = releaseProblem(distro.release, mirror, await askMirror(mirror, distro.release, cacheDir, signal));
  if (problem) throw UserError.of([loaded.origins.diagnostic({ path: ['distro', 'release'], message: problem })]);
}

/** Host tools only some recipes need, by the stage that runs them. */
export const STAGE_TOOLS: Record<string, { name: string; package: string }[]> = {
  'secure-boot-sign': [
    { name: 'sbsign', package: 'sbsigntool' },
    { name: 'sbverify', package: 'sbsigntool' },
  ],
  ansible: [{ name: 'ansible-playbook', package: 'ansible-core' }],
  'ostree-commit': [{ name: 'ostree', package: 'ostree' }],
};

/** What this recipe in particular needs before its first command: its release on the mirror, its stages' tools. */
export async function checkRecipe(loaded: LoadedRecipe, manifest: Manifest, cacheDir: string | undefined, signal?: AbortSignal): Promise<void> {
  const iso = manifest.stages.some((s) => s.stage === 'outputs' && (s.options.formats as string[]).some((f) => (LIVE_FORMATS as readonly string[]).includes(f)));
  const missing = [
    ...manifest.stages.flatMap((s) => STAGE_TOOLS[s.stage] ?? []).filter((t) => !onPath(t.name)),
    ...(iso ? missingTools(['iso']) : []),
    // ostree.sign: gpg signs the commits and summaries.
    ...(manifest.ostreeKey !== undefined && !onPath('gpg') ? [{ name: 'gpg', package: 'gpg' }] : []),
  ];
  if (missing.length) {
    const names = [...new Set(missing.map((t) => `${t.name} (Debian package ${t.package})`))].join(', ');
    throw new BuildError(`missing host tools for this recipe: ${names}; install them with: kiln doctor --install`);
  }
  checkOstreeKey(loaded, manifest);
  await checkRelease(loaded, cacheDir, signal);
}

/** ostree.sign.key: imported and used to sign once, so a key that cannot sign unattended stops the build before its first stage. */
function checkOstreeKey(loaded: LoadedRecipe, manifest: Manifest): void {
  const key = loaded.recipe.ostree?.sign?.key;
  if (key === undefined || manifest.ostreeKey === undefined) return;
  const checked = openSigningKey(manifest.ostreeKey);
  if ('problem' in checked) throw UserError.of([loaded.origins.diagnostic({ path: ['ostree', 'sign', 'key'], message: `${show(key)} ${checked.problem}` })]);
  checked.home.remove();
}
