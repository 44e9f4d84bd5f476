/**
 * The stage timeline: one row per stage, reserved as soon as the stage list is known (so rows never
 * push the log down while it streams), with a bar placed where the stage's time fell in the build.
 */
import type { Build, StreamEvent } from './api.js';
import { h, put } from './dom.js';
import { formatSeconds } from './format.js';
import { mergeStageRows, type StageRow } from './stage-rows.js';

export class StageTimeline {
  readonly el = h('div', { class: 'timeline' });
  private stages: StageRow[] = [];
  private attempt: number | undefined;

  /** The build's stage list as the server has it (on load and on state changes). */
  fromBuild(build: Build): void {
    this.stages = mergeStageRows(this.stages, this.attempt, build);
    this.attempt = build.attempt;
    this.draw();
  }

  onEvent(e: StreamEvent): void {
    const find = (name: string) => this.stages.find((s) => s.name === name && s.state !== 'done') ?? this.stages.find((s) => s.name === name);
    if (e.type === 'stages') {
      this.stages = e.stages.map((s) => ({ name: s.name, summary: s.summary, state: 'pending' }));
    } else if (e.type === 'stage-start') {
      const row = this.stages[e.index] ?? find(e.stage);
      if (row) Object.assign(row, { state: 'running', startedAt: Date.parse(e.time) });
    } else if (e.type === 'stage-end') {
      const row = find(e.stage);
      if (row) Object.assign(row, { state: 'done', cached: e.cached, seconds: e.seconds });
    } else if (e.type === 'stage-fail') {
      const row = find(e.stage);
      if (row) Object.assign(row, { state: 'failed', seconds: e.seconds });
    } else return;
    this.draw();
  }

  get running(): boolean {
    return this.stages.some((s) => s.state === 'running');
  }

  /** Redraws; called every second while a stage runs so its bar grows. */
  draw(now = Date.now()): void {
    if (!this.stages.length) {
      put(this.el, h('p', { class: 'muted' }, 'The stages appear when a worker starts the build.'));
      return;
    }
    const seconds = this.stages.map((s) => s.seconds ?? (s.state === 'running' && s.startedAt ? Math.max(0, (now - s.startedAt) / 1000) : 0));
    const total = Math.max(1, seconds.reduce((a, b) => a + b, 0));
    let before = 0;
    const rows = this.stages.map((s, i) => {
      const sec = seconds[i] ?? 0;
      const left = (before / total) * 100;
      before += sec;
      const width = (sec / total) * 100;
      const label = s.state === 'pending' ? 'waiting' : s.state === 'running' ? `${formatSeconds(sec)}…` : `${formatSeconds(sec)}${s.cached ? ' (cached)' : ''}${s.state === 'failed' ? ' (failed)' : ''}`;
      const bar = h('span', { class: 'stage-bar' });
      // Set through the CSSOM: the page's Content-Security-Policy allows no inline style attributes.
      bar.style.left = `${left.toFixed(2)}%`;
      bar.style.width = `max(3px, ${width.toFixed(2)}%)`;
      return h(
        'li',
        { class: `stage stage-${s.state}${s.cached ? ' cached' : ''}`, title: s.summary ?? s.name },
        h('span', { class: 'stage-name' }, s.name),
        h('span', { class: 'stage-track', 'aria-hidden': 'true' }, bar),
        h('span', { class: 'stage-time' }, label),
      );
    });
    put(this.el, h('ol', { class: 'stages', 'aria-label': 'Stages, in order' }, ...rows));
  }
}
