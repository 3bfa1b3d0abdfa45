/*
 * app.js — the explorer's entry point.
 *
 * Draws the genre map (map.js) and keeps three things in step: the graph
 * (which genre has its bands expanded), the panel (panel.js), and the URL
 * (/, /genres/ID, /bands/ID, ?path=ID, ?view=eras&year=N). Every user action goes through
 * select() or closeSelection(), which update all three; popstate replays
 * the URL through the same functions without pushing history.
 *
 * For keyboards and screen readers: opening a panel moves the focus to its
 * heading and says what opened (a live region); closing it gives the focus
 * back to where it was; the map itself is reachable with Tab (keyboard.js).
 *
 * Data arrives as JSON from /api/v1 and is only ever put into the page with
 * text nodes (dom.js): names can contain anything, markup included. The
 * modules run under a strict CSP: no eval, no inline styles in markup
 * (element.style from script is allowed and used sparingly).
 */
import { getJSON } from './api.js';
import { h } from './dom.js';
import { combobox } from './combobox.js';
import { bindMapKeys } from './keyboard.js';
import { drawnLabels } from './labels.js';
import { collapse, fitAll, moveGenres, recomputeFocus, showSelection, startRenderer, zoomBy } from './map.js';
import { actLabel, el, familyName, indexData, linkTo, nameOf, parseRoute, pathFor, showStatus, state, urlFor, viewOf } from './model.js';
import { applyView, bindEraBar } from './eras.js';
import { hidePanel, renderPanel, showMoreBands, showPanel } from './panel.js';
import { showPath } from './path.js';

// Speaks through the live region (screen readers announce its changes).
function announce(text) {
  el.announce.textContent = '';
  // A new text node in a later task: announced even when the text repeats.
  setTimeout(() => {
    el.announce.textContent = text;
  }, 30);
}

/*
 * Opens a genre or a band: panel, band list, highlight, camera, URL.
 *   opts.push     add a history entry
 *   opts.instant  no camera animation (deep links, reloads)
 *   opts.pathTo   a genre id: show the path to it
 *   opts.keepFocus  leave the keyboard focus where it is (page load)
 */
function select(kind, id, opts) {
  opts = opts || {};
  if (kind === 'more') return showMoreBands(); // the last row of a list cut short
  if (!state.ready) {
    state.pending = { kind, id };
    return;
  }
  if (kind === 'genre' ? !state.genres.has(id) : !state.bands.has(id)) return notFound(kind, id);
  const wasOpen = !el.panel.hidden;
  if (!wasOpen) {
    const active = document.activeElement;
    state.returnFocus = active && active !== document.body && !el.panel.contains(active) ? active : null;
  }
  // The panel first: the band list and the camera fit the part of the map
  // it leaves visible.
  showPanel(kind, id);
  state.selected = { kind, id };
  state.hovered = null;
  state.path = null;
  state.pathSeq++;
  delete el.panel.dataset.path;
  const name = nameOf(kind, id);
  document.title = name + ' — musicgraph';
  if (opts.push) {
    const path = urlFor(pathFor(kind, id));
    if (location.pathname + location.search !== path) history.pushState({ kind, id }, '', path);
  }
  renderPanel(kind, id);
  if (kind === 'genre' && opts.pathTo) {
    showSelection({ instant: true });
    showPath(id, opts.pathTo, { instant: opts.instant });
  } else {
    showSelection({ instant: opts.instant });
  }
  recomputeFocus();
  const family = kind === 'genre' ? familyName(id) : familyName(state.bands.get(id).primary_genre);
  announce('Opened ' + name + ', ' + (kind === 'genre' ? 'genre' : actLabel(id).toLowerCase()) + (family ? ', ' + family + ' family' : '') + '.');
  if (!opts.keepFocus) el.panelTitle.focus({ preventScroll: true });
}

function closeSelection(opts) {
  opts = opts || {};
  const had = state.selected || state.expanded;
  const focusWasInPanel = el.panel.contains(document.activeElement);
  state.selected = null;
  state.path = null;
  state.pathSeq++;
  collapse();
  hidePanel();
  recomputeFocus();
  document.title = state.homeTitle;
  if (opts.push && location.pathname !== '/') history.pushState(null, '', urlFor('/'));
  if (had && state.renderer && opts.resetCamera) fitAll();
  if (had) announce('Closed the panel.');
  // Back to where the focus was when the panel opened.
  const back = state.returnFocus;
  state.returnFocus = null;
  if (focusWasInPanel || opts.restoreFocus) {
    // A link in the folded genre index opened the panel: unfold it again.
    const folded = back && back.closest && back.closest('details:not([open])');
    if (folded) folded.open = true;
    if (back && back.isConnected && back.getClientRects().length) back.focus({ preventScroll: true });
    else el.graph.focus({ preventScroll: true });
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
  applyView(viewOf(location.search), { instant });
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
    showAll: true,
    onChoose: (r) => {
      el.input.value = typeof r.name === 'string' ? r.name : r.id;
      select(r.kind, r.id, { push: true });
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
  // A link to / in the page the server wrote: the panel closes in place.
  el.panelClose.addEventListener('click', (e) => {
    e.preventDefault();
    closeSelection({ push: true, restoreFocus: true });
  });
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
      closeSelection({ push: true, restoreFocus: true });
    } else if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      el.input.focus();
      el.input.select();
    }
  });
  window.addEventListener('popstate', () => applyLocation(false));
  el.zoomIn.addEventListener('click', () => zoomBy(1 / 1.6));
  el.zoomOut.addEventListener('click', () => zoomBy(1.6));
  el.zoomFit.addEventListener('click', () => fitAll());
}

/* ---------- boot ---------- */

function renderLegend() {
  const roots = [...state.familyColor.keys()].sort((a, b) => nameOf('genre', a).localeCompare(nameOf('genre', b)));
  el.legendFamilies.replaceChildren(...roots.map((id) => h('li', null, [linkTo('genre', id)])));
  el.legend.hidden = false;
}

async function boot() {
  showStatus('Loading the map…');
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
    console.warn(err); // for whoever debugs a browser that fails here
    showStatus('Your browser could not draw the map (WebGL unavailable). The genre index still works.', { error: true });
    el.indexDetails.open = true;
    return;
  }
  state.renderer.on('clickNode', ({ node }) => {
    const attr = state.graph.getNodeAttributes(node);
    const sel = state.selected;
    if (attr.kind === 'genre' && sel && sel.kind === 'genre' && sel.id === attr.id) return closeSelection({ push: true });
    const t0 = performance.now();
    select(attr.kind, attr.id, { push: true });
    requestAnimationFrame(() => requestAnimationFrame(() => state.timings.panelOpen.push(performance.now() - t0)));
  });
  // A click on empty map (not the end of a drag) clears the selection.
  state.renderer.on('clickStage', () => {
    if (state.selected) closeSelection({ push: true });
  });
  bindMapKeys((kind, id) => select(kind, id, { push: true }), announce);
  bindEraBar(announce);
  applyView(viewOf(location.search), { instant: true });
  el.stats.textContent = state.genres.size + ' genres · ' + state.bands.size + ' artists';
  renderLegend();
  showStatus('');
  el.mapControls.hidden = false;
  state.ready = true;
  // For tests and for whoever explores from the console.
  window.musicgraph = { sigma: state.renderer, graph: state.graph, select, close: () => closeSelection({ push: true }), labels: drawnLabels, cursor: () => state.cursor, timings: state.timings };

  // The search page the server wrote keeps its results in the panel.
  if (location.pathname === '/search') el.input.value = new URLSearchParams(location.search).get('q') || '';
  const pending = state.pending;
  state.pending = null;
  if (route) select(route.kind, route.id, { instant: true, keepFocus: true, pathTo: route.kind === 'genre' ? pathParam() : null });
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
    if (state.selected) showSelection();
    return;
  }
}

boot();
