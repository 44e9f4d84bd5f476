/**
 * `[[customizations.user]]`, `[[customizations.sshkey]]` and `[[customizations.group]]`. As in
 * composer, an sshkey for a user the blueprint does not declare creates that user; root is not a
 * recipe user, so its password becomes root_password(_hash) and its key /root/.ssh/authorized_keys.
 */
import type { KeyPath } from '../recipe/source.js';
import type { Table, Translation } from './context.js';

const USER_KEYS = ['name', 'description', 'password', 'key', 'home', 'shell', 'groups', 'uid', 'gid', 'expiredate', 'force_password_reset'];
/** What composer takes as an already hashed password (crypt.PasswordIsCrypted). */
const CRYPTED = /^\$(1|2[abxy]?|5|6|7|y|gy)\$/;

export function translateUsersAndGroups(t: Translation, c: Table): void {
  const users = new Map<string, KeyPath>();
  /** The recipe path of the user `name`, made on first mention. */
  const user = (name: string, from: KeyPath): KeyPath => {
    const found = users.get(name);
    if (found) return found;
    const path = t.push(['users'], { name }, [...from, 'name']);
    users.set(name, path);
    return path;
  };
  const rootKeys: string[] = [];
  let rootKeyFrom: KeyPath | undefined;

  for (const [u, i] of t.tables(['customizations', 'user'], c.user, USER_KEYS)) {
    const from = ['customizations', 'user', i];
    const name = t.required(from, u, 'name');
    if (name === undefined) continue;
    const keys = sshKeys(t, [...from, 'key'], u.key);
    if (name === 'root') {
      root(t, from, u);
      rootKeys.push(...keys);
      rootKeyFrom ??= [...from, 'key'];
      continue;
    }
    const path = user(name, from);
    const str = (key: string, to = key, note?: string) => {
      const v = t.str([...from, key], u[key]);
      if (v !== undefined) t.set([...path, to], to === 'home' ? v.replace(/(.)\/+$/, '$1') : v, [...from, key], note);
    };
    str('description');
    const password = t.str([...from, 'password'], u.password);
    if (password !== undefined) setPassword(t, [...path], [...from, 'password'], password);
    str('home');
    str('shell');
    const groups = t.strList([...from, 'groups'], u.groups);
    // Fedora's wheel is who may use sudo; on Debian that is the sudo group (and the sudo package).
    const debian = [...new Set(groups.map((g) => (g === 'wheel' ? 'sudo' : g)))];
    if (debian.length) t.set([...path, 'groups'], debian, [...from, 'groups'], groups.includes('wheel') ? "Fedora's wheel is Debian's sudo" : undefined);
    if (groups.includes('wheel') && !(t.get(['packages']) as string[] | undefined)?.includes('sudo')) t.push(['packages'], 'sudo', [...from, 'groups'], "for the wheel group's rights (Debian's sudo group)");
    for (const key of ['uid', 'gid']) {
      const v = t.int([...from, key], u[key]);
      if (v !== undefined) t.set([...path, key], v, [...from, key]);
    }
    if (keys.length) t.set([...path, 'ssh_keys'], [...((t.get([...path, 'ssh_keys']) as string[] | undefined) ?? []), ...keys], [...from, 'key']);
    if (u.expiredate !== undefined) t.refuse([...from, 'expiredate'], 'account expiry dates have no kiln key yet (set one with chage -E in a customize hook)');
    if (t.bool([...from, 'force_password_reset'], u.force_password_reset)) {
      t.refuse([...from, 'force_password_reset'], 'forcing a password change at first login has no kiln key yet (run passwd -e NAME in a customize hook)');
    }
  }

  for (const [k, i] of t.tables(['customizations', 'sshkey'], c.sshkey, ['user', 'key'])) {
    const from = ['customizations', 'sshkey', i];
    const name = t.required(from, k, 'user');
    const keys = k.key === undefined ? (t.refuse(from, '"key" is required'), []) : sshKeys(t, [...from, 'key'], k.key);
    if (name === undefined || !keys.length) continue;
    if (name === 'root') {
      rootKeys.push(...keys);
      rootKeyFrom ??= [...from, 'key'];
      continue;
    }
    const path = user(name, from);
    const old = (t.get([...path, 'ssh_keys']) as string[] | undefined) ?? [];
    t.set([...path, 'ssh_keys'], [...old, ...keys], [...from, 'key'], 'from [[customizations.sshkey]]');
  }
  if (rootKeys.length && rootKeyFrom) {
    t.push(['directories'], { path: '/root/.ssh', mode: '0700', owner: 'root:root' }, rootKeyFrom, "root's SSH keys (root is not a recipe user)");
    t.push(['files'], { dst: '/root/.ssh/authorized_keys', content: rootKeys.map((k) => `${k}\n`).join(''), mode: '0600', owner: 'root:root' }, rootKeyFrom, "root's SSH keys");
  }

  for (const [g, i] of t.tables(['customizations', 'group'], c.group, ['name', 'gid'])) {
    const from = ['customizations', 'group', i];
    const name = t.required(from, g, 'name');
    const gid = t.int([...from, 'gid'], g.gid);
    if (name !== undefined) t.push(['groups'], gid === undefined ? { name } : { name, gid }, from);
  }
}

function root(t: Translation, from: KeyPath, u: Table): void {
  const password = t.str([...from, 'password'], u.password);
  if (password !== undefined) {
    const hashed = CRYPTED.test(password);
    t.set([hashed ? 'root_password_hash' : 'root_password'], password, [...from, 'password'], hashed ? undefined : 'plain text, hashed at build time (a hash keeps it out of the recipe)');
  }
  for (const key of ['description', 'home', 'shell', 'groups', 'uid', 'gid', 'expiredate', 'force_password_reset']) {
    if (u[key] !== undefined) t.refuse([...from, key], "root's account is Debian's own: only its password and key can be set");
  }
}

function setPassword(t: Translation, user: KeyPath, from: KeyPath, password: string): void {
  if (CRYPTED.test(password)) t.set([...user, 'password_hash'], password, from);
  else t.set([...user, 'password'], password, from, 'plain text, hashed at build time (a hash keeps it out of the recipe)');
}

/** composer writes `key` to authorized_keys as it is: one key per line. */
function sshKeys(t: Translation, path: KeyPath, value: unknown): string[] {
  const text = t.str(path, value);
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
