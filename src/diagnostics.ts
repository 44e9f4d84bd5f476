/**
 * One problem with a user's file, where it is and what to do: the unit every recipe and layer error
 * is made of. The CLI shows the first one with its source line and a caret (a code frame), the
 * service returns them as JSON; both from the same data.
 */

export interface Diagnostic {
  file: string;
  /** 1-based; absent when no position exists (an empty file, a missing key). */
  line?: number;
  col?: number;
  /** The text of `line`, for the code frame. */
  text?: string;
  /** "key.path: what is wrong (and the fix)". */
  message: string;
}

/** "file:line:col message", the one-line form every message has had since kiln's first recipe. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  return `${where} ${d.message}`;
}

/** How many further problems follow the first before the rest are only counted. */
export const MORE_SHOWN = 4;

/**
 * The first problem with a code frame, then at most MORE_SHOWN more, one line each, then a count
 * of the rest: one typo can cause dozens of follow-on YAML errors, and the first is the one to fix.
 */
export function renderDiagnostics(list: readonly Diagnostic[], color: (s: string) => string = (s) => s): string {
  const [first, ...rest] = list;
  if (!first) return '';
  const lines = [formatDiagnostic(first), ...codeFrame(first, color)];
  for (const d of rest.slice(0, MORE_SHOWN)) lines.push(formatDiagnostic(d));
  if (rest.length > MORE_SHOWN) lines.push(`and ${rest.length - MORE_SHOWN} more (fix the first and run again: later ones often follow from it)`);
  return lines.join('\n');
}

/** The source line with its number and a caret under the column; nothing when there is no line. */
export function codeFrame(d: Diagnostic, color: (s: string) => string = (s) => s): string[] {
  if (d.line === undefined || d.text === undefined) return [];
  const number = String(d.line);
  const gutter = ' '.repeat(number.length);
  // Tabs would shift the caret: every character shows as one, so the caret stays under its column.
  const line = printable(d.text);
  const col = Math.max(1, Math.min(d.col ?? 1, line.length + 1));
  // A long line shows a window around the column, marked "..." where it was cut.
  const from = col > WIDTH / 2 ? col - 1 - WIDTH / 4 : 0;
  const cut = line.slice(from, from + WIDTH);
  const text = `${from > 0 ? '...' : ''}${cut}${from + WIDTH < line.length ? '...' : ''}`;
  const caret = col - 1 - from + (from > 0 ? 3 : 0);
  return [`  ${number} | ${text}`, `  ${gutter} | ${' '.repeat(caret)}${color('^')}`];
}

const WIDTH = 100;

/** Control and invisible characters as "?" so a frame never moves the terminal's cursor. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => (c === '\t' ? ' ' : '?'));
}
