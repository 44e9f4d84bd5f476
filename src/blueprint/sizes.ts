/**
 * composer's sizes (osbuild images, pkg/datasizes): a byte count, or a number with kB, MB, GB, TB
 * (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024). kiln's sizes are powers of 1024 in
 * whole units, so a size becomes whole GiB when it is one, else MiB rounded up (never smaller).
 */
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  kB: 1000,
  KiB: 1024,
  MB: 1000 ** 2,
  MiB: 1024 ** 2,
  GB: 1000 ** 3,
  GiB: 1024 ** 3,
  TB: 1000 ** 4,
  TiB: 1024 ** 4,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*(kB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Bytes, or why the value is not a size. */
export function parseBlueprintSize(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `${value} is not a size: a number of bytes is whole`;
    return value > 0 ? value : `${value} is not a size: it must be more than 0 bytes`;
  }
  if (typeof value !== 'string') return 'expected a size (a number of bytes, or a string such as "20 GiB")';
  const m = SIZE.exec(value.trim());
  if (!m) return `"${value}" is not a size (a number of bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. "20 GiB")`;
  const bytes = Math.round(Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1));
  return bytes > 0 ? bytes : `"${value}" is not a size: it must be more than 0 bytes`;
}

export function recipeSize(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB}G` : `${Math.ceil(bytes / MiB)}M`;
}

/** A comment for a size that changed form; none when a binary-unit size became the same number. */
export function sizeNote(original: unknown, bytes: number): string | undefined {
  const exact = bytes % MiB === 0;
  if (exact && typeof original === 'string' && /iB$/.test(original.trim())) return undefined;
  const text = typeof original === 'string' ? `"${original}"` : `${bytes} bytes`;
  return `the blueprint's ${text}${exact ? '' : ', rounded up to whole MiB'}`;
}
