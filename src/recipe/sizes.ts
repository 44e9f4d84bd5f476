/** Size strings of the recipe: `<number><K|M|G|T>` (powers of 1024), `N%`, `rest`, `auto`. */
import type { SizeSpec } from '../disk/layout.js';

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)([KMGT])(?:i?B)?$/i;
const PERCENT = /^(\d+(?:\.\d+)?)%$/;

export const SIZE_HINT = 'examples: 512M, 2G, 30%, rest';

export function parseSize(text: string): SizeSpec | undefined {
  if (text === 'rest') return 'rest';
  const percent = PERCENT.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    return value > 0 && value <= 100 ? { percent: value } : undefined;
  }
  const size = SIZE.exec(text);
  if (!size) return undefined;
  const bytes = Math.round(Number(size[1]) * (UNITS[(size[2] ?? '').toUpperCase()] ?? 0));
  return bytes > 0 ? { bytes } : undefined;
}

/** disk.size: a fixed number of bytes or `auto`. */
export function parseDiskSize(text: string): number | 'auto' | undefined {
  if (text === 'auto') return 'auto';
  const spec = parseSize(text);
  return spec !== undefined && spec !== 'rest' && 'bytes' in spec ? spec.bytes : undefined;
}

/** An explicit partition start in bytes, for the layout. */
export function startOf(text: string | undefined): { start: number } | Record<string, never> {
  const spec = text === undefined ? undefined : parseSize(text);
  return spec !== undefined && spec !== 'rest' && 'bytes' in spec ? { start: spec.bytes } : {};
}
