/*
 * map.js — the map: the graphology graph and its sigma renderer (WebGL),
 * the band list of the open genre, highlighting, and the camera.
 *
 * Positions come from the server (src/graph places every node); the map
 * never lays anything out except the band list beside an open genre. It
 * only stretches the positions, up to 1.8 times along one axis, so that the
 * map fills a wide or a tall screen instead of a square in its middle.
 * Node attributes never use the name "type": sigma reads it as the WebGL
 * program name.
 */
import { reducedMotion } from './dom.js';
import { LABEL_FONT, RANK, drawHover, drawLabel, labelReach, newFrame, textWidth } from './labels.js';
import { NODE_SIZE, actLabel, bandKey, colorOfGenre, el, familyName, genreKey, nameOf, state } from './model.js';
import { BG, FADE, mix } from './palette.js';

const BAND_COLOR = '#e9edf3';
const MORE_COLOR = '#8d98aa';
// The list of an open genre cut short ends in this item (see expand).
const MORE = '\u0000more';
const MORE_KEY = 'm:more';
// Opaque colours only: sigma blends translucent edges additively, which
// makes them brighter instead of fainter where they cross.
const INFLUENCE = '#d6c496';
const SECONDARY_PARENT = '#96a3b8';

// Stretch factors that make the genres' bounding box about as wide (or as
// tall) as the map on screen, at most MAX_STRETCH along one axis.
const MAX_STRETCH = 1.8;
function stretchFor(view) {
  const box = bbox([...state.genres.values()].map((g) => rawPlace(g, view)));
  const aspect = (box.x[1] - box.x[0]) / Math.max(1e-9, box.y[1] - box.y[0]);
  const screen = Math.max(1, el.graph.clientWidth) / Math.max(1, el.graph.clientHeight);
  const k = Math.min(MAX_STRETCH, Math.max(1 / MAX_STRETCH, screen / aspect));
  return k >= 1 ? { x: k, y: 1 } : { x: 1, y: 1 / k };
}

// A genre's position as the server gives it, in the force map or the eras.
function rawPlace(g, view) {
  return view === 'eras' ? { x: g.ex, y: g.ey } : { x: g.x, y: g.y };
}

// Where a genre is drawn in the current view.
function placeOf(g) {
  const p = rawPlace(g, state.view);
  return { x: p.x * state.stretch.x, y: p.y * state.stretch.y };
}

// The era view's x (before stretching) of a year: the server's axis marks
// interpolated (the server's scale is linear between them).
export function eraX(year) {
  const t = state.eras.ticks;
  if (!t.length) return 0;
  if (t.length === 1) return t[0].x + (year - t[0].year);
  let i = 1;
  while (i < t.length - 1 && t[i].year < year) i++;
  const a = t[i - 1];
  const b = t[i];
  return a.x + ((year - a.year) * (b.x - a.x)) / (b.year - a.year);
}

// Genres (and bands, when the data says when they started) not yet there
// in the year chosen on the era bar.
function afterYear(attr) {
  if (state.year === null || attr.kind === 'more') return false;
  if (attr.kind === 'band') {
    const b = state.bands.get(attr.id);
    return !!b && Number.isInteger(b.active_from) && b.active_from > state.year;
  }
  const g = state.genres.get(attr.id);
  return !!g && g.ex > eraX(state.year) + 1e-6;
}

export function buildGraph() {
  const graph = new graphology.Graph({ type: 'directed', multi: false, allowSelfLoops: false });
  for (const g of state.genres.values()) {
    const color = colorOfGenre(g.id);
    graph.addNode(genreKey(g.id), {
      ...placeOf(g),
      size: NODE_SIZE[g.type] * (g.type === 'root' ? Math.sqrt(state.sizeScale) : state.sizeScale),
      color,
      dimColor: mix(color, BG, FADE),
      label: g.name,
      familyName: familyName(g.id),
      kind: 'genre',
      id: g.id,
      level: g.type,
      weight: state.weight.get(g.id) || 0,
      zIndex: g.type === 'root' ? 3 : g.type === 'intermediate' ? 2 : 1,
    });
  }
  for (const g of state.genres.values()) {
    const from = genreKey(g.id);
    for (const p of g.parents) {
      if (!state.genres.has(p) || p === g.id) continue;
      const to = genreKey(p);
      if (graph.hasEdge(from, to)) continue;
      const primary = p === g.parent;
      const base = primary ? colorOfGenre(g.id) : SECONDARY_PARENT;
      graph.addEdgeWithKey('p:' + g.id + '>' + p, from, to, {
        relation: primary ? 'parent' : 'parent2',
        size: primary ? 1.4 : 1,
        color: mix(base, BG, primary ? 0.45 : 0.35),
        hiColor: mix(base, BG, 0.9),
        zIndex: 1,
      });
    }
  }
  for (const g of state.genres.values()) {
    for (const l of g.links) {
      if (!l || !state.genres.has(l.to) || l.to === g.id) continue;
      const a = genreKey(g.id);
      const b = genreKey(l.to);
      if (graph.hasEdge(a, b) || graph.hasEdge(b, a)) continue;
      graph.addEdgeWithKey('i:' + g.id + '>' + l.to, a, b, {
        relation: 'influence',
        size: 1,
        color: mix(INFLUENCE, BG, 0.3),
        hiColor: mix(INFLUENCE, BG, 0.85),
        zIndex: 0,
      });
    }
  }
  return graph;
}

// The frame of the map: every genre with a margin.
function bbox(genres) {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of genres) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  if (!isFinite(x0)) return { x: [-1, 1], y: [-1, 1] };
  const pad = Math.max(x1 - x0, y1 - y0, 1) * 0.04;
  return { x: [x0 - pad, x1 + pad], y: [y0 - pad, y1 + pad] };
}

// Pixels per graph unit at a given camera ratio (sizes are in screen
// pixels, positions in graph units; band lists are laid out in pixels).
function pxPerUnit(ratio) {
  const r = state.renderer;
  const cam = r.getCamera().getState();
  const cs = { x: cam.x, y: cam.y, angle: 0, ratio };
  const a = r.graphToViewport({ x: 0, y: 0 }, { cameraState: cs });
  const b = r.graphToViewport({ x: state.unit * 10, y: 0 }, { cameraState: cs });
  return Math.max(1e-6, Math.hypot(b.x - a.x, b.y - a.y) / (state.unit * 10));
}

/*
 * Shows the bands of one genre as a list: one or more columns of small
 * nodes beside the genre, so every label has its own row at the zoom the
 * camera is going to (ratio; the focus zoom by default). The block goes on
 * the side (right, left, below, above) that covers the fewest genres. A
 * list too long for the screen shows its first bands and a last row that
 * opens the rest in the panel.
 */
export function expand(genreId, ratioWanted) {
  if (state.expanded === genreId) return;
  collapse();
  const graph = state.graph;
  const gk = genreKey(genreId);
  if (!graph.hasNode(gk)) return;
  state.expanded = genreId;
  const ids = state.bandsOf.get(genreId) || [];
  if (!ids.length) return;
  const g = graph.getNodeAttributes(gk);
  const ratio = ratioWanted || Math.min(state.renderer.getCamera().getState().ratio, state.focusRatio);
  const ppu = pxPerUnit(ratio);
  const visible = panelCover();
  const font = '400 12px ' + LABEL_FONT;

  const ROW = state.small ? 19 : 21;
  let moreLabel = ''; // the last row of a list cut short
  const labelOf = (bid) => (bid === MORE ? moreLabel : nameOf('band', bid));
  const maxRows = Math.max(5, Math.floor((Math.max(visible.height, 160) * 0.85) / ROW));
  // Column geometry of a list in pixels: rows per column, each column's
  // offset from the side nearest the genre, total width.
  const measure = (list, cols) => {
    const rows = Math.ceil(list.length / cols);
    const colX = [];
    let w = 0;
    for (let c = 0; c < cols; c++) {
      colX.push(w);
      let widest = 0;
      for (let r = 0; r < rows; r++) {
        const bid = list[c * rows + r];
        if (bid) widest = Math.max(widest, textWidth(labelOf(bid), font));
      }
      w += NODE_SIZE.band * 2 + 6 + Math.min(widest, 220) + 22;
    }
    return { rows, colX, w };
  };
  const gap = (g.size + 30) / ppu;
  // On the right the genre's own label is in the way.
  const gapRight = (labelReach(g) + 40) / ppu;
  const blocks = []; // {list, side, x0 (left edge), top, rows, colX, w}
  let wide = false; // the list is wider than the visible part of the map

  // How much of the map a block at [x0, top] (graph units, y up) would
  // cover: the genres under it, roots and the genre's neighbours (lit and
  // labelled while it is selected) weighing more.
  const margin = 14 / ppu;
  // Labels run to the right of their discs: a disc up to a label's
  // width left of the block still collides with it.
  const labelRoom = 110 / ppu;
  const neighbours = new Set(graph.neighbors(gk));
  const covered = (x0, top, blockW, blockH) => {
    let score = 0;
    graph.forEachNode((key, a) => {
      if (key === gk) return;
      if (a.x > x0 - margin - labelRoom && a.x < x0 + blockW + margin && a.y < top + margin && a.y > top - blockH - margin) {
        const weight = (a.level === 'root' ? 4 : a.level === 'intermediate' ? 2 : 1) * (neighbours.has(key) ? 3 : 1);
        score += a.x < x0 - margin ? weight / 2 : weight;
      }
    });
    return score;
  };
  // The candidate that covers least.
  const leastCovered = (cands, blockW, blockH) => {
    let best = cands[0];
    let bestScore = Infinity;
    for (const c of cands) {
      const score = covered(c[0], c[1], blockW, blockH);
      if (score < bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  };

  if (ids.length > maxRows && visible.width >= 640) {
    // A long list is split in two, left and right of the genre (the left
    // part mirrored), so no edge has to cross a column of labels. Both
    // parts and the gaps between them should fit the visible width, or the
    // outer names are cut at the edge or hidden under the panel: the fewest
    // columns, shared out unevenly if need be, that fit the width with rows
    // that fit the height.
    const between = gap * ppu + 70 + gapRight * ppu + 40;
    const splitOf = (list) => {
      for (let cols = 2; cols <= 8; cols++) {
        const rows = Math.ceil(list.length / cols);
        for (let left = 1; left < cols && rows <= maxRows; left++) {
          const parts = [list.slice(0, rows * left), list.slice(rows * left)];
          const ms = [measure(parts[0], left), measure(parts[1], cols - left)];
          if (parts[1].length && ms[0].w + ms[1].w + between <= visible.width * 0.95) return { parts, ms };
        }
      }
      return null;
    };
    // A list too long to fit left and right of the genre may still fit in
    // one block centred under or over it: the block spares the gaps beside
    // the genre and its label. It takes the fewest columns (2 to 10) whose
    // rows fit the height left beside the genre, if they fit the width:
    // more columns would only be wider.
    const rowsUnder = Math.floor((visible.height * 0.9 - gap * ppu - g.size) / ROW);
    const underOf = (list) => {
      const cols = Math.max(2, Math.ceil(list.length / rowsUnder));
      const m = rowsUnder >= 1 && cols <= 10 ? measure(list, cols) : null;
      return m && m.w <= visible.width * 0.9 ? m : null;
    };
    const planOf = (list) => {
      const split = splitOf(list);
      const under = split ? null : underOf(list);
      return split || under ? { list, split, under } : null;
    };
    let plan = planOf(ids);
    if (!plan) {
      // Longer still (the biggest genres have 100 to 200 bands): at a
      // readable row height they need more than one screen, and a list
      // squeezed onto one drops most of its labels. The map shows the
      // first bands that fit, the defining and the best known first (and
      // the selected band), and a last row says how many more the panel
      // lists.
      const keep = state.selected?.kind === 'band' ? state.selected.id : null;
      const cut = (n) => {
        const list = ids.slice(0, n);
        if (keep && ids.includes(keep) && !list.includes(keep)) list[n - 1] = keep;
        moreLabel = '+' + (ids.length - n) + ' more in the list';
        return [...list, MORE];
      };
      let lo = 0;
      let hi = ids.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (planOf(cut(mid))) lo = mid;
        else hi = mid - 1;
      }
      plan = lo > 0 ? planOf(cut(lo)) : null;
    }
    if (plan?.under) {
      const blockW = plan.under.w / ppu;
      const blockH = (plan.under.rows * ROW) / ppu;
      const x0 = g.x - blockW / 2;
      const [, top] = leastCovered([[x0, g.y - gap], [x0, g.y + gap + blockH]], blockW, blockH);
      blocks.push(Object.assign({ list: plan.list, side: 'right', x0, top }, plan.under));
    }
    let split = plan?.split;
    if (!plan) {
      // Too narrow a screen even for a cut list: two even halves of
      // screen-high columns, framed by their dots.
      wide = true;
      const half = Math.ceil(ids.length / 2);
      const parts = [ids.slice(0, half), ids.slice(half)];
      split = { parts, ms: parts.map((list) => measure(list, Math.ceil(list.length / maxRows))) };
    }
    split?.parts.forEach((list, i) => {
      const m = split.ms[i];
      // Wider gaps than for one list: the edges fan out instead of
      // running almost vertically along the dots.
      const x0 = i === 0 ? g.x - gap - 70 / ppu - m.w / ppu : g.x + gapRight + 40 / ppu;
      blocks.push(Object.assign({ list, side: i === 0 ? 'left' : 'right', x0, top: g.y + (m.rows * ROW) / ppu / 2 }, m));
    });
  } else {
    // As many columns as the height needs, as few as the width allows (a
    // list taller than the screen can be panned; a cut-off column cannot
    // be read).
    let m = measure(ids, Math.ceil(ids.length / maxRows));
    while (m.colX.length > 1 && m.w > visible.width * 0.75) m = measure(ids, m.colX.length - 1);
    const blockW = m.w / ppu;
    const blockH = (m.rows * ROW) / ppu;
    // Candidate places as [left, top] in graph units (y grows upwards).
    const cand = [
      [g.x + gapRight, g.y + blockH / 2, 'right'],
      [g.x - gap - blockW, g.y + blockH / 2, 'left'],
      // Above and below, the first column of dots sits on the genre's
      // axis so the edges run along the dots, not through the labels.
      [g.x - (NODE_SIZE.band + 2) / ppu, g.y - gap, 'right'],
      [g.x - (NODE_SIZE.band + 2) / ppu, g.y + gap + blockH, 'right'],
    ];
    const best = leastCovered(cand, blockW, blockH);
    blocks.push(Object.assign({ list: ids, side: best[2], x0: best[0], top: best[1] }, m));
  }

  // The camera frames the names with the dots where they fit the screen; a
  // wider list is framed by its dots alone, since zooming out to take in
  // its names would squeeze its rows into each other.
  state.listBox = wide ? null : {
    x0: Math.min(...blocks.map((b) => b.x0)),
    x1: Math.max(...blocks.map((b) => b.x0 + b.w / ppu)),
    y0: Math.min(...blocks.map((b) => b.top - (b.rows * ROW) / ppu)),
    y1: Math.max(...blocks.map((b) => b.top)),
  };
  const edgeColor = mix(colorOfGenre(genreId), BG, 0.45);
  const edgeHi = mix(colorOfGenre(genreId), BG, 0.85);
  for (const b of blocks) {
    b.list.forEach((bid, i) => {
      const c = Math.floor(i / b.rows);
      const r = i % b.rows;
      const inset = (b.colX[c] + NODE_SIZE.band + 2) / ppu;
      // Left of the genre the list is mirrored (labels to the left of
      // their dots) so the edges do not run through the labels.
      const at = {
        x: b.side === 'left' ? b.x0 + b.w / ppu - inset : b.x0 + inset,
        y: b.top - ((r + 0.5) * ROW) / ppu,
        labelSide: b.side,
      };
      if (bid === MORE) {
        // Not a band: a click opens the rest of the list in the panel.
        graph.addNode(MORE_KEY, { ...at, size: NODE_SIZE.band * 0.6, color: MORE_COLOR, dimColor: mix(MORE_COLOR, BG, FADE), label: moreLabel, kind: 'more', id: genreId, level: 'band', zIndex: 4 });
        return;
      }
      graph.addNode(bandKey(bid), {
        ...at,
        size: NODE_SIZE.band,
        color: BAND_COLOR,
        dimColor: mix(BAND_COLOR, BG, FADE),
        label: nameOf('band', bid),
        familyName: actLabel(bid).toLowerCase() + ' · ' + nameOf('genre', genreId),
        kind: 'band',
        id: bid,
        level: 'band',
        zIndex: 4,
      });
      graph.addEdgeWithKey('b:' + bid + '>' + genreId, bandKey(bid), gk, {
        relation: 'band',
        size: 0.8,
        color: edgeColor,
        hiColor: edgeHi,
        zIndex: 2,
      });
    });
  }
}

export function collapse() {
  if (state.expanded === null) return;
  const graph = state.graph;
  graph.forEachNode((key, attr) => {
    if (attr.kind === 'band' || attr.kind === 'more') graph.dropNode(key);
  });
  if (state.hovered && !graph.hasNode(state.hovered)) state.hovered = null;
  state.expanded = null;
  state.listBox = null;
}

/* ---------- highlighting ---------- */

function neighbourhood(key) {
  const set = new Set([key]);
  if (state.graph.hasNode(key)) state.graph.forEachNeighbor(key, (n) => set.add(n));
  return set;
}

export const selectedKey = () => {
  const sel = state.selected;
  return sel ? (sel.kind === 'genre' ? genreKey(sel.id) : bandKey(sel.id)) : null;
};

/*
 * What stays bright: the hovered node and its neighbours; else a path being
 * shown; else the selected genre and its neighbours (its bands among them);
 * else the selected band, its genres and its labelmates in the open list.
 */
export function recomputeFocus() {
  const graph = state.graph;
  let focus = null;
  const sel = state.selected;
  const selKey = selectedKey();
  state.hiEdges = null;
  if (state.hovered && graph.hasNode(state.hovered)) {
    focus = neighbourhood(state.hovered);
    if (selKey) focus.add(selKey);
  } else if (state.path && sel && sel.kind === 'genre' && sel.id === state.path.from) {
    focus = new Set(state.path.nodes);
    state.hiEdges = state.path.edges;
  } else if (sel && sel.kind === 'genre') {
    focus = neighbourhood(genreKey(sel.id));
    focus.add(MORE_KEY);
  } else if (sel && sel.kind === 'band') {
    focus = neighbourhood(bandKey(sel.id));
    const b = state.bands.get(sel.id);
    if (b) for (const gid of b.genres) focus.add(genreKey(gid));
    if (state.expanded) {
      focus.add(genreKey(state.expanded));
      graph.forEachNode((key, a) => {
        if (a.level === 'band') focus.add(key);
      });
    }
  }
  state.focus = focus;
  // Once per task: sigma's scheduleRefresh runs the reducers over every node
  // and edge at once (only the drawing waits for the frame), and a click
  // changes the focus several times (the selection, then the map's blur when
  // the panel takes the focus).
  if (state.renderer && !refreshQueued) {
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      if (state.renderer) state.renderer.scheduleRefresh({ skipIndexation: true });
    });
  }
}
let refreshQueued = false;

function nodeReducer(key, attr) {
  const out = { ...attr, forceLabel: !!attr.label };
  const later = afterYear(attr);
  if (later && key !== selectedKey()) {
    out.color = attr.dimColor;
    out.labelRank = RANK.dim;
    out.zIndex = 0;
  } else if (key === selectedKey() || key === state.hovered || key === state.cursor) {
    out.highlighted = true;
    out.labelRank = RANK.selected;
    out.zIndex = 10;
  } else if (state.focus && state.focus.has(key)) {
    out.labelRank = attr.level === 'band' ? RANK.band : RANK.focus;
    out.zIndex = (attr.zIndex || 0) + 5;
  } else if (state.focus) {
    out.color = attr.dimColor;
    out.labelRank = RANK.dim;
  } else {
    out.labelRank = RANK[attr.level] ?? RANK.leaf;
  }
  return out;
}

function edgeReducer(key, attr) {
  if (!state.focus) return attr;
  const graph = state.graph;
  const s = graph.source(key);
  const t = graph.target(key);
  const centre = state.hovered || selectedKey();
  const hi = state.hiEdges ? state.hiEdges.has(key) : (s === centre || t === centre) && state.focus.has(s) && state.focus.has(t);
  if (hi) return { ...attr, type: 'thick', zIndex: 5, size: (attr.size || 1) + 0.6, color: attr.hiColor || attr.color };
  // The others were drawn nearly black; hidden, they cost the software
  // renderer of a browser without a GPU ~12 ms less per frame.
  return { ...attr, hidden: true };
}

/* ---------- camera ---------- */

// The part of the map the panel does not cover (side panel on wide
// screens, bottom sheet on narrow ones), in pixels of the map's box.
// The panel's box does not depend on its content, only on the stage it
// shares with the map (and the viewport, which sizes both), so it is
// measured once per size of the map's box, shown and hidden: measuring
// forces a layout, which in the middle of opening a genre (the new content
// not laid out yet) took a third of select()'s time.
export function panelCover() {
  if (!covers) {
    covers = new Map();
    new ResizeObserver(() => covers.clear()).observe(el.graph);
  }
  const key = el.panel.hidden + ' ' + el.eraBar.hidden;
  if (!covers.has(key)) covers.set(key, measureCover());
  return covers.get(key);
}
let covers = null;

function measureCover() {
  const c = el.graph.getBoundingClientRect();
  // The view and year bar floats over the bottom of the map: what is framed
  // stays above it.
  const bar = el.eraBar.hidden ? null : el.eraBar.getBoundingClientRect();
  const barBottom = bar && bar.height ? Math.max(0, c.bottom - bar.top + 6) : 0;
  const none = { right: 0, bottom: barBottom, width: c.width, height: c.height - barBottom };
  if (el.panel.hidden) return none;
  const p = el.panel.getBoundingClientRect();
  if (p.width === 0 || p.height === 0) return none;
  if (p.width < c.width * 0.9 && p.left > c.left + c.width / 3) {
    const right = Math.max(0, c.right - p.left);
    return { right, bottom: barBottom, width: c.width - right, height: c.height - barBottom };
  }
  const bottom = Math.max(barBottom, c.bottom - p.top);
  return { right: 0, bottom, width: c.width, height: c.height - bottom };
}

// The bounding box of some nodes, in graph units.
function extentOf(keys) {
  const graph = state.graph;
  const pts = keys.filter((k) => graph.hasNode(k)).map((k) => graph.getNodeAttributes(k));
  if (!pts.length) return null;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
}

// The camera ratio that shows a box in the visible part of the map with
// room around it (share of the visible width and height it may take).
function ratioToFit(box, share) {
  const ppu1 = pxPerUnit(1);
  const cover = panelCover();
  const need = Math.max(((box.x1 - box.x0) * ppu1) / Math.max(cover.width * share, 80), ((box.y1 - box.y0) * ppu1) / Math.max(cover.height * share, 80));
  return Math.min(1.2, Math.max(need, state.focusRatio));
}

// The box of some nodes and of the open band list with its names.
function extentWithList(keys) {
  const box = extentOf(keys);
  const l = state.listBox;
  if (!box || !l) return box;
  return { x0: Math.min(box.x0, l.x0), x1: Math.max(box.x1, l.x1), y0: Math.min(box.y0, l.y0), y1: Math.max(box.y1, l.y1) };
}

// The band list of the open genre and what goes with it.
function bandKeys() {
  const keys = [];
  state.graph.forEachNode((key, a) => {
    if (a.level === 'band') keys.push(key);
  });
  return keys;
}

/*
 * Opens the bands of the selection and moves the camera to it: a genre with
 * its band list; a band with its labelmates and every one of its genres,
 * however far apart (the list is laid out for the zoom that shows them all).
 */
export function showSelection(opts) {
  const sel = state.selected;
  if (!sel || !state.renderer) return Promise.resolve();
  if (sel.kind === 'genre') {
    expand(sel.id);
    const box = extentWithList([genreKey(sel.id), ...bandKeys()]);
    const ratio = Math.min(state.renderer.getCamera().getState().ratio, state.focusRatio);
    return moveCamera({ x: (box.x0 + box.x1) / 2, y: (box.y0 + box.y1) / 2 }, Math.max(ratio, ratioToFit(box, 0.92)), opts);
  }
  const b = state.bands.get(sel.id);
  const home = b.primary_genre && state.genres.has(b.primary_genre) ? b.primary_genre : b.genres.find((g) => state.genres.has(g));
  if (!home) return Promise.resolve();
  const genres = b.genres.filter((g) => state.genres.has(g)).map(genreKey);
  const ratio = ratioToFit(extentOf(genres), 0.45);
  // A band of a list cut short is drawn in it when it is selected.
  if (state.expanded === home && !state.graph.hasNode(bandKey(sel.id))) collapse();
  if (state.expanded !== home) expand(home, ratio);
  recomputeFocus();
  const box = extentWithList([...genres, ...bandKeys()]);
  return moveCamera({ x: (box.x0 + box.x1) / 2, y: (box.y0 + box.y1) / 2 }, Math.max(ratio, ratioToFit(box, 0.92)), opts);
}

export function focusCamera(key, opts) {
  if (!state.renderer || !state.graph.hasNode(key)) return Promise.resolve();
  const a = state.graph.getNodeAttributes(key);
  return moveCamera(a, Math.min(state.renderer.getCamera().getState().ratio, state.focusRatio), opts);
}

// Frames a set of nodes (a path) in the visible part of the map, with
// their names: labels run to the right of their discs.
export function fitCamera(keys, opts) {
  const box = state.renderer && extentOf(keys);
  if (!box) return Promise.resolve();
  let labelRight = box.x1;
  const ratio = ratioToFit(box, 0.8);
  for (const k of keys) {
    if (!state.graph.hasNode(k)) continue;
    const a = state.graph.getNodeAttributes(k);
    labelRight = Math.max(labelRight, a.x + (labelReach(a) + 2) / pxPerUnit(ratio));
  }
  const framed = { ...box, x1: labelRight };
  return moveCamera({ x: (framed.x0 + framed.x1) / 2, y: (framed.y0 + framed.y1) / 2 }, ratioToFit(framed, 0.8), opts);
}

// The whole map in the visible part.
export function fitAll(opts) {
  const box = extentOf(state.graph.filterNodes((k, a) => a.kind === 'genre'));
  if (!box) return Promise.resolve();
  const cover = panelCover();
  const full = el.graph.getBoundingClientRect();
  const ratio = Math.max(full.width / Math.max(cover.width, 1), full.height / Math.max(cover.height, 1));
  return moveCamera({ x: (box.x0 + box.x1) / 2, y: (box.y0 + box.y1) / 2 }, ratio, opts);
}

// Zooms in (factor < 1) or out around the centre of the visible part.
export function zoomBy(factor) {
  const camera = state.renderer.getCamera();
  const ratio = Math.min(3, Math.max(0.02, camera.getState().ratio * factor));
  const cover = panelCover();
  const centre = state.renderer.viewportToGraph({ x: cover.width / 2, y: cover.height / 2 });
  return moveCamera(centre, ratio, { duration: 250 });
}

// Animates the camera so that a graph point sits in the middle of the
// visible part of the map, at the given zoom ratio.
function moveCamera(attr, ratio, opts) {
  const renderer = state.renderer;
  const camera = renderer.getCamera();
  const current = camera.getState();
  const framed = renderer.viewportToFramedGraph(renderer.graphToViewport({ x: attr.x, y: attr.y }));
  const dims = renderer.getDimensions();
  const cover = panelCover();
  const target = renderer.viewportToFramedGraph(
    { x: dims.width / 2 + cover.right / 2, y: dims.height / 2 + cover.bottom / 2 },
    { cameraState: { x: framed.x, y: framed.y, ratio, angle: current.angle } },
  );
  const next = { x: target.x, y: target.y, ratio };
  const seq = ++state.cameraSeq;
  if ((opts && opts.instant) || reducedMotion()) {
    camera.setState(next);
    return Promise.resolve();
  }
  document.body.dataset.cameraMoving = '1';
  return camera.animate(next, { duration: (opts && opts.duration) || 550, easing: 'quadraticInOut' }).then(() => {
    if (seq === state.cameraSeq) delete document.body.dataset.cameraMoving;
  });
}

// Sets the frame from the genres' drawn positions and the scales that
// follow from it: one "unit" is roughly the spacing of neighbouring genres;
// band lists and the focus zoom are expressed in it so any layout scale
// works.
function frame() {
  state.stretch = stretchFor(state.view);
  const box = bbox([...state.genres.values()].map(placeOf));
  const extent = Math.max(box.x[1] - box.x[0], box.y[1] - box.y[0]);
  state.unit = extent / Math.max(8, Math.sqrt(state.genres.size) * 2.2);
  state.focusRatio = Math.min(1, Math.max(0.04, (state.unit * 9) / extent));
  // A fixed frame: adding band nodes must not rescale the whole map.
  if (state.renderer) state.renderer.setCustomBBox(box);
  return box;
}

/*
 * Moves the genres to new positions (Map id -> {x, y} as the server gives
 * them; genres missing from it stay), animated unless the user prefers
 * reduced motion. The final layout arriving after provisional positions
 * uses it. The open genre's band list is taken down first and laid out
 * again at the end, beside the genre's new place. Resolves when the nodes
 * are there.
 */
export function moveGenres(target, opts) {
  for (const [id, p] of target) {
    const g = state.genres.get(id);
    if (g && Number.isFinite(p.x) && Number.isFinite(p.y)) [g.x, g.y] = [p.x, p.y];
  }
  return animateGenres(opts);
}

// Shows the force map ('map') or the eras ('eras'), the genres moving
// from one to the other.
export function setView(view, opts) {
  if (view === state.view) return Promise.resolve();
  state.view = view;
  const moved = animateGenres(opts);
  // The new frame is the whole new view: the camera goes to it meanwhile.
  if (!state.selected) fitAll(opts);
  return moved;
}

// Moves every genre from where it is drawn to where the current view and
// positions put it.
function animateGenres(opts) {
  const duration = reducedMotion() || (opts && opts.instant) ? 0 : 600;
  const open = state.expanded;
  collapse();
  const from = new Map();
  for (const id of state.genres.keys()) {
    const a = state.graph.getNodeAttributes(genreKey(id));
    from.set(id, { x: a.x, y: a.y });
  }
  frame();
  if (opts && opts.onFirstFrame) requestAnimationFrame(() => requestAnimationFrame(opts.onFirstFrame));
  const seq = ++state.moveSeq;
  const step = (t) => {
    const k = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2; // ease in and out
    for (const [id, a] of from) {
      const to = placeOf(state.genres.get(id));
      state.graph.mergeNodeAttributes(genreKey(id), { x: a.x + (to.x - a.x) * k, y: a.y + (to.y - a.y) * k });
    }
  };
  return new Promise((resolve) => {
    const done = () => {
      step(1);
      if (open !== null) expand(open);
      resolve();
    };
    if (!duration) return done();
    const t0 = performance.now();
    const tick = (now) => {
      if (seq !== state.moveSeq) return resolve(); // a newer move took over
      const t = Math.min(1, (now - t0) / duration);
      if (t >= 1) return done();
      step(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

// Whether the genres can be drawn as WebGL points: discs as sharp as
// sigma's default triangles, for less work per frame (a frame of the large
// synthetic map: 60-95 ms instead of 100 without a GPU), but a GPU caps a
// point's size, and the largest disc (a family, zoomed in, on a dense
// screen) must fit.
function pointsFit() {
  const gl = document.createElement('canvas').getContext('webgl');
  if (!gl) return false;
  const largest = 4 * NODE_SIZE.root * (window.devicePixelRatio || 1) + 8;
  const fits = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1] >= largest;
  const lose = gl.getExtension('WEBGL_lose_context');
  if (lose) lose.loseContext();
  return fits;
}

export function startRenderer() {
  // Phones get smaller discs: the whole map has to fit in about 360 pixels.
  state.small = Math.min(el.graph.clientWidth, el.graph.clientHeight) < 600;
  // Big maps get smaller discs too, so the overview is not a carpet.
  const density = Math.min(1, Math.max(0.6, Math.sqrt(250 / Math.max(1, state.genres.size))));
  state.sizeScale = (state.small ? 0.72 : 1) * density;
  state.stretch = stretchFor(state.view);
  state.graph = buildGraph();
  const box = frame();

  const renderer = new Sigma(state.graph, el.graph, {
    renderEdgeLabels: false,
    enableCameraRotation: false,
    zIndex: true,
    // Plain one-pixel lines for the map's edges (sigma's own 'line' is an
    // antialiased quad, which a browser drawing WebGL without a GPU paid
    // 55-70 ms a frame for on the large synthetic map, 2,220 genres and
    // their links); the highlighted edges are the thick quads (edgeReducer).
    defaultEdgeType: 'line',
    nodeProgramClasses: pointsFit() ? { circle: Sigma.rendering.NodePointProgram } : {},
    edgeProgramClasses: { line: Sigma.rendering.EdgeLineProgram, thick: Sigma.rendering.EdgeRectangleProgram },
    labelFont: LABEL_FONT,
    // Every label goes through labels.js, which places them without overlaps.
    labelDensity: 0,
    labelRenderedSizeThreshold: 0,
    defaultDrawNodeLabel: drawLabel,
    defaultDrawNodeHover: drawHover,
    // Discs grow when zooming in, but at most twice: on big maps the
    // focus zoom is deep and band lists need their rows.
    zoomToSizeRatioFunction: (r) => Math.max(0.5, Math.sqrt(r)),
    minCameraRatio: 0.02,
    maxCameraRatio: 3,
    stagePadding: 30,
    nodeReducer,
    edgeReducer,
  });
  state.renderer = renderer;
  renderer.setCustomBBox(box);
  renderer.on('beforeRender', newFrame);
  renderer.refresh();

  renderer.on('doubleClickNode', (e) => e.preventSigmaDefault());
  renderer.on('enterNode', ({ node }) => {
    el.graph.classList.add('over-node');
    if (state.graph.getNodeAttribute(node, 'kind') === 'more') return; // the list stays lit
    state.hovered = node;
    recomputeFocus();
  });
  renderer.on('leaveNode', () => {
    state.hovered = null;
    el.graph.classList.remove('over-node');
    recomputeFocus();
  });
  return renderer;
}
