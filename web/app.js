/*
 * app.js — the explorer's entry point.
 *
 * Draws the genre map (map.js) and keeps three things in step: the graph
 * (which genre has its bands expanded), the detail panel (panel.js), and the
 * URL (/, /genres/ID, /bands/ID). Every user action goes through select()
 * or closeSelection(), which update all three; popstate replays the URL
 * through the same functions without pushing history.
 *
 * Data arrives as JSON from /api/v1 and is only ever put into the page with
 * text nodes (dom.js): names can contain anything, markup included. The
 * modules run under a strict CSP: no eval, no inline styles in markup
 * (element.style from script is allowed and used sparingly).
 */
import { getJSON } from './api.js';
import { h, reducedMotion } from './dom.js';
import { combobox } from './combobox.js';
import { collapse, expand, focusCamera, moveGenres, recomputeFocus, startRenderer } from './map.js';
import { bandKey, el, genreKey, indexData, linkTo, nameOf, parseRoute, pathFor, showStatus, state } from './model.js';
import { hidePanel, renderPanel, showPanel } from './panel.js';
import { showPath } from './path.js';

function select(kind, id, opts) {
  opts = opts || {};
  if (!state.ready) {
    state.pending = { kind, id };
    return;
  }
  if (kind === 'genre' ? !state.genres.has(id) : !state.bands.has(id)) return notFound(kind, id);
  // The panel first: the band list and the camera fit the part of the map
  // it leaves visible.
  showPanel(kind, id);
  if (kind === 'genre') {
    expand(id);
  } else {
    const b = state.bands.get(id);
    if (!state.expanded || b.genres.indexOf(state.expanded) < 0) expand(b.primary_genre || b.genres[0]);
    if (!state.graph.hasNode(bandKey(id))) {
      const other = b.genres.find((g) => state.genres.has(g));
      if (other) expand(other);
    }
  }
  state.selected = { kind, id };
  state.hovered = null;
  state.path = null;
  state.pathSeq++;
  delete el.panel.dataset.path;
  const name = nameOf(kind, id);
  document.title = name + ' — musicgraph';
  if (opts.push) {
    const path = pathFor(kind, id);
    if (location.pathname + location.search !== path) history.pushState({ kind, id }, '', path);
  }
  renderPanel(kind, id);
  recomputeFocus();
  if (kind === 'genre' && opts.pathTo) showPath(id, opts.pathTo, { instant: opts.instant });
  else focusCamera(kind === 'genre' ? genreKey(id) : bandKey(id), { instant: opts.instant });
}

function closeSelection(opts) {
  opts = opts || {};
  const had = state.selected || state.expanded;
  state.selected = null;
  state.path = null;
  state.pathSeq++;
  collapse();
  hidePanel();
  recomputeFocus();
  document.title = state.homeTitle;
  if (opts.push && location.pathname !== '/') history.pushState(null, '', '/');
  if (had && state.renderer && opts.resetCamera) {
    state.renderer.getCamera().animate({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }, { duration: reducedMotion() ? 0 : 500 });
  }
}

function notFound(kind, id) {
  closeSelection({});
  showStatus('No ' + kind + ' with the id “' + id + '”.', { error: true, timeout: 6000 });
}

function pathParam() {
  const to = new URLSearchParams(location.search).get('path');
  return to && /^[a-z0-9-]{1,50}$/.test(to) ? to : null;
}

function applyLocation(instant) {
  const route = parseRoute(location.pathname);
  if (route) select(route.kind, route.id, { instant, pathTo: route.kind === 'genre' ? pathParam() : null });
  else closeSelection({});
}

function bindSearch() {
  combobox({
    input: el.input,
    list: el.results,
    idPrefix: 'search-option-',
    accept: () => true,
    onChoose: (r) => {
      el.input.value = typeof r.name === 'string' ? r.name : r.id;
      select(r.kind, r.id, { push: true });
      if (window.matchMedia && window.matchMedia('(max-width: 640px)').matches) el.input.blur();
    },
  });
}

function bindNavigation() {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest('a[href]');
    if (!a) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    if (url.pathname === '/' && a.id === 'brand') {
      e.preventDefault();
      closeSelection({ push: true, resetCamera: true });
      return;
    }
    const route = parseRoute(url.pathname);
    if (!route) return;
    e.preventDefault();
    if (el.indexDetails.contains(a)) el.indexDetails.open = false;
    select(route.kind, route.id, { push: true });
  });
  el.panelClose.addEventListener('click', () => closeSelection({ push: true }));
  // The index and the legend share the left edge: one open at a time.
  const legendDetails = document.getElementById('legend-details');
  el.indexDetails.addEventListener('toggle', () => {
    if (el.indexDetails.open && legendDetails) legendDetails.open = false;
  });
  if (legendDetails) {
    legendDetails.addEventListener('toggle', () => {
      if (legendDetails.open) el.indexDetails.open = false;
    });
  }
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLElement && (e.target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName));
    if (e.key === 'Escape' && !typing && !el.panel.hidden) {
      closeSelection({ push: true });
    } else if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      el.input.focus();
      el.input.select();
    }
  });
  window.addEventListener('popstate', () => applyLocation(false));
}

/* ---------- boot ---------- */

function renderLegend() {
  const roots = [...state.familyColor.keys()].sort((a, b) => nameOf('genre', a).localeCompare(nameOf('genre', b)));
  el.legendFamilies.replaceChildren(...roots.map((id) => h('li', null, [linkTo('genre', id)])));
  el.legend.hidden = false;
}

async function boot() {
  bindSearch();
  bindNavigation();
  if (!window.graphology || !window.Sigma) {
    showStatus('The map library failed to load. The genre index still works.', { error: true });
    return;
  }
  const route = parseRoute(location.pathname);
  state.homeTitle = route ? 'musicgraph' : state.baseTitle;
  let doc;
  try {
    doc = await getJSON('/api/v1/graph');
  } catch (err) {
    showStatus('The map could not be loaded (' + (err.status ? 'HTTP ' + err.status : 'network error') + '). The genre index still works.', { error: true });
    el.indexDetails.open = true;
    return;
  }
  indexData(doc);
  try {
    startRenderer();
  } catch (err) {
    showStatus('Your browser could not draw the map (WebGL unavailable). The genre index still works.', { error: true });
    el.indexDetails.open = true;
    return;
  }
  state.renderer.on('clickNode', ({ node }) => {
    const attr = state.graph.getNodeAttributes(node);
    const sel = state.selected;
    if (attr.kind === 'genre' && sel && sel.kind === 'genre' && sel.id === attr.id) closeSelection({ push: true });
    else select(attr.kind, attr.id, { push: true });
  });
  el.stats.textContent = state.genres.size + ' genres · ' + state.bands.size + ' bands';
  renderLegend();
  showStatus('');
  state.ready = true;
  window.musicgraph = { sigma: state.renderer, graph: state.graph, select, close: () => closeSelection({ push: true }) };

  const pending = state.pending;
  state.pending = null;
  if (route) {
    select(route.kind, route.id, { instant: true, pathTo: route.kind === 'genre' ? pathParam() : null });
  }
  if (pending) select(pending.kind, pending.id, { push: true });
  requestAnimationFrame(() => {
    document.body.dataset.graphReady = '1';
  });
  if (doc.laid_out === false) awaitLayout(doc.version);
}

// The server placed some nodes provisionally (a new node, or the very first
// start) and is laying the map out: ask again until it is done, then move
// the genres to their final places.
async function awaitLayout(version) {
  for (let wait = 1000; wait <= 16000; wait *= 2) {
    await new Promise((r) => setTimeout(r, wait));
    let doc;
    try {
      doc = await getJSON('/api/v1/graph', { cache: 'no-cache' });
    } catch (err) {
      continue;
    }
    if (doc.version !== version || !doc.laid_out) continue;
    await moveGenres(new Map(doc.genres.map((g) => [g.id, g])));
    const sel = state.selected;
    if (sel) focusCamera(sel.kind === 'genre' ? genreKey(sel.id) : bandKey(sel.id));
    return;
  }
}

boot();
