/*
 * musicgraph explorer.
 *
 * Draws the genre map with sigma.js (WebGL) over a graphology graph, and keeps
 * three things in step: the graph (which genre has its bands expanded), the
 * detail panel, and the URL (/, /genres/ID, /bands/ID). Every user action goes
 * through select() or closeSelection(), which update all three; popstate
 * replays the URL through the same functions without pushing history.
 *
 * Data arrives as JSON from /api/v1 and is only ever put into the page with
 * textContent / createElement (names can contain anything, markup included).
 * The script is a classic script under a strict CSP: no eval, no inline
 * styles in markup (element.style from script is allowed and used sparingly).
 *
 * Node keys are "g:ID" for genres and "b:ID" for bands, since the two id
 * spaces may collide. Node attributes never use the name "type": sigma reads
 * it as the WebGL program name.
 */
(function () {
  'use strict';

  const BG = '#0f131a';
  const NODE_SIZE = { root: 15, intermediate: 9, leaf: 5.5, band: 4 };
  const PALETTE = [
    '#f2705e', '#5aa9f0', '#f5b83d', '#61c98b', '#b48cf2', '#4fd1c5',
    '#f078b4', '#c7d65a', '#e8955a', '#8fa3ff', '#a3d9ff', '#e0c08f',
  ];
  const BAND_COLOR = '#e9edf3';
  // Opaque colours only: sigma blends translucent edges additively, which
  // makes them brighter instead of fainter where they cross.
  const INFLUENCE = '#d6c496';
  const SECONDARY_PARENT = '#96a3b8';
  const DIM_EDGE_COLOR = '#1a202a';
  const SEARCH_DEBOUNCE_MS = 140;

  const $ = (id) => document.getElementById(id);
  const el = {
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
  };

  const state = {
    ready: false,
    genres: new Map(), // id -> genre from /api/v1/graph
    bands: new Map(), // id -> band
    children: new Map(), // genre id -> [child ids] (any parent)
    bandsOf: new Map(), // genre id -> [band ids] (any genre)
    influencedBy: new Map(), // genre id -> [genre ids whose links point to it]
    familyColor: new Map(), // root id -> colour
    graph: null,
    renderer: null,
    expanded: null, // genre id whose bands are in the graph
    selected: null, // {kind, id}
    hovered: null, // node key
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
    baseTitle: document.title,
  };

  /* ---------- small helpers ---------- */

  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'text') node.textContent = v;
        else if (k === 'className') node.className = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (children) for (const c of children) if (c) node.appendChild(c);
    return node;
  }

  const genreKey = (id) => 'g:' + id;
  const bandKey = (id) => 'b:' + id;
  const pathFor = (kind, id) => (kind === 'genre' ? '/genres/' : '/bands/') + encodeURIComponent(id);

  function parseRoute(pathname) {
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

  function reducedMotion() {
    return window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  }

  function hexToRgb(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function mix(hexA, hexB, t) {
    const a = hexToRgb(hexA);
    const b = hexToRgb(hexB);
    const c = a.map((v, i) => Math.round(v * t + b[i] * (1 - t)));
    return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
  }

  function hslToHex(hue, s, l) {
    const f = (n) => {
      const k = (n + hue / 30) % 12;
      const a = s * Math.min(l, 1 - l);
      const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
      return Math.round(c * 255).toString(16).padStart(2, '0');
    };
    return '#' + f(0) + f(8) + f(4);
  }

  function decade(year) {
    if (typeof year !== 'number' || !isFinite(year)) return null;
    return Math.floor(year / 10) * 10 + 's';
  }

  let statusTimer = 0;
  function showStatus(text, opts) {
    clearTimeout(statusTimer);
    el.status.textContent = text;
    el.status.hidden = !text;
    el.status.classList.toggle('status-error', !!(opts && opts.error));
    if (opts && opts.timeout) statusTimer = setTimeout(() => showStatus(''), opts.timeout);
  }

  async function fetchJSON(url, init) {
    const res = await fetch(url, Object.assign({ headers: { Accept: 'application/json' } }, init || {}));
    if (!res.ok) {
      const err = new Error('HTTP ' + res.status + ' for ' + url);
      err.status = res.status;
      throw err;
    }
    return res.json();
  }

  /* ---------- data model ---------- */

  function indexData(doc) {
    const genres = Array.isArray(doc.genres) ? doc.genres : [];
    const bands = Array.isArray(doc.bands) ? doc.bands : [];
    for (const g of genres) {
      if (!g || typeof g.id !== 'string') continue;
      g.parents = Array.isArray(g.parents) ? g.parents : g.parent ? [g.parent] : [];
      g.links = Array.isArray(g.links) ? g.links : [];
      g.name = typeof g.name === 'string' ? g.name : g.id;
      if (!NODE_SIZE[g.type] || g.type === 'band') g.type = 'leaf';
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
    for (const b of bands) {
      if (!b || typeof b.id !== 'string') continue;
      b.genres = Array.isArray(b.genres) ? b.genres : b.primary_genre ? [b.primary_genre] : [];
      b.name = typeof b.name === 'string' ? b.name : b.id;
      state.bands.set(b.id, b);
      for (const gid of new Set(b.genres)) if (state.bandsOf.has(gid)) state.bandsOf.get(gid).push(b.id);
    }
    const byName = (a, b) => nameOf('genre', a).localeCompare(nameOf('genre', b));
    for (const list of state.children.values()) list.sort(byName);
    for (const list of state.influencedBy.values()) list.sort(byName);
    for (const list of state.bandsOf.values()) list.sort((a, b) => nameOf('band', a).localeCompare(nameOf('band', b)));

    const roots = [...state.genres.values()].filter((g) => g.family === g.id).map((g) => g.id).sort();
    roots.forEach((id, i) => {
      const color = i < PALETTE.length ? PALETTE[i] : hslToHex((i * 137.508) % 360, 0.62, 0.64);
      state.familyColor.set(id, color);
    });
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

  function nameOf(kind, id) {
    const item = kind === 'genre' ? state.genres.get(id) : state.bands.get(id);
    return item ? item.name : id;
  }

  function colorOfGenre(id) {
    const g = state.genres.get(id);
    return (g && state.familyColor.get(g.family)) || '#9aa5b5';
  }

  /* ---------- layout ---------- */

  /*
   * Deterministic initial layout, used when the server sends no x/y.
   * Each family (the tree hanging from a root through primary parents) is laid
   * out as a radial tree around its root, every subtree getting an angular
   * sector proportional to its number of leaves; families are then placed as
   * islands on a large circle, ordered so that families sharing many edges sit
   * next to each other. A short collision pass separates what still overlaps.
   */
  function computeLayout() {
    const genres = [...state.genres.values()];
    if (genres.length && genres.every((g) => Number.isFinite(g.x) && Number.isFinite(g.y))) {
      const pos = new Map();
      for (const g of genres) pos.set(g.id, { x: g.x, y: g.y });
      return pos;
    }
    const SPACING = 32; // wanted distance between neighbours on a ring
    const STEP = 80; // distance between rings
    const GAP = 40; // between family islands

    // The family trees, through primary parents.
    const treeKids = new Map();
    for (const g of genres) treeKids.set(g.id, []);
    for (const g of genres) {
      if (g.family !== g.id && g.parent && treeKids.has(g.parent)) treeKids.get(g.parent).push(g.id);
    }
    // Intermediates first, then leaves, each by name: sub-trees stay together
    // and the order is stable across reloads.
    const rank = (id) => (treeKids.get(id).length ? 0 : 1);
    for (const list of treeKids.values()) {
      list.sort((a, b) => rank(a) - rank(b) || nameOf('genre', a).localeCompare(nameOf('genre', b)) || (a < b ? -1 : 1));
    }
    const roots = genres.filter((g) => g.family === g.id || !g.parent || !treeKids.has(g.parent)).map((g) => g.id).sort();

    // Leaf counts (post-order, iterative: deep trees must not blow the stack).
    const weight = new Map();
    const members = new Map();
    for (const r of roots) {
      const order = [];
      const stack = [r];
      const seen = new Set();
      while (stack.length) {
        const id = stack.pop();
        if (seen.has(id)) continue;
        seen.add(id);
        order.push(id);
        for (const c of treeKids.get(id)) stack.push(c);
      }
      members.set(r, order);
      for (let i = order.length - 1; i >= 0; i--) {
        let w = 0;
        for (const c of treeKids.get(order[i])) w += weight.get(c) || 0;
        weight.set(order[i], Math.max(1, w));
      }
    }

    // Each family as a radial tree around its root: every sub-tree gets an
    // angular sector proportional to its leaves; ring radii are then chosen
    // so that the narrowest sector on each ring still leaves SPACING. A
    // crowd of sibling leaves is spread over 2 or 3 staggered lanes, which
    // keeps big families compact instead of one huge hollow ring.
    const LANE = SPACING * 0.85;
    const lane = new Map(); // leaf -> lane index
    const lanes = new Map(); // leaf -> number of lanes of its sibling group
    for (const id of treeKids.keys()) {
      const leaves = treeKids.get(id).filter((c) => !treeKids.get(c).length);
      const k = leaves.length > 36 ? 3 : leaves.length > 10 ? 2 : 1;
      leaves.forEach((c, i) => {
        lane.set(c, i % k);
        lanes.set(c, k);
      });
    }
    const local = new Map();
    const islandR = new Map();
    for (const r of roots) {
      const angle = new Map();
      const maxLane = [];
      const depth = new Map([[r, 0]]);
      const minWidth = [];
      const queue = [[r, 0, 2 * Math.PI]];
      for (let qi = 0; qi < queue.length; qi++) {
        const [id, a0, a1] = queue[qi];
        const kids = treeKids.get(id);
        const total = kids.reduce((s, c) => s + weight.get(c), 0) || 1;
        let a = a0;
        for (const c of kids) {
          const span = ((a1 - a0) * weight.get(c)) / total;
          const d = depth.get(id) + 1;
          depth.set(c, d);
          angle.set(c, a + span / 2);
          const k = lanes.get(c) || 1;
          minWidth[d] = Math.min(minWidth[d] === undefined ? Infinity : minWidth[d], span * k);
          maxLane[d] = Math.max(maxLane[d] || 0, k - 1);
          queue.push([c, a, a + span]);
          a += span;
        }
      }
      const ring = [0];
      for (let d = 1; d < minWidth.length; d++) {
        const inner = ring[d - 1] + (maxLane[d - 1] || 0) * LANE + (d === 1 ? STEP * 0.75 : STEP);
        ring[d] = Math.max(inner, SPACING / (2 * Math.sin(Math.min(minWidth[d], Math.PI) / 2)));
      }
      local.set(r, { x: 0, y: 0 });
      for (const id of members.get(r)) {
        if (id === r) continue;
        const rr = ring[depth.get(id)] + (lane.get(id) || 0) * LANE;
        const a = angle.get(id);
        local.set(id, { x: rr * Math.cos(a), y: rr * Math.sin(a) });
      }
      let far = 0;
      for (const id of members.get(r)) far = Math.max(far, Math.hypot(local.get(id).x, local.get(id).y));
      islandR.set(r, far + SPACING * 1.5);
    }

    // How strongly two families are tied (secondary parents, influences).
    const link = new Map();
    const pairKey = (a, b) => (a < b ? a + '|' + b : b + '|' + a);
    for (const g of genres) {
      const bump = (other) => {
        if (!state.genres.has(other)) return;
        const f = state.genres.get(other).family;
        if (f !== g.family) link.set(pairKey(g.family, f), (link.get(pairKey(g.family, f)) || 0) + 1);
      };
      g.parents.forEach(bump);
      g.links.forEach((l) => l && bump(l.to));
    }
    const strength = (a, b) => link.get(pairKey(a, b)) || 0;

    // Place the islands: biggest first at the centre, then repeatedly the
    // family most tied to those already placed, next to the one it is most
    // tied to, at the free spot that keeps the map compact and its ties short.
    const size = (r) => members.get(r).length;
    const rest = roots.slice().sort((a, b) => size(b) - size(a) || (a < b ? -1 : 1));
    const placed = [];
    const centre = new Map();
    const w = el.graph.clientWidth || 1280;
    const hgt = el.graph.clientHeight || 800;
    const stretch = Math.sqrt(Math.min(2.5, Math.max(0.4, hgt / w)));
    while (rest.length) {
      let pick = 0;
      let pickScore = -1;
      rest.forEach((r, i) => {
        const s = placed.reduce((acc, p) => acc + strength(r, p), 0);
        if (s > pickScore) {
          pick = i;
          pickScore = s;
        }
      });
      const r = rest.splice(pick, 1)[0];
      const R = islandR.get(r);
      if (!placed.length) {
        centre.set(r, { x: 0, y: 0 });
        placed.push(r);
        continue;
      }
      let anchor = placed[0];
      for (const p of placed) if (strength(r, p) > strength(r, anchor)) anchor = p;
      const ties = placed.filter((p) => strength(r, p) > 0);
      const tieSum = ties.reduce((acc, p) => acc + strength(r, p), 0);
      const ac = centre.get(anchor);
      let best = null;
      for (let k = 0; !best && k < 400; k++) {
        const dist = islandR.get(anchor) + R + GAP + k * GAP;
        const steps = 48;
        for (let s = 0; s < steps; s++) {
          const a = (s / steps) * 2 * Math.PI;
          const cx = ac.x + dist * Math.cos(a);
          const cy = ac.y + dist * Math.sin(a);
          let free = true;
          for (const p of placed) {
            const pc = centre.get(p);
            if (Math.hypot(cx - pc.x, cy - pc.y) < islandR.get(p) + R + GAP) {
              free = false;
              break;
            }
          }
          if (!free) continue;
          // Compact, stretched to the screen's shape (tall on phones).
          let score = Math.hypot(cx * stretch, cy / stretch);
          for (const p of ties) {
            const pc = centre.get(p);
            score += (0.6 * strength(r, p) * Math.hypot(cx - pc.x, cy - pc.y)) / tieSum;
          }
          if (!best || score < best.score - 1e-9) best = { x: cx, y: cy, score };
        }
      }
      centre.set(r, best || { x: 0, y: 0 });
      placed.push(r);
    }

    const pos = new Map();
    for (const r of roots) {
      const c = centre.get(r);
      for (const id of members.get(r)) {
        const p = local.get(id) || { x: 0, y: 0 };
        pos.set(id, { x: c.x + p.x, y: c.y + p.y });
      }
    }
    // Anything unreached (cannot happen with valid data) goes to the centre.
    for (const g of genres) if (!pos.has(g.id)) pos.set(g.id, { x: 0, y: 0 });
    relax(pos, (id) => NODE_SIZE[state.genres.get(id).type] * 2.2);
    // sigma's y axis points up; flip so the picture matches the math above.
    for (const p of pos.values()) p.y = -p.y;
    return pos;
  }

  // Pushes apart nodes closer than the sum of their radii, using a uniform
  // grid so each pass is linear in the number of nodes.
  function relax(pos, radiusOf) {
    const ids = [...pos.keys()];
    if (ids.length < 2) return;
    let maxR = 0;
    for (const id of ids) maxR = Math.max(maxR, radiusOf(id));
    const cell = maxR * 2;
    for (let iter = 0; iter < 24; iter++) {
      const grid = new Map();
      for (const id of ids) {
        const p = pos.get(id);
        const k = Math.floor(p.x / cell) + ':' + Math.floor(p.y / cell);
        if (!grid.has(k)) grid.set(k, []);
        grid.get(k).push(id);
      }
      let moved = false;
      for (const id of ids) {
        const p = pos.get(id);
        const cx = Math.floor(p.x / cell);
        const cy = Math.floor(p.y / cell);
        for (let dx = -1; dx <= 1; dx++) {
          for (let dy = -1; dy <= 1; dy++) {
            const bucket = grid.get(cx + dx + ':' + (cy + dy));
            if (!bucket) continue;
            for (const other of bucket) {
              if (other <= id) continue;
              const q = pos.get(other);
              let vx = q.x - p.x;
              let vy = q.y - p.y;
              let dist = Math.hypot(vx, vy);
              const min = radiusOf(id) + radiusOf(other);
              if (dist >= min) continue;
              if (dist < 1e-6) {
                // Deterministic direction for coincident nodes.
                const ang = (hashString(id + '|' + other) % 360) * (Math.PI / 180);
                vx = Math.cos(ang);
                vy = Math.sin(ang);
                dist = 1;
              }
              const push = (min - dist) / 2;
              const ux = vx / dist;
              const uy = vy / dist;
              p.x -= ux * push;
              p.y -= uy * push;
              q.x += ux * push;
              q.y += uy * push;
              moved = true;
            }
          }
        }
      }
      if (!moved) break;
    }
  }

  function hashString(s) {
    let x = 2166136261;
    for (let i = 0; i < s.length; i++) {
      x ^= s.charCodeAt(i);
      x = Math.imul(x, 16777619);
    }
    return x >>> 0;
  }

  /* ---------- graph ---------- */

  function buildGraph(pos) {
    const graph = new graphology.Graph({ type: 'directed', multi: false, allowSelfLoops: false });
    for (const g of state.genres.values()) {
      const p = pos.get(g.id);
      const color = colorOfGenre(g.id);
      graph.addNode(genreKey(g.id), {
        x: p.x,
        y: p.y,
        size: NODE_SIZE[g.type] * (g.type === 'root' ? Math.sqrt(state.sizeScale) : state.sizeScale),
        color,
        dimColor: mix(color, BG, 0.22),
        label: g.name,
        kind: 'genre',
        id: g.id,
        level: g.type,
        forceLabel: g.type === 'root' && !state.small,
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
          color: mix(base, BG, primary ? 0.42 : 0.3),
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
          color: mix(INFLUENCE, BG, 0.22),
          hiColor: mix(INFLUENCE, BG, 0.85),
          zIndex: 0,
        });
      }
    }
    return graph;
  }

  function bbox(pos) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const p of pos.values()) {
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

  let measureCtx = null;
  function textWidth(text, font) {
    if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
    if (!measureCtx) return text.length * 7;
    measureCtx.font = font;
    return measureCtx.measureText(text).width;
  }

  /*
   * Shows the bands of one genre as a list: one or more columns of small
   * nodes beside the genre, so every label has its own row at the focus
   * zoom. The block goes on the side (right, left, below, above) that covers
   * the fewest genres.
   */
  function expand(genreId) {
    if (state.expanded === genreId) return;
    collapse();
    const graph = state.graph;
    const gk = genreKey(genreId);
    if (!graph.hasNode(gk)) return;
    state.expanded = genreId;
    const ids = state.bandsOf.get(genreId) || [];
    if (!ids.length) return;
    const g = graph.getNodeAttributes(gk);
    const ratio = Math.min(state.renderer.getCamera().getState().ratio, state.focusRatio);
    const ppu = pxPerUnit(ratio);
    const visible = panelCover();
    const font = '400 12px ' + LABEL_FONT;

    const ROW = state.small ? 19 : 21;
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
          if (bid) widest = Math.max(widest, textWidth(nameOf('band', bid), font));
        }
        w += NODE_SIZE.band * 2 + 6 + Math.min(widest, 220) + 22;
      }
      return { rows, colX, w };
    };
    const gap = (g.size + 30) / ppu;
    // On the right the genre's own label is in the way.
    const gapRight = (g.size + textWidth(g.label || '', labelFont(g)) + 44) / ppu;
    const blocks = []; // {list, side, x0 (left edge), top, rows, colX, w}

    if (ids.length > maxRows && visible.width >= 640) {
      // A long list is split in two, left and right of the genre (the left
      // half mirrored), so no edge has to cross a column of labels.
      const half = Math.ceil(ids.length / 2);
      const parts = [ids.slice(0, half), ids.slice(half)];
      parts.forEach((list, i) => {
        const m = measure(list, Math.ceil(list.length / maxRows));
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
      const margin = 14 / ppu;
      // Labels run to the right of their discs: a disc up to a label's
      // width left of the block still collides with it.
      const labelRoom = 110 / ppu;
      const neighbours = new Set(graph.neighbors(gk));
      let best = cand[0];
      let bestScore = Infinity;
      for (const c of cand) {
        const [x0, top] = c;
        let score = 0;
        graph.forEachNode((key, a) => {
          if (key === gk) return;
          if (a.x > x0 - margin - labelRoom && a.x < x0 + blockW + margin && a.y < top + margin && a.y > top - blockH - margin) {
            // Neighbours stay lit and labelled while the genre is selected.
            const weight = (a.level === 'root' ? 4 : a.level === 'intermediate' ? 2 : 1) * (neighbours.has(key) ? 3 : 1);
            score += a.x < x0 - margin ? weight / 2 : weight;
          }
        });
        if (score < bestScore) {
          best = c;
          bestScore = score;
        }
      }
      blocks.push(Object.assign({ list: ids, side: best[2], x0: best[0], top: best[1] }, m));
    }

    const edgeColor = mix(colorOfGenre(genreId), BG, 0.45);
    const edgeHi = mix(colorOfGenre(genreId), BG, 0.85);
    for (const b of blocks) {
      b.list.forEach((bid, i) => {
        const c = Math.floor(i / b.rows);
        const r = i % b.rows;
        const inset = (b.colX[c] + NODE_SIZE.band + 2) / ppu;
        // Left of the genre the list is mirrored (labels to the left of
        // their dots) so the edges do not run through the labels.
        graph.addNode(bandKey(bid), {
          x: b.side === 'left' ? b.x0 + b.w / ppu - inset : b.x0 + inset,
          y: b.top - ((r + 0.5) * ROW) / ppu,
          labelSide: b.side,
          size: NODE_SIZE.band,
          color: BAND_COLOR,
          dimColor: mix(BAND_COLOR, BG, 0.25),
          label: nameOf('band', bid),
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

  function collapse() {
    if (state.expanded === null) return;
    const graph = state.graph;
    graph.forEachNode((key, attr) => {
      if (attr.kind === 'band') graph.dropNode(key);
    });
    if (state.hovered && !graph.hasNode(state.hovered)) state.hovered = null;
    state.expanded = null;
  }

  /* ---------- highlighting ---------- */

  function neighbourhood(key) {
    const set = new Set([key]);
    if (state.graph.hasNode(key)) state.graph.forEachNeighbor(key, (n) => set.add(n));
    return set;
  }

  function recomputeFocus() {
    const graph = state.graph;
    let focus = null;
    const sel = state.selected;
    if (state.hovered && graph.hasNode(state.hovered)) {
      focus = neighbourhood(state.hovered);
      if (sel) focus.add(sel.kind === 'genre' ? genreKey(sel.id) : bandKey(sel.id));
    } else if (sel && sel.kind === 'genre') {
      focus = neighbourhood(genreKey(sel.id));
    } else if (sel && sel.kind === 'band') {
      focus = neighbourhood(bandKey(sel.id));
      const b = state.bands.get(sel.id);
      if (b) for (const gid of b.genres) focus.add(genreKey(gid));
      if (state.expanded) focus.add(genreKey(state.expanded));
    }
    state.hiEdges = null;
    const path = state.path;
    if (!state.hovered && path && sel && sel.kind === 'genre' && sel.id === path.from) {
      focus = new Set(path.nodes);
      state.hiEdges = path.edges;
    }
    state.focus = focus;
    if (state.renderer) state.renderer.refresh({ skipIndexation: true });
  }

  function nodeReducer(key, attr) {
    const sel = state.selected;
    const selKey = sel ? (sel.kind === 'genre' ? genreKey(sel.id) : bandKey(sel.id)) : null;
    if (key === selKey || key === state.hovered) {
      attr.highlighted = true;
      attr.forceLabel = true;
      attr.zIndex = 10;
      return attr;
    }
    if (state.focus) {
      if (state.focus.has(key)) {
        attr.forceLabel = true;
        attr.zIndex = (attr.zIndex || 0) + 5;
      } else {
        attr.color = attr.dimColor;
        attr.label = null;
        attr.forceLabel = false;
      }
    }
    return attr;
  }

  function edgeReducer(key, attr) {
    if (!state.focus) return attr;
    const graph = state.graph;
    const s = graph.source(key);
    const t = graph.target(key);
    const sel = state.selected;
    const centre = state.hovered || (sel ? (sel.kind === 'genre' ? genreKey(sel.id) : bandKey(sel.id)) : null);
    const hi = state.hiEdges ? state.hiEdges.has(key) : (s === centre || t === centre) && state.focus.has(s) && state.focus.has(t);
    if (hi) {
      attr.zIndex = 5;
      attr.size = (attr.size || 1) + 0.6;
      attr.color = attr.hiColor || attr.color;
      return attr;
    }
    attr.color = DIM_EDGE_COLOR;
    attr.zIndex = 0;
    return attr;
  }

  /* ---------- canvas label drawing (dark theme) ---------- */

  const LABEL_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  function labelFont(data) {
    if (data.level === 'root') return (state.small ? '600 13px ' : '600 15px ') + LABEL_FONT;
    if (data.level === 'intermediate') return '500 13px ' + LABEL_FONT;
    return '400 12px ' + LABEL_FONT;
  }

  function drawLabel(ctx, data) {
    if (!data.label) return;
    ctx.font = labelFont(data);
    const left = data.labelSide === 'left';
    ctx.textAlign = left ? 'right' : 'left';
    const x = left ? data.x - data.size - 4 : data.x + data.size + 4;
    const y = data.y + 4;
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(15, 19, 26, 0.85)';
    ctx.lineJoin = 'round';
    ctx.strokeText(data.label, x, y);
    ctx.fillStyle = data.level === 'band' ? '#f4f6fa' : '#dfe6f0';
    ctx.fillText(data.label, x, y);
    ctx.textAlign = 'left';
  }

  function drawHover(ctx, data) {
    ctx.font = labelFont(data);
    const label = data.label || '';
    const w = ctx.measureText(label).width;
    const pad = 5;
    const hgt = 22;
    const x = data.x - data.size - pad;
    const y = data.y - hgt / 2;
    const width = data.size * 2 + pad * 2 + (label ? w + 6 : 0);
    const left = data.labelSide === 'left';
    const bx = left ? data.x + data.size + pad - width : x;
    ctx.beginPath();
    if (ctx.roundRect) ctx.roundRect(bx, y, width, hgt, hgt / 2);
    else ctx.rect(bx, y, width, hgt);
    ctx.fillStyle = 'rgba(24, 30, 41, 0.95)';
    ctx.shadowColor = 'rgba(0, 0, 0, 0.5)';
    ctx.shadowBlur = 10;
    ctx.fill();
    ctx.shadowBlur = 0;
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = data.color || '#fff';
    ctx.stroke();
    if (label) {
      ctx.fillStyle = '#ffffff';
      ctx.textAlign = left ? 'right' : 'left';
      ctx.fillText(label, left ? data.x - data.size - 4 : data.x + data.size + 4, data.y + 4);
      ctx.textAlign = 'left';
    }
  }

  /* ---------- camera ---------- */

  // Pixel offset from the canvas centre to the centre of the part of the map
  // the panel does not cover (side panel on wide screens, bottom sheet on
  // narrow ones).
  function panelCover() {
    const c = el.graph.getBoundingClientRect();
    const none = { right: 0, bottom: 0, width: c.width, height: c.height };
    if (el.panel.hidden) return none;
    const p = el.panel.getBoundingClientRect();
    if (p.width === 0 || p.height === 0) return none;
    if (p.width < c.width * 0.9 && p.left > c.left + c.width / 3) {
      const right = Math.max(0, c.right - p.left);
      return { right, bottom: 0, width: c.width - right, height: c.height };
    }
    const bottom = Math.max(0, c.bottom - p.top);
    return { right: 0, bottom, width: c.width, height: c.height - bottom };
  }

  function visibleCentreOffset() {
    const cover = panelCover();
    return { dx: -cover.right / 2, dy: -cover.bottom / 2 };
  }

  // Where to look when a node is selected: a genre with its band list is
  // framed together with the list, anything else on itself.
  function focusPoint(key) {
    const graph = state.graph;
    const attr = graph.getNodeAttributes(key);
    if (attr.kind !== 'genre' || state.expanded !== attr.id) return { x: attr.x, y: attr.y };
    let x0 = attr.x;
    let x1 = attr.x;
    let y0 = attr.y;
    let y1 = attr.y;
    graph.forEachNeighbor(key, (n, a) => {
      if (a.kind !== 'band') return;
      x0 = Math.min(x0, a.x);
      x1 = Math.max(x1, a.x);
      y0 = Math.min(y0, a.y);
      y1 = Math.max(y1, a.y);
    });
    return { x: (x0 + x1) / 2, y: (y0 + y1) / 2 };
  }

  function focusCamera(key, opts) {
    if (!state.renderer || !state.graph.hasNode(key)) return Promise.resolve();
    const ratio = Math.min(state.renderer.getCamera().getState().ratio, state.focusRatio);
    return moveCamera(focusPoint(key), ratio, opts);
  }

  // Frames a set of nodes (a path) in the visible part of the map.
  function fitCamera(keys, opts) {
    const graph = state.graph;
    const pts = keys.filter((k) => graph.hasNode(k)).map((k) => graph.getNodeAttributes(k));
    if (!state.renderer || !pts.length) return Promise.resolve();
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    const x0 = Math.min(...xs);
    const x1 = Math.max(...xs);
    const y0 = Math.min(...ys);
    const y1 = Math.max(...ys);
    const ppu1 = pxPerUnit(1);
    const cover = panelCover();
    const need = Math.max(((x1 - x0) * ppu1) / Math.max(cover.width - 160, 80), ((y1 - y0) * ppu1) / Math.max(cover.height - 100, 80));
    const ratio = Math.min(1.2, Math.max(need, state.focusRatio));
    return moveCamera({ x: (x0 + x1) / 2, y: (y0 + y1) / 2 }, ratio, opts);
  }

  // Animates the camera so that a graph point sits in the middle of the
  // visible part of the map, at the given zoom ratio.
  function moveCamera(attr, ratio, opts) {
    const renderer = state.renderer;
    const camera = renderer.getCamera();
    const current = camera.getState();
    const framed = renderer.viewportToFramedGraph(renderer.graphToViewport({ x: attr.x, y: attr.y }));
    const dims = renderer.getDimensions();
    const off = visibleCentreOffset();
    const target = renderer.viewportToFramedGraph(
      { x: dims.width / 2 - off.dx, y: dims.height / 2 - off.dy },
      { cameraState: { x: framed.x, y: framed.y, ratio, angle: current.angle } },
    );
    const next = { x: target.x, y: target.y, ratio };
    const seq = ++state.cameraSeq;
    const instant = (opts && opts.instant) || reducedMotion();
    if (instant) {
      camera.setState(next);
      return Promise.resolve();
    }
    document.body.dataset.cameraMoving = '1';
    return camera.animate(next, { duration: 550, easing: 'quadraticInOut' }).then(() => {
      if (seq === state.cameraSeq) delete document.body.dataset.cameraMoving;
    });
  }

  /* ---------- selection (graph + panel + URL together) ---------- */

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

  /* ---------- panel ---------- */

  function linkTo(kind, id, label) {
    const a = h('a', { href: pathFor(kind, id), 'data-kind': kind, 'data-id': id, text: label || nameOf(kind, id) });
    if (kind === 'genre' && state.genres.has(id)) {
      const dot = h('span', { className: 'swatch', 'aria-hidden': 'true' });
      dot.style.backgroundColor = colorOfGenre(id);
      a.prepend(dot);
    }
    return a;
  }

  function linkList(kind, items, emptyText) {
    if (!items.length) return h('p', { className: 'empty', text: emptyText });
    const ul = h('ul', { className: 'link-list' });
    for (const it of items) ul.appendChild(h('li', null, [linkTo(kind, it.id, it.name)]));
    return ul;
  }

  function section(title, content, count) {
    const head = h('h3', { text: title });
    if (typeof count === 'number') head.appendChild(h('span', { className: 'count', text: String(count) }));
    return h('section', { className: 'panel-section' }, [head, content]);
  }

  function fact(label, value) {
    return [h('dt', { text: label }), h('dd', null, [typeof value === 'string' ? document.createTextNode(value) : value])];
  }

  function showPanel(kind, id) {
    if (el.panel.dataset.kind !== kind || el.panel.dataset.id !== id) delete el.panel.dataset.path;
    el.panel.hidden = false;
    el.panel.dataset.kind = kind;
    el.panel.dataset.id = id;
    document.body.classList.add('panel-open');
  }

  function hidePanel() {
    el.panel.hidden = true;
    delete el.panel.dataset.kind;
    delete el.panel.dataset.id;
    delete el.panel.dataset.loaded;
    delete el.panel.dataset.path;
    document.body.classList.remove('panel-open');
  }

  function renderPanel(kind, id) {
    showPanel(kind, id);
    const seq = ++state.detailSeq;
    el.panelBody.replaceChildren();
    delete el.panel.dataset.loaded;
    // Parts that outlive the second render (when the details arrive): the
    // path finder keeps what is typed, the related list fills in on its own.
    const extras = {
      related: h('section', { className: 'panel-section related', hidden: true }),
      path: kind === 'genre' ? pathFinder(state.genres.get(id)) : null,
    };
    const render = (detail) => {
      if (kind === 'genre') renderGenrePanel(state.genres.get(id), detail, extras);
      else renderBandPanel(state.bands.get(id), detail, extras);
    };
    render(null);
    const base = '/api/v1/' + (kind === 'genre' ? 'genres/' : 'bands/') + encodeURIComponent(id);
    fetchJSON(base + (kind === 'genre' ? '/related?limit=8' : '/similar?limit=8'))
      .then((doc) => {
        if (seq !== state.detailSeq) return;
        fillRelated(kind, doc, extras.related);
      })
      .catch(() => {}); // an optional extra: the section just stays hidden
    fetchJSON(base)
      .then((detail) => {
        if (seq !== state.detailSeq) return;
        render(detail);
        el.panel.dataset.loaded = '1';
      })
      .catch((err) => {
        if (seq !== state.detailSeq) return;
        const desc = el.panelBody.querySelector('.description');
        if (desc) {
          desc.textContent = 'Details could not be loaded (' + (err.status ? 'HTTP ' + err.status : 'network error') + ').';
          desc.classList.add('error');
        }
        el.panel.dataset.loaded = 'error';
      });
  }

  function fillRelated(kind, doc, section) {
    const items = (kind === 'genre' ? doc.related : doc.similar) || [];
    const usable = items.filter((it) => it && typeof it.id === 'string' && (kind === 'genre' ? state.genres.has(it.id) : state.bands.has(it.id)));
    if (!usable.length) return;
    const ul = h('ul', { className: 'link-list' });
    for (const it of usable) {
      const a = linkTo(kind, it.id, typeof it.name === 'string' ? it.name : undefined);
      if (kind === 'genre' && Array.isArray(it.relations)) a.title = it.relations.map((r) => RELATION_TEXT[r] || r).join(', ');
      if (kind === 'band' && Array.isArray(it.shared)) a.title = 'Shares ' + it.shared.map((gid) => nameOf('genre', gid)).join(', ');
      ul.appendChild(h('li', null, [a]));
    }
    section.replaceChildren(h('h3', { text: kind === 'genre' ? 'Related genres' : 'Similar bands' }), ul);
    section.hidden = false;
  }

  const RELATION_TEXT = {
    parent: 'parent genre',
    child: 'sub-genre',
    sibling: 'sibling',
    influenced: 'influenced',
    influenced_by: 'influenced by',
  };

  /* ---------- path between two genres ---------- */

  function pathFinder(g) {
    const wrap = h('section', { className: 'panel-section path-finder' });
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
    const list = h('ul', { id: 'path-results', className: 'path-results', role: 'listbox', 'aria-labelledby': 'path-label', hidden: true });
    const out = h('div', { className: 'path-result', id: 'path-result', 'aria-live': 'polite' });
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
  function showPath(from, to, opts) {
    opts = opts || {};
    const seq = ++state.pathSeq;
    const out = document.getElementById('path-result');
    if (out) out.replaceChildren(h('p', { className: 'empty', text: 'Looking for a path…' }));
    const url = '/api/v1/path?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to);
    return fetchJSON(url)
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
          const path = pathFor('genre', from) + '?path=' + encodeURIComponent(to);
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
        if (box) box.replaceChildren(h('p', { className: 'description error', text }));
      });
  }

  function renderPathResult() {
    const out = document.getElementById('path-result');
    const path = state.path;
    if (!out || !path) return;
    if (!path.found) {
      out.replaceChildren(h('p', { className: 'empty', text: 'No chain of parents or influences links ' + nameOf('genre', path.from) + ' and ' + nameOf('genre', path.to) + '.' }));
      return;
    }
    const ol = h('ol', { className: 'path-steps' });
    ol.appendChild(h('li', null, [linkTo('genre', path.from)]));
    for (const st of path.steps) {
      if (!st || !st.to || typeof st.to.id !== 'string') continue;
      ol.appendChild(h('li', null, [h('span', { className: 'relation', text: RELATION_TEXT[st.relation] || String(st.relation || '') }), linkTo('genre', st.to.id, st.to.name)]));
    }
    const clear = h('button', { type: 'button', className: 'text-button', text: 'Clear path' });
    clear.addEventListener('click', () => {
      const from = path.from;
      state.path = null;
      state.pathSeq++;
      delete el.panel.dataset.path;
      out.replaceChildren();
      const input = document.getElementById('path-input');
      if (input) input.value = '';
      recomputeFocus();
      if (location.search) history.pushState({ kind: 'genre', id: from }, '', pathFor('genre', from));
      focusCamera(genreKey(from));
    });
    out.replaceChildren(h('p', { className: 'path-summary', text: path.steps.length + (path.steps.length === 1 ? ' step' : ' steps') }), ol, clear);
  }

  function renderGenrePanel(g, detail, extras) {
    const d = detail || {};
    const color = colorOfGenre(g.id);
    el.panelKind.replaceChildren(
      h('span', { className: 'kind', text: 'Genre' }),
      h('span', { className: 'badge badge-' + g.type, text: g.type }),
    );
    el.panelKind.style.setProperty('--family', color);
    el.panelTitle.textContent = d.name || g.name;

    const facts = h('dl', { className: 'facts' });
    const family = state.genres.get(g.family);
    if (family && family.id !== g.id) facts.append(...fact('Family', linkTo('genre', family.id)));
    const dec = decade(d.origin_year !== undefined ? d.origin_year : g.origin_year);
    facts.append(...fact('Origin', dec || 'unknown'));
    const parentId = d.parent !== undefined ? d.parent : g.parent;
    facts.append(...fact('Primary parent', parentId ? linkTo('genre', parentId) : 'none (root genre)'));

    const desc = h('p', { className: 'description' });
    if (detail) {
      desc.textContent = d.description ? d.description : 'No description yet.';
      if (!d.description) desc.classList.add('empty');
    } else {
      desc.textContent = 'Loading description…';
      desc.classList.add('loading');
    }

    const parents = (Array.isArray(d.parents) ? d.parents : g.parents).map((pid) => ({ id: pid, name: nameOf('genre', pid) }));
    const children = Array.isArray(d.children)
      ? d.children
      : (state.children.get(g.id) || []).map((cid) => ({ id: cid, name: nameOf('genre', cid) }));
    const bands = Array.isArray(d.bands)
      ? d.bands
      : (state.bandsOf.get(g.id) || []).map((bid) => ({ id: bid, name: nameOf('band', bid) }));
    const influenced = (Array.isArray(d.links) ? d.links : g.links)
      .filter((l) => l && state.genres.has(l.to))
      .map((l) => ({ id: l.to, name: nameOf('genre', l.to) }));
    const influencedBy = (state.influencedBy.get(g.id) || []).map((gid) => ({ id: gid, name: nameOf('genre', gid) }));

    const body = [facts, desc];
    if (extras && extras.path) body.push(extras.path);
    body.push(section('Parents', linkList('genre', parents, 'None — this is a root genre.'), parents.length));
    body.push(section('Children', linkList('genre', children, 'No sub-genres.'), children.length));
    if (influenced.length) body.push(section('Influenced', linkList('genre', influenced, ''), influenced.length));
    if (influencedBy.length) body.push(section('Influenced by', linkList('genre', influencedBy, ''), influencedBy.length));
    if (extras) body.push(extras.related);
    body.push(section('Bands', linkList('band', bands, 'No bands listed yet.'), bands.length));
    el.panelBody.replaceChildren(...body);
    if (state.path && state.path.from === g.id) renderPathResult();
  }

  function renderBandPanel(b, detail, extras) {
    const d = detail || {};
    const primary = d.primary_genre || b.primary_genre;
    el.panelKind.replaceChildren(h('span', { className: 'kind', text: 'Band' }));
    el.panelKind.style.setProperty('--family', colorOfGenre(primary));
    el.panelTitle.textContent = d.name || b.name;
    const facts = h('dl', { className: 'facts' });
    facts.append(...fact('Primary genre', primary ? linkTo('genre', primary) : 'unknown'));
    const genres = (Array.isArray(d.genres) ? d.genres : b.genres).map((gid) => ({ id: gid, name: nameOf('genre', gid) }));
    const body = [facts, section('Genres', linkList('genre', genres, 'No genres.'), genres.length)];
    if (extras) body.push(extras.related);
    if (d.description) body.splice(1, 0, h('p', { className: 'description', text: d.description }));
    el.panelBody.replaceChildren(...body);
  }

  /* ---------- search boxes ---------- */

  /*
   * A combobox over /api/v1/search: debounced fetch (stale answers dropped,
   * in-flight requests aborted), arrows + Enter + Escape, mouse clicks, and
   * the ARIA listbox pattern (aria-expanded, aria-activedescendant,
   * aria-selected). Used by the main search and by the path finder, which
   * only wants genres.
   */
  function combobox(opts) {
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
      list.replaceChildren(h('li', { className: 'search-empty', role: 'option', 'aria-disabled': 'true', text }));
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
      fetchJSON('/api/v1/search?q=' + encodeURIComponent(q), st.controller ? { signal: st.controller.signal } : undefined)
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
        const dot = h('span', { className: 'swatch', 'aria-hidden': 'true' });
        dot.style.backgroundColor = color;
        return h('li', { id: idPrefix + i, role: 'option', 'aria-selected': 'false', 'data-index': i, 'data-kind': r.kind, 'data-id': r.id }, [
          dot,
          h('span', { className: 'option-name', text: typeof r.name === 'string' ? r.name : r.id }),
          h('span', { className: 'option-meta', text: meta }),
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


  /* ---------- links, keys, history ---------- */

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

  function startRenderer() {
    // Phones get smaller discs and no forced root labels: the whole map has
    // to fit in about 360 pixels.
    state.small = Math.min(el.graph.clientWidth, el.graph.clientHeight) < 600;
    // Big maps get smaller discs too, so the overview is not a carpet.
    const density = Math.min(1, Math.max(0.6, Math.sqrt(250 / Math.max(1, state.genres.size))));
    state.sizeScale = (state.small ? 0.72 : 1) * density;
    const pos = computeLayout();
    state.graph = buildGraph(pos);
    const box = bbox(pos);
    const extent = Math.max(box.x[1] - box.x[0], box.y[1] - box.y[0]);
    // One "unit" is roughly the spacing of neighbouring genres; band spirals
    // and the focus zoom are expressed in it so any layout scale works.
    state.unit = extent / Math.max(8, Math.sqrt(state.genres.size) * 2.2);
    state.focusRatio = Math.min(1, Math.max(0.04, (state.unit * 9) / extent));

    const renderer = new Sigma(state.graph, el.graph, {
      renderEdgeLabels: false,
      enableCameraRotation: false,
      zIndex: true,
      defaultEdgeType: 'line',
      labelFont: LABEL_FONT,
      labelColor: { color: '#dfe6f0' },
      labelSize: 12,
      labelDensity: 0.9,
      labelGridCellSize: 90,
      labelRenderedSizeThreshold: 7,
      defaultDrawNodeLabel: drawLabel,
      defaultDrawNodeHover: drawHover,
      // Discs grow when zooming in, but at most twice: on big maps the
      // focus zoom is deep and band lists need their rows.
      zoomToSizeRatioFunction: (r) => Math.max(0.5, Math.sqrt(r)),
      minCameraRatio: 0.02,
      maxCameraRatio: 3,
      stagePadding: 40,
      nodeReducer,
      edgeReducer,
    });
    state.renderer = renderer;
    // A fixed frame: adding band nodes must not rescale the whole map.
    renderer.setCustomBBox(box);
    renderer.refresh();

    renderer.on('clickNode', ({ node }) => {
      const attr = state.graph.getNodeAttributes(node);
      const sel = state.selected;
      if (attr.kind === 'genre' && sel && sel.kind === 'genre' && sel.id === attr.id) closeSelection({ push: true });
      else select(attr.kind, attr.id, { push: true });
    });
    renderer.on('doubleClickNode', (e) => e.preventSigmaDefault());
    renderer.on('enterNode', ({ node }) => {
      state.hovered = node;
      el.graph.classList.add('over-node');
      recomputeFocus();
    });
    renderer.on('leaveNode', () => {
      state.hovered = null;
      el.graph.classList.remove('over-node');
      recomputeFocus();
    });
    return renderer;
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
      doc = await fetchJSON('/api/v1/graph');
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
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
