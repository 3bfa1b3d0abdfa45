/*
 * musicgraph curation pages.
 *
 * One shell (admin.html) serves every /admin… path; this script reads the
 * path, renders the matching page into #view and keeps the URL in step with
 * history.pushState (links under /admin are intercepted, popstate re-renders).
 * The server has already checked the session before sending the shell; the
 * script still asks /api/v1/me for the CSRF token every write needs, and any
 * 401 later on (expired session) sends the browser to the login page.
 *
 * Pages: the genre and band tables (/admin, /admin#bands), the genre and band
 * forms (…/new, …/ID/edit), users (/admin/users) and the audit log
 * (/admin/audit?page=N). The forms never re-render after a failed save, so
 * everything typed stays; each error from the server goes next to its field
 * (aria-describedby) and into a summary at the top of the form.
 *
 * Names from the database can contain anything, markup included: they only
 * ever reach the page through textContent, Option text and attribute values
 * set from script — never innerHTML. The CSP is strict (no inline script or
 * style attributes), so classes carry all presentation.
 *
 * document.body.dataset.adminReady is "1" when a page has finished rendering
 * and is removed while the next one loads (tests wait on it).
 */
(function () {
  'use strict';

  const AUDIT_PER_PAGE = 50;
  const FILTER_DEBOUNCE_MS = 90;
  const TYPES = ['root', 'intermediate', 'leaf'];
  const TYPE_LABEL = { root: 'Root', intermediate: 'Intermediate', leaf: 'Leaf' };
  const NUM = new Intl.NumberFormat('en-US');
  const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

  const $ = (id) => document.getElementById(id);
  const el = {
    view: $('view'),
    notice: $('notice'),
    main: $('main'),
    nav: $('nav'),
    whoami: $('whoami'),
    logoutForm: $('logout-form'),
    logoutCsrf: $('logout-csrf'),
  };

  const state = {
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
      genres: { sort: 'name', dir: 1, filter: '' },
      bands: { sort: 'name', dir: 1, filter: '' },
    },
    rows: { genres: null, bands: null }, // cached <tr> per id, per graph version
  };

  /* ---------- small helpers ---------- */

  // h('a', {href: '/x', class: 'y'}, ['text', node]) — text children become
  // text nodes, so data is never parsed as markup.
  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k === 'dataset') Object.assign(node.dataset, v);
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else if (v === true) node.setAttribute(k, '');
        else node.setAttribute(k, String(v));
      }
    }
    if (children !== undefined && children !== null) {
      for (const c of Array.isArray(children) ? children : [children]) {
        if (c === null || c === undefined || c === false) continue;
        node.append(c instanceof Node ? c : document.createTextNode(String(c)));
      }
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // node.append() that skips null/false (optional parts of a page).
  function add(node, ...children) {
    for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }

  function fold(s) {
    return String(s || '')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
  }

  // Suggested id from a name, exactly as the server derives one when the id
  // is left out (domain_slugify + text_fold): ASCII lowercased, Latin-1 and
  // Latin Extended-A letters folded to their base letters, every run of
  // anything else one '-', no '-' at either end, at most 50 characters.
  const LATIN1 = [
    'a', 'a', 'a', 'a', 'a', 'a', 'ae', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', null, 'o', 'u', 'u', 'u', 'u', 'y', 'th', 'ss',
    'a', 'a', 'a', 'a', 'a', 'a', 'ae', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', null, 'o', 'u', 'u', 'u', 'u', 'y', 'th', 'y',
  ];
  const LATIN_EXT = [
    [0x100, 0x105, 'a'], [0x106, 0x10d, 'c'], [0x10e, 0x111, 'd'], [0x112, 0x11b, 'e'],
    [0x11c, 0x123, 'g'], [0x124, 0x127, 'h'], [0x128, 0x131, 'i'], [0x132, 0x133, 'ij'],
    [0x134, 0x135, 'j'], [0x136, 0x138, 'k'], [0x139, 0x142, 'l'], [0x143, 0x14b, 'n'],
    [0x14c, 0x151, 'o'], [0x152, 0x153, 'oe'], [0x154, 0x159, 'r'], [0x15a, 0x161, 's'],
    [0x162, 0x167, 't'], [0x168, 0x173, 'u'], [0x174, 0x175, 'w'], [0x176, 0x178, 'y'],
    [0x179, 0x17e, 'z'], [0x17f, 0x17f, 's'],
  ];
  const ID_MAX = 50;
  function foldChar(ch) {
    const cp = ch.codePointAt(0);
    if (cp < 0x80) return ch.toLowerCase();
    if (cp >= 0xc0 && cp <= 0xff) return LATIN1[cp - 0xc0] || ch;
    for (const [a, b, base] of LATIN_EXT) if (cp >= a && cp <= b) return base;
    return ch;
  }
  function slugify(name) {
    let out = '';
    let dash = false;
    for (const ch of String(name || '')) {
      for (const c of foldChar(ch)) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
          const sep = dash && out.length > 0 ? '-' : '';
          if (out.length + sep.length + 1 > ID_MAX) return out;
          out += sep + c;
          dash = false;
        } else {
          dash = true;
        }
      }
    }
    return out;
  }

  function plural(n, one, many) {
    return NUM.format(n) + ' ' + (n === 1 ? one : many);
  }

  function debounce(fn, ms) {
    let t = 0;
    return function (...args) {
      clearTimeout(t);
      t = setTimeout(() => fn.apply(this, args), ms);
    };
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

  function timeEl(iso) {
    if (!iso) return h('span', { class: 'muted' }, 'never');
    return h('time', { datetime: iso, title: iso }, formatTime(iso));
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem || {};
    }
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
  async function api(method, path, body) {
    const write = method !== 'GET' && method !== 'HEAD';
    if (write && state.sessionLost && path !== '/api/v1/session') {
      const me = await request('GET', '/api/v1/me', undefined, { noRedirect: true });
      state.csrf = me.csrf_token || '';
      el.logoutCsrf.value = state.csrf;
      el.whoami.textContent = me.user.username;
      state.me = me.user;
      state.sessionLost = false;
    }
    return request(method, path, body, { noRedirect: write });
  }

  async function request(method, path, body, opts) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = state.csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, { title: 'Network error', detail: 'The server could not be reached. Nothing was changed.' });
    }
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (res.status !== 204 && /json/.test(type)) {
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
    }
    if (res.status === 401 && path !== '/api/v1/session') {
      state.sessionLost = true;
      if (!opts.noRedirect) toLogin();
      throw new ApiError(401, { title: 'Not logged in', detail: 'Your session has ended.' });
    }
    if (!res.ok) throw new ApiError(res.status, data || { title: res.statusText || 'Error', detail: 'The server answered ' + res.status + '.' });
    return data;
  }

  function loadGraph() {
    if (state.graph) return Promise.resolve(state.graph);
    if (!state.graphPromise) {
      state.graphPromise = api('GET', '/api/v1/graph')
        .then((doc) => {
          state.graph = indexGraph(doc);
          state.rows = { genres: null, bands: null };
          return state.graph;
        })
        .finally(() => {
          state.graphPromise = null;
        });
    }
    return state.graphPromise;
  }

  // After a write the snapshot changes: read it again on the next page.
  function invalidateGraph() {
    state.graph = null;
    state.rows = { genres: null, bands: null };
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

  function genreName(g, id) {
    const x = g.genres.get(id);
    return x ? x.name : id;
  }

  /* ---------- notices ---------- */

  function showNotice(n) {
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
  function sessionLostMessage(what) {
    return [
      'Your session has ended, so ' + what + ' ',
      h('a', { href: '/login?next=' + encodeURIComponent(location.pathname + location.search), target: '_blank', rel: 'noopener', class: 'login-again' }, 'Log in again'),
      ' (in a new tab), then try again here: nothing you typed is lost.',
    ];
  }

  function problemText(err) {
    const p = err.problem || {};
    if (err.status === 403) return p.detail || 'You are not allowed to do that.';
    return p.detail || p.title || err.message;
  }

  /* ---------- routing ---------- */

  function parseRoute() {
    const p = location.pathname.replace(/\/+$/, '') || '/';
    let m;
    if (p === '/admin') return { page: location.hash === '#bands' ? 'bands' : 'genres' };
    if (p === '/admin/genres/new') return { page: 'genre-form' };
    if ((m = /^\/admin\/genres\/([^/]+)\/edit$/.exec(p))) return { page: 'genre-form', id: decodeURIComponent(m[1]) };
    if (p === '/admin/bands/new') return { page: 'band-form' };
    if ((m = /^\/admin\/bands\/([^/]+)\/edit$/.exec(p))) return { page: 'band-form', id: decodeURIComponent(m[1]) };
    if (p === '/admin/users') return { page: 'users' };
    if (p === '/admin/audit') {
      const n = parseInt(new URLSearchParams(location.search).get('page') || '1', 10);
      return { page: 'audit', n: Number.isFinite(n) && n > 0 ? n : 1 };
    }
    return { page: 'not-found' };
  }

  function navigate(url, opts) {
    if (opts && opts.replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    render();
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
          title = await pageList(view, route.page, seq);
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

  /* ---------- list page: genres and bands tables ---------- */

  const COLUMNS = {
    genres: [
      { key: 'name', label: 'Name', sort: (g, x) => x.name },
      { key: 'id', label: 'Id', sort: (g, x) => x.id, opt: true },
      { key: 'type', label: 'Type', sort: (g, x) => TYPES.indexOf(x.type) },
      { key: 'parent', label: 'Primary parent', sort: (g, x) => (x.parent ? genreName(g, x.parent) : '') },
      { key: 'parents', label: 'Parents', sort: (g, x) => (x.parents || []).length, numeric: true, opt: true },
      { key: 'bands', label: 'Bands', sort: (g, x) => g.bandsOf.get(x.id) || 0, numeric: true },
      { key: 'year', label: 'Origin', sort: (g, x) => (x.origin_year == null ? -Infinity : x.origin_year), numeric: true, opt: true },
      { key: 'view', label: 'Map' },
    ],
    bands: [
      { key: 'name', label: 'Name', sort: (g, x) => x.name },
      { key: 'id', label: 'Id', sort: (g, x) => x.id, opt: true },
      { key: 'primary', label: 'Primary genre', sort: (g, x) => genreName(g, x.primary_genre) },
      { key: 'genres', label: 'Genres', sort: (g, x) => (x.genres || []).length, numeric: true, opt: true },
      { key: 'view', label: 'Map' },
    ],
  };

  function genreRow(g, x) {
    const parents = x.parents || [];
    const others = parents.filter((p) => p !== x.parent);
    return h('tr', { dataset: { id: x.id } }, [
      h('th', { scope: 'row', class: 'cell-name' }, h('a', { href: '/admin/genres/' + encodeURIComponent(x.id) + '/edit' }, x.name)),
      h('td', { class: 'cell-id col-opt' }, h('code', null, x.id)),
      h('td', null, h('span', { class: 'badge badge-' + x.type }, TYPE_LABEL[x.type] || x.type)),
      h('td', null, x.parent ? genreName(g, x.parent) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'cell-num col-opt', title: others.map((p) => genreName(g, p)).join(', ') || null }, NUM.format(parents.length)),
      h('td', { class: 'cell-num' }, NUM.format(g.bandsOf.get(x.id) || 0)),
      h('td', { class: 'cell-num col-opt' }, x.origin_year == null ? h('span', { class: 'muted' }, '—') : String(x.origin_year)),
      h('td', null, h('a', { href: '/genres/' + encodeURIComponent(x.id), class: 'view-link', 'aria-label': 'View ' + x.name + ' on the map' }, 'View')),
    ]);
  }

  function bandRow(g, x) {
    const names = (x.genres || []).map((id) => genreName(g, id));
    return h('tr', { dataset: { id: x.id } }, [
      h('th', { scope: 'row', class: 'cell-name' }, h('a', { href: '/admin/bands/' + encodeURIComponent(x.id) + '/edit' }, x.name)),
      h('td', { class: 'cell-id col-opt' }, h('code', null, x.id)),
      h('td', null, x.primary_genre ? genreName(g, x.primary_genre) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'cell-genres col-opt' }, names.join(', ')),
      h('td', null, h('a', { href: '/bands/' + encodeURIComponent(x.id), class: 'view-link', 'aria-label': 'View ' + x.name + ' on the map' }, 'View')),
    ]);
  }

  function haystack(g, kind, x) {
    if (kind === 'genres') return fold([x.name, x.id, x.type, x.parent ? genreName(g, x.parent) : ''].join('\n'));
    return fold([x.name, x.id, ...(x.genres || []).map((id) => genreName(g, id))].join('\n'));
  }

  async function pageList(view, kind, seq) {
    const g = await loadGraph();
    if (seq !== state.seq) return '';
    const items = kind === 'genres' ? g.genreList : g.bandList;
    const total = items.length;
    const ls = state.list[kind];
    const one = kind === 'genres' ? 'genre' : 'band';
    const cols = COLUMNS[kind];

    // Rows are built once per graph version and re-ordered on sort/filter.
    if (!state.rows[kind]) {
      const rows = new Map();
      for (const x of items) rows.set(x.id, { tr: (kind === 'genres' ? genreRow : bandRow)(g, x), text: haystack(g, kind, x), item: x });
      state.rows[kind] = rows;
    }
    const rows = state.rows[kind];

    const count = h('p', { class: 'count', id: kind + '-count', 'aria-live': 'polite' });
    const filter = h('input', {
      type: 'search',
      id: kind + '-filter',
      class: 'input',
      value: ls.filter,
      placeholder: kind === 'genres' ? 'Name, id, type or parent' : 'Name, id or genre',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-controls': kind + '-table',
      'aria-describedby': kind + '-count',
    });
    filter.value = ls.filter;
    const tbody = h('tbody');
    const headRow = h('tr');
    const headCells = [];
    for (const c of cols) {
      if (!c.sort) {
        headRow.append(h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, c.label)));
        headCells.push(null);
        continue;
      }
      const btn = h('button', { type: 'button', class: 'sort', dataset: { key: c.key } }, [c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' })]);
      const th = h('th', { scope: 'col', class: [c.numeric ? 'cell-num' : '', c.opt ? 'col-opt' : ''].join(' ').trim() || null }, btn);
      btn.addEventListener('click', () => {
        if (ls.sort === c.key) ls.dir = -ls.dir;
        else {
          ls.sort = c.key;
          ls.dir = c.numeric ? -1 : 1; // counts read best biggest first
        }
        apply();
      });
      headRow.append(th);
      headCells.push(th);
    }
    const table = h('table', { class: 'table', id: kind + '-table' }, [
      h('caption', { class: 'visually-hidden' }, kind === 'genres' ? 'Genres; column headers sort the table' : 'Bands; column headers sort the table'),
      h('thead', null, headRow),
      tbody,
    ]);

    // Sorting is the expensive part: it is redone only when the order
    // changes, and filtering walks the sorted rows.
    let sorted = null;
    let sortedBy = '';
    function apply() {
      const q = fold(ls.filter.trim());
      const col = cols.find((c) => c.key === ls.sort) || cols[0];
      if (sortedBy !== col.key + ':' + ls.dir) {
        const keyed = [...rows.values()].map((r) => ({ r, k: col.sort(g, r.item) }));
        keyed.sort((a, b) => {
          let d = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : collator.compare(String(a.k), String(b.k));
          if (d === 0) d = collator.compare(a.r.item.name, b.r.item.name);
          return d * ls.dir;
        });
        sorted = keyed.map((x) => x.r);
        sortedBy = col.key + ':' + ls.dir;
      }
      const list = q ? sorted.filter((r) => r.text.includes(q)) : sorted;
      const frag = document.createDocumentFragment();
      for (const r of list) frag.append(r.tr);
      if (!list.length) {
        frag.append(h('tr', { class: 'empty' }, h('td', { colspan: String(cols.length) }, q ? 'No ' + one + ' matches “' + ls.filter.trim() + '”.' : 'No ' + one + 's yet.')));
      }
      clear(tbody);
      tbody.append(frag);
      count.textContent = list.length === total || !q ? plural(total, one, one + 's') : NUM.format(list.length) + ' of ' + plural(total, one, one + 's');
      for (let i = 0; i < cols.length; i++) {
        const th = headCells[i];
        if (!th) continue;
        if (cols[i].key === ls.sort) th.setAttribute('aria-sort', ls.dir > 0 ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
      }
    }

    filter.addEventListener(
      'input',
      debounce(() => {
        ls.filter = filter.value;
        apply();
      }, FILTER_DEBOUNCE_MS),
    );
    filter.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && filter.value) {
        filter.value = '';
        ls.filter = '';
        apply();
      }
    });

    const otherKind = kind === 'genres' ? 'bands' : 'genres';
    const otherTotal = otherKind === 'genres' ? g.genreList.length : g.bandList.length;
    add(view, 
      h('div', { class: 'page-head' }, [
        h('h1', { tabindex: '-1' }, kind === 'genres' ? 'Genres' : 'Bands'),
        h('a', { class: 'button button-primary', href: kind === 'genres' ? '/admin/genres/new' : '/admin/bands/new' }, kind === 'genres' ? 'Add genre' : 'Add band'),
      ]),
      h('nav', { class: 'tabs', 'aria-label': 'Tables' }, [
        h('a', { href: '/admin#genres', class: 'tab', 'aria-current': kind === 'genres' ? 'page' : null }, ['Genres ', h('span', { class: 'tab-count' }, NUM.format(kind === 'genres' ? total : otherTotal))]),
        h('a', { href: '/admin#bands', class: 'tab', 'aria-current': kind === 'bands' ? 'page' : null }, ['Bands ', h('span', { class: 'tab-count' }, NUM.format(kind === 'bands' ? total : otherTotal))]),
      ]),
      h('div', { class: 'toolbar' }, [h('label', { for: kind + '-filter', class: 'toolbar-label' }, kind === 'genres' ? 'Filter genres' : 'Filter bands'), filter, count]),
      h('div', { class: 'table-wrap' }, table),
    );
    apply();
    return kind === 'genres' ? 'Genres' : 'Bands';
  }

  /* ---------- form building blocks ---------- */

  let uid = 0;

  // A labelled field: returns {wrap, control, error, setError(msg)}.
  function field(opts) {
    const id = opts.id;
    const errId = id + '-error';
    const hintId = opts.hint ? id + '-hint' : null;
    const control = opts.control;
    control.id = id;
    if (opts.name) control.name = opts.name;
    const describe = [hintId, errId].filter(Boolean).join(' ');
    control.setAttribute('aria-describedby', describe);
    const hint = opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null;
    const error = h('p', { class: 'field-error', id: errId, hidden: true });
    const label = h('label', { for: id, class: 'label' }, [opts.label, opts.optional ? h('span', { class: 'optional' }, ' (optional)') : null]);
    const wrap = h('div', { class: 'field' + (opts.wide ? ' field-wide' : '') }, [label, control, hint, error]);
    return {
      wrap,
      control,
      hint,
      error,
      focus: () => control.focus(),
      setError(messages) {
        setErrorText(error, messages);
        if (messages && messages.length) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
        wrap.classList.toggle('has-error', !!(messages && messages.length));
      },
    };
  }

  function setErrorText(node, messages) {
    clear(node);
    if (!messages || !messages.length) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    node.textContent = messages.join('; ');
  }

  // Multi-select: a filter box over an alphabetical list of checkboxes, with
  // the chosen items repeated as removable chips so a filter never hides
  // what is selected. items: [{id, name, meta}] sorted already.
  function checklist(opts) {
    const base = opts.id;
    const errId = base + '-error';
    const hintId = base + '-hint';
    const listId = base + '-list';
    const order = []; // selected ids, in selection order
    const boxes = new Map(); // id -> {input, label, text}
    const itemsById = new Map(opts.items.map((i) => [i.id, i]));
    for (const id of opts.selected || []) if (!order.includes(id)) order.push(id);

    const chips = h('ul', { class: 'chips', 'aria-label': 'Chosen ' + opts.label.toLowerCase() });
    const filter = h('input', {
      type: 'search',
      id: base + '-filter',
      class: 'input input-filter',
      placeholder: opts.placeholder || 'Type to filter',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-controls': listId,
      'aria-describedby': [hintId, errId].join(' '),
    });
    const shown = h('span', { class: 'shown-count', 'aria-live': 'polite' });
    const list = h('div', { class: 'checklist-box', id: listId, role: 'group', 'aria-label': opts.label });
    const hint = h('p', { class: 'hint', id: hintId }, [opts.hint || '', opts.hint ? ' ' : '', shown]);
    const error = h('p', { class: 'field-error', id: errId, hidden: true });
    const legend = h('legend', { class: 'label' }, opts.label);
    const fieldset = h('fieldset', { class: 'field field-wide checklist', id: base, 'aria-describedby': [hintId, errId].join(' ') }, [
      legend,
      chips,
      h('label', { for: base + '-filter', class: 'visually-hidden' }, 'Filter ' + opts.label.toLowerCase()),
      filter,
      list,
      hint,
      error,
    ]);

    for (const item of opts.items) {
      const input = h('input', { type: 'checkbox', value: item.id, id: base + '-' + ++uid });
      input.checked = order.includes(item.id);
      const label = h('label', { class: 'check', for: input.id }, [
        input,
        h('span', { class: 'check-name' }, item.name),
        item.meta ? h('span', { class: 'check-meta' }, item.meta) : null,
      ]);
      input.addEventListener('change', () => {
        if (input.checked && !order.includes(item.id)) order.push(item.id);
        if (!input.checked) order.splice(order.indexOf(item.id), 1);
        renderChips();
        if (opts.onChange) opts.onChange(order.slice());
      });
      boxes.set(item.id, { input, label, text: fold(item.name + '\n' + item.id) });
      list.append(label);
    }
    // Selected ids unknown to the list (e.g. a parent deleted meanwhile)
    // still show as chips and are still sent: the server then says why.

    function renderChips() {
      clear(chips);
      if (!order.length) {
        chips.append(h('li', { class: 'chips-empty' }, opts.emptyText || 'None chosen'));
        return;
      }
      for (const id of order) {
        const item = itemsById.get(id);
        const name = item ? item.name : id;
        chips.append(
          h('li', { class: 'chip' }, [
            h('span', null, name),
            h(
              'button',
              {
                type: 'button',
                class: 'chip-remove',
                'aria-label': 'Remove ' + name,
                disabled: fieldset.disabled,
                onclick: () => {
                  const b = boxes.get(id);
                  if (b) b.input.checked = false;
                  const i = order.indexOf(id);
                  if (i >= 0) order.splice(i, 1);
                  renderChips();
                  if (opts.onChange) opts.onChange(order.slice());
                  filter.focus();
                },
              },
              '×',
            ),
          ]),
        );
      }
    }

    function applyFilter() {
      const q = fold(filter.value.trim());
      let n = 0;
      for (const b of boxes.values()) {
        const hide = !!q && !b.text.includes(q);
        b.label.hidden = hide;
        if (!hide) n++;
      }
      shown.textContent = q ? NUM.format(n) + ' of ' + NUM.format(boxes.size) + ' shown.' : '';
    }
    filter.addEventListener('input', applyFilter);
    filter.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      // Enter in the filter toggles the first match instead of submitting.
      ev.preventDefault();
      if (!filter.value.trim()) return;
      for (const b of boxes.values()) {
        if (!b.label.hidden) {
          b.input.click();
          break;
        }
      }
    });
    renderChips();
    applyFilter();

    return {
      wrap: fieldset,
      control: filter,
      get value() {
        return order.slice();
      },
      focus: () => filter.focus(),
      setDisabled(d) {
        fieldset.disabled = d;
        fieldset.classList.toggle('is-disabled', d);
        renderChips();
      },
      setError(messages) {
        setErrorText(error, messages);
        const bad = !!(messages && messages.length);
        fieldset.classList.toggle('has-error', bad);
        if (bad) filter.setAttribute('aria-invalid', 'true');
        else filter.removeAttribute('aria-invalid');
      },
    };
  }

  // Maps a server field name ("parents", "links[2].to", "genres.1") to ours.
  function baseField(f) {
    return String(f || '').split(/[.[]/)[0];
  }

  // Shows server (or local) errors: each next to its field, all in the
  // summary; focuses the first field in error.
  function showErrors(form, fields, err, summary) {
    const p = err.problem || {};
    const byField = new Map();
    const unplaced = [];
    for (const e of Array.isArray(p.errors) ? p.errors : []) {
      const f = baseField(e.field);
      const msg = e.message || 'is not valid';
      if (fields[f]) {
        if (!byField.has(f)) byField.set(f, []);
        byField.get(f).push(msg);
      } else {
        unplaced.push((e.field ? e.field + ': ' : '') + msg);
      }
    }
    for (const [name, f] of Object.entries(fields)) f.setError(byField.get(name) || null);

    clear(summary);
    const items = [];
    for (const [name, msgs] of byField) {
      const f = fields[name];
      for (const m of msgs) {
        items.push(
          h('li', null, h('a', { href: '#' + (f.wrap.id || f.control.id), class: 'summary-link', onclick: (ev) => {
            ev.preventDefault();
            f.focus();
          } }, f.labelText + ': ' + m)),
        );
      }
    }
    for (const m of unplaced) items.push(h('li', null, m));
    // With field errors the list says it all (the server's detail repeats
    // them); without, the detail is the only explanation.
    summary.append(
      h('h2', { class: 'summary-title' }, 'Not saved'),
      h('p', null, err.status === 401 ? sessionLostMessage('this was not saved.') : byField.size ? (byField.size === 1 && !unplaced.length ? 'Fix the marked field:' : 'Fix the marked fields:') : problemText(err)),
    );
    if (items.length) summary.append(h('ul', null, items));
    summary.hidden = false;
    const first = [...byField.keys()].map((k) => fields[k])[0];
    if (first) first.focus();
    else summary.focus();
  }

  // The few checks worth making before a round trip: without a name the
  // server could only complain that no id can be derived from it.
  function localErrors(name, idField, editing) {
    const errors = [];
    if (!name.control.value.trim()) errors.push({ field: 'name', message: 'is required' });
    else if (!editing && !idField.control.value.trim() && !slugify(name.control.value)) {
      errors.push({ field: 'id', message: 'cannot be suggested from this name: type one (a-z, 0-9 and -)' });
    }
    return errors;
  }

  function clearErrors(fields, summary) {
    for (const f of Object.values(fields)) f.setError(null);
    clear(summary);
    summary.hidden = true;
  }

  function setBusy(button, busy, busyText) {
    if (busy) {
      button.dataset.label = button.textContent;
      button.textContent = busyText;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  // Confirmation dialog for deletions. doDelete() resolves with the server's
  // answer or throws ApiError; a 409 shows the reason and the blockers.
  function confirmDelete(opts) {
    const title = h('h2', { id: 'confirm-title', class: 'dialog-title' }, opts.title);
    const body = h('div', { class: 'dialog-body' }, h('p', null, opts.message));
    const result = h('div', { class: 'dialog-result', role: 'alert' });
    const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, 'Cancel');
    const confirm = h('button', { type: 'button', class: 'button button-danger' }, opts.confirmText || 'Delete');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' }, [
      title,
      body,
      result,
      h('div', { class: 'dialog-actions' }, [cancel, confirm]),
    ]);
    body.id = 'confirm-body';
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => dlg.remove());
    confirm.addEventListener('click', async () => {
      setBusy(confirm, true, 'Deleting…');
      clear(result);
      try {
        const answer = await opts.doDelete();
        dlg.close();
        opts.onDone(answer);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        setBusy(confirm, false);
        if (err.status === 401) {
          result.append(h('p', { class: 'dialog-reason' }, sessionLostMessage('nothing was deleted.')));
          return;
        }
        const p = err.problem || {};
        result.append(h('p', { class: 'dialog-reason' }, [h('strong', null, (p.title || 'Refused') + ': '), problemText(err)]));
        const blockers = p.blockers || {};
        const groups = [
          ['genres', 'Genres that have it as their primary parent', (b) => '/admin/genres/' + encodeURIComponent(b.id) + '/edit'],
          ['bands', 'Bands that have it as their primary genre', (b) => '/admin/bands/' + encodeURIComponent(b.id) + '/edit'],
        ];
        for (const [key, heading, href] of groups) {
          const list = Array.isArray(blockers[key]) ? blockers[key] : [];
          if (!list.length) continue;
          result.append(
            h('h3', { class: 'blockers-title' }, heading + ' (' + NUM.format(list.length) + ')'),
            h('ul', { class: 'blockers', dataset: { kind: key } }, list.slice().sort((a, b) => collator.compare(a.name || a.id, b.name || b.id)).map((b) => h('li', null, h('a', { href: href(b) }, b.name || b.id)))),
          );
        }
        if (err.status === 409) {
          title.textContent = opts.refusedTitle || 'Cannot delete';
          body.hidden = true;
          confirm.hidden = true;
          cancel.textContent = 'Close';
          cancel.focus();
        }
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
    return dlg;
  }

  /* ---------- genre form ---------- */

  async function pageGenreForm(view, id, seq) {
    const editing = id !== undefined;
    const [g, detail] = await Promise.all([loadGraph(), editing ? api('GET', '/api/v1/genres/' + encodeURIComponent(id)) : null]);
    if (seq !== state.seq) return '';
    const cur = detail || { id: '', name: '', type: 'leaf', parent: null, parents: [], description: '', origin_year: null, links: [] };
    view.classList.add('page-narrow');

    // A genre cannot descend from itself: leave it and its descendants out
    // of the parent choices (the server checks cycles as well).
    const excluded = new Set();
    if (editing) {
      const stack = [cur.id];
      while (stack.length) {
        const x = stack.pop();
        if (excluded.has(x)) continue;
        excluded.add(x);
        for (const c of g.children.get(x) || []) stack.push(c);
      }
    }
    const items = (filterFn) => g.genreList.filter(filterFn).map((x) => ({ id: x.id, name: x.name, meta: TYPE_LABEL[x.type] + ' · ' + x.id }));

    const summary = h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true });
    const name = field({ id: 'genre-name', name: 'name', label: 'Name', control: h('input', { type: 'text', class: 'input', required: true, maxlength: '100', autocomplete: 'off', spellcheck: 'false' }) });
    name.control.value = cur.name || '';
    const idField = field({
      id: 'genre-id',
      name: 'id',
      label: 'Id',
      hint: editing ? 'The id is part of the genre’s address and cannot change.' : 'Lowercase letters, digits and “-”, at most 50; suggested from the name.',
      control: h('input', { type: 'text', class: 'input input-mono', maxlength: '50', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', readonly: editing }),
    });
    idField.control.value = cur.id || '';
    const typeSel = h('select', { class: 'input' }, TYPES.map((t) => new Option(TYPE_LABEL[t], t)));
    typeSel.value = TYPES.includes(cur.type) ? cur.type : 'leaf';
    const type = field({ id: 'genre-type', name: 'type', label: 'Type', hint: 'Root genres have no parents; leaf genres can be a band’s primary genre.', control: typeSel });

    const parentSel = h('select', { class: 'input' });
    const parent = field({ id: 'genre-parent', name: 'parent', label: 'Primary parent', hint: 'One of the parents; it places the genre in its family.', control: parentSel });
    let primary = cur.parent || '';

    const parents = checklist({
      id: 'genre-parents',
      label: 'Parents',
      items: items((x) => !excluded.has(x.id)),
      selected: cur.parents || [],
      placeholder: 'Type to filter genres',
      emptyText: 'No parent chosen',
      onChange: () => fillPrimary(),
    });
    const influenceIds = (cur.links || []).filter((l) => l.kind === 'influence').map((l) => l.to);
    const otherLinks = (cur.links || []).filter((l) => l.kind !== 'influence');
    const links = checklist({
      id: 'genre-links',
      label: 'Influenced',
      hint: 'Genres this genre influenced.',
      items: items((x) => x.id !== cur.id),
      selected: influenceIds,
      placeholder: 'Type to filter genres',
      emptyText: 'No influence link',
    });
    const description = field({ id: 'genre-description', name: 'description', label: 'Description', optional: true, wide: true, control: h('textarea', { class: 'input', rows: '5' }) });
    description.control.value = cur.description || '';
    const year = field({
      id: 'genre-origin-year',
      name: 'origin_year',
      label: 'Origin year',
      optional: true,
      hint: 'The year (or decade, e.g. 1980) it emerged.',
      control: h('input', { type: 'text', inputmode: 'numeric', class: 'input input-year', maxlength: '6', autocomplete: 'off' }),
    });
    year.control.value = cur.origin_year == null ? '' : String(cur.origin_year);

    const fields = { name, id: idField, type, parent, parents, links, description, origin_year: year };
    name.labelText = 'Name';
    idField.labelText = 'Id';
    type.labelText = 'Type';
    parent.labelText = 'Primary parent';
    parents.labelText = 'Parents';
    links.labelText = 'Influenced';
    description.labelText = 'Description';
    year.labelText = 'Origin year';

    function fillPrimary() {
      const chosen = parents.value;
      const isRoot = typeSel.value === 'root';
      if (parentSel.value) primary = parentSel.value;
      clear(parentSel);
      if (isRoot) {
        parentSel.append(new Option('None: a root genre has no parent', ''));
        parentSel.disabled = true;
        return;
      }
      if (!chosen.length) {
        parentSel.append(new Option('Choose parents first', ''));
        parentSel.disabled = true;
        return;
      }
      parentSel.disabled = false;
      const sorted = chosen.map((pid) => ({ id: pid, name: genreName(g, pid) })).sort((a, b) => collator.compare(a.name, b.name));
      if (sorted.length > 1 || !sorted.some((x) => x.id === primary)) {
        if (sorted.length > 1) parentSel.append(new Option('Choose the primary parent', ''));
      }
      for (const x of sorted) parentSel.append(new Option(x.name, x.id));
      if (chosen.includes(primary)) parentSel.value = primary;
      else if (chosen.length === 1) parentSel.value = chosen[0];
      else parentSel.value = '';
    }
    parentSel.addEventListener('change', () => {
      primary = parentSel.value;
    });
    function applyType() {
      const isRoot = typeSel.value === 'root';
      parents.setDisabled(isRoot);
      fillPrimary();
    }
    typeSel.addEventListener('change', applyType);

    // The id follows the name until the user edits it (new genres only).
    let idTouched = editing;
    if (!editing) {
      name.control.addEventListener('input', () => {
        if (!idTouched) idField.control.value = slugify(name.control.value);
      });
      idField.control.addEventListener('input', () => {
        idTouched = idField.control.value !== '';
        if (!idTouched) idField.control.value = slugify(name.control.value);
      });
    }

    const submit = h('button', { type: 'submit', class: 'button button-primary' }, editing ? 'Save changes' : 'Create genre');
    const actions = h('div', { class: 'form-actions' }, [submit, h('a', { class: 'button', href: '/admin#genres' }, 'Cancel')]);
    if (editing) {
      actions.append(
        h('span', { class: 'spacer' }),
        h('button', {
          type: 'button',
          class: 'button button-danger-quiet',
          id: 'delete-genre',
          onclick: () =>
            confirmDelete({
              title: 'Delete “' + cur.name + '”?',
              refusedTitle: '“' + cur.name + '” cannot be deleted',
              message: 'The genre is removed from the map. Genres and bands that list it as a secondary parent or genre lose that link. This cannot be undone.',
              confirmText: 'Delete genre',
              doDelete: () => api('DELETE', '/api/v1/genres/' + encodeURIComponent(cur.id)),
              onDone: (answer) => {
                invalidateGraph();
                const un = (answer && answer.unlinked) || {};
                const extra = [];
                if ((un.genres || []).length) extra.push('removed as a parent of ' + plural(un.genres.length, 'genre', 'genres'));
                if ((un.bands || []).length) extra.push('removed from ' + plural(un.bands.length, 'band', 'bands'));
                state.notice = { text: 'Deleted genre “' + cur.name + '”' + (extra.length ? ' (' + extra.join(', ') + ').' : '.') };
                navigate('/admin#genres');
              },
            }),
        }, 'Delete genre…'),
      );
    }

    const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'form-title' }, [
      summary,
      h('div', { class: 'grid' }, [name.wrap, idField.wrap]),
      h('div', { class: 'grid' }, [type.wrap, year.wrap]),
      parents.wrap,
      h('div', { class: 'grid' }, [parent.wrap]),
      links.wrap,
      description.wrap,
      actions,
    ]);

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      clearErrors(fields, summary);
      const yearText = year.control.value.trim();
      const local = localErrors(name, idField, editing);
      if (yearText !== '' && !/^-?\d{1,4}$/.test(yearText)) local.push({ field: 'origin_year', message: 'must be a whole year, like 1985' });
      if (local.length) {
        showErrors(form, fields, new ApiError(400, { errors: local }), summary);
        return;
      }
      const isRoot = typeSel.value === 'root';
      const body = {
        name: name.control.value,
        type: typeSel.value,
        parent: isRoot ? null : parentSel.value || null,
        parents: isRoot ? [] : parents.value,
        description: description.control.value,
        origin_year: yearText === '' ? null : parseInt(yearText, 10),
        links: links.value.map((to) => ({ to, kind: 'influence' })).concat(otherLinks),
      };
      if (!editing && idField.control.value.trim() !== '') body.id = idField.control.value.trim();
      await saveEntity('genres', 'genre', editing, cur, body, { submit, form, fields, summary });
    });

    applyType();
    return formPage(view, 'genres', 'genre', editing, cur, form);
  }

  /* ---------- genre and band forms: saving and the page around them ---------- */

  // Sends the form's body (PUT when editing, POST when creating), then goes
  // back to the list with a notice; server errors are shown next to their fields.
  async function saveEntity(kind, noun, editing, cur, body, { submit, form, fields, summary }) {
    setBusy(submit, true, 'Saving…');
    try {
      const saved = editing
        ? await api('PUT', '/api/v1/' + kind + '/' + encodeURIComponent(cur.id), body)
        : await api('POST', '/api/v1/' + kind, body);
      invalidateGraph();
      const sid = (saved && saved.id) || body.id || cur.id;
      const sname = (saved && saved.name) || body.name;
      state.notice = {
        text: (editing ? 'Saved ' : 'Created ') + noun + ' “' + sname + '”.',
        links: [
          { href: '/' + kind + '/' + encodeURIComponent(sid), text: 'View on the map' },
          { href: '/admin/' + kind + '/' + encodeURIComponent(sid) + '/edit', text: 'Edit again' },
        ],
      };
      state.flash = { kind, id: sid };
      navigate('/admin#' + kind);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setBusy(submit, false);
      showErrors(form, fields, err, summary);
    }
  }

  // The heading, crumbs and links around a genre or band form; returns the page title.
  function formPage(view, kind, noun, editing, cur, form) {
    add(view,
      h('p', { class: 'crumbs' }, h('a', { href: '/admin#' + kind }, '← ' + kind[0].toUpperCase() + kind.slice(1))),
      h('div', { class: 'page-head' }, [
        h('h1', { id: 'form-title', tabindex: '-1' }, (editing ? 'Edit ' : 'New ') + noun),
        editing ? h('a', { href: '/' + kind + '/' + encodeURIComponent(cur.id), class: 'view-link' }, 'View on the map') : null,
      ]),
      editing ? h('p', { class: 'subtitle' }, cur.name) : null,
      form,
    );
    return editing ? 'Edit ' + cur.name : 'New ' + noun;
  }

  /* ---------- band form ---------- */

  async function pageBandForm(view, id, seq) {
    const editing = id !== undefined;
    const [g, detail] = await Promise.all([loadGraph(), editing ? api('GET', '/api/v1/bands/' + encodeURIComponent(id)) : null]);
    if (seq !== state.seq) return '';
    const cur = detail || { id: '', name: '', primary_genre: null, genres: [] };
    view.classList.add('page-narrow');

    const summary = h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true });
    const name = field({ id: 'band-name', name: 'name', label: 'Name', control: h('input', { type: 'text', class: 'input', required: true, maxlength: '100', autocomplete: 'off', spellcheck: 'false' }) });
    name.control.value = cur.name || '';
    const idField = field({
      id: 'band-id',
      name: 'id',
      label: 'Id',
      hint: editing ? 'The id is part of the band’s address and cannot change.' : 'Lowercase letters, digits and “-”, at most 50; suggested from the name.',
      control: h('input', { type: 'text', class: 'input input-mono', maxlength: '50', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', readonly: editing }),
    });
    idField.control.value = cur.id || '';
    const primarySel = h('select', { class: 'input' });
    const primaryField = field({ id: 'band-primary-genre', name: 'primary_genre', label: 'Primary genre', hint: 'One of the chosen genres, and a leaf genre.', control: primarySel });
    let primary = cur.primary_genre || '';
    const genres = checklist({
      id: 'band-genres',
      label: 'Genres',
      items: g.genreList.map((x) => ({ id: x.id, name: x.name, meta: TYPE_LABEL[x.type] + ' · ' + x.id })),
      selected: cur.genres || [],
      placeholder: 'Type to filter genres',
      emptyText: 'No genre chosen',
      onChange: () => fillPrimary(),
    });
    const fields = { name, id: idField, primary_genre: primaryField, genres };
    name.labelText = 'Name';
    idField.labelText = 'Id';
    primaryField.labelText = 'Primary genre';
    genres.labelText = 'Genres';

    function fillPrimary() {
      if (primarySel.value) primary = primarySel.value;
      const chosen = genres.value;
      const leaves = chosen
        .filter((gid) => (g.genres.get(gid) || {}).type === 'leaf')
        .map((gid) => ({ id: gid, name: genreName(g, gid) }))
        .sort((a, b) => collator.compare(a.name, b.name));
      clear(primarySel);
      if (!leaves.length) {
        primarySel.append(new Option(chosen.length ? 'Choose a leaf genre among the genres' : 'Choose genres first', ''));
        primarySel.disabled = true;
        return;
      }
      primarySel.disabled = false;
      if (leaves.length > 1) primarySel.append(new Option('Choose the primary genre', ''));
      for (const x of leaves) primarySel.append(new Option(x.name, x.id));
      if (leaves.some((x) => x.id === primary)) primarySel.value = primary;
      else if (leaves.length === 1) primarySel.value = leaves[0].id;
      else primarySel.value = '';
    }
    primarySel.addEventListener('change', () => {
      primary = primarySel.value;
    });

    let idTouched = editing;
    if (!editing) {
      name.control.addEventListener('input', () => {
        if (!idTouched) idField.control.value = slugify(name.control.value);
      });
      idField.control.addEventListener('input', () => {
        idTouched = idField.control.value !== '';
        if (!idTouched) idField.control.value = slugify(name.control.value);
      });
    }

    const submit = h('button', { type: 'submit', class: 'button button-primary' }, editing ? 'Save changes' : 'Create band');
    const actions = h('div', { class: 'form-actions' }, [submit, h('a', { class: 'button', href: '/admin#bands' }, 'Cancel')]);
    if (editing) {
      actions.append(
        h('span', { class: 'spacer' }),
        h('button', {
          type: 'button',
          class: 'button button-danger-quiet',
          id: 'delete-band',
          onclick: () =>
            confirmDelete({
              title: 'Delete “' + cur.name + '”?',
              refusedTitle: '“' + cur.name + '” cannot be deleted',
              message: 'The band is removed from the map. This cannot be undone.',
              confirmText: 'Delete band',
              doDelete: () => api('DELETE', '/api/v1/bands/' + encodeURIComponent(cur.id)),
              onDone: () => {
                invalidateGraph();
                state.notice = { text: 'Deleted band “' + cur.name + '”.' };
                navigate('/admin#bands');
              },
            }),
        }, 'Delete band…'),
      );
    }

    const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'form-title' }, [
      summary,
      h('div', { class: 'grid' }, [name.wrap, idField.wrap]),
      genres.wrap,
      h('div', { class: 'grid' }, [primaryField.wrap]),
      actions,
    ]);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      clearErrors(fields, summary);
      const local = localErrors(name, idField, editing);
      if (local.length) {
        showErrors(form, fields, new ApiError(400, { errors: local }), summary);
        return;
      }
      const body = { name: name.control.value, primary_genre: primarySel.value || null, genres: genres.value };
      if (!editing && idField.control.value.trim() !== '') body.id = idField.control.value.trim();
      await saveEntity('bands', 'band', editing, cur, body, { submit, form, fields, summary });
    });

    fillPrimary();
    return formPage(view, 'bands', 'band', editing, cur, form);
  }

  /* ---------- users ---------- */

  async function pageUsers(view, seq) {
    const data = await api('GET', '/api/v1/users');
    if (seq !== state.seq) return '';
    const me = state.me || {};
    const message = h('div', { class: 'row-message', role: 'alert' });
    const tbody = h('tbody');
    const count = h('p', { class: 'count' });

    function userRow(u) {
      const self = u.id === me.id;
      // Nobody changes their own admin flag or disables their own account
      // (the server refuses it too): the buttons say so by being off.
      const why = self ? 'self-note' : null;
      const roleBtn = h('button', { type: 'button', class: 'button button-small', disabled: self, 'aria-describedby': why }, u.is_admin ? 'Remove admin' : 'Make admin');
      const stateBtn = h('button', { type: 'button', class: 'button button-small' + (u.disabled ? '' : ' button-danger-quiet'), disabled: self, 'aria-describedby': why }, u.disabled ? 'Enable' : 'Disable');
      async function patch(body, btn, what) {
        clear(message);
        setBusy(btn, true, '…');
        try {
          const res = await api('PATCH', '/api/v1/users/' + encodeURIComponent(u.id), body);
          const nu = (res && res.user) || { ...u, ...body };
          const fresh = userRow(nu);
          tr.replaceWith(fresh);
          message.append(h('p', { class: 'ok-text' }, what + ': ' + nu.username + '.'));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          setBusy(btn, false);
          if (err.status === 401) message.append(h('p', { class: 'error-text' }, sessionLostMessage(u.username + ' was not changed.')));
          else message.append(h('p', { class: 'error-text' }, 'Could not change ' + u.username + ': ' + problemText(err)));
        }
      }
      roleBtn.addEventListener('click', () => patch({ is_admin: !u.is_admin }, roleBtn, u.is_admin ? 'No longer an admin' : 'Now an admin'));
      stateBtn.addEventListener('click', () => patch({ disabled: !u.disabled }, stateBtn, u.disabled ? 'Enabled' : 'Disabled'));
      const tr = h('tr', { dataset: { id: String(u.id), username: u.username }, class: u.disabled ? 'is-disabled' : null }, [
        h('th', { scope: 'row', class: 'cell-name' }, [u.username, self ? h('span', { class: 'muted' }, ' (you)') : null]),
        h('td', { class: 'cell-email', dataset: { label: 'Email' } }, u.email || ''),
        h('td', { dataset: { label: 'Role' } }, h('span', { class: 'badge ' + (u.is_admin ? 'badge-admin' : 'badge-user') }, u.is_admin ? 'Admin' : 'User')),
        h('td', { dataset: { label: 'Status' } }, u.disabled ? h('span', { class: 'badge badge-disabled' }, 'Disabled') : 'Active'),
        h('td', { dataset: { label: 'Created' } }, timeEl(u.created_at)),
        h('td', { dataset: { label: 'Last login' } }, timeEl(u.last_login_at)),
        h('td', { class: 'cell-actions' }, [roleBtn, stateBtn]),
      ]);
      return tr;
    }
    function fill(users) {
      clear(tbody);
      const sorted = users.slice().sort((a, b) => collator.compare(a.username, b.username));
      for (const u of sorted) tbody.append(userRow(u));
      count.textContent = plural(users.length, 'user', 'users');
    }
    fill(data.users || []);

    // Create form
    const summary = h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true });
    const username = field({ id: 'user-username', name: 'username', label: 'Username', hint: '3–80 characters: letters, digits, “_”, “.”, “-”.', control: h('input', { type: 'text', class: 'input', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', required: true }) });
    const email = field({ id: 'user-email', name: 'email', label: 'Email', control: h('input', { type: 'email', class: 'input', autocomplete: 'off', required: true }) });
    const password = field({ id: 'user-password', name: 'password', label: 'Password', optional: true, hint: 'At least 10 characters. Leave empty to generate one, shown once.', control: h('input', { type: 'password', class: 'input', autocomplete: 'new-password' }) });
    const adminBox = h('input', { type: 'checkbox', id: 'user-admin', name: 'is_admin' });
    const adminErr = h('p', { class: 'field-error', id: 'user-admin-error', hidden: true });
    adminBox.setAttribute('aria-describedby', 'user-admin-error');
    const admin = {
      wrap: h('div', { class: 'field field-check' }, [h('label', { class: 'check check-inline', for: 'user-admin' }, [adminBox, ' Administrator (can edit the map and manage users)']), adminErr]),
      control: adminBox,
      focus: () => adminBox.focus(),
      setError: (m) => setErrorText(adminErr, m),
      labelText: 'Administrator',
    };
    username.labelText = 'Username';
    email.labelText = 'Email';
    password.labelText = 'Password';
    const fields = { username, email, password, is_admin: admin };
    const created = h('div', { class: 'created', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Create user');
    const form = h('form', { class: 'form form-compact', novalidate: true, 'aria-labelledby': 'create-user-title' }, [
      summary,
      h('div', { class: 'grid' }, [username.wrap, email.wrap, password.wrap]),
      admin.wrap,
      h('div', { class: 'form-actions' }, submit),
    ]);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (submit.disabled) return;
      clearErrors(fields, summary);
      clear(created);
      const body = { username: username.control.value.trim(), email: email.control.value.trim(), is_admin: adminBox.checked };
      if (password.control.value !== '') body.password = password.control.value;
      setBusy(submit, true, 'Creating…');
      try {
        const res = await api('POST', '/api/v1/users', body);
        setBusy(submit, false);
        const u = (res && res.user) || { username: body.username };
        const parts = [h('p', null, ['Created ' + (u.is_admin ? 'administrator ' : 'user ') , h('strong', null, u.username), '.'])];
        if (res && res.password) {
          const code = h('code', { class: 'secret', id: 'generated-password' }, res.password);
          const copy = h('button', { type: 'button', class: 'button button-small' }, 'Copy');
          copy.addEventListener('click', async () => {
            try {
              await navigator.clipboard.writeText(res.password);
              copy.textContent = 'Copied';
            } catch (e) {
              const r = document.createRange();
              r.selectNodeContents(code);
              const sel = getSelection();
              sel.removeAllRanges();
              sel.addRange(r);
              copy.textContent = 'Selected: press Ctrl+C';
            }
          });
          parts.push(
            h('p', null, 'Their generated password — it is shown only this once, copy it now:'),
            h('p', { class: 'secret-row' }, [code, ' ', copy]),
          );
        }
        created.append(h('div', { class: 'notice notice-ok' }, h('div', null, parts)));
        form.reset();
        try {
          const fresh = await api('GET', '/api/v1/users');
          fill(fresh.users || []);
        } catch (e) {
          /* the table refreshes on the next visit */
        }
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        setBusy(submit, false);
        showErrors(form, fields, err, summary);
      }
    });

    add(view, 
      h('div', { class: 'page-head' }, [h('h1', { tabindex: '-1' }, 'Users')]),
      count,
      message,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-cards', id: 'users-table' }, [
        h('caption', { class: 'visually-hidden' }, 'Users'),
        h('thead', null, h('tr', null, ['Username', 'Email', 'Role', 'Status', 'Created', 'Last login', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ])),
      h('p', { class: 'hint table-note', id: 'self-note' }, 'Nobody changes their own role or disables their own account; another admin can. The last admin can be neither demoted nor disabled.'),
      h('section', { class: 'card', 'aria-labelledby': 'create-user-title' }, [h('h2', { id: 'create-user-title' }, 'Add a user'), created, form]),
    );
    return 'Users';
  }

  /* ---------- audit log ---------- */

  function sortKeys(v) {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const o = {};
      for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
      return o;
    }
    return v;
  }

  function pretty(v) {
    return v == null ? '' : JSON.stringify(sortKeys(v), null, 2);
  }

  // Pretty JSON with sorted keys, one line per value, so before and after
  // line up; lines missing from the other side are marked.
  function jsonBlock(label, text, otherText, mark) {
    const other = new Map();
    for (const l of otherText ? otherText.split('\n') : []) other.set(l, (other.get(l) || 0) + 1);
    const pre = h('pre', { class: 'json' });
    if (!text) {
      pre.append(h('span', { class: 'muted' }, 'nothing'));
    } else {
      for (const line of text.split('\n')) {
        const n = other.get(line) || 0;
        const changed = otherText !== null && n === 0;
        if (n) other.set(line, n - 1);
        pre.append(h('span', { class: 'line' + (changed ? ' line-' + mark : '') }, line), '\n');
      }
    }
    return h('div', { class: 'json-side', dataset: { side: label.toLowerCase() } }, [h('p', { class: 'json-label' }, label), pre]);
  }

  function changedKeys(before, after) {
    if (!before || !after || typeof before !== 'object' || typeof after !== 'object') return null;
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].filter((k) => JSON.stringify(sortKeys(before[k])) !== JSON.stringify(sortKeys(after[k]))).sort();
  }

  async function pageAudit(view, page, seq) {
    const [data, g] = await Promise.all([
      api('GET', '/api/v1/audit?page=' + page + '&per_page=' + AUDIT_PER_PAGE),
      loadGraph().catch(() => null),
    ]);
    if (seq !== state.seq) return '';
    const entries = data.entries || [];
    const per = data.per_page || AUDIT_PER_PAGE;
    const total = data.total || 0;
    const pages = Math.max(1, Math.ceil(total / per));
    const cur = data.page || page;

    function entityCell(e) {
      const id = e.entity_id == null ? '' : String(e.entity_id);
      let link = null;
      if (e.entity_type === 'genre' && g && g.genres.has(id)) link = '/admin/genres/' + encodeURIComponent(id) + '/edit';
      if (e.entity_type === 'band' && g && g.bands.has(id)) link = '/admin/bands/' + encodeURIComponent(id) + '/edit';
      if (e.entity_type === 'user') link = '/admin/users';
      const idNode = link ? h('a', { href: link }, id) : h('code', null, id);
      return [h('span', { class: 'entity-type' }, e.entity_type || ''), ' ', idNode];
    }

    const tbody = h('tbody');
    for (const e of entries) {
      const before = pretty(e.before);
      const after = pretty(e.after);
      const keys = changedKeys(e.before, e.after);
      const change = h('div', { class: 'change' }, [
        keys ? h('p', { class: 'changed-keys' }, keys.length ? 'Changed: ' + keys.join(', ') : 'No field changed') : null,
        h('div', { class: 'json-pair' + (e.before != null && e.after != null ? ' json-pair-2' : '') }, [
          e.before != null ? jsonBlock('Before', before, e.after == null ? null : after, 'del') : null,
          e.after != null ? jsonBlock('After', after, e.before == null ? null : before, 'ins') : null,
        ]),
      ]);
      tbody.append(
        h('tr', { dataset: { id: String(e.id) } }, [
          h('td', { class: 'cell-when', dataset: { label: 'When' } }, timeEl(e.at)),
          h('td', { dataset: { label: 'Who' } }, e.actor == null ? '—' : String(e.actor)),
          h('td', { dataset: { label: 'Action' } }, h('span', { class: 'badge badge-action-' + String(e.action || '').replace(/[^a-z]/g, '') }, e.action || '')),
          h('td', { class: 'cell-entity', dataset: { label: 'Entity' } }, entityCell(e)),
          h('td', { class: 'cell-change' }, change),
        ]),
      );
    }
    if (!entries.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '5' }, total ? 'No entries on this page.' : 'No change recorded yet.')));

    const pager = () =>
      h('nav', { class: 'pager', 'aria-label': 'Audit pages' }, [
        cur > 1 ? h('a', { class: 'button', href: '/admin/audit?page=' + (cur - 1), rel: 'prev' }, '← Newer') : h('span', { class: 'button is-disabled', 'aria-hidden': 'true' }, '← Newer'),
        h('span', { class: 'pager-info' }, 'Page ' + NUM.format(cur) + ' of ' + NUM.format(pages)),
        cur < pages ? h('a', { class: 'button', href: '/admin/audit?page=' + (cur + 1), rel: 'next' }, 'Older →') : h('span', { class: 'button is-disabled', 'aria-hidden': 'true' }, 'Older →'),
      ]);

    add(view, 
      h('div', { class: 'page-head' }, [h('h1', { tabindex: '-1' }, 'Audit log')]),
      h('p', { class: 'count' }, plural(total, 'change', 'changes') + ', newest first'),
      pager(),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-cards table-audit', id: 'audit-table' }, [
        h('caption', { class: 'visually-hidden' }, 'Audit log, newest first'),
        h('thead', null, h('tr', null, ['When', 'Who', 'Action', 'Entity', 'Change'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ])),
      total > per ? pager() : null,
    );
    return cur > 1 ? 'Audit log, page ' + cur : 'Audit log';
  }

  /* ---------- start ---------- */

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

  start();
})();
