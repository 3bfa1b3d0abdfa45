/*
 * palette.js — one colour per genre family, and the mixes that fade
 * colours into the background. No DOM: the tests import it in Node.
 *
 * The family colours were picked greedily in OKLab, each the sRGB colour
 * farthest from those already chosen, among colours that read on the dark
 * background (contrast at least 4.5:1, OKLab lightness 0.64–0.90, chroma
 * 0.07–0.19). Any prefix of the list is therefore well spread: the minimum
 * OKLab distance between two colours (ΔE_OK, Euclidean, ×100) is 9.8 for
 * the first 21, 9.7 for 22, 9.1 for 24 and 8.9 for all 28 — where about 2
 * is a just noticeable difference. tests/e2e/palette.test.mjs measures it.
 * The biggest families get the first colours. Colour is never the only cue:
 * the family is named in every hover card and in the panel.
 */

export const BG = '#0f131a';

export const PALETTE = [
  '#ee7766', '#00ffbb', '#0099ff', '#00aa44', '#eeccff', '#ffcc00', '#cc77ee',
  '#66ccdd', '#aa8800', '#88cc66', '#8888bb', '#eebb99', '#00aaaa', '#dd5599',
  '#ee99cc', '#99aaff', '#ee9900', '#aaeedd', '#bbee55', '#99aa77', '#bb7788',
  '#8877ee', '#ccbb00', '#00ccaa', '#00eeff', '#88aa00', '#dddd99', '#00bbff',
];

// How much of a colour a faded node keeps (the rest is background): enough
// for a contrast of at least 1.5:1 against the background (measured by the
// palette test), so faded nodes stay visible.
export const FADE = 0.4;

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

/* OKLab (Björn Ottosson, 2020) of an sRGB colour: [L, a, b]. */
export function oklab(hex) {
  const lin = (v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = hexToRgb(hex).map(lin);
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

export function deltaE(hexA, hexB) {
  const a = oklab(hexA);
  const b = oklab(hexB);
  return 100 * Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

// WCAG contrast ratio of two colours.
export function contrast(hexA, hexB) {
  const lum = (hex) => {
    const [r, g, b] = hexToRgb(hex).map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(hexA), lum(hexB)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// One colour per family: sizes is a Map root id -> number of genres; the
// biggest families come first, ties by id. Beyond the palette (never with
// the bundled map) colours repeat, and the names still tell them apart.
export function assignFamilyColors(sizes) {
  const order = [...sizes.keys()].sort((a, b) => sizes.get(b) - sizes.get(a) || (a < b ? -1 : a > b ? 1 : 0));
  return new Map(order.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
}
