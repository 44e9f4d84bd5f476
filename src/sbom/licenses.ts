/**
 * A package's license as an SPDX expression, read from its machine-readable (DEP-5) copyright
 * file: the License of every Files paragraph, Debian's short names mapped to SPDX ids, joined with
 * AND. A file that is not DEP-5, or a name with no SPDX id (e.g. public-domain), gives NOASSERTION:
 * better no answer than a wrong one.
 */
import parse from 'spdx-expression-parse';
import { paragraphs } from './dpkg.js';

/** Debian short names that differ from SPDX ids; GPL-style names get -only / -or-later below. */
const NAMES: Record<string, string> = {
  expat: 'MIT',
  mit: 'MIT',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  isc: 'ISC',
  zlib: 'Zlib',
  'apache-2.0': 'Apache-2.0',
  'apache-2': 'Apache-2.0',
  artistic: 'Artistic-1.0-Perl',
  'artistic-2.0': 'Artistic-2.0',
  'mpl-1.1': 'MPL-1.1',
  'mpl-2.0': 'MPL-2.0',
  'cc0-1.0': 'CC0-1.0',
  cc0: 'CC0-1.0',
  'bsl-1.0': 'BSL-1.0',
  'curl': 'curl',
  'openssl': 'OpenSSL',
  'ssleay': 'OpenSSL',
  'unicode-dfs-2016': 'Unicode-DFS-2016',
  'x11': 'X11',
  'python-2.0': 'Python-2.0',
  'psf-2': 'PSF-2.0',
};
const GPL_STYLE = /^(a?gpl|lgpl|gfdl)-?(\d(?:\.\d)?)(\+)?$/;

function spdxId(name: string): string | undefined {
  const key = name.toLowerCase();
  const gpl = GPL_STYLE.exec(key);
  if (gpl) {
    const family = (gpl[1] ?? '').toUpperCase();
    const version = gpl[2]?.includes('.') ? gpl[2] : `${gpl[2] ?? ''}.0`;
    return `${family}-${version}-${gpl[3] ? 'or-later' : 'only'}`;
  }
  return NAMES[key];
}

/** One DEP-5 License value (`GPL-2+ or Artistic`) as SPDX, or undefined if any part has no id. */
function expression(value: string): string | undefined {
  const words = value.split(/\s+(and|or)\s+/i);
  const out: string[] = [];
  for (const [i, word] of words.entries()) {
    if (i % 2 === 1) out.push(word.toUpperCase());
    else {
      const id = spdxId(word.replace(/,$/, '').trim());
      if (!id) return undefined;
      out.push(id);
    }
  }
  return out.length > 1 ? `(${out.join(' ')})` : out[0];
}

export function licenseOf(copyright: string | undefined): string {
  if (!copyright) return 'NOASSERTION';
  const [header, ...rest] = paragraphs(copyright);
  if (!header?.get('format')?.includes('copyright-format/1.0')) return 'NOASSERTION';
  const found = new Set<string>();
  for (const p of rest) {
    if (!p.has('files')) continue;
    const value = (p.get('license') ?? '').split('\n')[0]?.trim() ?? '';
    const spdx = value ? expression(value) : undefined;
    if (!spdx) return 'NOASSERTION';
    found.add(spdx);
  }
  if (!found.size) return 'NOASSERTION';
  const joined = [...found].sort().join(' AND ');
  try {
    parse(joined);
    return joined;
  } catch {
    return 'NOASSERTION';
  }
}
