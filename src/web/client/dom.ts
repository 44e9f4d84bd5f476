/** A tiny DOM helper: `h('button', { onclick }, 'Cancel')`. Text is always set as text, never as HTML. */

export type Child = Node | string | number | false | null | undefined | Child[];
type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | undefined | null>;

function append(parent: Node, child: Child): void {
  if (child === false || child === null || child === undefined) return;
  if (Array.isArray(child)) for (const c of child) append(parent, c);
  else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (key === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (key === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function put(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A unique id for label/aria links. */
export const uid = (prefix: string) => `${prefix}-${++ids}`;

/** A labelled form control: <label for=id>text</label> control, with an optional hint linked by aria-describedby. */
export function field(text: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  control.id ||= uid('f');
  const hintEl = hint ? h('small', { id: uid('hint'), class: 'hint' }, hint) : undefined;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, text), control, hintEl);
}

/** A <select> of `options` ([value, text]); `selected` marks one. */
export function select(name: string, options: [string, string][], selected?: string): HTMLSelectElement {
  return h('select', { name }, ...options.map(([value, text]) => h('option', { value, selected: value === selected }, text)));
}

export function table(headers: string[], rows: Node[], caption?: string): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', {}, caption ? h('caption', {}, caption) : undefined, h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)),
  );
}
