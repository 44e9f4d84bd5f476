/**
 * The customizations that set one system value each: hostname, kernel, timezone, locale, firewall,
 * services and sshd. Names that differ on Debian (units, firewall port names) go through small
 * tables; names not in them pass through.
 */
import type { KeyPath } from '../recipe/source.js';
import type { Table, Translation } from './context.js';

/** Fedora unit name → Debian's (Debian's sshd.service is only an alias, which systemctl refuses to enable). */
export const UNIT_NAMES: Readonly<Record<string, string>> = {
  sshd: 'ssh',
  httpd: 'apache2',
  chronyd: 'chrony',
  crond: 'cron',
  redis: 'redis-server',
};

/** Service names composer takes in firewall ports ("imap:tcp"), as numbers (kiln's ports are numeric). */
export const PORT_NAMES: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  smtp: 25,
  dns: 53,
  domain: 53,
  http: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  ldap: 389,
  https: 443,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  cockpit: 9090,
};

export function translateHostname(t: Translation, path: KeyPath, value: unknown): void {
  const hostname = t.str(path, value);
  if (hostname !== undefined) t.set(['hostname'], hostname, path);
}

export function translateKernel(t: Translation, path: KeyPath, value: unknown): void {
  const kernel = t.keys(path, value, ['name', 'append']);
  if (!kernel) return;
  const name = t.str([...path, 'name'], kernel.name);
  if (name === 'kernel-rt') t.set(['kernel', 'package'], `linux-image-rt-${t.arch}`, [...path, 'name'], "Fedora's kernel-rt: Debian's PREEMPT_RT kernel");
  else if (name !== undefined && name.startsWith('linux-image-')) t.set(['kernel', 'package'], name, [...path, 'name']);
  else if (name !== undefined && name !== 'kernel' && name !== '') {
    t.refuse([...path, 'name'], `"${name}" is not a Debian kernel package (kernel is the default; kernel-rt, or a Debian name such as linux-image-cloud-${t.arch})`);
  }
  const append = t.str([...path, 'append'], kernel.append);
  const args = append?.split(/\s+/).filter(Boolean) ?? [];
  if (args.length) t.set(['kernel', 'cmdline'], args, [...path, 'append'], 'from kernel.append, one argument per item');
}

export function translateTimezone(t: Translation, path: KeyPath, value: unknown): void {
  const tz = t.keys(path, value, ['timezone', 'ntpservers']);
  if (!tz) return;
  const zone = t.str([...path, 'timezone'], tz.timezone);
  if (zone !== undefined) t.set(['timezone'], zone, [...path, 'timezone']);
  const servers = t.strList([...path, 'ntpservers'], tz.ntpservers);
  if (servers.length) t.set(['ntp'], servers, [...path, 'ntpservers'], 'systemd-timesyncd servers (composer configures chrony)');
}

export function translateLocale(t: Translation, path: KeyPath, value: unknown): void {
  const locale = t.keys(path, value, ['languages', 'keyboard']);
  if (!locale) return;
  const languages = t.strList([...path, 'languages'], locale.languages);
  const first = languages[0];
  if (first !== undefined) {
    // A bare "en_US" is ISO-8859-1 on Debian; composer's languages mean UTF-8.
    const name = /^[a-z]{2,3}_[A-Z]{2}$/.test(first) ? `${first}.UTF-8` : first;
    const notes = [name === first ? '' : `the blueprint's ${first}`, languages.length > 1 ? `the first of ${languages.join(', ')} (as in composer, the others are not set)` : ''];
    t.set(['locale'], name, [...path, 'languages', 0], notes.filter(Boolean).join('; ') || undefined);
  }
  const keyboard = t.str([...path, 'keyboard'], locale.keyboard);
  if (keyboard !== undefined) {
    const xkb = xkbOf(keyboard);
    t.set(['keyboard'], xkb.variant === undefined && xkb.layout === keyboard ? keyboard : xkb, [...path, 'keyboard'], xkb.layout === keyboard ? undefined : `the console keymap ${keyboard} as its XKB layout`);
  }
}

/** composer takes a console keymap ("de-latin1-nodeadkeys"); Debian's keyboard is XKB: layout and variant. */
function xkbOf(keymap: string): { layout: string; variant?: string } {
  const m = /^([a-z]{2,3})-(.+)$/.exec(keymap);
  const layout = m?.[1] ?? keymap;
  const variant = m?.[2]?.replace(/^latin1-?/, '');
  const xkbLayout = layout === 'uk' ? 'gb' : layout;
  return variant ? { layout: xkbLayout, variant } : { layout: xkbLayout };
}

export function translateFirewall(t: Translation, path: KeyPath, value: unknown): void {
  const fw = t.keys(path, value, ['ports', 'services', 'zones']);
  if (!fw) return;
  t.strList([...path, 'ports'], fw.ports).forEach((port, i) => {
    const from = [...path, 'ports', i];
    const m = /^([a-z][a-z0-9-]*|\d{1,5}(?:-\d{1,5})?):(tcp|udp)$/.exec(port);
    const [name = '', proto = ''] = m ? [m[1], m[2]] : [];
    const number = /^\d/.test(name) ? name : PORT_NAMES[name];
    if (!m) t.refuse(from, `"${port}" is not a port (PORT:tcp or PORT:udp, e.g. "22:tcp", "60000-60010:udp", "https:tcp")`);
    else if (number === undefined) t.refuse(from, `"${name}" is not a port name kiln knows (give its number, e.g. "8080:${proto}"; names: ${Object.keys(PORT_NAMES).join(', ')})`);
    else t.push(['firewall', 'ports'], `${number}/${proto}`, from, number === name ? undefined : `the blueprint's ${port}`);
  });
  if (fw.services !== undefined) {
    const services = t.keys([...path, 'services'], fw.services, ['enabled', 'disabled']);
    for (const [key, to] of [['enabled', 'enable'], ['disabled', 'disable']] as const) {
      const names = t.strList([...path, 'services', key], services?.[key]);
      if (names.length) t.set(['firewall', 'services', to], names, [...path, 'services', key], 'firewalld service names');
    }
  }
  if (Array.isArray(fw.zones) ? fw.zones.length : fw.zones !== undefined) {
    t.refuse([...path, 'zones'], "firewall zones have no equivalent in kiln's firewall key (one zone: open ports and services for every source)");
  }
}

export function translateServices(t: Translation, path: KeyPath, value: unknown): void {
  const services = t.keys(path, value, ['enabled', 'disabled', 'masked']);
  if (!services) return;
  for (const [key, to] of [['enabled', 'enable'], ['disabled', 'disable'], ['masked', 'mask']] as const) {
    t.strList([...path, key], services[key]).forEach((unit, i) => {
      const [base = unit, suffix = ''] = /^(.*?)(\.service)?$/.exec(unit)?.slice(1) ?? [];
      const mapped = UNIT_NAMES[base];
      t.push(['services', to], mapped ? `${mapped}${suffix}` : unit, [...path, key, i], mapped ? `Fedora's ${unit}` : undefined);
    });
  }
}

/** sshd's settings become a drop-in of the image's OpenSSH server (Debian's sshd_config includes sshd_config.d). */
export function translateSshd(t: Translation, path: KeyPath, value: unknown): void {
  const sshd = t.keys(path, value, ['password_authentication', 'client_alive_interval', 'permit_root_login', 'kbd_interactive_authentication']);
  if (!sshd) return;
  const yesNo = (key: string) => {
    const v = t.bool([...path, key], sshd[key]);
    return v === undefined ? undefined : v ? 'yes' : 'no';
  };
  const lines = [
    ['PasswordAuthentication', yesNo('password_authentication')],
    ['ClientAliveInterval', t.int([...path, 'client_alive_interval'], sshd.client_alive_interval)],
    ['PermitRootLogin', permitRootLogin(t, [...path, 'permit_root_login'], sshd.permit_root_login)],
    ['KbdInteractiveAuthentication', yesNo('kbd_interactive_authentication')],
  ].filter((l): l is [string, string | number] => l[1] !== undefined);
  if (!lines.length) return;
  const content = lines.map(([k, v]) => `${k} ${v}\n`).join('');
  t.push(['files'], { dst: '/etc/ssh/sshd_config.d/50-blueprint.conf', content, mode: '0644' }, path, 'from [customizations.sshd]');
}

function permitRootLogin(t: Translation, path: KeyPath, value: unknown): string | undefined {
  const v = t.str(path, value);
  if (v === undefined || ['yes', 'no', 'prohibit-password', 'forced-commands-only'].includes(v)) return v;
  t.refuse(path, `"${v}" is not a PermitRootLogin value (yes, no, prohibit-password, forced-commands-only)`);
  return undefined;
}

/** Sections with no kiln equivalent; `lenient` where dropping them leaves the image doing the same. */
export const REFUSED: Readonly<Record<string, { why: string; lenient: boolean }>> = {
  installation_device: { why: 'is for installer images; kiln writes the disk image itself', lenient: true },
  fdo: { why: 'FIDO Device Onboarding has no Debian packaging kiln could configure', lenient: false },
  openscap: { why: 'OpenSCAP profiles are written for RHEL and Fedora; Debian has no SCAP content to apply (harden with files, services and a customize hook)', lenient: false },
  ignition: { why: 'Ignition provisions Fedora CoreOS and RHEL for Edge; on Debian use cloud-init (the cloud-init package and a NoCloud seed in files)', lenient: false },
  installer: { why: 'configures the Anaconda installer, which kiln images do not use', lenient: true },
  rpm: { why: 'imports keys into the RPM database, which a Debian image does not have (repository keys go in repositories.gpgkeys)', lenient: true },
  rhsm: { why: 'Red Hat Subscription Manager has no meaning on Debian', lenient: true },
  cacerts: { why: 'adding CA certificates changes what the image trusts and has no kiln key yet: add each PEM as a file /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates in a customize hook', lenient: false },
  'containers-storage': { why: 'says where embedded containers go, and kiln embeds none', lenient: true },
  firstboot: { why: 'first-boot scripts have no kiln key yet: ship a systemd unit in files and enable it in services', lenient: false },
  dnf: { why: 'configures DNF, which a Debian image does not have', lenient: true },
  iso: { why: 'applies to ISO images; kiln makes disk images and archives', lenient: true },
};

export function translateFips(t: Translation, path: KeyPath, value: unknown): void {
  if (t.bool(path, value)) t.refuse(path, 'FIPS mode needs FIPS-validated crypto modules, which Debian does not ship');
}

export function translatePartitioningMode(t: Translation, path: KeyPath, value: unknown): void {
  const mode = t.str(path, value);
  if (mode === undefined || mode === 'raw') return;
  if (mode === 'lvm' || mode === 'auto-lvm') t.refuse(path, `"${mode}": kiln writes plain partitions (no LVM); the file systems are the same`, { lenient: true });
  else t.refuse(path, `"${mode}" is not a partitioning mode (raw, lvm, auto-lvm)`);
}

export type Section = (t: Translation, path: KeyPath, value: unknown, customizations: Table) => void;
