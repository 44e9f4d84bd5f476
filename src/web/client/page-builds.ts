/** The builds list: polled every 2 s (only while the tab is visible), filtered by state and recipe. */
import { api, type Build } from './api.js';
import { h, put, select, field, table } from './dom.js';
import { durationOf, formatAgo, formatSeconds } from './format.js';
import { href } from './routes.js';
import { badge, config, errorBox, poll, type Page } from './ui.js';

const POLL_MS = 2000;

function row(b: Build, now: number): HTMLTableRowElement {
  const seconds = durationOf(b.startedAt, b.finishedAt, now);
  const stagesDone = b.stages.filter((s) => s.state === 'done').length;
  return h(
    'tr',
    { 'data-build': b.id },
    h('td', {}, h('a', { href: href(`/builds/${b.id}`) }, b.id)),
    h('td', {}, `${b.recipe} v${b.version}`),
    h('td', {}, b.arch),
    h('td', {}, badge(b.state)),
    h('td', { class: 'num' }, b.stages.length ? `${stagesDone}/${b.stages.length}` : '–'),
    h('td', { class: 'num' }, seconds === undefined ? '–' : formatSeconds(seconds)),
    h('td', {}, h('time', { datetime: b.createdAt, title: new Date(b.createdAt).toLocaleString() }, formatAgo(b.createdAt, now))),
  );
}

export function buildsPage(filter: { state?: string; recipe?: string }): Page {
  const stateSelect = select('state', [['', 'any'], ...config().states.map((s): [string, string] => [s, s])], filter.state ?? '');
  const recipeSelect = select('recipe', [['', 'any']], filter.recipe ?? '');
  const list = h('div', { 'aria-live': 'off' }, h('p', { class: 'muted' }, 'Loading builds…'));
  const status = h('div', {});
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older builds');
  let limit = 50;
  let builds: Build[] = [];

  const applyFilter = () => {
    location.hash = href('/builds', { state: stateSelect.value, recipe: recipeSelect.value });
  };
  stateSelect.addEventListener('change', applyFilter);
  recipeSelect.addEventListener('change', applyFilter);

  const draw = () => {
    const now = Date.now();
    if (!builds.length) {
      put(list, h('p', { class: 'empty' }, filter.state || filter.recipe ? 'No builds match these filters.' : 'No builds yet. ', h('a', { href: '#/new' }, 'Start one')));
      return;
    }
    put(list, table(['Build', 'Recipe', 'Arch', 'State', 'Stages', 'Duration', 'Created'], builds.map((b) => row(b, now)), 'Builds, newest first'));
  };

  const tick = async () => {
    try {
      const answer = await api.builds({ state: filter.state, recipe: filter.recipe, limit });
      builds = answer.builds;
      more.hidden = !answer.next;
      status.replaceChildren();
      draw();
    } catch (err) {
      status.replaceChildren(errorBox(err, 'Loading builds'));
    }
  };
  more.addEventListener('click', () => {
    limit = Math.min(200, limit + 50);
    void tick();
  });

  api
    .recipes()
    .then(({ recipes }) => {
      for (const r of recipes) recipeSelect.append(h('option', { value: r.name, selected: r.name === filter.recipe }, r.name));
    })
    .catch(() => undefined); // the list still works without the recipe filter's names

  const stop = poll(POLL_MS, tick);
  const el = h(
    'div',
    {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Builds'), h('a', { class: 'button', href: '#/new' }, 'New build')),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter builds', onsubmit: (e: Event) => e.preventDefault() }, field('State', stateSelect), field('Recipe', recipeSelect)),
    status,
    list,
    more,
  );
  return { el, dispose: stop };
}
