/**
 * New build: a recipe and version, a form made from the recipe's and its layers' variables
 * (defaults filled in, patterns checked as you type and before sending), an architecture.
 */
import { api, type RecipeDetail } from './api.js';
import { field, h, put, select } from './dom.js';
import { href } from './routes.js';
import { buildSet, checkVariable, type Variable } from './variables.js';
import { config, errorBox, guarded, type Page } from './ui.js';

function variableInput(v: Variable): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'text', name: `var-${v.name}`, value: v.default ?? '', autocomplete: 'off', spellcheck: 'false', 'data-variable': v.name });
  if (v.default === undefined) input.required = true;
  const error = h('small', { class: 'field-error', 'aria-live': 'polite' });
  error.id = `err-${v.name}`;
  const hint = [v.description, v.pattern ? `pattern: ${v.pattern}` : undefined, `from ${v.from}`, v.default !== undefined ? `default: ${v.default || '(empty)'}` : 'no default'].filter(Boolean).join(' · ');
  const wrap = field(v.name, input, hint);
  input.setAttribute('aria-describedby', `${input.getAttribute('aria-describedby') ?? ''} ${error.id}`.trim());
  wrap.append(error);
  input.addEventListener('input', () => {
    const problem = checkVariable(v, input.value);
    error.textContent = problem ?? '';
    input.setAttribute('aria-invalid', problem ? 'true' : 'false');
  });
  return { el: wrap, input };
}

export function newBuildPage(initial: { recipe?: string; version?: number }): Page {
  const recipeSelect = select('recipe', [['', 'Loading recipes…']]);
  const versionSelect = select('version', []);
  const archSelect = select('arch', config().arches.map((a): [string, string] => [a, a]));
  const variables = h('fieldset', { class: 'variables' }, h('legend', {}, 'Variables'));
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Start build');
  let detail: RecipeDetail | undefined;
  let inputs = new Map<string, HTMLInputElement>();

  const loadDetail = async () => {
    detail = undefined;
    submit.disabled = true;
    const name = recipeSelect.value;
    const version = Number(versionSelect.value);
    if (!name || !version) return;
    put(variables, h('legend', {}, 'Variables'), h('p', { class: 'muted' }, 'Loading the recipe…'));
    await guarded(variables, async () => {
      const d = await api.recipe(name, version);
      detail = d;
      archSelect.value = d.arch;
      const made = d.variables.map((v) => ({ v, ...variableInput(v) }));
      inputs = new Map(made.map((m) => [m.v.name, m.input]));
      put(variables, h('legend', {}, 'Variables'), made.length ? made.map((m) => m.el) : h('p', { class: 'muted' }, 'This recipe and its layers declare no variables.'));
      submit.disabled = false;
    }, 'Loading the recipe');
  };

  const loadVersions = async () => {
    const name = recipeSelect.value;
    if (!name) return;
    await guarded(status, async () => {
      const { versions } = await api.versions(name);
      const sorted = [...versions].sort((a, b) => b.version - a.version);
      const chosen = initial.recipe === name && initial.version ? String(initial.version) : String(sorted[0]?.version ?? '');
      put(versionSelect, ...sorted.map((v, i) => h('option', { value: String(v.version), selected: String(v.version) === chosen }, `version ${v.version}${i === 0 ? ' (latest)' : ''}`)));
      await loadDetail();
    }, 'Loading versions');
  };

  // The summary of bad values goes once every value is fixed.
  variables.addEventListener('input', () => {
    if (!variables.querySelector('[aria-invalid="true"]')) status.replaceChildren();
  });
  recipeSelect.addEventListener('change', () => void loadVersions());
  versionSelect.addEventListener('change', () => void loadDetail());

  void guarded(status, async () => {
    const { recipes } = await api.recipes();
    if (!recipes.length) {
      put(status, h('p', { class: 'empty' }, 'No recipes yet. ', h('a', { href: '#/recipes' }, 'Upload one'), ' first.'));
      put(recipeSelect, h('option', { value: '' }, 'no recipes'));
      return;
    }
    const chosen = initial.recipe && recipes.some((r) => r.name === initial.recipe) ? initial.recipe : recipes[0]?.name;
    put(recipeSelect, ...recipes.map((r) => h('option', { value: r.name, selected: r.name === chosen }, r.name)));
    await loadVersions();
  }, 'Loading recipes');

  const form = h(
    'form',
    {
      class: 'card',
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (!detail) return;
        const values = Object.fromEntries([...inputs].map(([name, input]) => [name, input.value]));
        const result = buildSet(detail.variables, values);
        if ('errors' in result) {
          for (const [name, message] of Object.entries(result.errors)) {
            const input = inputs.get(name);
            input?.setAttribute('aria-invalid', 'true');
            const error = document.getElementById(`err-${name}`);
            if (error) error.textContent = message;
          }
          put(status, h('div', { class: 'error', role: 'alert' }, h('p', { class: 'error-title' }, 'Some variables are not valid.'), h('ul', {}, ...Object.values(result.errors).map((m) => h('li', {}, m)))));
          inputs.get(Object.keys(result.errors)[0] ?? '')?.focus();
          return;
        }
        submit.disabled = true;
        put(status, h('p', {}, 'Starting…'));
        const body = { recipe: detail.name, version: detail.version, arch: archSelect.value as RecipeDetail['arch'], ...(Object.keys(result.set).length ? { set: result.set } : {}) };
        api
          .createBuild(body)
          .then((b) => {
            location.hash = href(`/builds/${b.id}`);
          })
          .catch((err: unknown) => put(status, errorBox(err, 'Starting the build')))
          .finally(() => {
            submit.disabled = false;
          });
      },
    },
    h('h1', {}, 'New build'),
    h('div', { class: 'row' }, field('Recipe', recipeSelect), field('Version', versionSelect), field('Architecture', archSelect, 'the recipe’s own unless you pick another')),
    variables,
    status,
    submit,
  );
  return { el: form };
}
