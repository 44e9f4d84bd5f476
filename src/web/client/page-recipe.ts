/** One recipe: its versions, a version's files (highlighted), and the diff of two versions. */
import { api, type RecipeDetail, type RecipeVersion } from './api.js';
import { field, h, put, select, table } from './dom.js';
import { formatBytes } from './format.js';
import { href } from './routes.js';
import { diffView, sourceView } from './source-view.js';
import { readTar } from './tar.js';
import { guarded, section, type Page } from './ui.js';

export function recipePage(name: string, version?: number): Page {
  const versionsEl = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const viewEl = h('div', {});
  const diffEl = h('div', {});

  const showVersion = async (v: number, versions: RecipeVersion[]) => {
    await guarded(viewEl, async () => {
      const detail: RecipeDetail = await api.recipe(name, v);
      const fileSelect = select('file', detail.paths.map((p): [string, string] => [p, p]), detail.file);
      const fileEl = h('div', {});
      // The recipe file has its own endpoint; the others come from the bundle, fetched once when asked for.
      let bundle: Map<string, Uint8Array> | undefined;
      const showFile = async () => {
        await guarded(fileEl, async () => {
          const path = fileSelect.value;
          if (path !== detail.file) bundle ??= readTar(await api.recipeBundle(name, v));
          const data = path === detail.file ? undefined : bundle?.get(path);
          const text = path === detail.file ? await api.recipeText(name, v) : data ? new TextDecoder().decode(data) : undefined;
          if (text === undefined) put(fileEl, h('p', { class: 'muted' }, `${path} is not in the bundle.`));
          else if (text.includes('\0')) put(fileEl, h('p', { class: 'muted' }, `${path} is a binary file (${formatBytes(data?.length ?? 0)}).`));
          else put(fileEl, sourceView(text, `${path} of ${name} version ${v}`, [], /\.ya?ml$/i.test(path)));
        }, 'Loading the file');
      };
      fileSelect.addEventListener('change', () => void showFile());
      put(
        viewEl,
        section(
          `Version ${v}`,
          h('p', {}, `${detail.files} files, ${formatBytes(detail.size)}, architecture ${detail.arch}, sha256 `, h('code', { class: 'hash' }, detail.hash), ' ', h('a', { class: 'button', href: href('/new', { recipe: name, version: v }) }, 'Build this version')),
          detail.variables.length
            ? table(['Variable', 'Default', 'Pattern', 'From', 'Description'], detail.variables.map((x) => h('tr', {}, h('td', {}, h('code', {}, x.name)), h('td', {}, x.default ?? '–'), h('td', {}, x.pattern ? h('code', {}, x.pattern) : '–'), h('td', {}, x.from), h('td', {}, x.description ?? ''))), 'Variables')
            : undefined,
          field('File', fileSelect),
          fileEl,
        ),
      );
      await showFile();
      drawDiffForm(versions, v);
    }, `Loading version ${v}`);
  };

  const drawDiffForm = (versions: RecipeVersion[], current: number) => {
    if (versions.length < 2) {
      put(diffEl);
      return;
    }
    const options = versions.map((v): [string, string] => [String(v.version), `version ${v.version}`]);
    const older = versions.find((v) => v.version < current)?.version ?? versions.at(-1)?.version;
    const from = select('from', options, String(older));
    const to = select('to', options, String(current));
    const out = h('div', {});
    put(
      diffEl,
      section(
        'Compare versions',
        h(
          'form',
          {
            class: 'row',
            onsubmit: (e: Event) => {
              e.preventDefault();
              void guarded(out, async () => {
                const text = await api.recipeDiff(name, Number(from.value), Number(to.value));
                put(out, text.trim() ? diffView(text, `Differences from version ${from.value} to ${to.value}`) : h('p', {}, 'The two versions are identical.'));
              }, 'Comparing versions');
            },
          },
          field('From', from),
          field('To', to),
          h('button', { type: 'submit' }, 'Show differences'),
        ),
        out,
      ),
    );
  };

  void guarded(versionsEl, async () => {
    const { versions } = await api.versions(name);
    const sorted = [...versions].sort((a, b) => b.version - a.version);
    const current = version ?? sorted[0]?.version;
    put(
      versionsEl,
      table(
        ['Version', 'Created', 'Files', 'Size', 'sha256'],
        sorted.map((v) =>
          h(
            'tr',
            { class: v.version === current ? 'selected' : '' },
            h('td', {}, h('a', { href: href(`/recipes/${name}/${v.version}`), 'aria-current': v.version === current ? 'page' : undefined }, `version ${v.version}`)),
            h('td', {}, new Date(v.createdAt).toLocaleString()),
            h('td', { class: 'num' }, String(v.files)),
            h('td', { class: 'num' }, formatBytes(v.size)),
            h('td', {}, h('code', { class: 'hash', title: v.hash }, v.hash.slice(0, 12))),
          ),
        ),
        'Versions, newest first',
      ),
    );
    if (current) await showVersion(current, sorted);
  }, `Loading ${name}`);

  return { el: h('div', {}, h('h1', {}, `Recipe ${name}`), versionsEl, viewEl, diffEl) };
}
