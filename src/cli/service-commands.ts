/**
 * The build service's commands: `kiln serve` (with `token create` and `copy-db`), `kiln remote`
 * and `kiln worker`; and `kiln serve-repo`, which serves an OSTree repository with the same HTTP
 * server. main.ts loads this module only when the command line may name one of them, since what
 * they import (fastify, the database drivers, the API's schemas) costs every other command about a
 * second of start-up here.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UserError } from '../errors.js';
import { registerRemoteCommands } from './remote.js';
import { registerWorkerCommand } from './remote-worker.js';
import { copyServiceDatabase, createServeToken, DEFAULT_DATA, parseListen, serve } from './serve.js';
import { serveRepo } from './serve-repo.js';

export interface ServiceCommandHelpers {
  version: string;
  /** An abort signal for SIGINT/SIGTERM (a second one exits at once). */
  interruptible: () => AbortSignal;
  positive: (value: string, flag: string) => string;
}

function count(value: string, flag: string): string {
  if (!/^\d+$/.test(value)) throw new UserError(`${flag} ${value}: expected a whole number (0 or more)`);
  return value;
}

export function registerServiceCommands(program: Command, { version, interruptible, positive }: ServiceCommandHelpers): void {
  const serveCommand = program
    .command('serve')
    .enablePositionalOptions()
    .description('run the build service: an HTTP API and web interface over a job queue, with an in-process worker (see the README: "Build service")')
    .option('--listen <host:port>', 'address to listen on (0.0.0.0:8080 serves other machines)', '127.0.0.1:8080')
    .option('--data <dir>', 'state folder: the SQLite database, temporary files, the in-process worker\'s builds', DEFAULT_DATA)
    .option('--database <url>', 'postgres://USER@HOST:PORT/NAME to share one database between servers (default: SQLite in --data)')
    .option('--artifacts <dir>', 'where recipe bundles and build outputs are kept; one folder shared by all servers of one database (default: <data>/artifacts)')
    .addOption(new Option('--workers <n>', 'builds the in-process worker runs at once; 0 for none').default('1').argParser((v) => count(v, '--workers')))
    .option('--max-upload <size>', 'largest recipe upload', '256M')
    .option('--max-artifact <size>', 'largest artifact a worker may upload', '64G')
    .addOption(new Option('--heartbeat <seconds>', 'how often workers report').default('15').argParser((v) => positive(v, '--heartbeat')))
    .addOption(new Option('--lost-after <seconds>', 'silence after which a worker is lost and its builds are requeued').default('120').argParser((v) => positive(v, '--lost-after')))
    .addOption(new Option('--log-level <level>', 'the JSON log on stdout: every request (info), problems only (warn), or nothing').choices(['debug', 'info', 'warn', 'error', 'silent'] as const).default('info' as const))
    .action(async (opts) => {
      await serve(
        {
          listen: opts.listen,
          data: opts.data,
          workers: Number(opts.workers),
          maxUpload: opts.maxUpload,
          maxArtifact: opts.maxArtifact,
          heartbeat: Number(opts.heartbeat),
          lostAfter: Number(opts.lostAfter),
          logLevel: opts.logLevel,
          ...(opts.database ? { database: opts.database } : {}),
          ...(opts.artifacts ? { artifacts: opts.artifacts } : {}),
        },
        interruptible(),
      );
    });

  serveCommand
    .command('token')
    .description("the service's access tokens (also at /v1/tokens with an admin token)")
    .command('create')
    .description('make a token and print it; only its hash is stored')
    .requiredOption('--scope <scopes...>', 'read, build, admin (everything) or worker; several allowed')
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--data <dir>', 'the service\'s state folder', DEFAULT_DATA)
    .option('--database <url>', 'the service\'s PostgreSQL database, if it uses one')
    .option('--quiet', 'print only the token')
    .action(async (opts) => {
      const token = await createServeToken({ data: opts.data, name: opts.name, scopes: opts.scope, ...(opts.database ? { database: opts.database } : {}) });
      process.stdout.write(opts.quiet ? `${token}\n` : `${token}\n(shown once: kiln keeps only its hash; scopes: ${opts.scope.join(', ')})\n`);
    });

  serveCommand
    .command('copy-db')
    .description('copy the service\'s whole state into another, empty database, e.g. from SQLite to PostgreSQL (stop the service first)')
    .requiredOption('--to <url>', 'the new database: postgres://... or sqlite:FILE')
    .option('--data <dir>', 'the service\'s state folder', DEFAULT_DATA)
    .option('--database <url>', 'the database to copy from (default: SQLite in --data)')
    .action(async (opts) => {
      await copyServiceDatabase({ data: opts.data, to: opts.to, ...(opts.database ? { database: opts.database } : {}) }, (line) => process.stdout.write(`${line}\n`));
    });
  program
    .command('serve-repo')
    .description("serve an OSTree repository (a recipe's ostree.repo) over HTTP for devices' ostree admin upgrade; logs each request with its bytes")
    .argument('<dir>', 'the archive repository folder')
    .option('--listen <host:port>', 'address to listen on (0.0.0.0:8000 serves other machines; a QEMU guest reaches 127.0.0.1 as 10.0.2.2)', '127.0.0.1:8000')
    .option('--path <path>', 'the URL path the repository is served at (as in ostree.url)', '/repo')
    .action(async (dir, opts) => {
      await serveRepo({ dir, ...parseListen(opts.listen), path: opts.path }, interruptible());
    });
  registerRemoteCommands(program);
  registerWorkerCommand(program, { version });
}
