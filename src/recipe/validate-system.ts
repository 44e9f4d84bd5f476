/**
 * Rules for the keys that shape the running system beyond packages and files: groups and the
 * account fields of users, masked units, directories, keyboard, NTP servers, the firewall and extra
 * apt repositories (whose keys are read and checked here, before the build).
 */
import { readFileSync } from 'node:fs';
import { resolveInside } from './files.js';
import type { Origin } from './origins.js';
import { checkPublicKey, type KeyCheck } from './openpgp-key.js';
import type { AptSource, Recipe } from './schema.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const SERVICE = /^[A-Za-z0-9@._:-]+$/;
const XKB = { layout: /^[a-z0-9]+(,[a-z0-9]*)*$/, variant: /^[a-z0-9_-]*(,[a-z0-9_-]*)*$/, model: /^[a-z0-9_-]+$/, options: /^[a-z0-9_:-]*(,[a-z0-9_:-]+)*$/ };
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/;
export const PORT = /^(\d{1,5})(?:-(\d{1,5}))?\/(tcp|udp)$/;
const SERVICE_NAME = /^[a-z0-9][a-z0-9+._-]*$/;
const SOURCE_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const URI = /^(https?|file):\/\/\S+$/;
const ARMORED = '-----BEGIN PGP';

export function validateSystem(recipe: Recipe, originOf: (path: KeyPath) => Origin, fail: Fail): void {
  const gids = new Map<number, string>();
  recipe.groups.forEach((group, i) => {
    if (!NAME.test(group.name)) fail(['groups', i, 'name'], `${show(group.name)} is not a valid group name (lowercase letters, digits, "_" and "-", starting with a letter)`);
    if (group.gid === undefined) return;
    const other = gids.get(group.gid);
    if (other !== undefined) fail(['groups', i, 'gid'], `${group.gid} is also the gid of group ${show(other)}`);
    gids.set(group.gid, group.name);
  });
  recipe.users.forEach((user, i) => {
    if (typeof user.gid === 'string' && !NAME.test(user.gid)) fail(['users', i, 'gid'], `${show(user.gid)} is not a group name or gid (e.g. users, 1000)`);
    if (user.home !== undefined && (!user.home.startsWith('/') || user.home.split('/').includes('..'))) fail(['users', i, 'home'], `${show(user.home)} must be an absolute path without ".." (e.g. /home/${user.name})`);
    if (user.description !== undefined && /[:\n]/.test(user.description)) fail(['users', i, 'description'], `${show(user.description)} must not contain ":" or a line break (they separate /etc/passwd's fields and lines)`);
  });
  recipe.services.mask.forEach((unit, i) => {
    if (!SERVICE.test(unit)) fail(['services', 'mask', i], `${show(unit)} is not a systemd unit name`);
    else if (recipe.services.enable.includes(unit)) fail(['services', 'mask', i], `${show(unit)} is also in services.enable; a masked unit never starts (remove it from one list)`);
  });
  recipe.directories.forEach((dir, i) => {
    if (!dir.path.startsWith('/') || dir.path.split('/').includes('..') || dir.path === '/') fail(['directories', i, 'path'], `${show(dir.path)} must be an absolute path in the image without ".." (e.g. /srv/data)`);
  });
  if (recipe.keyboard !== undefined) {
    const examples = { layout: 'us, de, fr, us,ru', variant: 'nodeadkeys, dvorak', model: 'pc105', options: 'ctrl:nocaps' };
    for (const part of ['layout', 'variant', 'model', 'options'] as const) {
      const value = recipe.keyboard[part];
      if (value !== undefined && !XKB[part].test(value)) fail(['keyboard', part], `${show(value)} is not an XKB ${part} (e.g. ${examples[part]})`);
    }
  }
  recipe.ntp.forEach((server, i) => HOST.test(server) || fail(['ntp', i], `${show(server)} is not an NTP server (a host name or IP address, e.g. 0.debian.pool.ntp.org)`));
  if (recipe.firewall) validateFirewall(recipe.firewall, fail);
  recipe.apt.sources.forEach((source, i) => validateSource(source, i, originOf(['apt', 'sources', i]), fail));
}

function validateFirewall(firewall: NonNullable<Recipe['firewall']>, fail: Fail): void {
  firewall.ports.forEach((port, i) => {
    const m = PORT.exec(port);
    const [low, high] = [Number(m?.[1]), Number(m?.[2] ?? m?.[1])];
    if (!m || low < 1 || high > 65535 || low > high) fail(['firewall', 'ports', i], `${show(port)} is not a port (e.g. "22/tcp", "60000-61000/udp")`);
  });
  for (const key of ['enable', 'disable'] as const) {
    firewall.services[key].forEach((name, i) => SERVICE_NAME.test(name) || fail(['firewall', 'services', key, i], `${show(name)} is not a service name from /etc/services (e.g. ssh, http, domain)`));
  }
}

function validateSource(source: AptSource, i: number, origin: Origin, fail: Fail): void {
  const at = (...path: (string | number)[]): KeyPath => ['apt', 'sources', i, ...path];
  if (!SOURCE_NAME.test(source.name)) fail(at('name'), `${show(source.name)} is not a source name (lowercase letters, digits, ".", "_" and "-"; it names /etc/apt/sources.list.d/<name>.sources)`);
  if (!source.uris.length) fail(at('uris'), 'is empty; give the repository URL (e.g. https://repo.example.com/debian)');
  source.uris.forEach((uri, j) => URI.test(uri) || fail(at('uris', j), `${show(uri)} is not a repository URL (http://, https:// or file://)`));
  if (!source.suites.length) fail(at('suites'), 'is empty; give a suite (e.g. trixie, stable, or "./" for a flat repository)');
  source.suites.forEach((suite, j) => /^\S+$/.test(suite) || fail(at('suites', j), `${show(suite)} is not a suite (one word per list item)`));
  const flat = source.suites.some((s) => s.endsWith('/'));
  if (flat && source.components?.length) fail(at('components'), 'must be empty for a flat repository (a suite ending in "/")');
  source.components?.forEach((c, j) => /^[A-Za-z0-9][A-Za-z0-9/._-]*$/.test(c) || fail(at('components', j), `${show(c)} is not a component (e.g. main, contrib)`));
  const key = aptKey(source.key, origin);
  if ('problem' in key) fail(at('key'), `${source.key.startsWith(ARMORED) ? 'the armored text' : show(source.key)} ${key.problem}`);
}

/** The source's key, inline or read from its file in the recipe's (or layer's) folder. */
export function aptKey(key: string, origin: Pick<Origin, 'folder' | 'name'>): KeyCheck {
  if (key.startsWith(ARMORED)) return withFix(checkPublicKey(Buffer.from(key)));
  const found = resolveInside(origin.folder, key, origin.name === 'recipe' ? 'recipe' : 'layer');
  if ('error' in found) return { problem: found.error };
  if (found.kind !== 'file') return { problem: 'is a directory, not a key file' };
  return withFix(checkPublicKey(readFileSync(found.path)));
}

function withFix(check: KeyCheck): KeyCheck {
  return 'problem' in check ? { problem: `is not an OpenPGP public key: it ${check.problem}` } : check;
}
