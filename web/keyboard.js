/*
 * keyboard.js — the map without a mouse.
 *
 * The map's box takes focus with Tab (role "application", so that screen
 * readers pass the keys through). A cursor then sits on one node, drawn
 * highlighted and announced: the selection, or else the biggest genre near
 * the middle of the view. The arrow keys move the cursor to the connected
 * node that lies best in that direction (or, when none does, the nearest
 * node that way); Enter or Space opens it; + and - zoom; 0 shows the whole
 * map. The camera follows the cursor when it leaves the visible part.
 */
import { fitAll, focusCamera, panelCover, recomputeFocus, selectedKey, zoomBy } from './map.js';
import { actLabel, el, familyName, state } from './model.js';

let onOpen = null;
let announce = () => {};

// Words for a node: its name, what it is and how it connects.
export function describeNode(key) {
  const a = state.graph.getNodeAttributes(key);
  const links = state.graph.degree(key);
  if (a.kind === 'more') return a.label + ', opens the whole list in the panel';
  if (a.kind === 'band') return a.label + ', ' + actLabel(a.id).toLowerCase() + ', ' + links + (links === 1 ? ' genre' : ' genres') + ' on the map';
  const fam = familyName(a.id);
  const what = a.level === 'root' ? 'genre family' : 'genre, ' + fam + ' family';
  return a.label + ', ' + what + ', ' + links + ' connected ' + (links === 1 ? 'node' : 'nodes');
}

function viewportOf(key) {
  const a = state.graph.getNodeAttributes(key);
  return state.renderer.graphToViewport({ x: a.x, y: a.y });
}

// The node to start from: the selection, or the most connected genre among
// the ten nearest the middle of the visible part.
function startNode() {
  const sel = selectedKey();
  if (sel && state.graph.hasNode(sel)) return sel;
  const cover = panelCover();
  const cx = cover.width / 2;
  const cy = cover.height / 2;
  const near = [];
  state.graph.forEachNode((key, a) => {
    if (a.kind !== 'genre') return;
    const v = viewportOf(key);
    near.push({ key, d: Math.hypot(v.x - cx, v.y - cy), w: a.weight || 0 });
  });
  near.sort((x, y) => x.d - y.d);
  const ten = near.slice(0, 10).sort((x, y) => y.w - x.w);
  return ten.length ? ten[0].key : null;
}

// The best node from `from` in direction (dx, dy) (screen axes): among its
// neighbours within 60° of the direction, the one with the smallest angle
// (then the nearest); else any node within 45°, the nearest.
function step(from, dx, dy) {
  const p = viewportOf(from);
  const score = (key, cone) => {
    const v = viewportOf(key);
    const vx = v.x - p.x;
    const vy = v.y - p.y;
    const d = Math.hypot(vx, vy);
    if (d < 1) return null;
    const cos = (vx * dx + vy * dy) / d;
    if (cos < Math.cos(cone)) return null;
    return { key, cos, d };
  };
  let best = null;
  state.graph.forEachNeighbor(from, (key) => {
    const s = score(key, Math.PI / 3);
    if (s && (!best || s.cos > best.cos + 0.05 || (Math.abs(s.cos - best.cos) <= 0.05 && s.d < best.d))) best = s;
  });
  if (best) return best.key;
  state.graph.forEachNode((key) => {
    if (key === from) return;
    const s = score(key, Math.PI / 4);
    if (s && (!best || s.d < best.d)) best = s;
  });
  return best ? best.key : null;
}

function moveCursor(key) {
  state.cursor = key;
  recomputeFocus();
  const v = viewportOf(key);
  const cover = panelCover();
  if (v.x < 30 || v.y < 30 || v.x > cover.width - 30 || v.y > cover.height - 30) focusCamera(key, { duration: 300 });
  announce(describeNode(key));
}

const DIRECTIONS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

// open(key) is called for Enter; say(text) speaks through the live region.
export function bindMapKeys(open, say) {
  onOpen = open;
  announce = say;
  const box = el.graph;
  box.addEventListener('focus', () => {
    const key = state.cursor && state.graph.hasNode(state.cursor) ? state.cursor : startNode();
    if (key) moveCursor(key);
  });
  box.addEventListener('blur', () => {
    state.lastCursor = state.cursor;
    state.cursor = null;
    recomputeFocus();
  });
  box.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (DIRECTIONS[e.key]) {
      e.preventDefault();
      const from = state.cursor && state.graph.hasNode(state.cursor) ? state.cursor : startNode();
      if (!from) return;
      const to = step(from, ...DIRECTIONS[e.key]);
      if (to) moveCursor(to);
      else announce('Nothing further that way.');
    } else if ((e.key === 'Enter' || e.key === ' ') && state.cursor) {
      e.preventDefault();
      const a = state.graph.getNodeAttributes(state.cursor);
      onOpen(a.kind, a.id);
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      zoomBy(1 / 1.5);
    } else if (e.key === '-') {
      e.preventDefault();
      zoomBy(1.5);
    } else if (e.key === '0') {
      e.preventDefault();
      fitAll();
    }
  });
}
