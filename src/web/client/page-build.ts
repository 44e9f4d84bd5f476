/** One build: its facts, stage timeline, live log, cancel/retry, artifacts and packages. */
import { api, downloadFrom, type Build, type StreamEvent } from './api.js';
import { BuildArtifacts } from './build-artifacts.js';
import { h, put } from './dom.js';
import { followBuild } from './event-stream.js';
import { durationOf, formatSeconds } from './format.js';
import { LogView } from './log-view.js';
import { href } from './routes.js';
import { StageTimeline } from './stage-timeline.js';
import { badge, errorBox, guarded, section, type Page } from './ui.js';

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

function facts(b: Build): HTMLElement {
  const now = Date.now();
  const seconds = durationOf(b.startedAt, b.finishedAt, now);
  const item = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)];
  const time = (t?: string) => (t ? h('time', { datetime: t }, new Date(t).toLocaleString()) : '–');
  const set = Object.entries(b.set);
  return h(
    'dl',
    { class: 'facts' },
    ...item('Recipe', h('a', { href: href(`/recipes/${b.recipe}/${b.version}`) }, `${b.recipe} version ${b.version}`)),
    ...item('Architecture', b.arch),
    ...item('Worker', b.worker ?? (b.state === 'queued' ? 'waiting for one' : '–')),
    ...item('Created', time(b.createdAt)),
    ...item('Started', time(b.startedAt)),
    ...item('Finished', time(b.finishedAt)),
    ...item('Duration', seconds === undefined ? '–' : formatSeconds(seconds)),
    ...(b.attempt ? item('Attempt', `${b.attempt + 1} (a lost worker's job was requeued)`) : []),
    ...(b.retryOf ? item('Retry of', h('a', { href: href(`/builds/${b.retryOf}`) }, b.retryOf)) : []),
    ...item('Variables', set.length ? set.map(([k, v]) => `${k}=${v}`).join(', ') : 'defaults'),
  );
}

export function buildPage(id: string): Page {
  const head = h('div', { class: 'page-head' }, h('h1', {}, `Build ${id}`));
  const summary = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const actionStatus = h('div', { 'aria-live': 'polite' });
  const streamStatus = h('span', { class: 'muted stream-status', 'aria-live': 'polite' });
  const timeline = new StageTimeline();
  const logDownload = h('button', { type: 'button', class: 'secondary' }, 'Download the log');
  const log = new LogView('Build log', logDownload);
  const artifacts = new BuildArtifacts(id);
  let build: Build | undefined;

  logDownload.addEventListener('click', () => {
    void downloadFrom(api.logUrl(id), `${id}.log`).catch((err: unknown) => actionStatus.replaceChildren(errorBox(err, 'Downloading the log')));
  });

  const action = (text: string, run: () => Promise<Build>, after: (b: Build) => void) => {
    const button = h('button', { type: 'button' }, text);
    button.addEventListener('click', () => {
      button.disabled = true;
      actionStatus.replaceChildren();
      run()
        .then(after)
        .catch((err: unknown) => actionStatus.replaceChildren(errorBox(err, text)))
        .finally(() => {
          button.disabled = false;
        });
    });
    return button;
  };

  const draw = () => {
    if (!build) return;
    const b = build;
    const buttons = [
      FINAL.has(b.state) ? undefined : action('Cancel build', () => api.cancel(id), (nb) => show(nb)),
      FINAL.has(b.state) ? action('Retry', () => api.retry(id), (nb) => (location.hash = href(`/builds/${nb.id}`))) : undefined,
      h('a', { class: 'button secondary', href: href('/compare', { a: id }) }, 'Compare with…'),
    ];
    put(head, h('h1', {}, `Build ${id} `, badge(b.state)), h('div', { class: 'actions' }, ...buttons));
    put(summary, b.error ? h('p', { class: 'error-inline', role: 'status' }, b.error) : undefined, facts(b));
  };
  const show = (b: Build) => {
    build = b;
    timeline.fromBuild(b);
    draw();
    if (FINAL.has(b.state)) artifacts.buildEnded();
  };

  const onEvent = (e: StreamEvent) => {
    if (e.type === 'log') log.append(e.line);
    else if (e.type === 'artifact') artifacts.add(e.artifact);
    else if (e.type === 'state') {
      if (build) build = { ...build, state: e.state, ...(e.worker ? { worker: e.worker } : {}), ...(e.error ? { error: e.error } : {}) };
      draw();
      // The timestamps and final stage list come with the build itself.
      if (FINAL.has(e.state)) void artifacts.load().then(() => api.build(id)).then(show).catch(() => undefined);
      else void api.build(id).then(show).catch(() => undefined);
    } else timeline.onEvent(e);
  };

  let stopStream = () => undefined as void;
  const ticker = setInterval(() => {
    if (timeline.running) timeline.draw();
    if (build && !FINAL.has(build.state)) draw();
  }, 1000);

  void guarded(summary, async () => {
    show(await api.build(id));
    void artifacts.load();
    stopStream = followBuild(id, onEvent, (s) => {
      streamStatus.textContent = s.kind === 'live' ? 'live' : s.kind === 'reconnecting' ? 'connection lost, reconnecting…' : s.kind === 'ended' ? '' : 'the live log stopped';
      if (s.kind === 'failed') actionStatus.replaceChildren(errorBox(s.error, 'Following the build'));
    });
  }, 'Loading the build');

  const el = h(
    'div',
    {},
    head,
    actionStatus,
    summary,
    section('Stages', timeline.el),
    h('section', { 'aria-label': 'Log' }, h('h2', {}, 'Log ', streamStatus), log.el),
    artifacts.el,
  );
  return {
    el,
    dispose: () => {
      stopStream();
      clearInterval(ticker);
    },
  };
}
