/** The installed packages of an image, from its dpkg database (`/var/lib/dpkg/status`). Pure. */

export interface DpkgPackage {
  name: string;
  version: string;
  arch: string;
  source: string;
  sourceVersion: string;
  maintainer: string;
}

/** deb822 paragraphs: `Field: value`, continuation lines start with a space. */
export function paragraphs(text: string): Map<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      let last: string | undefined;
      for (const line of block.split('\n')) {
        if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last) ?? ''}\n${line.trim()}`);
        else {
          const at = line.indexOf(':');
          if (at <= 0) continue;
          last = line.slice(0, at).toLowerCase();
          fields.set(last, line.slice(at + 1).trim());
        }
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

/** Installed packages, sorted by name and architecture. `Source: glibc (2.36-9)` gives the source version. */
export function parseStatus(text: string): DpkgPackage[] {
  return paragraphs(text)
    .filter((p) => p.get('status') === 'install ok installed')
    .map((p) => {
      const name = p.get('package') ?? '';
      const version = p.get('version') ?? '';
      const source = /^(\S+)(?:\s+\((.+)\))?$/.exec(p.get('source') ?? '');
      return { name, version, arch: p.get('architecture') ?? '', source: source?.[1] ?? name, sourceVersion: source?.[2] ?? version, maintainer: p.get('maintainer') ?? '' };
    })
    .sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1));
}
