/** Workers: state, architectures, what each runs now, when it last spoke; refreshed every 5 s. */
import { api } from './api.js';
import { h, put, table } from './dom.js';
import { formatAgo } from './format.js';
import { href } from './routes.js';
import { badge, errorBox, poll, type Page } from './ui.js';

export function workersPage(): Page {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading workers…'));
  const stop = poll(5000, async () => {
    try {
      const { workers } = await api.workers();
      const now = Date.now();
      put(
        list,
        workers.length
          ? table(
              ['Worker', 'State', 'Architectures', 'Running', 'Last heartbeat', 'Version'],
              workers.map((w) =>
                h(
                  'tr',
                  {},
                  h('td', {}, w.name),
                  h('td', {}, badge(w.state)),
                  h('td', {}, w.arches.join(', ')),
                  h('td', {}, w.builds.length ? w.builds.map((id, i) => [i ? ', ' : '', h('a', { href: href(`/builds/${id}`) }, id)]) : `idle (up to ${w.concurrency})`),
                  h('td', {}, h('time', { datetime: w.lastHeartbeat }, formatAgo(w.lastHeartbeat, now))),
                  h('td', {}, w.version),
                ),
              ),
            )
          : h('p', { class: 'empty' }, 'No workers have registered. kiln serve runs one unless started with --workers 0; add others with kiln worker --server URL --token T.'),
      );
    } catch (err) {
      put(list, errorBox(err, 'Loading workers'));
    }
  });
  return { el: h('div', {}, h('h1', {}, 'Workers'), list), dispose: stop };
}
