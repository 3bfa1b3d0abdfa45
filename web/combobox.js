/*
 * combobox.js — a search box over /api/v1/search: debounced fetch (stale
 * answers dropped, in-flight requests aborted), arrows + Enter + Escape,
 * mouse clicks, and the ARIA listbox pattern (aria-expanded,
 * aria-activedescendant, aria-selected). Used by the main search and by
 * the path finder, which only wants genres.
 */
import { getJSON } from './api.js';
import { h } from './dom.js';
import { colorOfGenre, nameOf, state } from './model.js';

const SEARCH_DEBOUNCE_MS = 140;

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
    getJSON('/api/v1/search?q=' + encodeURIComponent(q), st.controller ? { signal: st.controller.signal } : undefined)
      .then((res) => {
        if (seq !== st.seq) return;
        st.query = q;
        render(Array.isArray(res.results) ? res.results : []);
        if (st.chooseFirst === seq && st.items.length) choose(0);
      })
      .catch((err) => {
        if ((err && err.name === 'AbortError') || seq !== st.seq) return;
        message('Search is unavailable right now.');
      });
  }

  function render(results) {
    st.items = results.filter((r) => r && (r.kind === 'genre' || r.kind === 'band') && typeof r.id === 'string' && accept(r));
    st.active = -1;
    input.removeAttribute('aria-activedescendant');
    if (!st.items.length) return message(opts.emptyText || 'No genre or band matches.');
    const nodes = st.items.map((r, i) => {
      let color = '#9aa5b5';
      let meta = r.kind === 'genre' ? 'Genre' : 'Band';
      if (r.kind === 'genre' && state.genres.has(r.id)) {
        color = colorOfGenre(r.id);
        meta = 'Genre · ' + state.genres.get(r.id).type;
      } else if (r.kind === 'band' && state.bands.has(r.id)) {
        const b = state.bands.get(r.id);
        color = colorOfGenre(b.primary_genre);
        if (b.primary_genre) meta = 'Band · ' + nameOf('genre', b.primary_genre);
      }
      const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      dot.style.backgroundColor = color;
      return h('li', { id: idPrefix + i, role: 'option', 'aria-selected': 'false', 'data-index': i, 'data-kind': r.kind, 'data-id': r.id }, [
        dot,
        h('span', { class: 'option-name', text: typeof r.name === 'string' ? r.name : r.id }),
        h('span', { class: 'option-meta', text: meta }),
      ]);
    });
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
    onChoose(r);
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
