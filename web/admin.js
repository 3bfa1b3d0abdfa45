/*
 * admin.js — the curation pages' entry point.
 *
 * One shell (admin.html) serves every /admin… path; this module reads the
 * path, renders the matching page into #view and keeps the URL in step with
 * history.pushState (links under /admin are intercepted, popstate re-renders).
 *
 * Pages: the genre and band tables (/admin, /admin#bands, a later page as
 * /admin#bands?page=N, admin-list.js),
 * the genre and band forms (…/new, …/ID/edit, admin-forms.js), users
 * (/admin/users, admin-users.js) and the audit log (/admin/audit?page=N,
 * admin-audit.js). The CSP is strict (no inline script or style
 * attributes), so classes carry all presentation.
 *
 * document.body.dataset.adminReady is "1" when a page has finished rendering
 * and is removed while the next one loads (tests wait on it).
 */
import { ApiError } from './api.js';
import { add, clear, h } from './dom.js';
import { $, api, el, navigate, pageParam, problemText, showNotice, state } from './admin-core.js';
import { pageAudit } from './admin-audit.js';
import { setBusy } from './admin-fields.js';
import { pageBandForm, pageGenreForm } from './admin-forms.js';
import { pageList } from './admin-list.js';
import { pageUsers } from './admin-users.js';

function parseRoute() {
  const p = location.pathname.replace(/\/+$/, '') || '/';
  let m;
  if (p === '/admin') {
    const [table, query] = location.hash.slice(1).split('?');
    return { page: table === 'bands' ? 'bands' : 'genres', n: pageParam(query || '') };
  }
  if (p === '/admin/genres/new') return { page: 'genre-form' };
  if ((m = /^\/admin\/genres\/([^/]+)\/edit$/.exec(p))) return { page: 'genre-form', id: decodeURIComponent(m[1]) };
  if (p === '/admin/bands/new') return { page: 'band-form' };
  if ((m = /^\/admin\/bands\/([^/]+)\/edit$/.exec(p))) return { page: 'band-form', id: decodeURIComponent(m[1]) };
  if (p === '/admin/users') return { page: 'users' };
  if (p === '/admin/audit') return { page: 'audit', n: pageParam(location.search) };
  return { page: 'not-found' };
}

function isAdminLink(a, ev) {
  if (!a || ev.defaultPrevented || ev.button !== 0) return false;
  if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return false;
  if (a.target && a.target !== '_self') return false;
  if (a.hasAttribute('download')) return false;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return false;
  return url.pathname === '/admin' || url.pathname.startsWith('/admin/');
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest ? ev.target.closest('a[href]') : null;
  if (!isAdminLink(a, ev)) return;
  ev.preventDefault();
  const url = new URL(a.href, location.href);
  const dlg = a.closest('dialog');
  if (dlg && dlg.open) dlg.close();
  if (url.pathname + url.search + url.hash === location.pathname + location.search + location.hash) {
    render();
    return;
  }
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => render());

function setNav(route) {
  const current = route.page === 'genre-form' ? 'genres' : route.page === 'band-form' ? 'bands' : route.page;
  for (const a of el.nav.querySelectorAll('a[data-nav]')) {
    if (a.dataset.nav === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  const seq = ++state.seq;
  delete document.body.dataset.adminReady;
  for (const d of document.querySelectorAll('dialog')) {
    if (d.open) d.close();
    d.remove();
  }
  const route = parseRoute();
  setNav(route);
  const notice = state.notice;
  state.notice = null;
  const view = h('div', { class: 'page' });
  let title = 'Curation';
  try {
    switch (route.page) {
      case 'genres':
      case 'bands':
        title = await pageList(view, route.page, route.n, seq);
        break;
      case 'genre-form':
        title = await pageGenreForm(view, route.id, seq);
        break;
      case 'band-form':
        title = await pageBandForm(view, route.id, seq);
        break;
      case 'users':
        title = await pageUsers(view, seq);
        break;
      case 'audit':
        title = await pageAudit(view, route.n, seq);
        break;
      default:
        title = 'Not found';
        add(view, h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, ['There is no such curation page. ', h('a', { href: '/admin' }, 'Back to the genres')]));
    }
  } catch (err) {
    if (seq !== state.seq) return;
    if (err instanceof ApiError && err.status === 401) return; // leaving for /login
    title = err.status === 404 ? 'Not found' : 'Error';
    clear(view);
    add(view, 
      h('h1', { tabindex: '-1' }, err.status === 404 ? 'Not found' : 'Something went wrong'),
      h('p', { class: 'error-text', role: 'alert' }, problemText(err)),
      h('p', null, h('a', { href: '/admin' }, 'Back to the genres')),
    );
  }
  if (seq !== state.seq) return; // a newer navigation won
  clear(el.view);
  el.view.append(view);
  showNotice(notice);
  document.title = title + ' — musicgraph curation';
  if (state.flash) {
    const row = el.view.querySelector('tr[data-id="' + CSS.escape(state.flash.id) + '"]');
    if (row) {
      row.classList.add('flash');
      row.scrollIntoView({ block: 'center' });
    }
    state.flash = null;
  } else if (!state.firstRender) {
    window.scrollTo(0, 0);
  }
  // Move focus to the new page's heading so screen readers announce it;
  // not on the first load (the browser already starts at the top).
  if (!state.firstRender) {
    const h1 = el.view.querySelector('h1');
    if (h1) h1.focus({ preventScroll: true });
  }
  state.firstRender = false;
  document.body.dataset.adminReady = '1';
}

el.logoutForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const btn = $('logout');
  setBusy(btn, true, 'Logging out…');
  try {
    await api('DELETE', '/api/v1/session');
  } catch (err) {
    if (err.status !== 401) {
      setBusy(btn, false);
      showNotice({ kind: 'error', text: 'Could not log out: ' + problemText(err) });
      return;
    }
  }
  location.assign('/');
});

async function start() {
  try {
    const me = await api('GET', '/api/v1/me');
    state.me = me.user;
    state.csrf = me.csrf_token || '';
    el.logoutCsrf.value = state.csrf;
    el.whoami.textContent = me.user.username;
    if (!me.user.is_admin) {
      clear(el.view);
      add(el.view, h('h1', null, 'Not allowed'), h('p', null, 'Only administrators can use the curation pages.'));
      document.body.dataset.adminReady = '1';
      return;
    }
  } catch (err) {
    if (err.status === 401) return;
    clear(el.view);
    add(el.view, h('h1', null, 'Something went wrong'), h('p', { class: 'error-text', role: 'alert' }, problemText(err)));
    document.body.dataset.adminReady = '1';
    return;
  }
  render();
}

state.render = render;
start();
