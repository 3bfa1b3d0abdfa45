/*
 * admin-list.js — the genre and band tables (/admin, /admin#bands): every
 * row built once per map version, sorted by any column, filtered as typed.
 */
import { add, clear, debounce, h } from './dom.js';
import { NUM, collator, fold, plural } from './text.js';
import { TYPES, TYPE_LABEL, genreName, loadGraph, state } from './admin-core.js';

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

export async function pageList(view, kind, seq) {
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
