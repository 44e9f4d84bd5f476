/** Reads the image's own /etc/passwd and /etc/group: names must resolve as the image sees them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function readPasswd(root: string): Account[] {
  return table(root, 'etc/passwd').map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
}

export function readGroups(root: string): Map<string, number> {
  return new Map(table(root, 'etc/group').map((f) => [f[0] ?? '', Number(f[2])]));
}

/**
 * "user" or "user:group", each by name or number, to numeric ids, or a message saying which name
 * is unknown. A number needs no account (files may belong to ids the image gives out later), but
 * a lone uid without one has no group to take.
 */
export function resolveOwner(root: string, owner: string): { uid: number; gid: number } | { error: string } {
  const [user = '', group] = owner.split(':');
  const numeric = (s: string) => /^[0-9]+$/.test(s);
  const accounts = readPasswd(root);
  const account = numeric(user) ? accounts.find((a) => a.uid === Number(user)) : accounts.find((a) => a.name === user);
  const uid = numeric(user) ? Number(user) : account?.uid;
  if (uid === undefined) return { error: `user ${user} does not exist in the image` };
  if (group === undefined) return account ? { uid, gid: account.gid } : { error: `uid ${user} has no account in the image, so it has no group; give user:group (e.g. ${user}:${user})` };
  const gid = numeric(group) ? Number(group) : readGroups(root).get(group);
  return gid === undefined ? { error: `group ${group} does not exist in the image` } : { uid, gid };
}

function table(root: string, file: string): string[][] {
  return readFileSync(join(root, file), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
