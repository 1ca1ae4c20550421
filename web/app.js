// The ICAT Workspace front-end: the shell (navigation, language, session) and the hash router.
// Plain ES modules, no build step: the server embeds this folder and serves it under its CSP.

import { session, resume, logout } from './js/api.js';
import { t, lang, setLang, onLanguage, translatePage } from './js/i18n.js';
import { h, fill, notify, forgetStaleNotice, problemBox, keepTyped } from './js/ui.js';
import { loadContext } from './js/context.js';
import * as pages from './js/pages.js';
import { onUnread, refreshUnread } from './js/pages/notices.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');

/** Routes: a pattern of hash path segments (`:name` captures) and the page that draws it. */
const routes = [
  ['login', pages.login, { public: true }],
  ['reset', pages.resetPassword, { public: true }],
  ['', pages.dashboard],
  ['activities', pages.activityList],
  ['activities/new', pages.activityForm],
  ['activities/import', pages.activityImport],
  ['activities/:id', pages.activityDetail],
  ['activities/:id/edit', pages.activityForm],
  ['directory', pages.directory],
  ['agencies/:agency', pages.agencyPage],
  ['duplicates', pages.duplicates],
  ['map', pages.worldMap],
  ['countries/:code', pages.countryPage],
  ['duplicates/model', pages.matchModel, { admin: true }],
  ['reports', pages.reports, { admin: true }],
  ['admin/agencies', pages.adminAgencies, { admin: true }],
  ['admin/agencies/:id', pages.editAgency, { admin: true }],
  ['admin/users', pages.adminUsers, { admin: true }],
  ['admin/users/:id', pages.editUser, { admin: true }],
  ['admin/audit', pages.audit, { admin: true }],
  ['admin/mail', pages.mailLog, { admin: true }],
  ['notifications', pages.inbox],
  ['account', pages.account],
];

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  return { segments: path.split('/').filter(Boolean), params: new URLSearchParams(qs) };
}

function match(segments) {
  for (const [pattern, page, opts = {}] of routes) {
    const parts = pattern.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const args = {};
    if (parts.every((p, i) => (p.startsWith(':') ? ((args[p.slice(1)] = decodeURIComponent(segments[i])), true) : p === segments[i]))) {
      return { page, args, opts };
    }
  }
  return null;
}

/** Navigates within the app (pages call this after a save). */
export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}
window.addEventListener('icat:go', (e) => go(e.detail));

function drawNav() {
  const u = session.user;
  if (!u) {
    fill(nav);
    fill(account);
    return;
  }
  if (u.must_change_password) {
    fill(nav);
    fill(account, h('span', { class: 'who' }, u.name || u.email),
      h('button', { type: 'button', id: 'sign-out', onclick: signOut }, t('sign_out')));
    return;
  }
  const link = (hash, key) => h('li', {}, h('a', { href: hash, dataset: { nav: hash } }, t(key)));
  fill(nav, h('ul', {},
    link('#/', 'nav.dashboard'),
    link('#/activities', 'nav.activities'),
    u.role !== 'viewer' ? link('#/activities/new', 'nav.record') : null,
    link('#/directory', 'nav.directory'),
    link('#/duplicates', 'nav.duplicates'),
    link('#/map', 'nav.map'),
    u.role === 'admin' ? [
      link('#/reports', 'nav.reports'),
      link('#/admin/agencies', 'nav.agencies'),
      link('#/admin/users', 'nav.users'),
      link('#/admin/audit', 'nav.audit'),
      link('#/admin/mail', 'nav.mail'),
    ] : null));
  fill(account,
    h('span', { class: 'who' }, u.name || u.email, ' · ', t(`role.${u.role}`)),
    h('a', { href: '#/notifications', id: 'inbox-link' }, t('nav.inbox'), unreadBadge),
    h('a', { href: '#/account' }, t('nav.account')),
    h('button', { type: 'button', id: 'sign-out', onclick: signOut }, t('sign_out')));
  markCurrent();
}

/** The header's unread count: "Inbox 2" reads "Inbox, 2 unread" to screen readers. */
const unreadBadge = h('span', { class: 'count-badge', hidden: true });
// On a phone the inbox link waits behind the menu button, so the button shows the count too.
const menuUnread = document.getElementById('menu-unread');
onUnread((n) => {
  for (const badge of [unreadBadge, menuUnread]) {
    badge.hidden = !n;
    fill(badge, h('span', { 'aria-hidden': 'true' }, n),
      h('span', { class: 'visually-hidden' }, `, ${t('notice.unread_badge', { count: n })}`));
  }
});
setInterval(() => { if (session.open) refreshUnread(); }, 60_000);

// Below 720 px the pages, the language and the account hide behind a menu button; choosing a page
// closes the menu again.
const menuToggle = document.getElementById('menu-toggle');
const header = document.querySelector('header.top');
function openMenu(open) {
  header.classList.toggle('open', open);
  menuToggle.setAttribute('aria-expanded', String(open));
}
menuToggle.addEventListener('click', () => openMenu(!header.classList.contains('open')));
header.addEventListener('keydown', (e) => { if (e.key === 'Escape' && header.classList.contains('open')) { openMenu(false); menuToggle.focus(); } });

function markCurrent() {
  const here = `#/${parseHash().segments.join('/')}`;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.nav === here || (a.dataset.nav === '#/' && here === '#/')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function signOut() {
  await logout();
  notify(t('signed_out'));
  go('#/login');
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  const { segments, params } = parseHash();
  const found = match(segments);
  openMenu(false);
  forgetStaleNotice();
  markCurrent();
  if (!found) {
    fill(main, h('h1', { tabindex: '-1' }, t('not_found_title')), h('p', {}, h('a', { href: '#/' }, t('nav.dashboard'))));
    main.querySelector('h1').focus();
    return;
  }
  // An account with the password the secretariat gave it sees nothing else until it chooses its own.
  if (session.user?.must_change_password && !found.opts.public && found.page !== pages.account) {
    go(`#/account?next=${encodeURIComponent(location.hash || '#/')}`);
    return;
  }
  if (!found.opts.public && !session.signedIn) {
    const back = location.hash && !location.hash.startsWith('#/login') ? location.hash : '';
    go(`#/login${back ? `?next=${encodeURIComponent(back)}` : ''}`);
    return;
  }
  if (found.opts.admin && session.user?.role !== 'admin') {
    fill(main, h('h1', { tabindex: '-1' }, t('forbidden_title')), h('p', {}, t('problem.forbidden')));
    main.querySelector('h1').focus();
    return;
  }
  main.setAttribute('aria-busy', 'true');
  try {
    const view = h('div', { class: 'page' });
    await found.page(view, { ...found.args, params, path: segments.join('/') });
    if (mine !== rendering) return; // a later navigation won
    fill(main, view);
    if (session.open) refreshUnread();
    const title = view.querySelector('h1');
    document.title = `${title ? title.textContent : ''} · ICAT Workspace`;
    if (title) { title.tabIndex = -1; title.focus(); }
  } catch (err) {
    if (mine !== rendering) return;
    if (err.status === 401) { go('#/login'); return; }
    fill(main, h('h1', { tabindex: '-1' }, t('error_title')), problemBox(err));
    main.querySelector('h1').focus();
  } finally {
    main.removeAttribute('aria-busy');
  }
}

function drawLanguage() {
  const select = document.getElementById('lang');
  select.value = lang();
  document.documentElement.lang = lang();
  translatePage();
}

async function boot() {
  // The skip link moves focus without touching the hash (the hash is the router's).
  document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  document.getElementById('lang').addEventListener('change', (e) => setLang(e.target.value));
  onLanguage(() => {
    drawLanguage();
    drawNav();
    const putBack = keepTyped(main);
    render().then(() => putBack(main));
  });
  session.onChange(drawNav);
  drawLanguage();
  await resume();
  if (session.open) await loadContext();
  drawNav();
  window.addEventListener('hashchange', render);
  render();
}

boot();
