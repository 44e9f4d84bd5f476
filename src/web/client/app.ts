/**
 * The interface's entry: navigation, hash routing, and the session. Every page talks to the
 * public API only; a 401 anywhere sends the reader back to sign in with a sentence saying why.
 */
import { session, whenUnauthorized } from './api.js';
import { h, put } from './dom.js';
import { adminPage } from './page-admin.js';
import { buildPage } from './page-build.js';
import { buildsPage } from './page-builds.js';
import { comparePage } from './page-compare.js';
import { newBuildPage } from './page-new-build.js';
import { recipePage } from './page-recipe.js';
import { recipesPage } from './page-recipes.js';
import { signInPage } from './page-signin.js';
import { workersPage } from './page-workers.js';
import { href, parseRoute, type Route } from './routes.js';
import type { Page } from './ui.js';

const NAV: [string, string, Route['page'][]][] = [
  ['Builds', '#/builds', ['builds', 'build']],
  ['New build', '#/new', ['new']],
  ['Recipes', '#/recipes', ['recipes', 'recipe']],
  ['Compare', '#/compare', ['compare']],
  ['Workers', '#/workers', ['workers']],
  ['Admin', '#/admin', ['admin']],
];

const main = document.getElementById('main') ?? document.body;
const nav = document.getElementById('nav') ?? document.body;
let current: Page | undefined;
let notice: string | undefined;

function pageFor(route: Route): Page {
  switch (route.page) {
    case 'signin':
      return signInPage(route.next, notice);
    case 'builds':
      return buildsPage(route);
    case 'build':
      return buildPage(route.id);
    case 'new':
      return newBuildPage(route);
    case 'recipes':
      return recipesPage();
    case 'recipe':
      return recipePage(route.name, route.version);
    case 'compare':
      return comparePage(route.a, route.b);
    case 'workers':
      return workersPage();
    case 'admin':
      return adminPage();
    case 'missing':
      return { el: h('div', {}, h('h1', {}, 'No such page'), h('p', {}, `Nothing lives at #${route.path}. `, h('a', { href: '#/builds' }, 'Go to the builds'))) };
  }
}

function drawNav(route: Route): void {
  if (!session.token) {
    put(nav);
    return;
  }
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    session.signOut();
    notice = 'You are signed out; the token is gone from this tab.';
    location.hash = '#/signin';
  });
  put(
    nav,
    h('ul', {}, ...NAV.map(([text, link, pages]) => h('li', {}, h('a', { href: link, 'aria-current': pages.includes(route.page) ? 'page' : undefined }, text))), h('li', {}, signOut)),
  );
}

function render(): void {
  let route = parseRoute(location.hash);
  if (!session.token && route.page !== 'signin') {
    // Replaced in place (no hashchange round trip), so Back does not return to a page that needs a token.
    history.replaceState(null, '', href('/signin', { next: location.hash || '#/builds' }));
    route = parseRoute(location.hash);
  }
  if (session.token && route.page === 'signin' && !notice) route = { page: 'builds' };
  current?.dispose?.();
  current = pageFor(route);
  notice = undefined;
  drawNav(route);
  put(main, current.el);
  const title = current.el.querySelector('h1');
  document.title = `${title?.textContent?.trim() ?? 'kiln'} · kiln`;
  // Screen readers and keyboards start at the new page's heading, as after a page load.
  if (title) {
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
  // For the performance test: when the first page was on screen.
  if (!performance.getEntriesByName('kiln:first-render').length) performance.mark('kiln:first-render');
}

whenUnauthorized(() => {
  session.signOut();
  notice = 'The server no longer accepts your token (it may have been revoked). Sign in with a valid one.';
  location.hash = href('/signin', { next: location.hash });
});

window.addEventListener('hashchange', render);
render();
