/** The kiln command line (main.ts loads it). The only module that calls process.exit. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import pc from 'picocolors';
import { earlySignal, isIsolated, runIsolated } from '../engine/isolate.js';
import { ARCH_NAMES, type ArchName } from '../arch/table.js';
import { cacheDir, openStore } from '../engine/cache-dir.js';
import { parseSize } from '../recipe/sizes.js';
import { parseDuration } from '../store/prune.js';
import { BuildError, InterruptedError, isSystemError, UserError } from '../errors.js';
import { renderDiagnostics } from '../diagnostics.js';
import { registerDevloopCommands } from './devloop.js';

// Each command loads what it runs when it runs (`await import` in its action): loading every
// command's modules cost about a second of CPU on each start, which `kiln boot`, `kiln cache`
// and the rest paid for the build engine, the SBOM writer and QEMU's options alike.

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function collectSet(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new UserError(`--set ${value}: expected NAME=VALUE`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function interruptible(): AbortSignal {
  const controller = new AbortController();
  const stop = (signal: string) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping, cleaning up (press again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // One that came while kiln was loading (isolate.ts) counts as the first.
  const early = earlySignal();
  if (early) stop(early);
  return controller.signal;
}

const program = new Command()
  .name('kiln')
  .description('Build bootable Linux images from one declarative recipe.')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError()
  // `kiln serve token create --data D`: an option after a subcommand belongs to that subcommand,
  // even when its parent has an option of the same name.
  .enablePositionalOptions();

program
  .command('build')
  .description('build the image a recipe describes into an output folder, reusing every cached stage it can')
  .argument('<recipe>', 'recipe YAML file, or an osbuild-composer blueprint (*.toml)')
  .option('-o, --output <dir>', 'output folder (default: ./out/<name>)')
  .option('--type <type>', 'a blueprint\'s image type, as composer names it: qcow2, raw, vmdk, vhd, tar, container, ... (sets outputs)')
  .option('--lenient', 'a blueprint\'s keys that do not change what the image does are dropped with a warning instead of refused')
  .option('--set <NAME=VALUE>', 'set a recipe variable (repeatable)', collectSet, {} as Record<string, string>)
  .option('--arch <arch>', 'override the recipe\'s arch')
  .option('--layer <name>', 'apply this layer after the recipe\'s own, e.g. vm (repeatable)', collectList, [] as string[])
  .option('--rebuild-from <stage>', 'run this stage and all later ones even if they are cached')
  .option('--no-cache', 'run every stage; the fresh results replace the cached ones')
  .option('--lock <file>', 'install exactly the package versions of this kiln.lock (written by every build)')
  .option('--matrix <KEY=V1,V2>', 'build one variant per value, each into <output>/<value>: arch, release, or a recipe variable (repeatable: every combination)', collectList, [] as string[])
  .option('--json', 'print one JSON event per line instead of progress')
  .action(async (recipe, opts) => {
    // Isolated, kiln is pid 1 of its namespace, and the kernel drops a signal pid 1 has no handler
    // for: the handler comes first, so a Ctrl-C (or a worker's cancel) while the mirror is asked counts.
    const signal = isIsolated() ? interruptible() : undefined;
    const [{ readLock }, { parseMatrix }, { planRecipe }, { blueprintFlags }, { checkHost, checkRecipe }] = await Promise.all([import('../lockfile/lockfile.js'), import('./matrix.js'), import('../engine/plan.js'), import('./import.js'), import('../engine/preflight.js')]);
    const lock = opts.lock === undefined ? undefined : readLock(opts.lock);
    const variants = parseMatrix(opts.matrix).map((v) => {
      const arch = v.arch ?? opts.arch;
      const { manifest, loaded } = planRecipe(recipe, { set: { ...opts.set, ...v.set }, layers: opts.layer, ...(arch ? { arch } : {}), ...(v.release ? { release: v.release } : {}), ...(lock ? { lock } : {}), ...blueprintFlags(opts) });
      return { label: v.label, manifest, loaded };
    });
    for (const { manifest } of variants) {
      if (opts.rebuildFrom !== undefined && !manifest.stages.some((s) => s.stage === opts.rebuildFrom)) {
        throw new UserError(`--rebuild-from ${opts.rebuildFrom}: this recipe has no such stage; its stages are: ${manifest.stages.map((s) => s.stage).join(', ')}`);
      }
    }
    // Everything a user can get wrong is checked before the first variant's first command. As
    // root, main.ts has already re-executed kiln isolated and this runs in there.
    for (const { manifest } of variants) checkHost(manifest.arch as ArchName);
    for (const { loaded, manifest } of variants) await checkRecipe(loaded, manifest, cacheDir(), signal);
    if (!signal) {
      process.exitCode = await runIsolated();
      return;
    }
    const [{ build }, { pickReporter }] = await Promise.all([import('../engine/executor.js'), import('./reporters.js')]);
    const failed: string[] = [];
    for (const { label, manifest } of variants) {
      const reporter = pickReporter(opts.json ?? false);
      const base = resolve(opts.output ?? `out/${manifest.name}`);
      try {
        await build({
          manifest,
          recipeFile: resolve(recipe),
          outputDir: label ? join(base, label) : base,
          listener: reporter.listener,
          signal,
          kilnVersion: VERSION,
          noCache: !opts.cache,
          ...(lock ? { lock } : {}),
          ...(opts.rebuildFrom ? { rebuildFrom: opts.rebuildFrom } : {}),
        });
      } catch (err) {
        // One variant's failure does not stop the others; the matrix fails at the end.
        if (!label || err instanceof InterruptedError) throw err;
        process.stderr.write(`variant ${label}:\n`);
        report(err);
        failed.push(label);
      } finally {
        await reporter.done();
      }
    }
    if (failed.length) throw new BuildError(`the matrix built ${variants.length - failed.length} of ${variants.length} variants; failed: ${failed.join(', ')}`);
  });

const cache = program.command('cache').description(`the stage store and package cache (${cacheDir()}; set KILN_CACHE to move it)`);

cache
  .command('list')
  .description('show cached stages with size, age and the recipe that made them, and the package cache')
  .option('--json', 'print JSON')
  .action(async (opts) => {
    const { listCache } = await import('./cache.js');
    process.stdout.write(await listCache(await openStore(), opts.json ?? false));
  });

cache
  .command('prune')
  .description('remove cache entries, least recently used first; without options only leftovers of killed builds')
  .option('--max-size <size>', 'shrink the cache to at most this size (e.g. 20G)')
  .option('--older-than <age>', 'remove what was not used for this long (e.g. 14d, 12h)')
  .action(async (opts) => {
    const maxBytes = opts.maxSize === undefined ? undefined : parseBytes(opts.maxSize);
    const olderThanMs = opts.olderThan === undefined ? undefined : parseAge(opts.olderThan);
    const { pruneCache } = await import('./cache.js');
    const text = await pruneCache(await openStore(), {
      ...(maxBytes === undefined ? {} : { maxBytes }),
      ...(olderThanMs === undefined ? {} : { olderThanMs }),
      onWait: () => process.stderr.write('a build is running; waiting for it to finish...\n'),
      signal: interruptible(),
    });
    process.stdout.write(text);
  });

cache
  .command('clean')
  .description("remove a recipe's older builds (--keep-last N, per recipe, by last use) or a stage and all after it (RECIPE --from STAGE); shows the sizes freed")
  .argument('[recipe]', 'the recipe to clean (all recipes with --keep-last alone)')
  .option('--keep-last <n>', 'keep the N builds of each recipe used last, with every stage under them')
  .option('--from <stage>', "drop this stage of the recipe's plan and every later one (the next build reruns from it)")
  .option('--set <NAME=VALUE>', 'set a recipe variable, as the build did (repeatable)', collectSet, {} as Record<string, string>)
  .action(async (recipe, opts) => {
    const { cleanCache, keepLastCount } = await import('./cache-clean.js');
    const text = await cleanCache(await openStore(), {
      ...(recipe === undefined ? {} : { recipe }),
      ...(opts.keepLast === undefined ? {} : { keepLast: Number(keepLastCount(opts.keepLast)) }),
      ...(opts.from === undefined ? {} : { from: opts.from }),
      load: { set: opts.set },
      onWait: () => process.stderr.write('a build is running; waiting for it to finish...\n'),
      signal: interruptible(),
    });
    process.stdout.write(text);
  });

cache
  .command('verify')
  .description('check every cached stage against the hashes recorded when it was stored, and the cached .debs; exit 0 when nothing is corrupt, 1 otherwise')
  .option('--json', 'print JSON')
  .option('--repair', 'move corrupt entries (and those built on them) to the trash and delete corrupt .debs, so the next build makes them again')
  .action(async (opts) => {
    const { verifyCache } = await import('./cache.js');
    const { text, corrupt } = await verifyCache(await openStore(), { json: opts.json ?? false, repair: opts.repair ?? false, signal: interruptible() });
    process.stdout.write(text);
    if (corrupt) process.exitCode = 1;
  });

function parseBytes(text: string): number {
  if (/^0+$/.test(text)) return 0;
  const size = parseSize(text);
  if (size === undefined || size === 'rest' || !('bytes' in size)) throw new UserError(`--max-size ${text}: expected a size such as 500M, 20G or 1T`);
  return size.bytes;
}

function parseAge(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UserError(`--older-than ${text}: expected a duration such as 30m, 12h, 14d or 2w`);
  return ms;
}

const layers = program.command('layers').description("reusable parts of recipes: the recipe's layers/ folder, then KILN_LAYER_PATH, then kiln's built-in layers");

layers
  .command('list')
  .description('show every layer with its description and folder, in search-path order')
  .option('--recipe <file>', "search this recipe's layers/ folder (default: ./layers)")
  .action(async (opts) => {
    const [{ layersTable }, { searchPath }] = await Promise.all([import('./layers.js'), import('../recipe/layers.js')]);
    process.stdout.write(layersTable(searchPath(opts.recipe ? dirname(resolve(opts.recipe)) : process.cwd(), process.env)));
  });

layers
  .command('show')
  .description('print a layer as a build uses it: content, hooks, variables with defaults and values')
  .argument('<name>', 'layer name')
  .option('--recipe <file>', "search this recipe's layers/ folder (default: ./layers)")
  .option('--set <NAME=VALUE>', 'set a variable (repeatable)', collectSet, {} as Record<string, string>)
  .action(async (name, opts) => {
    const [{ showLayer }, { searchPath }] = await Promise.all([import('./layers.js'), import('../recipe/layers.js')]);
    process.stdout.write(showLayer(name, searchPath(opts.recipe ? dirname(resolve(opts.recipe)) : process.cwd(), process.env), opts.set, process.env));
  });

program
  .command('sbom')
  .description('write the SPDX and CycloneDX SBOM of a built image (a build folder or a raw image), read from the image itself')
  .argument('<target>', 'build folder or raw image')
  .action(async (target) => {
    const { sbomCommand } = await import('./sbom.js');
    process.stdout.write(await sbomCommand(target, VERSION, ['spdx', 'cyclonedx']));
  });

program
  .command('diff')
  .description('what differs between two builds: packages, partition table, files (owner, mode, size, time, content) and the bytes of each disk region; or between two OSTree commits (--ostree); exit 0 when identical, 1 when not')
  .argument('<a>', 'build folder, raw or qcow2 image, or tar; with --ostree, a commit, ref or REF^')
  .argument('<b>', 'build folder, raw or qcow2 image, or tar; with --ostree, a commit, ref or REF^')
  .option('--ostree <repo>', 'A and B are commits of this OSTree repository: their packages and files')
  .option('--json', 'print the differences as JSON')
  .action(async (a, b, opts) => {
    const { diffCommand } = await import('./diff.js');
    const { text, diff } = await diffCommand(a, b, opts.json ?? false, opts.ostree);
    process.stdout.write(text);
    if (!diff.identical) process.exitCode = 1;
  });

program
  .command('plan')
  .description('print the resolved manifest (stages, options, ids) as canonical JSON; runs nothing')
  .argument('<recipe>', 'recipe YAML file, or an osbuild-composer blueprint (*.toml)')
  .option('--set <NAME=VALUE>', 'set a recipe variable (repeatable)', collectSet, {} as Record<string, string>)
  .option('--arch <arch>', 'override the recipe\'s arch')
  .option('--layer <name>', 'apply this layer after the recipe\'s own, e.g. vm (repeatable)', collectList, [] as string[])
  .option('--type <type>', 'a blueprint\'s image type, as composer names it: qcow2, raw, vmdk, vhd, tar, container, ... (sets outputs)')
  .option('--lenient', 'a blueprint\'s keys that do not change what the image does are dropped with a warning instead of refused')
  .action(async (recipe, opts) => {
    const [{ planRecipe }, { blueprintFlags }, { canonicalJson }] = await Promise.all([import('../engine/plan.js'), import('./import.js'), import('../manifest/index.js')]);
    const { manifest } = planRecipe(recipe, { set: opts.set, layers: opts.layer, ...(opts.arch ? { arch: opts.arch } : {}), ...blueprintFlags(opts) });
    process.stdout.write(`${canonicalJson(manifest)}\n`);
  });

program
  .command('import')
  .description('translate an osbuild-composer blueprint (TOML) into a kiln recipe, commented where a value was translated; refuses what kiln cannot carry over, at its line')
  .argument('<blueprint>', 'blueprint file (*.toml)')
  .option('-o, --output <file>', 'write the recipe here (default: standard output)')
  .option('--type <type>', 'the image type, as composer names it: qcow2, raw, vmdk, vhd, tar, container, ... (sets outputs)')
  .option('--lenient', 'keys that do not change what the image does are dropped with a warning instead of refused')
  .action(async (blueprint, opts) => {
    const { importCommand } = await import('./import.js');
    const { yaml, warnings } = importCommand(blueprint, opts);
    for (const line of warnings) process.stderr.write(`${line}\n`);
    if (yaml !== undefined) process.stdout.write(yaml);
  });

program
  .command('schema')
  .description("print the recipe's JSON Schema, for editors (e.g. a '# yaml-language-server: $schema=...' line) and other tools")
  .action(async () => {
    const { recipeJsonSchema } = await import('../recipe/json-schema.js');
    process.stdout.write(`${JSON.stringify(recipeJsonSchema(), null, 2)}\n`);
  });

program
  .command('boot')
  .description('boot an image in QEMU (UEFI or BIOS, software emulation) with its serial console on this terminal')
  .argument('<image>', 'disk image (raw or qcow2), or an ISO (booted from a CD drive)')
  .option('--disk <size|file>', 'attach a disk after the image, as an installer\'s target: a size (e.g. 8G) is a blank sparse disk thrown away after, a file is a raw disk of yours, written in place', (v: string, all: (number | string)[] = []) => [...all, diskArgument(v)])
  .addOption(new Option('--firmware <firmware>', 'uefi (OVMF, AAVMF on ARM) or bios (SeaBIOS)').choices(['uefi', 'bios'] as const).default('uefi' as const))
  .addOption(new Option('--arch <arch>', "the image's architecture (default: from build.json beside the image, else amd64)").choices(ARCH_NAMES))
  .option('--secure-boot', "UEFI with Secure Boot enforced (OVMF's secboot firmware)")
  .addOption(new Option('--firmware-vars <keys>', "with --secure-boot: the keys enrolled: ms (Microsoft's; Debian's shim boots) or snakeoil (Debian ovmf's test key pair)").choices(['ms', 'snakeoil'] as const).default('ms' as const))
  .option('--check', 'do not attach: exit 0 when a login prompt appears, 1 on kernel panic or timeout')
  .addOption(new Option('--timeout <seconds>', 'give up after this long (with --check)').default('600').argParser((v) => positive(v, '--timeout')))
  .addOption(new Option('--memory <MiB>', 'guest memory').default('1024').argParser((v) => positive(v, '--memory')))
  .option('--cpu <model>', "QEMU's CPU model (default: qemu64 on amd64, the fastest to emulate; max offers AVX2 and the rest)")
  .option('--log <file>', 'where --check saves the console log (default: IMAGE.boot.log)')
  .action(async (image, opts) => {
    const { boot } = await import('../vm/qemu.js');
    const result = await boot({
      image,
      ...(opts.disk ? { blankDisks: opts.disk } : {}),
      ...(opts.arch ? { arch: opts.arch } : {}),
      firmware: opts.firmware,
      ...(opts.secureBoot ? { secureBoot: opts.firmwareVars } : {}),
      check: opts.check ?? false,
      timeoutSeconds: Number(opts.timeout),
      memoryMiB: Number(opts.memory),
      ...(opts.cpu ? { cpu: opts.cpu } : {}),
      ...(opts.log ? { logFile: opts.log } : {}),
      signal: interruptible(),
      ...(opts.check && process.stderr.isTTY ? { onOutput: (chunk: string) => process.stderr.write(pc.dim(chunk)) } : {}),
    });
    if (!opts.check) return;
    const text = `${result.result} after ${result.seconds.toFixed(0)} s (console log: ${result.logFile})`;
    if (result.result !== 'login') throw new BuildError(`boot check failed: ${text}`, 'boot');
    process.stdout.write(`boot check passed: ${text}\n`);
  });

program
  .command('doctor')
  .description('check the host tools kiln needs; --install installs the missing ones with apt-get')
  .option('--install', 'install missing tools with apt-get')
  .action(async (opts) => {
    const { doctor } = await import('./doctor.js');
    process.exitCode = doctor(opts.install ?? false);
  });

function diskArgument(value: string): number | string {
  const spec = parseSize(value);
  if (spec !== undefined && spec !== 'rest' && 'bytes' in spec) return spec.bytes;
  if (existsSync(value) && statSync(value).isFile()) return value;
  throw new UserError(`--disk ${value}: expected a size such as 8G or 512M, or an existing raw disk file (make one with: truncate -s 8G disk.raw)`);
}

function positive(value: string, flag: string): string {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UserError(`${flag} ${value}: expected a positive whole number`);
  return value;
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Explicit --help and --version succeed; help shown because no command was given is a usage error.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return 2;
  }
  if (err instanceof UserError) {
    const text = err.diagnostics.length ? renderDiagnostics(err.diagnostics, pc.red) : err.message;
    process.stderr.write(`${pc.red('error:')} ${text}\n`);
    return 2;
  }
  if (err instanceof InterruptedError) {
    process.stderr.write(`${pc.yellow('interrupted')}: nothing was written under an output name\n`);
    return 130;
  }
  if (err instanceof BuildError) {
    const where = err.stage ? `stage ${err.stage} failed: ` : '';
    process.stderr.write(`${pc.red('error:')} ${where}${err.message}\n`);
    if (err.command) process.stderr.write(`  command: ${err.command}\n`);
    if (err.tail.length) process.stderr.write(`  last output:\n${err.tail.map((l) => `    ${l}`).join('\n')}\n`);
    return 1;
  }
  if (isSystemError(err)) {
    // The host refused (disk full, no permission): say so plainly, it is not a bug in kiln.
    process.stderr.write(`${pc.red('error:')} ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`kiln: internal error (a bug; please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}

registerDevloopCommands(program, { version: VERSION, collectSet, collectList, positive, interruptible });

// The build service's commands load fastify, the database drivers and the API's schemas: about a
// second of CPU here, which every `kiln build` would pay twice (it re-executes itself isolated),
// and the service's worker starts one per build. So they are loaded only when the command line is
// not one of the commands above (it may be theirs, or help, or a typo to suggest a name for), nor
// a bare `kiln --version`.
const argv = process.argv.slice(2);
const first = argv.find((arg) => !arg.startsWith('-'));
const versionOnly = first === undefined && (argv.includes('--version') || argv.includes('-V'));
if (!versionOnly && !program.commands.some((c) => c.name() === first)) {
  const { registerServiceCommands } = await import('./service-commands.js');
  registerServiceCommands(program, { version: VERSION, interruptible, positive });
}

try {
  await program.parseAsync();
} catch (err) {
  process.exitCode = report(err);
}
