/**
 * The compiler's part for the keys that shape the running system (groups and account fields,
 * masked units, directories, keyboard, NTP, firewall, extra apt repositories, version pins):
 * each becomes options of a stage only when the recipe sets it, so recipes without these keys
 * keep their stage ids (and their cached stages).
 */
import type { LoadedRecipe, Recipe } from '../recipe/index.js';
import { aptKey, PORT } from '../recipe/validate-system.js';
import type { OptionsOf } from '../stages/registry.js';

type Bootstrap = OptionsOf<'bootstrap'>;
type User = OptionsOf<'users'>['users'][number];

/** The ports firewalld's default zone (public) opens; `firewall.services.disable` closes them. */
export const FIREWALL_DEFAULT_SERVICES = ['ssh'];

/** Packages the new keys need in the image: kiln adds them, as it adds the kernel. */
export function systemPackages(r: Recipe): string[] {
  const out: string[] = [];
  if (r.ntp.length) out.push('systemd-timesyncd');
  // netbase: /etc/services, where the firewall stage finds a service's ports.
  if (r.firewall) out.push('nftables', ...(openServices(r).length ? ['netbase'] : []));
  return out;
}

export function systemExtras(r: Recipe): Pick<OptionsOf<'system'>, 'keyboard' | 'ntp'> {
  return { ...(r.keyboard ? { keyboard: r.keyboard } : {}), ...(r.ntp.length ? { ntp: r.ntp } : {}) };
}

export function userExtras(u: Recipe['users'][number]): Pick<User, 'gid' | 'home' | 'description'> {
  return {
    ...(u.gid === undefined ? {} : { gid: u.gid }),
    ...(u.home === undefined ? {} : { home: u.home }),
    ...(u.description === undefined ? {} : { description: u.description }),
  };
}

export function groupsOption(r: Recipe): Pick<OptionsOf<'users'>, 'groups'> {
  return r.groups.length ? { groups: r.groups.map((g) => ({ name: g.name, ...(g.gid === undefined ? {} : { gid: g.gid }) })) } : {};
}

export function maskOption(r: Recipe): Pick<OptionsOf<'services'>, 'mask'> {
  return r.services.mask.length ? { mask: r.services.mask } : {};
}

export function directoriesOptions(r: Recipe): OptionsOf<'directories'> {
  return { items: r.directories.map((d) => ({ path: d.path, ...(d.mode === undefined ? {} : { mode: d.mode }), ...(d.owner === undefined ? {} : { owner: d.owner }) })) };
}

function openServices(r: Recipe): string[] {
  const fw = r.firewall;
  if (!fw) return [];
  return [...new Set([...FIREWALL_DEFAULT_SERVICES, ...fw.services.enable])].filter((s) => !fw.services.disable.includes(s));
}

export function firewallOptions(r: Recipe): OptionsOf<'firewall'> {
  const ports = (r.firewall?.ports ?? []).map((p) => {
    const [, low = '', high, protocol] = PORT.exec(p) ?? [];
    return { protocol: protocol === 'udp' ? ('udp' as const) : ('tcp' as const), port: high === undefined ? low : `${low}-${high}` };
  });
  return { ports, services: openServices(r) };
}

/** Extra repositories with their keys read (the content enters the stage id). */
export function bootstrapExtras(loaded: LoadedRecipe, folders: Record<string, string>): Pick<Bootstrap, 'aptSources'> {
  const r = loaded.recipe;
  const aptSources = r.apt.sources.map((s, i) => {
    const from = loaded.origins.of(['apt', 'sources', i]).name;
    const key = aptKey(s.key, { name: from, folder: folders[from] ?? '' });
    if ('problem' in key) throw new Error(`compile: the key of apt source ${s.name} was validated but ${key.problem}`);
    const flat = s.suites.some((suite) => suite.endsWith('/'));
    return { name: s.name, uris: s.uris, suites: s.suites, components: s.components ?? (flat ? [] : ['main']), key: key.key.armored, fingerprint: key.key.fingerprint };
  });
  return aptSources.length ? { aptSources } : {};
}
