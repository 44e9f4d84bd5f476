/** Recipes: the list, and upload of a file, a blueprint, a bundle or a folder; refusals shown at their line. */
import { api, ApiError, type PushRecipeResponse } from './api.js';
import { field, h, put, table } from './dom.js';
import { diagnosticPlace } from './errors.js';
import { formatAgo } from './format.js';
import { href } from './routes.js';
import { sourceView } from './source-view.js';
import { errorBox, guarded, section, type Page } from './ui.js';
import { fromFile, fromFolder, isBlueprintPick, isToml, pushQuery, type BlueprintChoice, type UploadBody } from './upload.js';

/** The refusal, and each YAML or TOML file with a diagnostic shown with its lines marked. */
function refusal(err: unknown, upload: UploadBody): HTMLElement {
  const box = errorBox(err, 'Uploading the recipe');
  if (!(err instanceof ApiError)) return box;
  const files = new Map<string, { line: number; col?: number; message: string }[]>();
  for (const d of err.explained.diagnostics) {
    const name = [...upload.texts.keys()].find((k) => k === d.file || d.file.endsWith(`/${k}`) || k.endsWith(`/${d.file}`)) ?? (upload.texts.size === 1 ? [...upload.texts.keys()][0] : undefined);
    if (!name) continue;
    files.set(name, [...(files.get(name) ?? []), { line: d.line ?? 0, ...(d.col ? { col: d.col } : {}), message: d.message }]);
  }
  return h('div', {}, box, ...[...files].map(([name, notes]) => h('div', {}, h('h3', {}, name), sourceView(upload.texts.get(name) ?? '', `${name}, with the problems marked`, notes, !isToml(name)))));
}

/** A blueprint's options (kiln import --lenient --type), shown only while a blueprint is picked. */
function blueprintFields(): { el: HTMLElement; choice: () => BlueprintChoice; show: (on: boolean) => void } {
  const lenient = h('input', { type: 'checkbox', name: 'lenient' });
  const type = h('input', { type: 'text', name: 'type', autocomplete: 'off', spellcheck: 'false' });
  const el = h(
    'fieldset',
    { hidden: true },
    h('legend', {}, 'Blueprint options'),
    h('label', { class: 'inline' }, lenient, ' Lenient: drop keys that do not change the image, with a warning'),
    field('Image type', type, "composer's name: qcow2, raw, vmdk, vhd, tar, container, …; empty: kiln's default output (raw)"),
  );
  return {
    el,
    choice: () => ({ lenient: lenient.checked, type: type.value }),
    show: (on) => {
      el.hidden = !on;
    },
  };
}

/** What the server stored, and what lenient dropped from a blueprint. */
function stored(pushed: PushRecipeResponse): HTMLElement {
  const what = pushed.created ? `Stored ${pushed.name} version ${pushed.version}. ` : `Nothing new: this is already ${pushed.name} version ${pushed.version}. `;
  const warnings = pushed.warnings ?? [];
  return h(
    'div',
    {},
    h('p', { class: 'ok', role: 'status' }, what, h('a', { href: href(`/recipes/${pushed.name}/${pushed.version}`) }, 'View it'), ' · ', h('a', { href: href('/new', { recipe: pushed.name, version: pushed.version }) }, 'Build it')),
    warnings.length > 0 && h('p', {}, 'Lenient dropped these (the image does the same without them):'),
    warnings.length > 0 && h('ul', {}, ...warnings.map((w) => h('li', {}, `${diagnosticPlace(w)} ${w.message}`))),
  );
}

function uploadForm(onDone: () => void): HTMLElement {
  const fileInput = h('input', { type: 'file', name: 'recipe', accept: '.yaml,.yml,.toml,.tar,.tgz,.tar.gz,application/yaml,application/toml,application/x-tar,application/gzip' });
  const folderInput = h('input', { type: 'file', name: 'folder', multiple: true });
  folderInput.webkitdirectory = true;
  const options = blueprintFields();
  const picked = () => options.show(isBlueprintPick(fileInput.files?.[0]?.name, [...(folderInput.files ?? [])].map((f) => f.webkitRelativePath || f.name)));
  fileInput.addEventListener('change', picked);
  folderInput.addEventListener('change', picked);
  const status = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Upload');
  const send = async (upload: UploadBody) => {
    put(status, h('p', {}, 'Uploading…'));
    try {
      const pushed = await api.pushRecipe(upload.body, upload.contentType, pushQuery(upload, options.choice()));
      put(status, stored(pushed));
      onDone();
    } catch (err) {
      put(status, refusal(err, upload));
    }
  };
  return h(
    'form',
    {
      class: 'card',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const file = fileInput.files?.[0];
        const folder = folderInput.files ? [...folderInput.files] : [];
        if (!file && !folder.length) {
          put(status, h('p', { class: 'error-inline', role: 'alert' }, 'Pick a recipe file, a bundle or a folder first.'));
          return;
        }
        button.disabled = true;
        (file ? fromFile(file) : fromFolder(folder))
          .then(send)
          .catch((err: unknown) => put(status, h('p', { class: 'error-inline', role: 'alert' }, err instanceof Error ? err.message : String(err))))
          .finally(() => {
            button.disabled = false;
          });
      },
    },
    h('p', {}, 'Each upload of a name is a new version; the same content again changes nothing.'),
    h('div', { class: 'row' }, field('Recipe file or bundle', fileInput, '.yaml, .toml (a blueprint), .tar or .tar.gz'), field('or a recipe folder', folderInput, 'with its layers, overlays and hooks')),
    options.el,
    button,
    status,
  );
}

export function recipesPage(): Page {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading recipes…'));
  const load = () =>
    guarded(list, async () => {
      const { recipes } = await api.recipes();
      const now = Date.now();
      put(
        list,
        recipes.length
          ? table(
              ['Recipe', 'Latest', 'Versions', 'Updated', ''],
              recipes.map((r) =>
                h('tr', {}, h('td', {}, h('a', { href: href(`/recipes/${r.name}`) }, r.name)), h('td', { class: 'num' }, String(r.latest)), h('td', { class: 'num' }, String(r.versions)), h('td', {}, formatAgo(r.updatedAt, now)), h('td', {}, h('a', { href: href('/new', { recipe: r.name }) }, 'Build'))),
              ),
            )
          : h('p', { class: 'empty' }, 'No recipes yet: upload one below.'),
      );
    }, 'Loading recipes');
  void load();
  return { el: h('div', {}, h('h1', {}, 'Recipes'), list, section('Upload a recipe', uploadForm(() => void load()))) };
}
