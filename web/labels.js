/*
 * labels.js — which nodes carry a name, and drawing them on sigma's canvas.
 *
 * sigma draws every node marked forceLabel through drawLabel; its own label
 * grid is off (labelDensity 0). On the first drawLabel call of a frame the
 * plan for that frame is made: every node with a label, on screen, in order
 * of priority (the selected and hovered node, the open genre's bands, the
 * neighbours of the selection, then roots, intermediate and leaf genres by how connected
 * they are, dimmed nodes last) gets its label on the right of its disc, or
 * else on the left, above or below (band lists keep their side), wherever
 * the box touches no label already placed and no disc
 * that matters (the important nodes' and those already labelled; the names
 * of the open band list, which the user asked for, may cross a genre's
 * disc, never a label or the selection). Names
 * therefore appear as soon as there is room for them, and no label is ever
 * drawn over another: zooming in makes room. The boxes actually drawn are
 * kept (drawnLabels) so the tests measure what the user sees.
 */
import { state } from './model.js';

export const LABEL_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const GAP = 4; // between a disc and its label
const PAD = 2; // kept free around every label box
const CELL = 64; // obstacle grid, in pixels
const TEXT = '#e3e9f2';
const TEXT_DIM = '#8e99ab';

// Label priorities (lower first); set on the nodes by the map's reducer.
export const RANK = { selected: 0, band: 1, focus: 2, root: 3, intermediate: 4, leaf: 5, dim: 6 };

export function fontSize(data) {
  if (data.level === 'root') return state.small ? 13 : 15;
  if (data.level === 'intermediate') return 13;
  return 12;
}

export function labelFont(data) {
  const weight = data.level === 'root' ? '600 ' : data.level === 'intermediate' ? '500 ' : '400 ';
  return weight + fontSize(data) + 'px ' + LABEL_FONT;
}

let measureCtx = null;
const widths = new Map();
export function textWidth(text, font) {
  const key = font + '\n' + text;
  let w = widths.get(key);
  if (w !== undefined) return w;
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  if (!measureCtx) return text.length * 7;
  measureCtx.font = font;
  w = measureCtx.measureText(text).width;
  if (widths.size > 50000) widths.clear();
  widths.set(key, w);
  return w;
}

/* ---------- the plan of one frame ---------- */

const frame = { seq: 0, planned: -1, plan: new Map(), drawn: [] };

// sigma's beforeRender: the next drawLabel call makes a new plan.
export function newFrame() {
  frame.seq++;
  frame.drawn = [];
}

// The boxes drawn in the last frame: [{key, x0, y0, x1, y1, size}] in
// viewport pixels.
export function drawnLabels() {
  return frame.drawn.slice();
}

// How far a node's name reaches right of its centre, in pixels (a label
// drawn on the right, as genre labels are).
export function labelReach(data) {
  return data.size + GAP + textWidth(data.label || '', labelFont(data));
}

// A label's box beside its disc: right, left, above or below.
function boxOf(x, y, size, width, height, side) {
  if (side === 'above' || side === 'below') {
    const cy = side === 'above' ? y - size - height / 2 : y + size + height / 2;
    return { x0: x - width / 2, y0: cy - height / 2, x1: x + width / 2, y1: cy + height / 2 };
  }
  const x0 = side === 'left' ? x - size - GAP - width : x + size + GAP;
  return { x0, y0: y - height / 2, x1: x0 + width, y1: y + height / 2 };
}

// A uniform grid of boxes: "does this box touch any of them".
function grid() {
  const cells = new Map();
  const keys = (b) => {
    const out = [];
    for (let i = Math.floor(b.x0 / CELL); i <= Math.floor(b.x1 / CELL); i++) {
      for (let j = Math.floor(b.y0 / CELL); j <= Math.floor(b.y1 / CELL); j++) out.push(i + ':' + j);
    }
    return out;
  };
  return {
    add(b) {
      for (const k of keys(b)) {
        if (!cells.has(k)) cells.set(k, []);
        cells.get(k).push(b);
      }
    },
    // A disc ranked after `upTo` does not count (the open list's names may cross them).
    hits(b, except, upTo = Infinity) {
      for (const k of keys(b)) {
        for (const o of cells.get(k) || []) {
          if (o !== except && !(o.rank > upTo) && o.x0 < b.x1 + PAD && b.x0 < o.x1 + PAD && o.y0 < b.y1 + PAD && b.y0 < o.y1 + PAD) return true;
        }
      }
      return false;
    },
  };
}

function makePlan() {
  const renderer = state.renderer;
  const { width, height } = renderer.getDimensions();
  const nodes = [];
  state.graph.forEachNode((key) => {
    const d = renderer.getNodeDisplayData(key);
    if (!d || d.hidden || !d.label) return;
    const v = renderer.framedGraphToViewport(d);
    const size = renderer.scaleSize(d.size);
    if (v.x < -200 || v.y < -20 || v.x > width + 200 || v.y > height + 20) return;
    nodes.push({ key, d, x: v.x, y: v.y, size, disc: { x0: v.x - size, y0: v.y - size, x1: v.x + size, y1: v.y + size, rank: d.labelRank ?? RANK.leaf } });
  });
  nodes.sort((a, b) => (a.d.labelRank ?? RANK.leaf) - (b.d.labelRank ?? RANK.leaf) || (b.d.weight || 0) - (a.d.weight || 0) || (a.key < b.key ? -1 : 1));
  const taken = grid();
  // The discs of the nodes that matter most are never covered.
  for (const n of nodes) if ((n.d.labelRank ?? RANK.leaf) <= RANK.root) taken.add(n.disc);
  const plan = new Map();
  for (const n of nodes) {
    const font = labelFont(n.d);
    const w = textWidth(n.d.label, font);
    const h = fontSize(n.d) + 4;
    const sides = n.d.labelSide === 'left' ? ['left'] : n.d.level === 'band' ? ['right'] : ['right', 'left', 'above', 'below'];
    for (const side of sides) {
      const box = boxOf(n.x, n.y, n.size, w, h, side);
      if (box.x0 < 0 || box.x1 > width || box.y0 < 0 || box.y1 > height) continue; // a cut label is not readable
      // The names of the open band list are what the user asked for: a genre's disc near the
      // list does not hide one (the name's dark outline keeps both readable).
      if (taken.hits(box, n.disc, n.d.level === 'band' ? RANK.band : Infinity)) continue;
      taken.add(box);
      if ((n.d.labelRank ?? RANK.leaf) > RANK.root) taken.add(n.disc);
      plan.set(n.key, side);
      break;
    }
  }
  return plan;
}

/* ---------- drawing (sigma's defaultDrawNodeLabel and defaultDrawNodeHover) ---------- */

export function drawLabel(ctx, data) {
  if (!data.label || !state.renderer) return; // sigma draws once while it is being built

  if (frame.planned !== frame.seq) {
    frame.plan = makePlan();
    frame.planned = frame.seq;
  }
  const side = frame.plan.get(data.key);
  if (!side) return;
  const font = labelFont(data);
  const size = fontSize(data);
  const box = boxOf(data.x, data.y, data.size, textWidth(data.label, font), size + 4, side);
  ctx.font = font;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const y = (box.y0 + box.y1) / 2;
  ctx.lineWidth = 3;
  ctx.lineJoin = 'round';
  ctx.strokeStyle = 'rgba(15, 19, 26, 0.9)';
  ctx.strokeText(data.label, box.x0, y);
  ctx.fillStyle = data.labelRank === RANK.dim ? TEXT_DIM : TEXT;
  ctx.fillText(data.label, box.x0, y);
  ctx.textBaseline = 'alphabetic';
  frame.drawn.push({ key: data.key, size, ...box });
}

// The hover card: the name, and the family as a second cue to the colour.
export function drawHover(ctx, data) {
  const label = data.label || '';
  const extra = data.familyName ? '  ·  ' + data.familyName : '';
  const font = labelFont(data);
  const small = '400 12px ' + LABEL_FONT;
  const w = textWidth(label, font) + (extra ? textWidth(extra, small) : 0);
  const pad = 5;
  const hgt = 24;
  const left = data.labelSide === 'left';
  const width = data.size * 2 + pad * 2 + (label ? w + 8 : 0);
  const bx = left ? data.x + data.size + pad - width : data.x - data.size - pad;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(bx, data.y - hgt / 2, width, hgt, hgt / 2);
  else ctx.rect(bx, data.y - hgt / 2, width, hgt);
  ctx.fillStyle = 'rgba(24, 30, 41, 0.96)';
  ctx.shadowColor = 'rgba(0, 0, 0, 0.5)';
  ctx.shadowBlur = 10;
  ctx.fill();
  ctx.shadowBlur = 0;
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = data.color || '#fff';
  ctx.stroke();
  if (!label) return;
  ctx.textBaseline = 'middle';
  let x = left ? data.x - data.size - GAP - w : data.x + data.size + GAP;
  ctx.font = font;
  ctx.fillStyle = '#ffffff';
  ctx.fillText(label, x, data.y);
  if (extra) {
    x += textWidth(label, font);
    ctx.font = small;
    ctx.fillStyle = '#b9c3d3';
    ctx.fillText(extra, x, data.y);
  }
  ctx.textBaseline = 'alphabetic';
}
