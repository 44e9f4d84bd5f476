/**
 * `[[customizations.repositories]]` become `apt.sources`. An RPM repository is one URL; an apt
 * source also has suites and components, so a baseurl may be written as a sources.list line without
 * "deb" ("URL SUITE COMPONENT..."; "URL ./" for a flat repository). A bare URL gets the image's
 * release and main. A key is armored text, or (kiln's addition) a key file next to the blueprint:
 * kiln checks keys before the build and fetches nothing a build's result would depend on.
 */
import type { Table, Translation } from './context.js';
import { pathKey } from './toml-positions.js';

const KEYS = ['id', 'name', 'baseurls', 'gpgkeys', 'enabled', 'metalink', 'mirrorlist', 'priority', 'gpgcheck', 'repo_gpgcheck', 'sslverify', 'filename', 'module_hotfixes'];
const ARMORED = /^-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*-----END PGP PUBLIC KEY BLOCK-----\s*$/;

export function translateRepositories(t: Translation, c: Table): void {
  const base = ['customizations', 'repositories'];
  for (const [r, i] of t.tables(base, c.repositories, KEYS)) {
    const from = [...base, i];
    const at = (key: string) => [...from, key];
    const id = t.required(from, r, 'id');
    t.str(at('name'), r.name);
    t.str(at('filename'), r.filename);
    let ok = id !== undefined;
    for (const key of ['metalink', 'mirrorlist']) {
      if (r[key] === undefined) continue;
      t.refuse(at(key), 'apt has no metalinks or mirror lists: give the repository in baseurls');
      ok = false;
    }
    if (r.priority !== undefined) t.refuse(at('priority'), 'repository priorities (apt pinning) have no kiln key yet', { lenient: true });
    if (r.module_hotfixes !== undefined) t.refuse(at('module_hotfixes'), 'DNF modules have no Debian equivalent', { lenient: true });
    if (t.bool(at('gpgcheck'), r.gpgcheck) === false) {
      t.refuse(at('gpgcheck'), 'kiln installs only from signed repositories: give the repository\'s key in gpgkeys');
      ok = false;
    }
    t.bool(at('repo_gpgcheck'), r.repo_gpgcheck);
    if (t.bool(at('sslverify'), r.sslverify) === false) {
      t.refuse(at('sslverify'), 'apt verifies TLS certificates; use http:// (the signature protects the packages) or a certificate the image trusts');
      ok = false;
    }
    if (t.bool(at('enabled'), r.enabled) === false) {
      t.refuse(at('enabled'), 'a disabled repository is not used to build the image and apt sources have no disabled state', { lenient: true });
      continue;
    }
    const urls = t.strList(at('baseurls'), r.baseurls);
    if (!urls.length && r.metalink === undefined && r.mirrorlist === undefined) {
      t.refuse(from, '"baseurls" is required (apt needs the repository\'s URL)');
      ok = false;
    }
    const keys = t.strList(at('gpgkeys'), r.gpgkeys);
    const key = keys[0];
    if (key === undefined) {
      if (r.gpgcheck !== false) t.refuse(from, '"gpgkeys" is required: kiln installs only from signed repositories (give the armored public key)');
      ok = false;
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(key)) {
      t.refuse([...at('gpgkeys'), 0], 'kiln does not fetch keys from URLs: paste the armored key ("-----BEGIN PGP PUBLIC KEY BLOCK-----...") or name a key file next to the blueprint');
      ok = false;
    } else if (key.includes('-----BEGIN') && !ARMORED.test(key.trim())) {
      t.refuse([...at('gpgkeys'), 0], 'is not an armored OpenPGP public key ("-----BEGIN PGP PUBLIC KEY BLOCK-----" ... "-----END PGP PUBLIC KEY BLOCK-----")');
      ok = false;
    }
    if (keys.length > 1) {
      t.refuse([...at('gpgkeys'), 1], 'an apt source is signed by one key: give one');
      ok = false;
    }
    const lines = urls.map((u, j) => sourceLine(t, [...at('baseurls'), j], u));
    if (!ok || id === undefined || key === undefined || lines.some((l) => l === undefined)) continue;
    const parsed = lines.filter((l): l is SourceLine => l !== undefined);
    const first = parsed[0];
    if (!first) continue;
    if (parsed.some((l) => l.suites.join() !== first.suites.join() || l.components.join() !== first.components.join())) {
      t.refuse(at('baseurls'), 'the URLs of one repository must name the same suite and components');
      continue;
    }
    const name = id.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'blueprint';
    const armored = ARMORED.test(key.trim());
    const notes = [
      name === id ? '' : `the blueprint's id ${id}`,
      first.assumed ? `suite ${first.suites.join(' ')} and component main assumed (write the baseurl as "URL SUITE COMPONENT..." to say otherwise)` : '',
      armored ? '' : 'the key is a file next to the blueprint (kiln reads it; composer takes armored keys and URLs)',
    ];
    const components = first.components.length ? { components: first.components } : {};
    const to = t.push(['apt', 'sources'], { name, uris: parsed.map((l) => l.uri), suites: first.suites, ...components, key: armored ? `${key.trim()}\n` : key }, from, notes.filter(Boolean).join('; ') || undefined);
    t.origins.set(pathKey([...to, 'key']), [...at('gpgkeys'), 0]);
    t.origins.set(pathKey([...to, 'uris']), at('baseurls'));
  }
}

interface SourceLine {
  uri: string;
  suites: string[];
  components: string[];
  assumed: boolean;
}

function sourceLine(t: Translation, path: (string | number)[], text: string): SourceLine | undefined {
  const [uri = '', suite, ...components] = text.trim().split(/\s+/);
  if (!/^(https?|file):\/\/\S+$/.test(uri)) {
    t.refuse(path, `"${uri}" is not a repository URL apt reads (http://, https:// or file://)`);
    return undefined;
  }
  if (suite === undefined) return { uri, suites: [t.release], components: ['main'], assumed: true };
  // A flat repository ("URL ./") has a path for a suite and no components.
  if (!suite.endsWith('/') && !components.length) components.push('main');
  return { uri, suites: [suite], components, assumed: false };
}
