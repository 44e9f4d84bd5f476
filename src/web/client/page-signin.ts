/** Sign in: the token is checked against the server, then kept in this tab's session only. */
import { ApiError, request, session } from './api.js';
import { field, h } from './dom.js';
import { errorBox, type Page } from './ui.js';

const TOKEN_SHAPE = /^kiln_[0-9a-z]{10,40}_[A-Za-z0-9_-]{20,100}$/;

/** Words for a sign-in that failed: 401 and 403 mean different things to the reader. */
function signInError(err: unknown): HTMLElement {
  if (err instanceof ApiError && err.status === 401) {
    return h(
      'div',
      { class: 'error', role: 'alert' },
      h('p', { class: 'error-title' }, 'This token is not accepted: the server does not know it, or it was revoked.'),
      h('p', {}, 'Check that you pasted the whole token (it starts with kiln_). An admin can make a new one with "kiln serve token create --scope read" or on the Admin page.'),
    );
  }
  if (err instanceof ApiError && err.status === 403) {
    return h(
      'div',
      { class: 'error', role: 'alert' },
      h('p', { class: 'error-title' }, 'This token is valid, but it may not read builds (it lacks the read scope).'),
      h('p', {}, 'Worker tokens cannot sign in here. Ask an admin for a token with the read, build or admin scope.'),
    );
  }
  return errorBox(err, 'Signing in');
}

export function signInPage(next: string | undefined, notice?: string): Page {
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'kiln_…' });
  const status = h('div', { 'aria-live': 'polite' }, notice ? h('p', { class: 'notice' }, notice) : undefined);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (!TOKEN_SHAPE.test(token)) {
          status.replaceChildren(
            h('div', { class: 'error', role: 'alert' }, h('p', { class: 'error-title' }, 'That does not look like a kiln token.'), h('p', {}, 'A token looks like kiln_<id>_<secret>. Paste it exactly as it was printed.')),
          );
          input.focus();
          return;
        }
        button.disabled = true;
        status.replaceChildren(h('p', {}, 'Checking the token…'));
        // Any read endpoint tells valid (200), unknown (401) and lacking scope (403) apart.
        request('GET', '/v1/builds?limit=1', { token })
          .then(() => {
            session.signIn(token);
            location.hash = next ?? '#/builds';
          })
          .catch((err: unknown) => {
            status.replaceChildren(signInError(err));
            input.focus();
          })
          .finally(() => {
            button.disabled = false;
          });
      },
    },
    h('h1', {}, 'Sign in to kiln'),
    h('p', {}, 'Paste an API token. It is kept in this browser tab only, until you sign out or close the tab.'),
    field('API token', input),
    button,
    status,
  );
  return { el: form };
}
