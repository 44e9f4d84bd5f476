/** Pieces every page uses: the error box, state badges, the config the server wrote into the page. */
import type { WebConfig } from '../config.js';
import { ApiError } from './api.js';
import { diagnosticPlace, explain } from './errors.js';
import { h, type Child } from './dom.js';

export function config(): WebConfig {
  const text = document.getElementById('kiln-config')?.textContent ?? '{}';
  const parsed = JSON.parse(text) as Partial<WebConfig>;
  return { states: parsed.states ?? [], arches: parsed.arches ?? [], scopes: parsed.scopes ?? [] };
}

/** A page: its element, and what to stop (polls, streams) when the reader leaves it. */
export interface Page {
  el: HTMLElement;
  dispose?: () => void;
}

/** Any failure as words: an API error with its advice and diagnostics, else a bug in this page. */
export function errorBox(err: unknown, context?: string): HTMLElement {
  const explained = err instanceof ApiError ? err.explained : explain(-1, undefined);
  const bug = !(err instanceof ApiError);
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', { class: 'error-title' }, context ? `${context}: ` : '', bug ? 'Something went wrong in this page.' : explained.title),
    // With diagnostics the server's message is their one-line forms: the list below says it once.
    !bug && explained.detail && !explained.diagnostics.length ? h('p', {}, `The server says: ${explained.detail}${/[.!?)]$/.test(explained.detail) ? '' : '.'}`) : undefined,
    bug ? h('p', {}, `${err instanceof Error ? err.message : String(err)}. Reload the page; if it happens again, report it with what you did.`) : h('p', {}, explained.action),
    explained.diagnostics.length
      ? h('ul', { class: 'diagnostics' }, ...explained.diagnostics.map((d) => h('li', {}, h('code', {}, diagnosticPlace(d)), ' ', d.message)))
      : undefined,
    explained.requestId ? h('p', { class: 'muted' }, `Request id: ${explained.requestId}`) : undefined,
  );
}

export function badge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state}` }, state);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { 'aria-label': title }, h('h2', {}, title), ...children);
}

/** Runs `work`, showing its failure (in words) in `slot` instead of throwing. */
export async function guarded(slot: HTMLElement, work: () => Promise<void>, context?: string): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') return false;
    slot.replaceChildren(errorBox(err, context));
    return false;
  }
}

/** Calls `tick` now and every `ms` while the tab is visible; returns the stop function. */
export function poll(ms: number, tick: () => Promise<void>): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) await tick().catch(() => undefined);
    if (!stopped) timer = setTimeout(() => void run(), ms);
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
