/*
 * admin-core.js — what every curation page shares: the session (CSRF token,
 * the 401 rules), the map's data, notices, navigation and formatting.
 *
 * The server has already checked the session before sending the shell; the
 * pages still ask /api/v1/me for the CSRF token every write needs, and any
 * 401 later on (expired session) sends the browser to the login page.
 */
import { ApiError, request } from './api.js';
import { clear, h } from './dom.js';
import { collator } from './text.js';

export const TYPES = ['root', 'intermediate', 'leaf'];
export const TYPE_LABEL = { root: 'Root', intermediate: 'Intermediate', leaf: 'Leaf' };

// Rows of a genre or band table built at once: a page a curator scans in a
// few screens, fast to build on a slow phone (8,008 bands make 81 pages).
export const ROWS_PER_PAGE = 100;

export const $ = (id) => document.getElementById(id);
export const el = {
  view: $('view'),
  notice: $('notice'),
  main: $('main'),
  nav: $('nav'),
  whoami: $('whoami'),
  logoutForm: $('logout-form'),
  logoutCsrf: $('logout-csrf'),
};

export const state = {
  me: null,
  csrf: '',
  sessionLost: false, // a write got 401: refresh the CSRF token before the next
  graph: null, // {genres: Map, bands: Map, genreList, bandList, children, bandsOf, version}
  graphPromise: null,
  notice: null, // {text, links:[{href,text}], kind} shown once on the next page
  flash: null, // {kind, id}: row to highlight on the list after a save
  seq: 0, // render generation: a slow page must not overwrite a newer one
  firstRender: true,
  list: {
    genres: { sort: 'name', dir: 1, filter: '', page: 1 },
    bands: { sort: 'name', dir: 1, filter: '', page: 1 },
  },
  tables: { genres: null, bands: null }, // per graph version: filter texts and sort orders (admin-list.js)
};

// The page of a table or of the audit log asked for by "?page=N" (1 when
// missing or not a page number).
export function pageParam(query) {
  const n = parseInt(new URLSearchParams(query).get('page') || '1', 10);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

// The genre or band table at the page the curator last saw.
export function listHref(kind) {
  const n = state.list[kind].page;
  return '/admin#' + kind + (n > 1 ? '?page=' + n : '');
}

function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: iso }, formatTime(iso));
}

function toLogin() {
  const next = location.pathname + location.search + location.hash;
  location.assign('/login?next=' + encodeURIComponent(next));
}

// Returns the parsed JSON body (or null for 204); throws ApiError for any
// non-2xx answer. A 401 on a read (a page loading) sends the browser to
// the login page: nothing is lost. A 401 on a write does not: the form
// keeps what was typed and says to log in again (in another tab); the
// next write first fetches the new session's CSRF token.
export async function api(method, path, body) {
  const write = method !== 'GET' && method !== 'HEAD';
  if (write && state.sessionLost && path !== '/api/v1/session') {
    const me = await send('GET', '/api/v1/me', undefined, { noRedirect: true });
    state.csrf = me.csrf_token || '';
    el.logoutCsrf.value = state.csrf;
    el.whoami.textContent = me.user.username;
    state.me = me.user;
    state.sessionLost = false;
  }
  return send(method, path, body, { noRedirect: write });
}

// Every request of the curation pages: no cache (they show what was just
// written), the CSRF token on writes, 401 on a read sends to the login page.
async function send(method, path, body, opts) {
  const write = method !== 'GET' && method !== 'HEAD';
  try {
    return await request(method, path, { body, csrf: write ? state.csrf : undefined, cache: 'no-store' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && path !== '/api/v1/session') {
      state.sessionLost = true;
      if (!opts.noRedirect) toLogin();
      throw new ApiError(401, { title: 'Not logged in', detail: 'Your session has ended.' });
    }
    throw err;
  }
}

export function loadGraph() {
  if (state.graph) return Promise.resolve(state.graph);
  if (!state.graphPromise) {
    state.graphPromise = api('GET', '/api/v1/graph')
      .then((doc) => {
        state.graph = indexGraph(doc);
        state.tables = { genres: null, bands: null };
        return state.graph;
      })
      .finally(() => {
        state.graphPromise = null;
      });
  }
  return state.graphPromise;
}

// After a write the snapshot changes: read it again on the next page.
export function invalidateGraph() {
  state.graph = null;
  state.tables = { genres: null, bands: null };
}

function indexGraph(doc) {
  const genres = new Map();
  const bands = new Map();
  const children = new Map(); // genre id -> [child ids] (any parent)
  const bandsOf = new Map(); // genre id -> count of bands (any genre)
  for (const g of doc.genres || []) genres.set(g.id, g);
  for (const b of doc.bands || []) bands.set(b.id, b);
  for (const g of genres.values()) {
    for (const p of g.parents || []) {
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(g.id);
    }
  }
  for (const b of bands.values()) {
    for (const gid of b.genres || []) bandsOf.set(gid, (bandsOf.get(gid) || 0) + 1);
  }
  const byName = (a, b) => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    version: doc.version,
    genres,
    bands,
    children,
    bandsOf,
    genreList: [...genres.values()].sort(byName),
    bandList: [...bands.values()].sort(byName),
  };
}

export function genreName(g, id) {
  const x = g.genres.get(id);
  return x ? x.name : id;
}

/* ---------- notices ---------- */

export function showNotice(n) {
  clear(el.notice);
  if (!n) return;
  const parts = [h('span', null, n.text)];
  for (const l of n.links || []) parts.push(' ', h('a', { href: l.href }, l.text));
  el.notice.append(
    h('div', { class: 'notice notice-' + (n.kind || 'ok') }, [
      h('p', null, parts),
      h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss', onclick: () => clear(el.notice) }, '×'),
    ]),
  );
}

// "Log in again" for a write refused with 401: a new tab, so this page
// and everything typed in it stay.
export function sessionLostMessage(what) {
  return [
    'Your session has ended, so ' + what + ' ',
    h('a', { href: '/login?next=' + encodeURIComponent(location.pathname + location.search), target: '_blank', rel: 'noopener', class: 'login-again' }, 'Log in again'),
    ' (in a new tab), then try again here: nothing you typed is lost.',
  ];
}

export function problemText(err) {
  const p = err.problem || {};
  if (err.status === 403) return p.detail || 'You are not allowed to do that.';
  return p.detail || p.title || err.message;
}

// Shows another curation page: state.render is set by admin.js.
export function navigate(url, opts) {
  if (opts && opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  state.render();
}
