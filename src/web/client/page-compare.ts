/**
 * Compare two builds: packages added, removed and changed from their build.json (here, in the
 * browser), and files from the server's `kiln diff` of their outputs.
 */
import { api, ApiError, request, type Build } from './api.js';
import { field, h, put, select, table } from './dom.js';
import { comparePackages, packageRows, type PackageRow } from './packages.js';
import { href } from './routes.js';
import { errorBox, guarded, section, type Page } from './ui.js';

interface FileDiff {
  identical?: boolean;
  files?: { added?: string[]; removed?: string[]; changed?: { path: string; changes: string[] }[] };
  partitionTable?: string[];
  notes?: string[];
}

const SHOWN = 500;

async function packagesOf(id: string): Promise<PackageRow[]> {
  return packageRows(await (await request('GET', api.artifactUrl(id, 'build.json'))).json());
}

function list(title: string, items: string[]): HTMLElement | undefined {
  if (!items.length) return undefined;
  return h('details', { open: items.length <= 50 }, h('summary', {}, `${title} (${items.length})`), h('ul', { class: 'plain' }, ...items.slice(0, SHOWN).map((x) => h('li', {}, h('code', {}, x)))), items.length > SHOWN ? h('p', { class: 'muted' }, `and ${items.length - SHOWN} more`) : undefined);
}

async function compare(a: string, b: string, out: HTMLElement): Promise<void> {
  put(out, h('p', { class: 'muted' }, 'Comparing…'));
  const pkgEl = h('div', {});
  const filesEl = h('div', {});
  put(out, section('Packages', pkgEl), section('Files', filesEl));
  const packages = guarded(pkgEl, async () => {
    const [pa, pb] = await Promise.all([packagesOf(a), packagesOf(b)]);
    const d = comparePackages(pa, pb);
    const total = d.added.length + d.removed.length + d.changed.length;
    put(
      pkgEl,
      h('p', {}, total ? `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed` : 'The same packages at the same versions.'),
      total
        ? table(
            ['', 'Package', 'Arch', 'In A', 'In B'],
            [
              ...d.added.map((p) => h('tr', { class: 'd-add' }, h('td', {}, 'added'), h('td', {}, p.name), h('td', {}, p.arch), h('td', {}, '–'), h('td', {}, p.version))),
              ...d.removed.map((p) => h('tr', { class: 'd-del' }, h('td', {}, 'removed'), h('td', {}, p.name), h('td', {}, p.arch), h('td', {}, p.version), h('td', {}, '–'))),
              ...d.changed.map((p) => h('tr', {}, h('td', {}, 'changed'), h('td', {}, p.name), h('td', {}, p.arch), h('td', {}, p.from), h('td', {}, p.to))),
            ],
          )
        : undefined,
    );
  }, 'Comparing packages (from each build’s build.json)');
  const files = (async () => {
    try {
      const d = (await api.buildDiff(a, b)) as FileDiff;
      const f = d.files ?? {};
      put(
        filesEl,
        h('p', {}, d.identical ? 'The outputs are identical.' : `${f.added?.length ?? 0} added, ${f.removed?.length ?? 0} removed, ${f.changed?.length ?? 0} changed`),
        list('Added', f.added ?? []),
        list('Removed', f.removed ?? []),
        list('Changed', (f.changed ?? []).map((c) => `${c.path}: ${c.changes.join(', ')}`)),
        list('Partition table', d.partitionTable ?? []),
        ...(d.notes ?? []).map((n) => h('p', { class: 'muted' }, n)),
      );
    } catch (err) {
      put(
        filesEl,
        err instanceof ApiError && err.status === 404
          ? h('p', { class: 'notice' }, 'The server cannot compare the files of these builds: one of them has no outputs kiln can read (it failed, was canceled, or its artifacts were removed), or this server does not offer file comparison. The package comparison above does not need it.')
          : errorBox(err, 'Comparing files'),
      );
    }
  })();
  await Promise.all([packages, files]);
}

export function comparePage(a?: string, b?: string): Page {
  const aSelect = select('a', [['', 'Loading…']]);
  const bSelect = select('b', [['', 'Loading…']]);
  const out = h('div', {});
  const status = h('div', {});
  const label = (x: Build) => `${x.id} · ${x.recipe} v${x.version} · ${x.arch} · ${x.state}`;
  void guarded(status, async () => {
    const { builds } = await api.builds({ state: 'succeeded', limit: 100 });
    const options = builds.map((x): [string, string] => [x.id, label(x)]);
    for (const id of [a, b]) if (id && !options.some(([v]) => v === id)) options.unshift([id, id]);
    put(aSelect, h('option', { value: '' }, 'pick a build'), ...options.map(([v, t]) => h('option', { value: v, selected: v === a }, t)));
    put(bSelect, h('option', { value: '' }, 'pick a build'), ...options.map(([v, t]) => h('option', { value: v, selected: v === b }, t)));
    if (a && b) await compare(a, b, out);
  }, 'Loading builds');
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!aSelect.value || !bSelect.value) {
          put(status, h('p', { class: 'error-inline', role: 'alert' }, 'Pick two builds to compare.'));
          return;
        }
        location.hash = href('/compare', { a: aSelect.value, b: bSelect.value });
      },
    },
    h('div', { class: 'row' }, field('Build A', aSelect), field('Build B', bSelect)),
    h('button', { type: 'submit' }, 'Compare'),
  );
  return { el: h('div', {}, h('h1', {}, 'Compare two builds'), form, status, out) };
}
