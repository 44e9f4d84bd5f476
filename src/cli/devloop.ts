/** `kiln shell`, `kiln run`, `kiln apply` and `kiln export-container`: the developer's loop (README: "Developer loop"). */
import { Option, type Command } from '@commander-js/extra-typings';
import pc from 'picocolors';
import { ARCH_NAMES } from '../arch/table.js';
import { resolve } from 'node:path';
import { isIsolated, runIsolated } from '../engine/isolate.js';
import type { LoadOptions } from '../recipe/index.js';
import type { ArchName } from '../arch/table.js';
import { BuildError, UserError } from '../errors.js';
import { parseBind, type Bind } from '../host/nspawn.js';
import { cacheDir, openStore } from '../engine/cache-dir.js';

// As in program.ts, each command loads what it runs when it runs.

export interface DevloopHelpers {
  version: string;
  collectSet: (value: string, previous: Record<string, string>) => Record<string, string>;
  collectList: (value: string, previous: string[]) => string[];
  positive: (value: string, flag: string) => string;
  interruptible: () => AbortSignal;
}

/** The plan the build made: its --set, --arch and --layer, as LoadOptions. */
function loadOptions(opts: { set: Record<string, string>; layer: string[]; arch?: string }): LoadOptions {
  return { set: opts.set, layers: opts.layer, ...(opts.arch ? { arch: opts.arch } : {}) };
}

function collectBind(value: string, previous: Bind[]): Bind[] {
  const bind = parseBind(value);
  if ('error' in bind) throw new UserError(bind.error);
  return [...previous, bind];
}

export function registerDevloopCommands(program: Command, h: DevloopHelpers): void {
  program
    .command('shell')
    .description("a shell, or one command, inside a recipe's stored image root (systemd-nspawn; read-only unless --writable); exits with the command's status")
    .argument('<target>', 'recipe file (its last build) or build folder')
    .argument('[command...]', 'the command to run, after --; default: a root shell')
    .option('--writable', 'allow writes, to a throwaway layer removed afterwards (the stored tree never changes)')
    .option('--bind <HOST:IMAGE>', 'bind a host folder or file into the container (repeatable)', collectBind, [] as Bind[])
    .option('--set <NAME=VALUE>', 'set a recipe variable, as the build did (repeatable)', h.collectSet, {} as Record<string, string>)
    .addOption(new Option('--arch <arch>', "the recipe's arch, as the build did (--arch)").choices(ARCH_NAMES))
    .option('--layer <name>', 'apply this layer after the recipe\'s own, as the build did (repeatable)', h.collectList, [] as string[])
    .action(async (target, command, opts) => {
      const { shell } = await import('../devloop/session.js');
      process.exitCode = await shell(await openStore(), {
        target,
        load: loadOptions(opts),
        command,
        writable: opts.writable ?? false,
        binds: opts.bind,
        tty: process.stdin.isTTY && process.stdout.isTTY,
      });
    });

  program
    .command('run')
    .description("boot a recipe's stored image root in a container with its own init (systemd-nspawn --boot); writes go to a tmpfs and vanish")
    .argument('<target>', 'recipe file (its last build) or build folder')
    .option('--check', 'do not attach: exit 0 once multi-user.target (or a login prompt) is reached, 1 on failure or timeout')
    .addOption(new Option('--timeout <seconds>', 'give up after this long (with --check)').default('120').argParser((v) => h.positive(v, '--timeout')))
    .option('--set <NAME=VALUE>', 'set a recipe variable, as the build did (repeatable)', h.collectSet, {} as Record<string, string>)
    .addOption(new Option('--arch <arch>', "the recipe's arch, as the build did (--arch)").choices(ARCH_NAMES))
    .option('--layer <name>', 'apply this layer after the recipe\'s own, as the build did (repeatable)', h.collectList, [] as string[])
    .action(async (target, opts) => {
      const { runContainer } = await import('../devloop/session.js');
      const result = await runContainer(await openStore(), {
        target,
        load: loadOptions(opts),
        check: opts.check ?? false,
        timeoutSeconds: Number(opts.timeout),
        tty: process.stdin.isTTY && process.stdout.isTTY,
        signal: h.interruptible(),
        ...(opts.check && process.stderr.isTTY ? { onOutput: (chunk: string) => process.stderr.write(pc.dim(chunk)) } : {}),
      });
      if (typeof result === 'number') {
        process.exitCode = result;
        return;
      }
      const failed = result.failedUnits.length ? `; failed units: ${result.failedUnits.join(', ')} (kiln run, then systemctl status UNIT, shows why)` : '';
      const text = `${result.result} after ${result.seconds.toFixed(1)} s${failed}`;
      if (result.result !== 'multi-user') throw new BuildError(`container check failed: ${text}`, 'run', undefined, result.tail);
      process.stdout.write(`container check passed: ${text}\n`);
    });

  program
    .command('apply')
    .description("apply the recipe's Ansible playbook to its running kiln run container (the same playbook the build applies to the image)")
    .argument('<recipe>', 'recipe YAML file (the container was started with kiln run of it or of its build)')
    .option('--set <NAME=VALUE>', 'set a recipe variable, which the playbook sees as the build would (repeatable)', h.collectSet, {} as Record<string, string>)
    .addOption(new Option('--arch <arch>', "the recipe's arch, as the build did (--arch)").choices(ARCH_NAMES))
    .option('--layer <name>', 'apply this layer after the recipe\'s own, as the build did (repeatable)', h.collectList, [] as string[])
    .action(async (recipe, opts) => {
      const { applyToContainer } = await import('../devloop/apply.js');
      const applied = await applyToContainer({ recipe, load: loadOptions(opts) });
      process.stdout.write(`applied to the running container of ${applied.host} (init process ${applied.pid})\n`);
    });

  program
    .command('export-container')
    .description("build the recipe's system plus build tools (build-essential, gdb, git, ...) as a development container for its arch: an OCI layout and a docker-archive for podman load")
    .argument('<recipe>', 'recipe YAML file')
    .option('-o, --output <dir>', 'output folder (default: ./out/<name>-dev)')
    .option('--set <NAME=VALUE>', 'set a recipe variable (repeatable)', h.collectSet, {} as Record<string, string>)
    .addOption(new Option('--arch <arch>', "override the recipe's arch").choices(ARCH_NAMES))
    .option('--layer <name>', 'apply this layer after the recipe\'s own, as the build did (repeatable)', h.collectList, [] as string[])
    .option('--json', 'print one JSON event per line instead of progress')
    .action(async (recipe, opts) => {
      // As `kiln build`: planned and checked once, inside the isolated run main.ts started, with
      // the signal handler first (pid 1 there).
      const signal = isIsolated() ? h.interruptible() : undefined;
      const [{ devContainerRecipe }, { loadRecipe }, { checkedManifest }, { checkHost, checkRecipe }] = await Promise.all([import('../devloop/dev-container.js'), import('../recipe/index.js'), import('../engine/plan.js'), import('../engine/preflight.js')]);
      const loaded = devContainerRecipe(loadRecipe(recipe, loadOptions(opts)));
      const manifest = checkedManifest(loaded);
      checkHost(manifest.arch as ArchName);
      await checkRecipe(loaded, manifest, cacheDir(), signal);
      if (!signal) {
        process.exitCode = await runIsolated();
        return;
      }
      const [{ build }, { pickReporter }] = await Promise.all([import('../engine/executor.js'), import('./reporters.js')]);
      const reporter = pickReporter(opts.json ?? false);
      const outputDir = resolve(opts.output ?? `out/${manifest.name}`);
      try {
        await build({ manifest, recipeFile: resolve(recipe), outputDir, listener: reporter.listener, signal, kilnVersion: h.version });
      } finally {
        await reporter.done();
      }
      if (!opts.json) process.stdout.write(`load it with: podman load -i ${outputDir}/${manifest.name}.docker.tar\n`);
    });
}
