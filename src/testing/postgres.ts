/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` and `pg_ctl` from Debian's
 * `postgresql` package (its binaries live in /usr/lib/postgresql/<version>/bin, not on PATH) in a
 * temporary folder, listening on 127.0.0.1 at a free port, with trust authentication for local
 * connections only and a database `kiln`. PostgreSQL refuses to run as root, so as root the
 * cluster runs as the `postgres` user.
 */
import { freePort } from './free-port.js';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/kiln */
  url: string;
  /** Makes another empty database and returns its URL (one per test keeps tests apart). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest installed PostgreSQL. */
async function binDir(): Promise<string> {
  const versions = existsSync(ROOT) ? (await readdir(ROOT)).filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL under ${ROOT}: install Debian's postgresql package (apt-get install postgresql)`);
  return join(ROOT, newest, 'bin');
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([execa('id', ['-u', name]), execa('id', ['-g', name])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-pg-'));
  const root = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) =>
    root ? execa('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : execa(join(bin, tool), args);
  const data = join(dir, 'data');
  let started = false;
  try {
    if (root) {
      const { uid, gid } = await userIds('postgres');
      await chown(dir, uid, gid);
    }
    // --no-sync and fsync=off: a test cluster need not survive a power cut, and syncing is most of its start time.
    await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const settings = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await run('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-o', settings, '-w', 'start']);
    started = true;
    const base = `postgres://postgres@127.0.0.1:${port}`;
    const createDatabase = async (name: string): Promise<string> => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`createDatabase: "${name}" is not a plain database name`);
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    };
    // A test run that dies before stop() must not leave a server running on a shared machine.
    const onExit = () => {
      const pgCtl = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
      spawnSync(root ? 'runuser' : (pgCtl[0] as string), root ? ['-u', 'postgres', '--', ...pgCtl] : pgCtl.slice(1), { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    const url = await createDatabase('kiln');
    return {
      url,
      createDatabase,
      async stop() {
        process.off('exit', onExit);
        await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (started) await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
