/**
 * `packages`, `modules`, `groups` and `containers`: Fedora/RHEL package names become Debian's.
 * The table holds only common names whose Debian package is called differently; every other name
 * passes through unchanged (most names of libraries and tools agree), and the mirror check before
 * the build names any package Debian does not have.
 */
import type { KeyPath } from '../recipe/source.js';
import type { Translation } from './context.js';

/** Fedora name → Debian name; null: nothing to install on Debian (what it gives is there already). */
export const PACKAGE_NAMES: Readonly<Record<string, string | null>> = {
  'vim-enhanced': 'vim',
  'vim-minimal': 'vim-tiny',
  httpd: 'apache2',
  'openssh-clients': 'openssh-client',
  NetworkManager: 'network-manager',
  iproute: 'iproute2',
  iputils: 'iputils-ping',
  'bind-utils': 'bind9-dnsutils',
  'procps-ng': 'procps',
  cronie: 'cron',
  'nfs-utils': 'nfs-common',
  'shadow-utils': 'passwd',
  'postgresql-server': 'postgresql',
  redis: 'redis-server',
  'moby-engine': 'docker.io',
  'python3-devel': 'python3-dev',
  'openssl-devel': 'libssl-dev',
  'glibc-langpack-en': 'locales',
  'glibc-all-langpacks': 'locales-all',
  'kernel-tools': 'linux-cpupower',
  'dhcp-client': 'isc-dhcp-client',
  // The package manager and the kernel come with every kiln image (kernel.package names the kernel).
  dnf: null,
  yum: null,
  rpm: null,
  kernel: null,
  'kernel-core': null,
  'kernel-modules': null,
};

/** Package groups (`@name`, `[[groups]]`) → Debian packages; null: minbase and kiln's defaults cover it. */
export const GROUP_PACKAGES: Readonly<Record<string, readonly string[] | null>> = {
  core: null,
  'minimal-environment': null,
  'development-tools': ['build-essential'],
  'c-development': ['build-essential'],
  'container-management': ['podman'],
  'headless-management': ['cockpit'],
};

const GLOB = /[*?[\]]/;

export function translatePackages(t: Translation, bp: Record<string, unknown>): void {
  for (const [pkg, i] of t.tables(['packages'], bp.packages, ['name', 'version'])) {
    const path = ['packages', i];
    const name = t.required(path, pkg, 'name');
    const version = t.str([...path, 'version'], pkg.version);
    if (name === undefined) continue;
    if (name.startsWith('@')) {
      group(t, [...path, 'name'], name.slice(1));
      continue;
    }
    if (GLOB.test(name)) {
      t.refuse([...path, 'name'], `${JSON.stringify(name)}: apt installs packages by exact name, not by pattern (list the packages)`);
      continue;
    }
    const mapped = name in PACKAGE_NAMES ? PACKAGE_NAMES[name] : name;
    if (mapped === null || mapped === undefined) {
      t.header.push(`package ${name}: not listed, every kiln image has its equivalent (${name.startsWith('kernel') ? 'kernel.package' : 'apt'})`);
      continue;
    }
    const pin = versionPin(t, [...path, 'version'], version);
    if (pin === false) continue;
    const notes = [mapped === name ? '' : `Fedora's ${name}`, pin ? `pinned: the blueprint's version ${pin}; Debian's versions differ from Fedora's` : ''].filter(Boolean);
    add(t, pin ? `${mapped}=${pin}` : mapped, path, notes.join('; '));
  }
  for (const key of ['modules', 'enabled_modules'] as const) {
    if (bp[key] === undefined) continue;
    if (!Array.isArray(bp[key])) t.refuse([key], `expected a list of tables, got ${typeof bp[key]}`);
    else if (bp[key].length) t.refuse([key], 'DNF modules have no Debian equivalent (list the packages you need in [[packages]])');
  }
  for (const [g, i] of t.tables(['groups'], bp.groups, ['name'])) {
    const name = t.required(['groups', i], g, 'name');
    if (name !== undefined) group(t, ['groups', i, 'name'], name);
  }
  if (bp.containers !== undefined && (!Array.isArray(bp.containers) || bp.containers.length)) {
    t.refuse(['containers'], 'embedding container images has no kiln equivalent yet (pull them on first boot with a systemd unit, or build the image with outputs: oci)');
  }
}

/** The version to pin, undefined for any version, false when refused. */
function versionPin(t: Translation, path: KeyPath, version: string | undefined): string | false | undefined {
  if (version === undefined || version === '' || version === '*') return undefined;
  if (GLOB.test(version)) {
    t.refuse(path, `${JSON.stringify(version)}: apt pins exact versions only; give a Debian version (e.g. "2.4.62-1") or "*" for any`);
    return false;
  }
  return version;
}

function group(t: Translation, path: KeyPath, name: string): void {
  const packages = GROUP_PACKAGES[name];
  if (packages === undefined) {
    t.refuse(path, `package group "${name}" has no Debian equivalent (list its Debian packages in [[packages]]; groups kiln knows: ${Object.keys(GROUP_PACKAGES).join(', ')})`);
  } else if (packages === null) {
    t.header.push(`package group ${name}: Debian's minbase with kiln's defaults is its equivalent`);
  } else {
    for (const p of packages) add(t, p, path, `from the package group ${name}`);
  }
}

function add(t: Translation, name: string, from: KeyPath, note: string): void {
  const list = t.get(['packages']);
  if (Array.isArray(list) && list.includes(name)) return;
  t.push(['packages'], name, from, note || undefined);
}
