/*
 * admin-list.js — the genre and band tables (/admin, /admin#bands, a later
 * page as /admin#bands?page=3): the whole table is sorted by any column and
 * filtered as typed in memory, and only the rows of the page shown are built
 * (ROWS_PER_PAGE of them), with first/previous/next/last buttons.
 */
import { add, clear, debounce, h } from './dom.js';
import { NUM, collator, fold, plural } from './text.js';
import { ROWS_PER_PAGE, TYPES, TYPE_LABEL, genreName, listHref, loadGraph, pageParam, state } from './admin-core.js';

const FILTER_DEBOUNCE_MS = 90;

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

// The filter text and the sort orders of one table, per map version: the
// data of every row stays in memory, the DOM holds only the page shown.
function tableData(g, kind) {
  if (!state.tables[kind]) {
    const items = kind === 'genres' ? g.genreList : g.bandList;
    state.tables[kind] = { rows: items.map((item) => ({ item, text: haystack(g, kind, item) })), orders: new Map() };
  }
  return state.tables[kind];
}

// The rows in the order of column `col` (direction `dir`): sorting 8,000
// rows is the expensive step, so each order is kept for the map version.
function sortedRows(g, data, col, dir) {
  const key = col.key + ':' + dir;
  if (!data.orders.has(key)) {
    const keyed = data.rows.map((r) => ({ r, k: col.sort(g, r.item) }));
    keyed.sort((a, b) => {
      let d = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : collator.compare(String(a.k), String(b.k));
      if (d === 0) d = collator.compare(a.r.item.name, b.r.item.name);
      return d * dir;
    });
    data.orders.set(key, keyed.map((x) => x.r));
  }
  return data.orders.get(key);
}

// First / previous / "Rows 101–200 of 8,008" / next / last: real buttons.
// `live`: the one pager whose text screen readers hear when it changes.
function pager(label, live, go) {
  const button = (where, text) => {
    const arrow = h('span', { 'aria-hidden': 'true' }, { first: '«', prev: '‹', next: '›', last: '»' }[where]);
    const back = where === 'first' || where === 'prev';
    return h('button', { type: 'button', class: 'button pager-' + where, 'aria-label': text + ' page', onclick: () => go(where) }, back ? [arrow, ' ' + text] : [text + ' ', arrow]);
  };
  const p = {
    first: button('first', 'First'),
    prev: button('prev', 'Previous'),
    info: h('span', { class: 'pager-info', 'aria-live': live ? 'polite' : null }),
    next: button('next', 'Next'),
    last: button('last', 'Last'),
  };
  p.nav = h('nav', { class: 'pager pager-table', 'aria-label': label }, [p.first, p.prev, p.info, p.next, p.last]);
  return p;
}

export async function pageList(view, kind, pageNo, seq) {
  const g = await loadGraph();
  if (seq !== state.seq) return '';
  const total = (kind === 'genres' ? g.genreList : g.bandList).length;
  const ls = state.list[kind];
  const one = kind === 'genres' ? 'genre' : 'band';
  const cols = COLUMNS[kind];
  const data = tableData(g, kind);
  ls.page = pageNo;

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
      toPage(1, 'replace');
    });
    headRow.append(th);
    headCells.push(th);
  }
  const table = h('table', { class: 'table', id: kind + '-table' }, [
    h('caption', { class: 'visually-hidden' }, kind === 'genres' ? 'Genres; column headers sort the table' : 'Bands; column headers sort the table'),
    h('thead', null, headRow),
    tbody,
  ]);

  // The whole table sorted, then filtered; only `ls.page` of it is built.
  let matched = null;
  let matchedBy = '';
  function matches() {
    const col = cols.find((c) => c.key === ls.sort) || cols[0];
    const q = fold(ls.filter.trim());
    if (matchedBy !== col.key + ':' + ls.dir + ':' + q) {
      const sorted = sortedRows(g, data, col, ls.dir);
      matched = q ? sorted.filter((r) => r.text.includes(q)) : sorted;
      matchedBy = col.key + ':' + ls.dir + ':' + q;
    }
    return { list: matched, q };
  }
  const pageCount = () => Math.max(1, Math.ceil(matches().list.length / ROWS_PER_PAGE));

  function show() {
    const { list, q } = matches();
    const pages = pageCount();
    ls.page = Math.min(Math.max(1, ls.page), pages);
    const from = (ls.page - 1) * ROWS_PER_PAGE;
    const shown = list.slice(from, from + ROWS_PER_PAGE);
    const frag = document.createDocumentFragment();
    for (const r of shown) frag.append((kind === 'genres' ? genreRow : bandRow)(g, r.item));
    if (!list.length) {
      frag.append(h('tr', { class: 'empty' }, h('td', { colspan: String(cols.length) }, q ? 'No ' + one + ' matches “' + ls.filter.trim() + '”.' : 'No ' + one + 's yet.')));
    }
    clear(tbody);
    tbody.append(frag);
    count.textContent = list.length === total || !q ? plural(total, one, one + 's') : NUM.format(list.length) + ' of ' + plural(total, one, one + 's');
    const info = list.length ? 'Rows ' + NUM.format(from + 1) + '–' + NUM.format(from + shown.length) + ' of ' + NUM.format(list.length) : 'No rows';
    for (const p of pagers) {
      p.info.textContent = info;
      p.first.disabled = p.prev.disabled = ls.page <= 1;
      p.next.disabled = p.last.disabled = ls.page >= pages;
    }
    bottom.nav.hidden = pages <= 1;
    for (let i = 0; i < cols.length; i++) {
      const th = headCells[i];
      if (!th) continue;
      if (cols[i].key === ls.sort) th.setAttribute('aria-sort', ls.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  }

  // Shows page n; the URL follows when the page changes (a page move is a
  // history entry, a new filter or sort replaces the current one), without
  // re-rendering the view. A filter typed just before leaving the table
  // does nothing once the table is gone.
  function toPage(n, how) {
    if (!table.isConnected) return;
    ls.page = n;
    show();
    if (ls.page !== pageParam(location.hash.split('?')[1] || '')) {
      if (how === 'push') history.pushState(null, '', listHref(kind));
      else history.replaceState(null, '', listHref(kind));
    }
  }

  function go(where, from) {
    toPage({ first: 1, prev: ls.page - 1, next: ls.page + 1, last: pageCount() }[where], 'push');
    // The focus goes to the same button above the table, so the new rows
    // start below it; a button that became disabled hands it to its opposite.
    let btn = top[where];
    if (btn.disabled) btn = top[where === 'first' || where === 'prev' ? 'next' : 'prev'];
    btn.focus({ preventScroll: true });
    if (from === bottom) top.nav.scrollIntoView({ block: 'start' });
  }
  const label = kind === 'genres' ? 'Genre table pages' : 'Band table pages';
  const top = pager(label, true, (where) => go(where, top));
  const bottom = pager(label + ', below the table', false, (where) => go(where, bottom));
  const pagers = [top, bottom];

  filter.addEventListener(
    'input',
    debounce(() => {
      ls.filter = filter.value;
      toPage(1, 'replace');
    }, FILTER_DEBOUNCE_MS),
  );
  filter.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && filter.value) {
      filter.value = '';
      ls.filter = '';
      toPage(1, 'replace');
    }
  });

  // A row just saved is shown on its page (it may have moved, or be new).
  if (state.flash && state.flash.kind === kind) {
    const at = matches().list.findIndex((r) => r.item.id === state.flash.id);
    if (at >= 0) ls.page = Math.floor(at / ROWS_PER_PAGE) + 1;
  }
  show();
  // The page asked for may be past the end now (rows deleted, a new map).
  if (ls.page !== pageNo) history.replaceState(null, '', listHref(kind));

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
    top.nav,
    h('div', { class: 'table-wrap' }, table),
    bottom.nav,
  );
  return kind === 'genres' ? 'Genres' : 'Bands';
}
