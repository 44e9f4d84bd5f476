/**
 * Where `kiln remote` finds its server and token, each on its own: the flag, else the environment
 * (KILN_SERVER, KILN_TOKEN), else the config file ~/.config/kiln/remote.json
 * (`{"server": "http://build.example:8080", "token": "..."}`; $XDG_CONFIG_HOME moves it). The file
 * holds a secret: keep it mode 0600.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';

export const RemoteConfigFile = z.strictObject({ server: z.string().optional(), token: z.string().optional() });
export type RemoteConfigFile = z.infer<typeof RemoteConfigFile>;

export interface Remote {
  server: string;
  token: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'kiln', 'remote.json');
}

/** Pure: the first of flag, environment and file that has each value. */
export function resolveRemote(flags: { server?: string; token?: string }, env: NodeJS.ProcessEnv, file: RemoteConfigFile | undefined, fileName: string): Remote {
  const server = flags.server || env.KILN_SERVER || file?.server;
  const token = flags.token || env.KILN_TOKEN || file?.token;
  if (!server) throw new UserError(`no server: pass --server URL, set KILN_SERVER, or write {"server": URL, "token": T} to ${fileName}`);
  if (!token) throw new UserError(`no token: pass --token T, set KILN_TOKEN, or add "token" to ${fileName} (an admin makes one with: kiln serve token create)`);
  if (!/^https?:\/\/[^/]/.test(server)) throw new UserError(`server ${JSON.stringify(server)}: expected a URL such as http://127.0.0.1:8080`);
  return { server, token };
}

/** The config file's content; absent file: undefined; a broken one is an error naming it. */
export function readConfigFile(path: string): RemoteConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not JSON (${err instanceof Error ? err.message : String(err)}); expected {"server": URL, "token": T}`);
  }
  const parsed = RemoteConfigFile.safeParse(value);
  if (!parsed.success) throw new UserError(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}; expected {"server": URL, "token": T}`);
  return parsed.data;
}

export function loadRemote(flags: { server?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Remote {
  const path = configPath(env);
  // The file is read only when a flag or variable is missing, so a broken file does not get in the way.
  const needFile = !(flags.server || env.KILN_SERVER) || !(flags.token || env.KILN_TOKEN);
  return resolveRemote(flags, env, needFile ? readConfigFile(path) : undefined, path);
}
