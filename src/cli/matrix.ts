/**
 * `kiln build --matrix KEY=V1,V2 [--matrix ...]`: one recipe, several builds. `arch` replaces the
 * recipe's architecture and `release` its distro.release; any other key is a recipe variable (as
 * with --set). Several keys build every combination. Each variant has a label that names its
 * output folder. Pure.
 */
import { UserError } from '../errors.js';
import { RELEASE_NAMES } from '../distro/releases.js';

export interface Variant {
  /** `arm64`, `arm64-rpi4`: the variant's values joined, its output folder under the usual one. */
  label: string;
  arch?: string;
  release?: string;
  set: Record<string, string>;
}

/** Keys that replace a recipe setting rather than set a variable. */
const SETTINGS = ['arch', 'release'] as const;
type Setting = (typeof SETTINGS)[number];
const isSetting = (key: string): key is Setting => (SETTINGS as readonly string[]).includes(key);

export function parseMatrix(entries: readonly string[]): Variant[] {
  let variants: Variant[] = [{ label: '', set: {} }];
  const keys = new Set<string>();
  for (const entry of entries) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(entry);
    const values = m?.[2]?.split(',').map((v) => v.trim()) ?? [];
    if (!m || values.some((v) => !/^[A-Za-z0-9._-]+$/.test(v))) {
      throw new UserError(`--matrix ${entry}: expected KEY=VALUE,VALUE (e.g. --matrix arch=amd64,arm64); values are letters, digits, ".", "_" and "-"`);
    }
    const key = m[1] ?? '';
    if (keys.has(key)) throw new UserError(`--matrix ${entry}: ${key} is given twice; list all its values in one --matrix`);
    if (new Set(values).size !== values.length) throw new UserError(`--matrix ${entry}: a value is listed twice`);
    const unknown = key === 'release' ? values.find((v) => !RELEASE_NAMES.includes(v)) : undefined;
    if (unknown !== undefined) throw new UserError(`--matrix ${entry}: "${unknown}" is not a Debian release kiln builds (${RELEASE_NAMES.join(', ')})`);
    keys.add(key);
    variants = variants.flatMap((v) =>
      values.map((value): Variant => ({
        ...v,
        label: v.label ? `${v.label}-${value}` : value,
        ...(isSetting(key) ? { [key]: value } : {}),
        set: isSetting(key) ? v.set : { ...v.set, [key]: value },
      })),
    );
  }
  return variants;
}
