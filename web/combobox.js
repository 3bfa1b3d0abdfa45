/*
 * combobox.js — a search box over /api/v1/search: debounced fetch (stale
 * answers dropped, in-flight requests aborted), arrows + Enter + Escape,
 * mouse clicks, and the ARIA listbox pattern (aria-expanded,
 * aria-activedescendant, aria-selected), genres and bands in two groups.
 * Used by the main search (with "show all", which opens the search page)
 * and by the path finder, which only wants genres.
 */
import { getJSON } from './api.js';
import { h } from './dom.js';
import { actLabel, colorOfGenre, familyName, nameOf, state } from './model.js';

const SEARCH_DEBOUNCE_MS = 140;
const FETCHED = 30; // results asked for
const PER_GROUP = 8; // genres, and bands, shown

export function combobox(opts) {
  const { input, list, idPrefix, accept, onChoose } = opts;
  const st = { timer: 0, controller: null, items: [], active: -1, seq: 0, query: null, chooseFirst: -1 };

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) {
      input.removeAttribute('aria-activedescendant');
      st.active = -1;
    }
  }

  function message(text) {
    st.items = [];
    list.replaceChildren(h('li', { class: 'search-empty', role: 'option', 'aria-disabled': 'true', text }));
    setOpen(true);
  }

  function run() {
    st.timer = 0;
    const q = input.value.trim();
    if (st.controller) st.controller.abort();
    if (!q) {
      st.items = [];
      st.query = null;
      list.replaceChildren();
      setOpen(false);
      return;
    }
    const seq = ++st.seq;
    st.controller = typeof AbortController === 'function' ? new AbortController() : null;
    getJSON('/api/v1/search?limit=' + FETCHED + '&q=' + encodeURIComponent(q), st.controller ? { signal: st.controller.signal } : undefined)
      .then((res) => {
        if (seq !== st.seq) return;
        st.query = q;
        render(Array.isArray(res.results) ? res.results : [], Number.isInteger(res.total) ? res.total : 0);
        if (st.chooseFirst === seq && st.items.length) choose(0);
      })
      .catch((err) => {
        if ((err && err.name === 'AbortError') || seq !== st.seq) return;
        message('Search is unavailable right now.');
      });
  }

  // Genres, then bands, each at most PER_GROUP in the ranking's order;
  // when more matched, a last option opens the search page with them all.
  function render(results, total) {
    const usable = results.filter((r) => r && (r.kind === 'genre' || r.kind === 'band') && typeof r.id === 'string' && accept(r));
    st.active = -1;
    input.removeAttribute('aria-activedescendant');
    if (!usable.length) return message(opts.emptyText || 'No genre or artist matches.');
    const groups = ['genre', 'band'].map((kind) => usable.filter((r) => r.kind === kind).slice(0, PER_GROUP));
    st.items = groups.flat();
    const option = (r, i) => {
      let color = '#9aa5b5';
      let meta = r.kind === 'genre' ? 'Genre' : 'Artist';
      if (r.kind === 'genre' && state.genres.has(r.id)) {
        color = colorOfGenre(r.id);
        meta = familyName(r.id) + ' family';
      } else if (r.kind === 'band' && state.bands.has(r.id)) {
        const b = state.bands.get(r.id);
        color = colorOfGenre(b.primary_genre);
        meta = actLabel(r.id) + (b.primary_genre ? ' · ' + nameOf('genre', b.primary_genre) : '');
      }
      if (r.match === 'typo') meta += ' · close spelling';
      const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      dot.style.backgroundColor = color;
      return h('li', { id: idPrefix + i, role: 'option', 'aria-selected': 'false', 'data-index': i, 'data-kind': r.kind, 'data-id': r.id }, [
        dot,
        h('span', { class: 'option-name', text: typeof r.name === 'string' ? r.name : r.id }),
        h('span', { class: 'option-meta', text: meta }),
      ]);
    };
    const nodes = [];
    let i = 0;
    groups.forEach((items, g) => {
      if (!items.length) return;
      const head = idPrefix + 'group-' + g;
      nodes.push(
        h('li', { role: 'group', 'aria-labelledby': head, class: 'option-group' }, [
          h('span', { id: head, class: 'option-group-name', text: g === 0 ? 'Genres' : 'Artists' }),
          h('ul', { role: 'presentation' }, items.map((r) => option(r, i++))),
        ]),
      );
    });
    const more = Math.max(total, usable.length) - st.items.length;
    if (opts.showAll && more > 0) {
      st.items.push({ kind: 'all', id: input.value.trim() });
      nodes.push(h('li', { id: idPrefix + i, role: 'option', 'aria-selected': 'false', 'data-index': i, class: 'option-all' }, 'Show all ' + Math.max(total, usable.length) + ' matches'));
    }
    list.replaceChildren(...nodes);
    setOpen(true);
  }

  function setActive(i) {
    const options = list.querySelectorAll('[role="option"][data-index]');
    if (!options.length) return;
    st.active = (i + options.length) % options.length;
    options.forEach((o, j) => o.setAttribute('aria-selected', j === st.active ? 'true' : 'false'));
    const cur = options[st.active];
    input.setAttribute('aria-activedescendant', cur.id);
    cur.scrollIntoView({ block: 'nearest' });
  }

  function choose(i) {
    const r = st.items[i];
    if (!r) return;
    setOpen(false);
    if (r.kind === 'all') location.assign('/search?q=' + encodeURIComponent(r.id));
    else onChoose(r);
  }

  input.addEventListener('input', () => {
    clearTimeout(st.timer);
    st.timer = setTimeout(run, SEARCH_DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    const open = !list.hidden;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open && st.items.length) setOpen(true);
      setActive(st.active + 1);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive(st.active < 0 ? -1 : st.active - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      if (open && st.items.length && st.query === q && !st.timer) {
        choose(st.active >= 0 ? st.active : 0);
      } else {
        // Enter before the debounced search answered: search now, take the top hit.
        clearTimeout(st.timer);
        run();
        st.chooseFirst = st.seq;
      }
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        e.stopPropagation();
        setOpen(false);
      } else if (input.value) {
        e.stopPropagation();
        input.value = '';
      }
    }
  });
  input.addEventListener('focus', () => {
    if (st.items.length && input.value.trim()) setOpen(true);
  });
  input.addEventListener('blur', () => {
    // Let a click on an option land first.
    setTimeout(() => {
      if (document.activeElement !== input) setOpen(false);
    }, 150);
  });
  list.addEventListener('mousedown', (e) => e.preventDefault());
  list.addEventListener('click', (e) => {
    const li = e.target.closest('[role="option"][data-index]');
    if (li) choose(Number(li.dataset.index));
  });
  return { close: () => setOpen(false) };
}
