/**
 * A pass over the raw text, before the YAML parser sees it, that finds nesting far deeper than any
 * recipe has. The parser builds nested values recursively: 100,000 "[" make it overflow its stack,
 * and a megabyte of them exhausts memory and kills the process. The scan is approximate (a
 * quote-, comment- and block-scalar-aware count of flow brackets, "- " and "? " indicators and
 * indentation levels); the exact depth check runs on the parsed document, at a lower limit.
 */

/** Far above the exact limit (LIMITS.depth), so the approximation never refuses a real recipe. */
export const SCAN_DEPTH = 128;

/** The offset where nesting first passes SCAN_DEPTH, or undefined. */
export function deepNestingAt(text: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let blockScalar: number | undefined;
  let i = 0;
  while (i < text.length) {
    // At the start of a line (outside quotes and flow collections): indentation and indicators.
    if (quote === undefined && flow === 0) {
      let indent = 0;
      while (text[i + indent] === ' ') indent++;
      const blank = text[i + indent] === '\n' || text[i + indent] === '#' || i + indent >= text.length;
      if (blockScalar !== undefined && (blank || indent > blockScalar)) {
        i = skipLine(text, i);
        continue;
      }
      blockScalar = undefined;
      if (!blank) {
        while (indents.length && (indents[indents.length - 1] ?? 0) >= indent) indents.pop();
        indents.push(indent);
        i += indent;
        // "- - - x" and "? ? x" nest one level per indicator on a single line.
        while ((text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n')) {
          indents.push(indent + 1);
          i += 2;
          if (indents.length > SCAN_DEPTH) return i;
        }
        if (indents.length > SCAN_DEPTH) return i;
      }
    }
    // The rest of the line.
    for (; i < text.length && text[i] !== '\n'; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote && !(quote === "'" && text[i + 1] === "'")) quote = undefined;
        else if (c === "'" && quote === "'") i++;
        continue;
      }
      if ((c === '"' || c === "'") && /[\s[{,:-]|^$/.test(text[i - 1] ?? '')) quote = c;
      else if (c === '#' && /\s/.test(text[i - 1] ?? ' ')) {
        i = skipLine(text, i) - 1;
        break;
      } else if (c === '[' || c === '{') {
        if (++flow + indents.length > SCAN_DEPTH) return i;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      else if ((c === '|' || c === '>') && flow === 0 && /\s/.test(text[i - 1] ?? ' ')) {
        BLOCK_HEADER.lastIndex = i + 1;
        if (BLOCK_HEADER.test(text)) blockScalar = indents[indents.length - 1] ?? 0;
      }
    }
    i++;
  }
  return undefined;
}

function skipLine(text: string, i: number): number {
  const end = text.indexOf('\n', i);
  return end < 0 ? text.length : end + 1;
}

/** What may follow "|" or ">" to the end of a line that starts a block scalar. */
const BLOCK_HEADER = /[+-]?[1-9]?[+-]?[ \t]*(#[^\n]*)?(\n|$)/y;
