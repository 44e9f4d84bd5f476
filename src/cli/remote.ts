/**
 * `kiln remote`: the build service from the command line. Server and token come from --server and
 * --token, else KILN_SERVER and KILN_TOKEN, else ~/.config/kiln/remote.json (see remote-config.ts).
 * The server's refusals are shown in its words (with the positioned recipe messages of a 422);
 * a refused request exits 2, a failed build or an unreachable server 1.
 */
import { resolve } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import pc from 'picocolors';
import { formatDiagnostic, renderDiagnostics } from '../diagnostics.js';
import { BuildError, UserError } from '../errors.js';
import { Arch, ArtifactList, Build, BuildList, CreateBuild, PushRecipeResponse, WorkerList } from '../service/protocol.js';
import { ApiClient, ApiError } from '../worker/api.js';
import { routes } from '../worker/routes.js';
import { loadRemote } from './remote-config.js';
import { downloadAll, pickArtifacts } from './remote-download.js';
import { followBuild, followLog, printLogFrom } from './remote-follow.js';
import { buildsTable, buildText, workersTable } from './remote-format.js';
import { pushRequest } from './remote-push.js';
import { pickReporter } from './reporters.js';

const note = (line: string) => void process.stderr.write(`${line}\n`);
const print = (text: string) => void process.stdout.write(text);

/** --set NAME=VALUE, repeatable. */
export function collectSet(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new UserError(`--set ${value}: expected NAME=VALUE`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UserError(`${flag} ${value}: expected a positive whole number`);
    return Number(value);
  };
}

/** The server's refusal as the CLI's errors: 4xx is the user's to fix (exit 2), the rest exit 1. */
export function explain(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  // The message of a 422 is its diagnostics' one-line forms: shown once, with the code frame, as a local build does.
  const text = err.diagnostics.length ? renderDiagnostics(err.diagnostics, pc.red) : err.message;
  if (err.status >= 400 && err.status < 500) return new UserError(text);
  return new BuildError(err.status === 0 ? text : `the server failed: ${text}`);
}

/** Runs an action with a client for the flags' server, turning the server's refusals into the CLI's errors. */
async function withApi(flags: { server?: string; token?: string }, action: (api: ApiClient) => Promise<void>): Promise<void> {
  const remote = loadRemote({ ...(flags.server ? { server: flags.server } : {}), ...(flags.token ? { token: flags.token } : {}) });
  try {
    await action(new ApiClient(remote.server, remote.token));
  } catch (err) {
    throw explain(err);
  }
}

function sub(parent: Command, name: string) {
  return parent
    .command(name)
    .option('--server <url>', 'the kiln serve URL (default: $KILN_SERVER, else ~/.config/kiln/remote.json)')
    .option('--token <token>', 'bearer token (default: $KILN_TOKEN, else ~/.config/kiln/remote.json)');
}

/** The exit status of a finished build: 0 succeeded, 1 otherwise (as a local build). */
function verdict(build: Build): void {
  if (build.state === 'succeeded') return;
  throw new BuildError(`build ${build.id} ${build.state}${build.error ? `: ${build.error}` : ''}`);
}

export function registerRemoteCommands(program: Command): void {
  // `kiln remote build NAME --version 2` names a recipe version: without this, the program's own
  // --version (anywhere on the line) would print kiln's version instead. kiln's global options then
  // go before the command, as they do anyway (`kiln --version`).
  program.enablePositionalOptions();
  const remote = program.command('remote').description('use a build service (kiln serve): push recipes, start builds and follow them, download their outputs');

  sub(remote, 'push')
    .description('store a recipe on the server as a new version: one YAML file, an osbuild-composer blueprint (*.toml), or a folder (with its layers, overlays, hooks) packed as tar.gz')
    .argument('<recipe>', 'recipe YAML file, blueprint (*.toml) or recipe folder')
    .option('--file <name>', 'with a folder: the recipe file inside it (default: recipe.yaml, else the only *.yaml, else the only *.toml)')
    .option('--name <name>', "store it under this name instead of the recipe's own")
    .option('--type <type>', "a blueprint's image type, as composer names it: qcow2, raw, vmdk, vhd, tar, container, ... (the server then stores the blueprint with the recipe.yaml kiln import makes of it)")
    .option('--lenient', "a blueprint's keys that do not change what the image does are dropped with a warning instead of refused (stored as with --type)")
    .action((path, opts) =>
      withApi(opts, async (api) => {
        const { query, body, contentType, skipped } = await pushRequest(path, opts);
        if (skipped.length) note(`left out: ${skipped.join(', ')}`);
        const pushed = await api.json(PushRecipeResponse, 'POST', `${routes.recipes()}${query}`, { body, headers: { 'content-type': contentType } });
        for (const w of pushed.warnings ?? []) note(`warning: ${formatDiagnostic(w)}`);
        print(`${pushed.name} version ${pushed.version} ${pushed.created ? 'stored' : 'unchanged (this content already was that version)'}: ${pushed.files} files, ${pushed.size} bytes, sha256 ${pushed.hash}\n`);
      }),
    );

  sub(remote, 'build')
    .description('queue a build of a stored recipe; prints its id (--wait: exit 0 when it succeeds, 1 when not; --follow: show its progress like a local build)')
    .argument('<recipe>', 'recipe name on the server')
    .addOption(new Option('--version <n>', 'recipe version (default: the latest)').argParser(positiveInt('--version')))
    .option('--set <NAME=VALUE>', 'set a recipe variable (repeatable)', collectSet, {} as Record<string, string>)
    .addOption(new Option('--arch <arch>', "override the recipe's arch").choices(Arch.options))
    .option('--wait', 'wait for the build to end')
    .option('--follow', 'show the build as it runs (implies --wait)')
    .action((name, opts) =>
      withApi(opts, async (api) => {
        const request: CreateBuild = { recipe: name, ...(opts.version ? { version: opts.version } : {}), ...(Object.keys(opts.set).length ? { set: opts.set } : {}), ...(opts.arch ? { arch: opts.arch } : {}) };
        const build = await api.json(Build, 'POST', routes.builds(), { json: request });
        print(`${build.id}\n`);
        if (!opts.wait && !opts.follow) return;
        note(`build ${build.id}: ${build.recipe} version ${build.version} for ${build.arch}, ${build.state}`);
        verdict(await followBuild(api, build.id, opts.follow ? pickReporter(false, process.stderr) : undefined, note));
      }),
    );

  sub(remote, 'builds')
    .description('list builds, newest first')
    .addOption(new Option('--state <state>', 'only builds in this state').choices(['queued', 'running', 'succeeded', 'failed', 'canceled'] as const))
    .option('--recipe <name>', 'only builds of this recipe')
    .addOption(new Option('--limit <n>', 'at most this many').default(20).argParser(positiveInt('--limit')))
    .option('--json', 'print JSON')
    .action((opts) =>
      withApi(opts, async (api) => {
        const builds: Build[] = [];
        let cursor: string | undefined;
        do {
          const q = new URLSearchParams({ limit: String(Math.min(200, opts.limit - builds.length)) });
          if (opts.state) q.set('state', opts.state);
          if (opts.recipe) q.set('recipe', opts.recipe);
          if (cursor) q.set('cursor', cursor);
          const page = await api.json(BuildList, 'GET', `${routes.builds()}?${q.toString()}`);
          builds.push(...page.builds);
          cursor = page.next;
        } while (cursor && builds.length < opts.limit);
        print(opts.json ? `${JSON.stringify(builds, null, 2)}\n` : buildsTable(builds, Date.now()));
      }),
    );

  sub(remote, 'show')
    .description('one build: state, times, worker, stages, artifacts')
    .argument('<id>', 'build id')
    .option('--json', 'print JSON ({build, artifacts})')
    .action((id, opts) =>
      withApi(opts, async (api) => {
        const [build, { artifacts }] = await Promise.all([api.json(Build, 'GET', routes.build(id)), api.json(ArtifactList, 'GET', routes.artifacts(id))]);
        print(opts.json ? `${JSON.stringify({ build, artifacts }, null, 2)}\n` : buildText(build, artifacts, Date.now()));
      }),
    );

  sub(remote, 'logs')
    .description("print a build's log (--follow: and what is added until it ends; exit 0 when it succeeded, 1 when not)")
    .argument('<id>', 'build id')
    .option('--follow', 'keep printing until the build ends')
    .action((id, opts) =>
      withApi(opts, async (api) => {
        const out = (chunk: Uint8Array) => void process.stdout.write(chunk);
        if (!opts.follow) {
          await printLogFrom(api, id, 0, out);
          return;
        }
        verdict(await followLog(api, id, out, note));
      }),
    );

  sub(remote, 'cancel')
    .description('cancel a build: a queued one at once, a running one is stopped by its worker')
    .argument('<id>', 'build id')
    .action((id, opts) =>
      withApi(opts, async (api) => {
        const response = await api.request('POST', routes.cancel(id));
        const build = Build.parse(await response.json());
        print(response.status === 202 ? `build ${build.id}: cancel requested; its worker stops it\n` : `build ${build.id}: ${build.state}\n`);
      }),
    );

  sub(remote, 'retry')
    .description('queue a new build with the same recipe version, values and arch; prints its id')
    .argument('<id>', 'the build to retry')
    .action((id, opts) =>
      withApi(opts, async (api) => {
        const build = await api.json(Build, 'POST', routes.retry(id));
        print(`${build.id}\n`);
      }),
    );

  sub(remote, 'download')
    .description("download a build's artifacts (all, or those named), resuming partial downloads and checking each sha256")
    .argument('<id>', 'build id')
    .argument('[names...]', 'artifact names (default: all)')
    .option('-o, --output <dir>', 'target folder (default: ./out/<recipe>-<id>)')
    .action((id, names, opts) =>
      withApi(opts, async (api) => {
        const [build, { artifacts }] = await Promise.all([api.json(Build, 'GET', routes.build(id)), api.json(ArtifactList, 'GET', routes.artifacts(id))]);
        const chosen = pickArtifacts(artifacts, names, id);
        if (!chosen.length) throw new UserError(`build ${id} (${build.state}) has no artifacts${build.state === 'succeeded' ? '' : '; only a succeeded build has all of them'}`);
        const dir = resolve(opts.output ?? `out/${build.recipe}-${build.id}`);
        await downloadAll(api, id, chosen, dir, note);
        print(`${dir}\n`);
      }),
    );

  sub(remote, 'workers')
    .description('list the workers: arches, state, running builds, last heartbeat')
    .option('--json', 'print JSON')
    .action((opts) =>
      withApi(opts, async (api) => {
        const { workers } = await api.json(WorkerList, 'GET', routes.workers());
        print(opts.json ? `${JSON.stringify(workers, null, 2)}\n` : workersTable(workers, Date.now()));
      }),
    );
}
