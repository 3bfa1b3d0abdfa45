/*
 * model.js — the explorer's shared state: the map's data as the server sent
 * it (indexed for the panel), the page elements, the current selection, and
 * the naming helpers every other module uses.
 *
 * Node keys are "g:ID" for genres and "b:ID" for bands, since the two id
 * spaces may collide.
 */
import { h } from './dom.js';
import { assignFamilyColors } from './palette.js';

export const NODE_SIZE = { root: 15, intermediate: 9, leaf: 5.5, band: 4 };

const $ = (id) => document.getElementById(id);
export const el = {
  graph: $('graph'),
  status: $('status'),
  stats: $('stats'),
  panel: $('panel'),
  panelKind: $('panel-kind'),
  panelTitle: $('panel-title'),
  panelBody: $('panel-body'),
  panelClose: $('panel-close'),
  input: $('search-input'),
  results: $('search-results'),
  legend: $('legend'),
  legendFamilies: $('legend-families'),
  indexDetails: $('genre-index-details'),
  announce: $('announce'),
  mapControls: $('map-controls'),
  zoomIn: $('zoom-in'),
  zoomOut: $('zoom-out'),
  zoomFit: $('zoom-fit'),
  eraBar: $('era-bar'),
  eraAxis: $('era-axis'),
  viewMap: $('view-map'),
  viewEras: $('view-eras'),
  year: $('year'),
  yearOut: $('year-out'),
  yearAll: $('year-all'),
};

export const state = {
  ready: false,
  genres: new Map(), // id -> genre from /api/v1/graph
  bands: new Map(), // id -> band
  children: new Map(), // genre id -> [child ids] (any parent)
  bandsOf: new Map(), // genre id -> [band ids] (any genre)
  influencedBy: new Map(), // genre id -> [genre ids whose links point to it]
  familyColor: new Map(), // root id -> colour
  weight: new Map(), // genre id -> how connected it is (label priority)
  graph: null,
  renderer: null,
  expanded: null, // genre id whose bands are in the graph
  listBox: null, // the box its band list takes, labels included, in graph units
  selected: null, // {kind, id}
  hovered: null, // node key
  cursor: null, // node key of the keyboard cursor while the map has the focus
  returnFocus: null, // where the focus goes back to when the panel closes
  stretch: { x: 1, y: 1 }, // positions are drawn stretched to the screen's shape
  view: 'map', // 'map' (force layout) or 'eras' (by origin year)
  year: null, // the era bar's year: later genres are dimmed; null for all
  eras: { from: 0, to: 0, ticks: [] }, // the era view's span and axis marks
  timings: { viewSwitch: [], panelOpen: [] }, // ms from a click to its first frame
  small: false, // phone-sized map
  sizeScale: 1,
  unit: 1, // typical distance between neighbouring genres, in graph units
  focusRatio: 0.3, // camera ratio used when focusing a node
  focus: null, // Set of node keys kept bright, or null
  pending: null, // route to apply once the graph is ready
  detailSeq: 0,
  path: null, // {from, to, found, steps, nodes: [keys], edges: Set} while a path is shown
  pathSeq: 0,
  hiEdges: null, // edges to highlight instead of the focus node's own
  cameraSeq: 0,
  moveSeq: 0, // genre moves (moveGenres): a newer one stops an older one
  baseTitle: document.title,
};

export const genreKey = (id) => 'g:' + id;
export const bandKey = (id) => 'b:' + id;
export const pathFor = (kind, id) => (kind === 'genre' ? '/genres/' : '/bands/') + encodeURIComponent(id);

// A URL of the explorer that keeps the view and the year chosen (so a deep
// link shows what its author saw): urlFor('/genres/x', {path: 'y'}).
export function urlFor(pathname, extra) {
  const q = new URLSearchParams();
  if (extra && extra.path) q.set('path', extra.path);
  if (state.view === 'eras') q.set('view', 'eras');
  if (state.year !== null) q.set('year', String(state.year));
  const query = q.toString();
  return pathname + (query ? '?' + query : '');
}

// The view and year a URL asks for.
export function viewOf(search) {
  const q = new URLSearchParams(search);
  const year = parseInt(q.get('year') || '', 10);
  return { view: q.get('view') === 'eras' ? 'eras' : 'map', year: Number.isInteger(year) && year > 0 && year < 3000 ? year : null };
}

export function parseRoute(pathname) {
  const m = /^\/(genres|bands)\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  let id;
  try {
    id = decodeURIComponent(m[2]);
  } catch (e) {
    return null;
  }
  return { kind: m[1] === 'genres' ? 'genre' : 'band', id };
}

export function decade(year) {
  if (typeof year !== 'number' || !isFinite(year)) return null;
  return Math.floor(year / 10) * 10 + 's';
}

let statusTimer = 0;
export function showStatus(text, opts) {
  clearTimeout(statusTimer);
  el.status.textContent = text;
  el.status.hidden = !text;
  el.status.classList.toggle('status-error', !!(opts && opts.error));
  if (opts && opts.timeout) statusTimer = setTimeout(() => showStatus(''), opts.timeout);
}

/* ---------- data model ---------- */

const strings = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

/*
 * Indexes the graph document. Fields from newer servers (genre aliases,
 * region, defining artists; band type, aliases, country, active_from) are used
 * when present and simply absent otherwise.
 */
export function indexData(doc) {
  const genres = Array.isArray(doc.genres) ? doc.genres : [];
  const bands = Array.isArray(doc.bands) ? doc.bands : [];
  for (const g of genres) {
    if (!g || typeof g.id !== 'string') continue;
    g.parents = Array.isArray(g.parents) ? g.parents : g.parent ? [g.parent] : [];
    g.links = Array.isArray(g.links) ? g.links : [];
    g.name = typeof g.name === 'string' ? g.name : g.id;
    g.aliases = strings(g.aliases);
    g.defining = strings(g.defining);
    if (!NODE_SIZE[g.type] || g.type === 'band') g.type = 'leaf';
    // The server places every node; a document from elsewhere may not.
    if (!Number.isFinite(g.x) || !Number.isFinite(g.y)) g.x = g.y = 0;
    if (!Number.isFinite(g.ex) || !Number.isFinite(g.ey)) [g.ex, g.ey] = [g.x, g.y];
    state.genres.set(g.id, g);
    state.children.set(g.id, []);
    state.bandsOf.set(g.id, []);
    state.influencedBy.set(g.id, []);
  }
  for (const g of state.genres.values()) {
    for (const p of g.parents) if (state.children.has(p)) state.children.get(p).push(g.id);
    for (const l of g.links) if (l && state.influencedBy.has(l.to)) state.influencedBy.get(l.to).push(g.id);
    if (!g.family || !state.genres.has(g.family)) g.family = familyOf(g);
  }
  const defining = new Map(); // band id -> how many genres it defines
  for (const g of state.genres.values()) for (const id of g.defining) defining.set(id, (defining.get(id) || 0) + 1);
  for (const b of bands) {
    if (!b || typeof b.id !== 'string') continue;
    b.genres = Array.isArray(b.genres) ? b.genres : b.primary_genre ? [b.primary_genre] : [];
    b.name = typeof b.name === 'string' ? b.name : b.id;
    b.aliases = strings(b.aliases);
    // Without defining artists in the data, a band tagged with more genres
    // is more likely one a fan has heard of than one with a single tag.
    b.rank = (defining.get(b.id) || 0) * 100 + b.genres.length;
    state.bands.set(b.id, b);
    for (const gid of new Set(b.genres)) if (state.bandsOf.has(gid)) state.bandsOf.get(gid).push(b.id);
  }
  const byName = (a, b) => nameOf('genre', a).localeCompare(nameOf('genre', b));
  for (const list of state.children.values()) list.sort(byName);
  for (const list of state.influencedBy.values()) list.sort(byName);
  // A genre's bands: its defining artists in the dataset's order, then the
  // others, the likely better known first.
  for (const [gid, list] of state.bandsOf) {
    const first = new Map(state.genres.get(gid).defining.map((id, i) => [id, i]));
    const at = (id) => (first.has(id) ? first.get(id) : Infinity);
    list.sort((a, b) => at(a) - at(b) || state.bands.get(b).rank - state.bands.get(a).rank || nameOf('band', a).localeCompare(nameOf('band', b)));
  }
  const eras = doc.eras && typeof doc.eras === 'object' ? doc.eras : {};
  state.eras = {
    from: Number.isInteger(eras.from) ? eras.from : 0,
    to: Number.isInteger(eras.to) ? eras.to : 0,
    ticks: (Array.isArray(eras.ticks) ? eras.ticks : []).filter((t) => t && Number.isInteger(t.year) && Number.isFinite(t.x)),
  };
  const sizes = new Map();
  for (const g of state.genres.values()) {
    state.weight.set(g.id, state.bandsOf.get(g.id).length + 2 * state.children.get(g.id).length + g.links.length + state.influencedBy.get(g.id).length);
    sizes.set(g.family, (sizes.get(g.family) || 0) + 1);
  }
  state.familyColor = assignFamilyColors(sizes);
}

// Follows primary parents to the root; used only if the server left it out.
function familyOf(g) {
  const seen = new Set();
  let cur = g;
  while (cur.parent && state.genres.has(cur.parent) && !seen.has(cur.id)) {
    seen.add(cur.id);
    cur = state.genres.get(cur.parent);
  }
  return cur.id;
}

export function nameOf(kind, id) {
  const item = kind === 'genre' ? state.genres.get(id) : state.bands.get(id);
  return item ? item.name : id;
}

// What an artist is, in words: a band entry's type from the data (a newer
// server's field; older documents say nothing, and nor do unclassified entries).
const ACT_LABELS = { person: 'Solo artist', group: 'Group' };
export function actLabel(bandId) {
  const b = state.bands.get(bandId);
  return (b && ACT_LABELS[b.type]) || 'Artist';
}

export function familyName(genreId) {
  const g = state.genres.get(genreId);
  return g ? nameOf('genre', g.family) : '';
}

export function colorOfGenre(id) {
  const g = state.genres.get(id);
  return (g && state.familyColor.get(g.family)) || '#9aa5b5';
}

export function linkTo(kind, id, label) {
  const a = h('a', { href: pathFor(kind, id), 'data-kind': kind, 'data-id': id, text: label || nameOf(kind, id) });
  if (kind === 'genre' && state.genres.has(id)) {
    const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    dot.style.backgroundColor = colorOfGenre(id);
    a.prepend(dot);
  }
  return a;
}
