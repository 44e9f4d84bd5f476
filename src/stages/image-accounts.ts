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

/** "user" or "user:group" to numeric ids, or a message saying which name is unknown. */
export function resolveOwner(root: string, owner: string): { uid: number; gid: number } | { error: string } {
  const [user = '', group] = owner.split(':');
  const account = readPasswd(root).find((a) => a.name === user);
  if (!account) return { error: `user ${user} does not exist in the image` };
  if (group === undefined) return { uid: account.uid, gid: account.gid };
  const gid = readGroups(root).get(group);
  return gid === undefined ? { error: `group ${group} does not exist in the image` } : { uid: account.uid, gid };
}

function table(root: string, file: string): string[][] {
  return readFileSync(join(root, file), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
