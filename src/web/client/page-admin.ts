/** Admin: API tokens. A new token's secret is shown once, here; revoking asks first. */
import { api, type Scope } from './api.js';
import { field, h, put, table } from './dom.js';
import { formatAgo } from './format.js';
import { config, errorBox, guarded, section, type Page } from './ui.js';

export function adminPage(): Page {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading tokens…'));
  const created = h('div', { 'aria-live': 'polite' });
  const load = () =>
    guarded(list, async () => {
      const { tokens } = await api.tokens();
      const now = Date.now();
      put(
        list,
        table(
          ['Name', 'Scopes', 'Created', 'Last used', ''],
          tokens.map((t) => {
            const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${t.name}` }, 'Revoke');
            revoke.addEventListener('click', () => {
              if (!confirm(`Revoke the token "${t.name}"? Anything using it stops working at once.`)) return;
              revoke.disabled = true;
              api
                .revokeToken(t.id)
                .then(load)
                .catch((err: unknown) => put(created, errorBox(err, 'Revoking')));
            });
            return h(
              'tr',
              { class: t.revoked ? 'revoked' : '' },
              h('td', {}, t.name),
              h('td', {}, t.scopes.join(', ')),
              h('td', {}, formatAgo(t.createdAt, now)),
              h('td', {}, t.lastUsedAt ? formatAgo(t.lastUsedAt, now) : 'never'),
              h('td', {}, t.revoked ? 'revoked' : revoke),
            );
          }),
          'API tokens',
        ),
      );
    }, 'Loading tokens');

  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 128, autocomplete: 'off' });
  const boxes = config().scopes.map((s) => ({ scope: s as Scope, input: h('input', { type: 'checkbox', name: 'scope', value: s, checked: s === 'read' }) }));
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const scopes = boxes.filter((b) => b.input.checked).map((b) => b.scope);
        if (!name.value.trim() || !scopes.length) {
          put(created, h('p', { class: 'error-inline', role: 'alert' }, 'Give the token a name and at least one scope.'));
          return;
        }
        void guarded(created, async () => {
          const t = await api.createToken(name.value.trim(), scopes);
          const secret = h('input', { type: 'text', readonly: true, value: t.token, class: 'secret' });
          put(
            created,
            h(
              'div',
              { class: 'ok', role: 'status' },
              h('p', {}, `Token "${t.name}" made with ${t.scopes.join(', ')}. Copy it now: it is shown only this once.`),
              field('The new token', secret),
              h('button', { type: 'button', class: 'secondary', onclick: () => void navigator.clipboard?.writeText(t.token) }, 'Copy'),
            ),
          );
          secret.select();
          name.value = '';
          await load();
        }, 'Making the token');
      },
    },
    field('Name', name, 'who or what will use it, e.g. ci or worker-arm64'),
    h('fieldset', {}, h('legend', {}, 'Scopes'), ...boxes.map((b) => h('label', { class: 'inline' }, b.input, ` ${b.scope}`)), h('small', { class: 'hint' }, 'read: look · build: start and cancel builds, push recipes · worker: for kiln worker · admin: everything')),
    h('button', { type: 'submit' }, 'Make token'),
  );
  void load();
  return { el: h('div', {}, h('h1', {}, 'Admin'), section('Tokens', list), section('Make a token', form, created)) };
}
