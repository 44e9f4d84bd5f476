/** Size strings of the recipe: `<number><K|M|G|T>` (powers of 1024), `N%`, `rest`, `auto`. */
import type { SizeSpec } from '../disk/layout.js';

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)([KMGT])(?:i?B)?$/i;
const PERCENT = /^(\d+(?:\.\d+)?)%$/;

export const SIZE_HINT = 'examples: 512M, 2G, 30%, rest';

/**
 * The largest size kiln takes: 8 PiB, where JavaScript numbers stop counting bytes exactly. Far past
 * any disk kiln writes, and a bound on every later sum.
 */
export const MAX_BYTES = 2 ** 53;

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
  return bytes > 0 && bytes <= MAX_BYTES ? { bytes } : undefined;
}

/** Why `text` is not a size: too large for kiln, or not written as one. */
export function sizeProblem(text: string, hint: string = SIZE_HINT): string {
  const size = SIZE.exec(text);
  const tooLarge = size && Number(size[1]) * (UNITS[(size[2] ?? '').toUpperCase()] ?? 0) > MAX_BYTES;
  return tooLarge ? `${JSON.stringify(text)} is larger than ${MAX_BYTES / 1024 ** 4}T, the largest size kiln takes` : `${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)} is not a size (${hint})`;
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
