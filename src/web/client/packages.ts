/**
 * The package list of a build: build.json's packages (name, version, arch, which layers asked for
 * each) joined with the licences in its CycloneDX SBOM; and two builds' lists compared the way
 * `kiln diff` does (by name and arch). Pure: JSON in, rows out.
 */

export interface PackageRow {
  name: string;
  version: string;
  arch: string;
  layers: string[];
  license: string;
}

export interface PackageChanges {
  added: PackageRow[];
  removed: PackageRow[];
  changed: { name: string; arch: string; from: string; to: string }[];
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string => (typeof x === 'string' ? x : '');

/** `name:arch` → licence expression, from a CycloneDX 1.6 document as kiln writes it. */
export function licencesOf(cdx: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const components = isObject(cdx) && Array.isArray(cdx.components) ? (cdx.components as unknown[]) : [];
  for (const c of components) {
    if (!isObject(c)) continue;
    const props = Array.isArray(c.properties) ? (c.properties as unknown[]).filter(isObject) : [];
    const arch = str(props.find((p) => p.name === 'kiln:deb:architecture')?.value);
    const licences = Array.isArray(c.licenses) ? (c.licenses as unknown[]).filter(isObject) : [];
    const expression = licences.map((l) => str(l.expression) || (isObject(l.license) ? str(l.license.id) || str(l.license.name) : '')).filter(Boolean).join(' AND ');
    out.set(`${str(c.name)}:${arch}`, expression);
  }
  return out;
}

/** The rows of build.json's `packages`, with licences from `cdx` when given. */
export function packageRows(buildJson: unknown, cdx?: unknown): PackageRow[] {
  const packages = isObject(buildJson) && Array.isArray(buildJson.packages) ? (buildJson.packages as unknown[]).filter(isObject) : [];
  const licences = cdx === undefined ? new Map<string, string>() : licencesOf(cdx);
  return packages.map((p) => {
    const row = { name: str(p.name), version: str(p.version), arch: str(p.arch), layers: Array.isArray(p.layers) ? p.layers.map(str) : [] };
    return { ...row, license: licences.get(`${row.name}:${row.arch}`) ?? licences.get(`${row.name}:`) ?? '' };
  });
}

/** Rows whose name, version, licence or layers contain every word of `query`. */
export function filterPackages(rows: readonly PackageRow[], query: string): PackageRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...rows];
  return rows.filter((r) => {
    const text = `${r.name} ${r.version} ${r.arch} ${r.license} ${r.layers.join(' ')}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

const key = (p: PackageRow) => `${p.name}:${p.arch}`;

export function comparePackages(a: readonly PackageRow[], b: readonly PackageRow[]): PackageChanges {
  const before = new Map(a.map((p) => [key(p), p]));
  const after = new Map(b.map((p) => [key(p), p]));
  return {
    added: b.filter((p) => !before.has(key(p))),
    removed: a.filter((p) => !after.has(key(p))),
    changed: b.flatMap((p) => {
      const old = before.get(key(p));
      return old && old.version !== p.version ? [{ name: p.name, arch: p.arch, from: old.version, to: p.version }] : [];
    }),
  };
}
