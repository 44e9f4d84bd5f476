import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { checkMirror, releaseDate } from '../host/mirror.js';
import { autoInstalled, collectPackages, installedKeys, packageCacheArgs } from '../store/package-cache.js';
import { defineStage, type StageContext } from './define.js';
import { command, hookLabel, HookScript, scriptFile } from './hook-scripts.js';
import { quote } from '../host/shell.js';
import { quoteCommand } from '../host/exec.js';
import { TAR_FILTER } from '../host/tar-filter.js';
import { AptSource, explainApt, pinCheckHook, sourcesFile } from './apt-sources.js';
import { DEFERRED_IN_ROOT, DEFERRED_PROGRAMS, deferralStub, parseCalls, runDeferred, runsEmulated } from './native-tools.js';
import { preparedFiles, undoScript } from './native-hook.js';

/** The extract and essential hooks that set up the bootstrap's native programs (a node script: mmdebstrap's hooks are shell commands). */
const NATIVE_HOOK = fileURLToPath(new URL('./native-hook.js', import.meta.url));

export const bootstrap = defineStage({
  name: 'bootstrap',
  version: 7,
  kind: 'tree',
  summary: "Creates the root file system from scratch with mmdebstrap: the base system (the variant, the kernel, systemd and udev) in one apt transaction, taking .debs from the machine's package cache (checked against the signed index), without an initramfs (the kernel stage makes it). Layers' and the recipe's packages follow in packages stages.",
  options: z.strictObject({
    release: z.string(),
    mirror: z.string(),
    components: z.array(z.string()),
    variant: z.string(),
    arch: z.string(),
    packages: z.array(z.string()),
    dpkgExclude: z.array(z.string()),
    dpkgInclude: z.array(z.string()),
    /** Setup hooks: on the host, in the new root before apt runs (e.g. to add an apt source). */
    setupHooks: z.array(HookScript),
    env: z.record(z.string(), z.string()),
    /** SOURCE_DATE_EPOCH from the environment or the lock; null: the Release file's date. */
    sourceDateEpoch: z.number().int().nonnegative().nullable(),
    /** Packages to mark as installed only as dependencies (from the lock). */
    autoInstalled: z.array(z.string()),
    /** Extra repositories (apt.sources), in place before apt's first update and kept in the image. */
    aptSources: z.array(AptSource).default([]),
    /** The recipe's name=version pins, checked before apt installs so a missing version is named with those there are. */
    pins: z.array(z.string()).default([]),
  }),
  makes: ['sourceDateEpoch', 'debs', 'autoInstalled'],
  async run(ctx, o) {
    // Only when the stage runs: a build whose bootstrap is cached needs no network at all.
    await checkMirror(o.mirror, o.release, ctx.signal);
    const epoch = o.sourceDateEpoch ?? (await releaseDate(o.mirror, o.release, ctx.signal));
    ctx.log(`SOURCE_DATE_EPOCH=${epoch} (${new Date(epoch * 1000).toISOString()}, ${o.sourceDateEpoch === null ? "the Release file's date" : 'given'})`);
    const collected = join(ctx.scratch, 'debs');
    await mkdir(collected);
    await mkdir(ctx.packageCache, { recursive: true });
    const sources = join(ctx.scratch, 'sources');
    await mkdir(sources);
    for (const source of o.aptSources) {
      await writeFile(join(sources, `${source.name}.sources`), sourcesFile(source));
      ctx.log(`apt source ${source.name}: ${source.uris.join(' ')} ${source.suites.join(' ')}, signed by ${source.fingerprint}`);
    }
    // Foreign roots: depmod and systemd-hwdb are noted by stubs, and run natively afterwards;
    // once the essential packages are in, perl and dpkg-deb run natively (native-hook.ts).
    const deferral = runsEmulated(o.arch) ? await deferralArgs(ctx, o) : null;
    // With path filters mmdebstrap pipes each essential package through mmtarfilter: kiln's is faster.
    const filterPath = o.dpkgExclude.length || o.dpkgInclude.length ? await tarFilterPath(ctx) : null;
    const args = [
      '--mode=root',
      `--variant=${o.variant}`,
      `--architectures=${o.arch}`,
      `--components=${o.components.join(',')}`,
      ...(o.packages.length ? [`--include=${o.packages.join(',')}`] : []),
      ...o.dpkgExclude.map((p) => `--dpkgopt=path-exclude=${p}`),
      ...o.dpkgInclude.map((p) => `--dpkgopt=path-include=${p}`),
      // Before the package cache's hook, whose apt-get update must see any source a hook adds.
      ...(o.aptSources.length ? [`--setup-hook=mkdir -p "$1/etc/apt/sources.list.d" && install -m 0644 ${quote(sources)}/*.sources "$1/etc/apt/sources.list.d/"`] : []),
      ...o.setupHooks.map((script) => `--setup-hook=${setupHook(ctx, script, o.env)}`),
      ...packageCacheArgs(ctx.packageCache, o.arch, collected),
      // After the package cache's hook: its apt-get update gave apt-cache the repositories' lists.
      ...(o.pins.length ? [`--setup-hook=${pinCheckHook(o.pins, '"$MMDEBSTRAP_APT_CONFIG"')}`] : []),
      ...(o.autoInstalled.length ? [`--customize-hook=chroot "$1" apt-mark auto ${o.autoInstalled.map(quote).join(' ')} >/dev/null`] : []),
      ...(deferral?.args ?? []),
      o.release,
      ctx.root,
      o.mirror,
    ];
    try {
      // dpkg and maintainer scripts clamp what they write to it; mmdebstrap removes its logs.
      // INITRD=No: the kernel's postinst makes no initramfs (initramfs-tools' trigger then has none to
      // update). The kernel stage makes it, with the recipe's settings; so this stage is the same for
      // recipes that differ only in their initramfs.
      // The deferral folder first in PATH: dpkg installing the essential packages (run by
      // mmdebstrap, not apt) finds the native dpkg-deb there too.
      const path = [...(deferral ? [`${DEFERRED_IN_ROOT}/bin`] : []), filterPath ?? process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':');
      const env = { INITRD: 'No', SOURCE_DATE_EPOCH: String(epoch), ...(filterPath || deferral ? { PATH: path } : {}) };
      // With native programs mmdebstrap runs in a mount namespace of its own: the hooks' mounts
      // go with it, whether it ends well or not.
      if (deferral) await ctx.exec('unshare', ['--mount', '--propagation', 'private', '--', 'mmdebstrap', ...args], { env, label: quoteCommand('mmdebstrap', args) });
      else await ctx.exec('mmdebstrap', args, { env });
    } catch (err) {
      throw explainApt(err, o.release);
    }
    if (deferral) await runDeferred(ctx, o, parseCalls(await readFile(deferral.calls, 'utf8').catch(() => '')));
    const use = await collectPackages(collected, ctx.packageCache, await installedKeys(ctx.root));
    const mib = (use.downloadedBytes / 2 ** 20).toFixed(1);
    ctx.log(`packages: ${use.reused + use.downloaded} .debs, ${use.reused} from the package cache, ${use.downloaded} downloaded (${mib} MiB)`);
    // Kept with the stage's result, so a build whose bootstrap is cached still writes its kiln.lock,
    // and every later stage (and command) gets the same SOURCE_DATE_EPOCH.
    return { debs: use.debs.map((d) => ({ ...d, set: 'base' })), sourceDateEpoch: epoch, autoInstalled: await autoInstalled(ctx.root) };
  },
});

/** A setup hook as mmdebstrap runs it: a shell command with the new root as $1. */
function setupHook(ctx: StageContext, script: HookScript, env: Record<string, string>): string {
  const file = scriptFile(ctx, script);
  ctx.log(`setup hook ${hookLabel(script)}`);
  const vars = Object.entries({ ...env, ...script.env, KILN_HOOK: script.path }).map(([k, v]) => `${k}=${quote(v)}`);
  const [cmd, args] = command(file, file);
  return ['env', ...vars, 'KILN_ROOT="$1"', quote(cmd), ...args.map(quote), '"$1"'].join(' ');
}

/** mmdebstrap's PATH with kiln's mmtarfilter (host/tar-filter.ts) first; the same rules, about 10 times faster. */
async function tarFilterPath(ctx: StageContext): Promise<string> {
  const bin = join(ctx.scratch, 'tar-filter');
  await mkdir(bin);
  await writeFile(join(bin, 'mmtarfilter'), TAR_FILTER, { mode: 0o755 });
  ctx.log("dpkg path filters: the essential packages go through kiln's mmtarfilter before tar unpacks them");
  return `${bin}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
}

/**
 * mmdebstrap options that put the deferral stubs first in dpkg's PATH (apt gives dpkg the PATH in
 * DPkg::Path, set in mmdebstrap's own apt configuration, which stays outside the image), copy them
 * into the root once the essential packages are extracted, and take the noted calls out before
 * mmdebstrap cleans /run. With them, the hooks of native-hook.ts: the host's dpkg-deb and perl of
 * the image's versions, and the customize hook that takes their mounts away.
 */
async function deferralArgs(ctx: StageContext, o: { release: string; mirror: string; components: string[]; arch: string }): Promise<{ args: string[]; calls: string }> {
  const stubs = join(ctx.scratch, 'deferral');
  await mkdir(join(stubs, 'bin'), { recursive: true });
  for (const name of DEFERRED_PROGRAMS) {
    await writeFile(join(stubs, 'bin', name), deferralStub());
    await chmod(join(stubs, 'bin', name), 0o755);
  }
  const calls = join(ctx.scratch, 'deferred-calls');
  const nativeHook = (mode: string) => [process.execPath, NATIVE_HOOK, mode, ctx.packageCache, ctx.scratch, o.release, o.mirror, o.components.join(','), o.arch].map(quote).join(' ');
  const path = `${DEFERRED_IN_ROOT}/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const prepared = preparedFiles(ctx.scratch);
  return {
    calls,
    args: [
      `--setup-hook=printf 'DPkg::Path "%s";\\n' ${quote(path)} >> "$MMDEBSTRAP_APT_CONFIG"`,
      // After the package cache's apt-get update: the toolbox is made while mmdebstrap downloads and unpacks.
      `--setup-hook=(${nativeHook('prepare')} "$1"; touch ${quote(prepared.done)}) > ${quote(prepared.log)} 2>&1 & echo $! > ${quote(prepared.pid)}`,
      `--extract-hook=mkdir -p "$1${DEFERRED_IN_ROOT}" && cp -a ${quote(join(stubs, 'bin'))} "$1${DEFERRED_IN_ROOT}/"`,
      `--extract-hook=${nativeHook('extract')} "$1"`,
      `--essential-hook=${nativeHook('essential')} "$1"`,
      `--customize-hook=if [ -s ${quote(undoScript(ctx.scratch))} ]; then sh ${quote(undoScript(ctx.scratch))} "$1"; fi`,
      `--customize-hook=if [ -e "$1${DEFERRED_IN_ROOT}/calls" ]; then cp "$1${DEFERRED_IN_ROOT}/calls" ${quote(calls)}; fi; rm -rf "$1${DEFERRED_IN_ROOT}"`,
    ],
  };
}
