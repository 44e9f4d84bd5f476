/**
 * An osbuild-composer blueprint (TOML) → a kiln recipe (plain data, with the comments and origins
 * of its values). Every key of the format is translated or refused at its line with the reason;
 * refusals of keys whose loss leaves the image doing the same become warnings with --lenient.
 */
import { parse, TomlError } from 'smol-toml';
import { ARCH_NAMES } from '../arch/table.js';
import { DEFAULT_RELEASE, RELEASES } from '../distro/releases.js';
import { UserError } from '../errors.js';
import type { KeyPath } from '../recipe/source.js';
import { Translation, type Table } from './context.js';
import { translateDisk } from './disk.js';
import { translateFsNodes } from './fsnodes.js';
import { imageType } from './image-types.js';
import { translatePackages } from './packages.js';
import { translateRepositories } from './repositories.js';
import * as system from './system.js';
import { scanToml } from './toml-positions.js';
import { translateUsersAndGroups } from './users.js';

export interface BlueprintOptions {
  /** Refusals of keys that do not change what the image does become warnings. */
  lenient?: boolean;
  /** A composer image type (qcow2, raw, vmdk, vhd, tar, container, ...): the recipe's outputs. */
  type?: string;
}

const TOP_KEYS = ['name', 'description', 'version', 'distro', 'architecture', 'minimal', 'packages', 'modules', 'enabled_modules', 'groups', 'containers', 'customizations'];

/** One customization each; those handled together (users, disk, files) run after these. */
const SECTIONS: Readonly<Record<string, system.Section | null>> = {
  hostname: system.translateHostname,
  kernel: system.translateKernel,
  timezone: system.translateTimezone,
  locale: system.translateLocale,
  firewall: system.translateFirewall,
  services: system.translateServices,
  sshd: system.translateSshd,
  fips: system.translateFips,
  partitioning_mode: system.translatePartitioningMode,
  user: null,
  sshkey: null,
  group: null,
  filesystem: null,
  disk: null,
  files: null,
  directories: null,
  repositories: null,
};

const ARCHES: Readonly<Record<string, string>> = { x86_64: 'amd64', aarch64: 'arm64', i686: 'i386', armhfp: 'armhf' };

/** The translation of `text`; throws a UserError listing every refusal (and any TOML syntax error). */
export function translateBlueprint(file: string, text: string, options: BlueprintOptions = {}): Translation {
  const type = options.type === undefined ? undefined : imageType(options.type);
  let bp: Table;
  try {
    bp = parse(text, { maxDepth: 32, unsafeKeyBehaviour: 'throw' });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const message = (err.message.split('\n')[0] ?? err.message).replace(/^Invalid TOML document:\s*/, '');
    throw UserError.of([{ file, line: err.line, col: err.column, text: text.split('\n')[err.line - 1]?.replace(/\r$/, '') ?? '', message: `${message} (the file is not valid TOML)` }]);
  }
  const positions = scanToml(text);
  const t = new Translation(file, positions, options.lenient ?? false, DEFAULT_RELEASE);
  t.keys([], bp, TOP_KEYS);

  const name = t.str(['name'], bp.name);
  if (name === undefined && bp.name === undefined) t.refuse([], '"name" is required (e.g. name = "my-image")');
  if (name !== undefined) {
    const clean = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
    if (!clean) t.refuse(['name'], `"${name}" has no letter or digit to name the image by`);
    else t.set(['name'], clean, ['name'], clean === name ? undefined : `the blueprint's name "${name}"`);
  }
  const description = t.str(['description'], bp.description);
  if (description) t.header.unshift(...description.split('\n').map((l) => l.trimEnd()));
  const version = t.str(['version'], bp.version);
  if (version) t.header.push(`blueprint version ${version}`);
  t.bool(['minimal'], bp.minimal);
  translateDistro(t, ['distro'], bp.distro);
  translateArch(t, ['architecture'], bp.architecture);
  translatePackages(t, bp);

  if (bp.customizations !== undefined) {
    const c = t.keys(['customizations'], bp.customizations, [...Object.keys(SECTIONS), ...Object.keys(system.REFUSED)].sort());
    if (c) customizations(t, c);
  }
  if (type) {
    t.set(['outputs'], type.outputs, [], `--type ${options.type ?? ''}${type.note ? `: ${type.note}` : ''}`);
    if (type.container) {
      t.set(['kernel', 'package'], 'none', []);
      t.set(['bootloader'], 'none', []);
    }
  }
  if (t.refusals.length) throw UserError.of(t.refusals);
  return t;
}

function customizations(t: Translation, c: Table): void {
  for (const [key, value] of Object.entries(c)) {
    const path = ['customizations', key];
    const section = SECTIONS[key];
    const refused = system.REFUSED[key];
    if (section) section(t, path, value, c);
    else if (refused) t.refuse(path, refused.why, { lenient: refused.lenient });
  }
  translateUsersAndGroups(t, c);
  translateDisk(t, c);
  translateFsNodes(t, c);
  translateRepositories(t, c);
}

function translateDistro(t: Translation, path: KeyPath, value: unknown): void {
  const distro = t.str(path, value);
  if (distro === undefined || distro === '') return;
  const m = /^debian-(.+)$/.exec(distro);
  const byNumber = Object.entries(RELEASES).find(([, info]) => info.version === m?.[1])?.[0];
  const release = byNumber ?? (m?.[1] !== undefined && m[1] in RELEASES ? m[1] : undefined);
  if (release) {
    t.release = release;
    t.set(['distro'], { name: 'debian', release }, path, `the blueprint's ${distro}`);
    return;
  }
  const known = Object.entries(RELEASES).map(([code, info]) => (info.version ? `debian-${info.version}` : `debian-${code}`));
  t.refuse(path, `"${distro}": kiln builds Debian (${known.join(', ')}; or leave distro out for Debian ${DEFAULT_RELEASE}; --lenient builds that)`, { lenient: true });
}

function translateArch(t: Translation, path: KeyPath, value: unknown): void {
  const arch = t.str(path, value);
  if (arch === undefined) return;
  const debian = ARCHES[arch] ?? arch;
  if (!(ARCH_NAMES as readonly string[]).includes(debian)) {
    t.refuse(path, `"${arch}" is not an architecture kiln builds (${Object.keys(ARCHES).join(', ')})`);
    return;
  }
  t.arch = debian;
  t.set(['arch'], debian, path, debian === arch ? undefined : `the blueprint's ${arch}`);
}
