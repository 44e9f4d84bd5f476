/** A YAML file with line numbers and highlighting; lines with a diagnostic are marked and explained in place. */
import { h } from './dom.js';
import { highlightYaml, type Token } from './yaml-highlight.js';

export interface LineNote {
  line: number;
  col?: number;
  message: string;
}

/** Files longer than this are shown plain: highlighting is for recipes, not for data files. */
const HIGHLIGHT_LIMIT = 20_000;

const tokenNodes = (tokens: Token[]) => tokens.map((t) => (t.kind === 'text' ? t.text : h('span', { class: `y-${t.kind}` }, t.text)));

export function sourceView(text: string, label: string, notes: LineNote[] = [], yaml = true): HTMLElement {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const highlighted = yaml && lines.length <= HIGHLIGHT_LIMIT ? highlightYaml(lines.join('\n')) : undefined;
  const byLine = new Map<number, LineNote[]>();
  for (const n of notes) byLine.set(n.line, [...(byLine.get(n.line) ?? []), n]);
  const rows: HTMLElement[] = [];
  lines.forEach((line, i) => {
    const here = byLine.get(i + 1);
    rows.push(
      h(
        'div',
        { class: here ? 'src-line has-error' : 'src-line', 'data-line': i + 1 },
        h('span', { class: 'ln', 'aria-hidden': 'true' }, String(i + 1)),
        h('code', {}, ...(highlighted?.[i] ? tokenNodes(highlighted[i]) : [line]), line ? '' : ' '),
      ),
    );
    for (const n of here ?? []) {
      rows.push(h('div', { class: 'src-note', role: 'note' }, h('span', { class: 'ln' }, '▲'), h('span', {}, `line ${n.line}${n.col ? `, column ${n.col}` : ''}: ${n.message}`)));
    }
  });
  // Diagnostics past the end (or without a line) still show, below the file.
  const outside = notes.filter((n) => n.line < 1 || n.line > lines.length);
  for (const n of outside) rows.push(h('div', { class: 'src-note', role: 'note' }, h('span', { class: 'ln' }, '!'), h('span', {}, n.message)));
  return h('div', { class: 'source', role: 'region', 'aria-label': label, tabindex: 0 }, ...rows);
}

/** A unified diff with added and removed lines coloured. */
export function diffView(text: string, label: string): HTMLElement {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return h(
    'div',
    { class: 'source diff', role: 'region', 'aria-label': label, tabindex: 0 },
    ...lines.map((line) => {
      const cls = line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') ? 'd-file' : line.startsWith('@@') ? 'd-hunk' : line.startsWith('+') ? 'd-add' : line.startsWith('-') ? 'd-del' : '';
      return h('div', { class: `src-line ${cls}` }, h('code', {}, line || ' '));
    }),
  );
}
