/**
 * `kiln worker`: this machine builds for a build service. Server and token as for `kiln remote`
 * (flags, KILN_SERVER/KILN_TOKEN, the config file). SIGTERM or Ctrl-C drains (finishes the running
 * builds, takes no new one); a second one stops at once (builds are killed, the server requeues them).
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { ARCH_NAMES, type ArchName } from '../arch/table.js';
import { UserError } from '../errors.js';
import { hostArch } from '../arch/host-arch.js';
import { lineLog } from '../worker/log.js';
import { runWorker } from '../worker/worker.js';
import { loadRemote } from './remote-config.js';
import { explain } from './remote.js';

/** "amd64,arm64" → arches, each one kiln knows. */
export function parseArches(text: string): ArchName[] {
  const arches = [...new Set(text.split(',').map((a) => a.trim()).filter(Boolean))];
  const unknown = arches.filter((a) => !(ARCH_NAMES as readonly string[]).includes(a));
  if (unknown.length || !arches.length) throw new UserError(`--arch ${text}: expected a comma-separated list of ${ARCH_NAMES.join(', ')}`);
  return arches as ArchName[];
}

function positiveInt(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UserError(`${flag} ${value}: expected a whole number from 1 to ${max}`);
    return Number(value);
  };
}

export function registerWorkerCommand(program: Command, o: { version: string }): void {
  program
    .command('worker')
    .description('build for a build service (kiln serve): wait for jobs, run them like kiln build, stream their progress and upload their outputs')
    .option('--server <url>', 'the kiln serve URL (default: $KILN_SERVER, else ~/.config/kiln/remote.json)')
    .option('--token <token>', 'a token with the worker scope (default: $KILN_TOKEN, else ~/.config/kiln/remote.json)')
    .addOption(new Option('--arch <list>', "arches to build, comma-separated (default: this machine's own)").argParser(parseArches))
    .addOption(new Option('--concurrency <n>', 'builds at the same time').default(1).argParser(positiveInt('--concurrency', 64)))
    .option('--name <name>', 'the name the server lists (default: the host name; keep it stable: re-registering a name requeues its old jobs)')
    .option('--work-dir <dir>', 'where bundles and outputs of running builds go (default: /var/tmp/kiln-worker)')
    .addOption(new Option('--heartbeat <seconds>', 'heartbeat period (the server may ask for a shorter one)').default(15).argParser(positiveInt('--heartbeat', 3600)))
    .action(async (opts) => {
      const remote = loadRemote({ ...(opts.server ? { server: opts.server } : {}), ...(opts.token ? { token: opts.token } : {}) });
      const workDir = resolve(opts.workDir ?? '/var/tmp/kiln-worker');
      await mkdir(workDir, { recursive: true });
      const drain = new AbortController();
      const abandon = new AbortController();
      const log = lineLog((line) => process.stderr.write(line));
      const stop = (signal: string) => {
        if (!drain.signal.aborted) {
          log.info({ signal }, 'send the signal again to stop at once (running builds are then killed and requeued)');
          drain.abort();
        } else if (!abandon.signal.aborted) {
          log.warn({ signal }, 'stopping at once: running builds are killed and requeued by the server');
          abandon.abort();
        }
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      try {
        await runWorker({
          server: remote.server,
          token: remote.token,
          name: opts.name ?? hostname(),
          arches: opts.arch ?? [hostArch()],
          concurrency: opts.concurrency,
          heartbeatSeconds: opts.heartbeat,
          signal: drain.signal,
          abandon: abandon.signal,
          workDir,
          log,
          version: o.version,
        });
      } catch (err) {
        throw explain(err);
      }
    });
}
