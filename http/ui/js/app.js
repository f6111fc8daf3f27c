// The admin UI's shell: login, navigation, the stats header and a small
// History-API router. Views live in their own modules; each renders into
// the main element and may return a cleanup function (timers).

import * as api from './api.js';
import { h, clear, errorBox, errorsOf } from './dom.js';
import { startStats } from './stats.js';
import { rolesView, roleFormView } from './roles.js';
import { leasesView } from './leases.js';
import { auditView } from './audit.js';

const root = document.getElementById('app');
const BASE = '/admin';

let stats = null;
let cleanup = null;
let main = null;
/** Shown once on the next view (e.g. "role saved"), then dropped. */
let flash = null;

export function setFlash(node) {
  flash = node;
}

/** Navigates within the app (pushState) and renders the view. */
export function navigate(path, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, '', path);
  } else {
    history.pushState(null, '', path);
  }
  render();
}

/** Refreshes the stats header now (after an action changed the numbers). */
export function refreshStats() {
  if (stats) stats.refresh();
}

function link(path, text, cls = '') {
  return h('a', { href: path, class: cls, 'data-link': true, text });
}

// -- login ----------------------------------------------------------------

function showLogin(message) {
  stopShell();
  clear(root);
  root.className = 'login-page';
  const input = h('input', {
    type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false',
    required: true, placeholder: 'admin token', 'aria-describedby': 'token-help',
  });
  const feedback = h('div', { class: 'login-feedback' });
  if (message) feedback.append(errorBox(message));
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: 'Log in' });

  const form = h('form', {
    class: 'login-card', autocomplete: 'off', novalidate: true,
    on: {
      submit: async (e) => {
        // Never a real submit: the token must not end up in a URL.
        e.preventDefault();
        const token = input.value.trim();
        clear(feedback);
        if (!token) {
          feedback.append(errorBox(['enter the admin token']));
          return;
        }
        button.disabled = true;
        api.setToken(token);
        try {
          // An admin-only read proves the token is the admin's.
          await api.get('/v1/sys/roles');
          input.value = '';
          startShell();
        } catch (err) {
          api.clearToken();
          feedback.append(errorBox(errorsOf(err), 'Login failed'));
          button.disabled = false;
          input.select();
        }
      },
    },
  },
  h('div', { class: 'login-brand' }, h('img', { src: `${BASE}/favicon.svg`, alt: '', width: 40, height: 40 }),
    h('div', {}, h('h1', { text: 'SecretHub' }), h('p', { text: 'Dynamic secrets administration' }))),
  h('label', { for: 'token', text: 'Admin token' }),
  input,
  h('p', { id: 'token-help', class: 'hint', text: 'Kept in this tab\u2019s session storage only; closing the tab logs you out.' }),
  button,
  feedback);
  root.append(form);
  input.focus();
}

function logout() {
  api.clearToken();
  showLogin();
}

api.onUnauthorized((err) => {
  api.clearToken();
  showLogin(errorsOf(err));
});

// -- shell ----------------------------------------------------------------

const sections = [
  { path: `${BASE}/roles`, label: 'Dynamic Secrets', match: /^\/admin\/roles/ },
  { path: `${BASE}/leases`, label: 'Leases', match: /^\/admin\/leases/ },
  { path: `${BASE}/audit`, label: 'Audit', match: /^\/admin\/audit/ },
];

let nav = null;

function startShell() {
  clear(root);
  root.className = 'shell';
  nav = h('nav', { class: 'nav', 'aria-label': 'Sections' },
    sections.map((s) => link(s.path, s.label, 'nav-link')));
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: `${BASE}/roles`, 'data-link': true },
      h('img', { src: `${BASE}/favicon.svg`, alt: '', width: 26, height: 26 }),
      h('span', { text: 'SecretHub' }), h('span', { class: 'brand-sub', text: 'Admin' })),
    nav,
    h('button', { type: 'button', class: 'btn btn-ghost', text: 'Log out', on: { click: logout } }));
  const statsBar = h('section', { class: 'stats', 'aria-label': 'Lease statistics' });
  main = h('main', { class: 'main', id: 'main' });
  root.append(header, statsBar, main);
  stats = startStats(statsBar);
  render();
}

function stopShell() {
  if (cleanup) cleanup();
  cleanup = null;
  if (stats) stats.stop();
  stats = null;
  main = null;
}

function notFound(container) {
  container.append(h('div', { class: 'page-head' }, h('h1', { text: 'Not found' })),
    h('p', {}, 'No page at this address. ', link(`${BASE}/roles`, 'Go to Dynamic Secrets')));
}

/** Picks the view for location.pathname and renders it. */
function render() {
  if (!main) return;
  if (cleanup) cleanup();
  cleanup = null;
  const path = location.pathname.replace(/\/+$/, '');
  const params = new URLSearchParams(location.search);
  for (const a of nav.querySelectorAll('a')) {
    const section = sections.find((s) => s.path === a.getAttribute('href'));
    a.classList.toggle('active', section.match.test(path));
  }
  clear(main);
  if (flash) {
    main.append(flash);
    flash = null;
  }
  const container = h('div', { class: 'view' });
  main.append(container);

  let m;
  let result;
  if (path === BASE || path === '') {
    navigate(`${BASE}/roles`, { replace: true });
    return;
  } else if (path === `${BASE}/roles`) {
    result = rolesView(container, params);
  } else if (path === `${BASE}/roles/new`) {
    result = roleFormView(container, null, params);
  } else if ((m = path.match(/^\/admin\/roles\/([A-Za-z0-9_-]+)\/edit$/))) {
    result = roleFormView(container, m[1], params);
  } else if (path === `${BASE}/leases`) {
    result = leasesView(container, params);
  } else if (path === `${BASE}/audit`) {
    result = auditView(container, params);
  } else {
    notFound(container);
  }
  Promise.resolve(result).then((fn) => {
    if (typeof fn === 'function') {
      if (container.isConnected) {
        cleanup = fn;
      } else {
        fn();  // the user already moved on
      }
    }
  }).catch((e) => container.append(errorBox(errorsOf(e))));
}

// In-app links: no reload, the token stays where it is.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);

if (api.getToken()) {
  startShell();
} else {
  showLogin();
}
