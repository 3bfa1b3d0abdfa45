/*
 * palette.js — colours: one per genre family, and the mixes that fade them
 * into the background.
 */

export const BG = '#0f131a';
const PALETTE = [
  '#f2705e', '#5aa9f0', '#f5b83d', '#61c98b', '#b48cf2', '#4fd1c5',
  '#f078b4', '#c7d65a', '#e8955a', '#8fa3ff', '#a3d9ff', '#e0c08f',
];

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function mix(hexA, hexB, t) {
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

// One colour per family root (ids in a stable order): Map id -> colour.
export function assignFamilyColors(roots) {
  const out = new Map();
  roots.forEach((id, i) => out.set(id, i < PALETTE.length ? PALETTE[i] : hslToHex((i * 137.508) % 360, 0.62, 0.64)));
  return out;
}
