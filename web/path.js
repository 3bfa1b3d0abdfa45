/*
 * path.js — the path between two genres: the finder in the genre panel,
 * the steps listed, the path lit on the map and kept in the URL.
 */
import { getJSON } from './api.js';
import { h } from './dom.js';
import { combobox } from './combobox.js';
import { fitCamera, focusCamera, recomputeFocus } from './map.js';
import { el, genreKey, linkTo, nameOf, pathFor, state, urlFor } from './model.js';

export const RELATION_TEXT = {
  parent: 'parent genre',
  child: 'sub-genre',
  sibling: 'sibling',
  influenced: 'influenced',
  influenced_by: 'influenced by',
};

export function pathFinder(g) {
  const wrap = h('section', { class: 'panel-section path-finder' });
  const label = h('label', { for: 'path-input', id: 'path-label', text: 'Path to another genre' });
  const input = h('input', {
    id: 'path-input',
    type: 'search',
    placeholder: 'Type a genre…',
    autocomplete: 'off',
    spellcheck: 'false',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'path-results',
  });
  const list = h('ul', { id: 'path-results', class: 'path-results', role: 'listbox', 'aria-labelledby': 'path-label', hidden: true });
  const out = h('div', { class: 'path-result', id: 'path-result', 'aria-live': 'polite' });
  combobox({
    input,
    list,
    idPrefix: 'path-option-',
    emptyText: 'No genre matches.',
    accept: (r) => r.kind === 'genre' && r.id !== g.id,
    onChoose: (r) => {
      input.value = typeof r.name === 'string' ? r.name : r.id;
      showPath(g.id, r.id, { push: true });
    },
  });
  wrap.append(label, input, list, out);
  return wrap;
}

// Fetches the shortest path and shows it in the panel and on the map.
export function showPath(from, to, opts) {
  opts = opts || {};
  const seq = ++state.pathSeq;
  const out = document.getElementById('path-result');
  if (out) out.replaceChildren(h('p', { class: 'empty', text: 'Looking for a path…' }));
  const url = '/api/v1/path?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to);
  return getJSON(url)
    .then((doc) => {
      const sel = state.selected;
      if (seq !== state.pathSeq || !sel || sel.kind !== 'genre' || sel.id !== from) return;
      const steps = Array.isArray(doc.steps) ? doc.steps : [];
      const ids = [from].concat(steps.map((st) => st && st.to && st.to.id));
      const nodes = ids.filter((id) => typeof id === 'string' && state.genres.has(id)).map(genreKey);
      const edges = new Set();
      for (let i = 1; i < nodes.length; i++) {
        const e = state.graph.edge(nodes[i - 1], nodes[i]) || state.graph.edge(nodes[i], nodes[i - 1]);
        if (e) edges.add(e);
      }
      state.path = { from, to, found: !!doc.found && steps.length > 0, steps, nodes, edges };
      if (opts.push) {
        const path = urlFor(pathFor('genre', from), { path: to });
        if (location.pathname + location.search !== path) history.pushState({ kind: 'genre', id: from, path: to }, '', path);
      }
      const input = document.getElementById('path-input');
      if (input && !input.value) input.value = nameOf('genre', to);
      renderPathResult();
      recomputeFocus();
      fitCamera(nodes.concat(genreKey(to)), { instant: opts.instant });
      el.panel.dataset.path = to;
    })
    .catch((err) => {
      if (seq !== state.pathSeq) return;
      const box = document.getElementById('path-result');
      const text = err && err.status === 404 ? 'No genre with the id “' + to + '”.' : 'The path could not be loaded.';
      if (box) box.replaceChildren(h('p', { class: 'description error', text }));
    });
}

export function renderPathResult() {
  const out = document.getElementById('path-result');
  const path = state.path;
  if (!out || !path) return;
  if (!path.found) {
    out.replaceChildren(h('p', { class: 'empty', text: 'No chain of parents or influences links ' + nameOf('genre', path.from) + ' and ' + nameOf('genre', path.to) + '.' }));
    return;
  }
  const ol = h('ol', { class: 'path-steps' });
  ol.appendChild(h('li', null, [linkTo('genre', path.from)]));
  for (const st of path.steps) {
    if (!st || !st.to || typeof st.to.id !== 'string') continue;
    ol.appendChild(h('li', null, [h('span', { class: 'relation', text: RELATION_TEXT[st.relation] || String(st.relation || '') }), linkTo('genre', st.to.id, st.to.name)]));
  }
  const clear = h('button', { type: 'button', class: 'text-button', text: 'Clear path' });
  clear.addEventListener('click', () => {
    const from = path.from;
    state.path = null;
    state.pathSeq++;
    delete el.panel.dataset.path;
    out.replaceChildren();
    const input = document.getElementById('path-input');
    if (input) input.value = '';
    recomputeFocus();
    const url = urlFor(pathFor('genre', from));
    if (location.pathname + location.search !== url) history.pushState({ kind: 'genre', id: from }, '', url);
    focusCamera(genreKey(from));
  });
  out.replaceChildren(h('p', { class: 'path-summary', text: path.steps.length + (path.steps.length === 1 ? ' step' : ' steps') }), ol, clear);
}
