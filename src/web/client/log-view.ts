/**
 * The live log on screen: a fixed-height box whose scroll height is lines × line height, with only
 * the lines in view (plus overscan) in the DOM, so 100,000 lines cost what 100 do. New lines are
 * drawn once per frame. It follows the end until the reader scrolls up, and again once they
 * return to the bottom (or tick "Follow").
 */
import { h, field } from './dom.js';
import { atBottom, frameBatcher, LINE_HEIGHT, LogModel } from './log-model.js';

export class LogView {
  readonly el: HTMLElement;
  readonly model = new LogModel();
  private readonly viewport: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly rows: HTMLDivElement;
  private readonly follow: HTMLInputElement;
  private readonly search: HTMLInputElement;
  private readonly count: HTMLSpanElement;
  private readonly latest: HTMLButtonElement;
  private readonly request: () => void;
  private matches: number[] = [];
  private current = -1;
  private drawn = { start: -1, end: -1, total: -1, current: -1, query: '' };
  /** Set while this code scrolls, so the scroll event does not read it as the reader's. */
  private selfScroll = false;

  constructor(label: string, extra?: HTMLElement) {
    this.viewport = h('div', { class: 'log', tabindex: 0, role: 'log', 'aria-label': label, 'aria-live': 'off' });
    this.spacer = h('div', { class: 'log-spacer' });
    this.rows = h('div', { class: 'log-rows' });
    this.spacer.append(this.rows);
    this.viewport.append(this.spacer);
    this.follow = h('input', { type: 'checkbox', checked: true });
    this.search = h('input', { type: 'search', placeholder: 'text in the log', autocomplete: 'off' });
    this.count = h('span', { class: 'muted', 'aria-live': 'polite' });
    this.latest = h('button', { type: 'button', class: 'jump', hidden: true }, 'Jump to the end ↓');
    this.request = frameBatcher(() => this.draw(), (cb) => requestAnimationFrame(cb));

    this.viewport.addEventListener('scroll', () => {
      if (this.selfScroll) {
        this.selfScroll = false;
      } else {
        this.setFollow(atBottom(this.viewport.scrollTop, this.viewport.clientHeight, this.viewport.scrollHeight));
      }
      this.request();
    });
    this.follow.addEventListener('change', () => this.setFollow(this.follow.checked, true));
    this.latest.addEventListener('click', () => this.setFollow(true, true));
    this.search.addEventListener('input', () => this.find());
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.step(e.shiftKey ? -1 : 1);
      }
    });
    const followLabel = h('label', { class: 'inline' }, this.follow, ' Follow the end');
    this.el = h(
      'div',
      { class: 'log-box' },
      h(
        'div',
        { class: 'log-tools' },
        field('Search the log', this.search),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.step(-1), 'aria-label': 'Previous match' }, '↑'),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.step(1), 'aria-label': 'Next match' }, '↓'),
        this.count,
        followLabel,
        extra,
      ),
      h('div', { class: 'log-frame' }, this.viewport, this.latest),
    );
  }

  append(line: string): void {
    this.model.push(line);
    this.request();
  }

  private setFollow(on: boolean, scroll = false): void {
    this.follow.checked = on;
    this.latest.hidden = on;
    if (on && scroll) this.toBottom();
  }

  private toBottom(): void {
    const target = this.viewport.scrollHeight - this.viewport.clientHeight;
    if (Math.abs(this.viewport.scrollTop - target) > 1) {
      this.selfScroll = true;
      this.viewport.scrollTop = target;
    }
    this.request();
  }

  private find(): void {
    this.matches = this.model.search(this.search.value);
    this.current = -1;
    if (this.matches.length) this.step(1);
    else {
      this.count.textContent = this.search.value ? 'no match' : '';
      this.request();
    }
  }

  private step(direction: 1 | -1): void {
    if (!this.matches.length) return;
    this.current = (this.current + direction + this.matches.length) % this.matches.length;
    this.count.textContent = `${this.current + 1} of ${this.matches.length}${this.matches.length >= 10_000 ? '+' : ''}`;
    const line = this.matches[this.current] ?? 0;
    this.setFollow(false);
    const target = Math.max(0, line * LINE_HEIGHT - this.viewport.clientHeight / 2);
    if (Math.abs(this.viewport.scrollTop - target) > 1) {
      this.selfScroll = true;
      this.viewport.scrollTop = target;
    }
    this.request();
  }

  private draw(): void {
    const added = this.model.flush();
    const total = this.model.lines.length;
    if (added) {
      this.spacer.style.height = `${total * LINE_HEIGHT}px`;
      if (this.search.value) this.matches = this.model.search(this.search.value);
      const target = this.viewport.scrollHeight - this.viewport.clientHeight;
      if (this.follow.checked && Math.abs(this.viewport.scrollTop - target) > 1) {
        this.selfScroll = true;
        this.viewport.scrollTop = target;
      }
    }
    const { start, end } = this.model.window(this.viewport.scrollTop, this.viewport.clientHeight || 400);
    const query = this.search.value;
    const current = this.matches[this.current] ?? -1;
    const d = this.drawn;
    if (d.start === start && d.end === end && d.total === total && d.current === current && d.query === query) return;
    this.drawn = { start, end, total, current, query };
    this.rows.style.transform = `translateY(${start * LINE_HEIGHT}px)`;
    const q = query.toLowerCase();
    const nodes: HTMLElement[] = [];
    for (let i = start; i < end; i++) {
      const text = this.model.lines[i] ?? '';
      const at = q ? text.toLowerCase().indexOf(q) : -1;
      const cls = i === current ? 'line current' : 'line';
      nodes.push(
        at < 0
          ? h('div', { class: cls }, text || ' ')
          : h('div', { class: cls }, text.slice(0, at), h('mark', {}, text.slice(at, at + q.length)), text.slice(at + q.length)),
      );
    }
    this.rows.replaceChildren(...nodes);
    if (this.model.waiting) this.request();
  }
}
