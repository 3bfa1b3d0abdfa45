#!/usr/bin/env node
// gen-dataset.mjs — deterministic generator of a large synthetic musicgraph
// dataset for the load benchmarks (bench/run).
//
//   node bench/gen-dataset.mjs OUT.json [--seed N] [--bands N] [--leaves N]
//
// The output follows data/README.md exactly and passes `musicgraph seed`:
// 20 roots; 200 intermediates (1–2 root parents); 2,000 leaves (1–3
// intermediate parents); 20,000 bands (1–3 leaf genres, primary first); some
// influence links; names carry accents so that the accent-insensitive search
// has work to do. The same seed always gives the same bytes (a small seeded
// PRNG, no Math.random, no clock), so runs on different days are comparable.
//
// Shape choices that matter for the benchmark:
//   * every intermediate has at least one leaf child and every leaf at least
//     one band (the conventions of tests/e2e/dataset.test.mjs), so the graph
//     document and the genre details have realistic sizes;
//   * about one band in six is called "The …", so `search?q=the` matches
//     thousands of names (the ranking path is exercised, not only the scan);
//   * a summary line on stderr gives counts and a suggested genre id.

import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
let out = null;
const opt = { seed: 1, roots: 20, intermediates: 200, leaves: 2000, bands: 20000 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const m = /^--(seed|roots|intermediates|leaves|bands)$/.exec(a);
  if (m) {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0) die(`${a} needs a non-negative integer`);
    opt[m[1]] = v;
  } else if (a === '-h' || a === '--help') {
    process.stdout.write('usage: gen-dataset.mjs OUT.json [--seed N] [--roots N] [--intermediates N] [--leaves N] [--bands N]\n');
    process.exit(0);
  } else if (!a.startsWith('--') && out === null) {
    out = a;
  } else {
    die(`unknown argument: ${a}`);
  }
}
if (!out) die('usage: gen-dataset.mjs OUT.json [--seed N]');
if (opt.roots < 1 || opt.intermediates < opt.roots || opt.leaves < opt.intermediates || opt.bands < opt.leaves)
  die('need roots >= 1, intermediates >= roots, leaves >= intermediates, bands >= leaves');

function die(msg) {
  process.stderr.write(`gen-dataset: ${msg}\n`);
  process.exit(2);
}

// sfc32 seeded from splitmix32: small, fast, good enough statistically and,
// above all, identical on every Node version.
function makeRng(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}
const rnd = makeRng(opt.seed);
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
const chance = (p) => rnd() < p;

// Syllables, some accented: names look like names and ids must be derived by
// stripping accents (the data/README.md rule).
const SYL = [
  'ka', 'lo', 'mé', 'rä', 'vin', 'tor', 'sa', 'dru', 'ñe', 'bo', 'zi', 'gra', 'fun', 'ste', 'ør',
  'lu', 'pa', 'qui', 'ha', 'dö', 'me', 'ro', 'ta', 'ne', 'bri', 'kel', 'mar', 'sol', 'vé', 'ul',
  'ka', 'no', 'ri', 'dan', 'el', 'go', 'ja', 'mü', 'ze', 'trö', 'fa', 'li', 'sun', 'ca', 'ço',
  'bel', 'dre', 'mo', 'na', 'pé', 'rus', 'sti', 'val', 'wen', 'yo', 'ar', 'ís', 'ko', 'lé', 'ber',
];
const STYLE = [
  'wave', 'core', 'step', 'beat', 'gaze', 'hop', 'tronica', 'billy', 'grass', 'dub', 'funk', 'swing',
  'jazz', 'soul', 'rock', 'pop', 'metal', 'punk', 'folk', 'house', 'trance', 'bop', 'garage', 'drill',
];
const ADJ = [
  'Nordic', 'Dark', 'Progressive', 'Melodic', 'Atmospheric', 'Post', 'Neo', 'Avant', 'Tropical',
  'Industrial', 'Acoustic', 'Psychedelic', 'Symphonic', 'Minimal', 'Cosmic', 'Lo-fi', 'Brutal',
  'Ambient', 'Sludgy', 'Baroque', 'Électro', 'Andalusian', 'Balkan', 'Québécois', 'Ñu', 'Øresund',
];
const NOUNS = [
  'Wolves', 'Kings', 'Stars', 'Mirrors', 'Engines', 'Ghosts', 'Rivers', 'Crows', 'Saints', 'Lights',
  'Machines', 'Sisters', 'Brothers', 'Tides', 'Orchids', 'Comets', 'Hounds', 'Bells', 'Fjords', 'Cafés',
];

const cap = (w) => w.charAt(0).toUpperCase() + w.slice(1);
const word = (min = 2, max = 3) => {
  let w = '';
  for (let i = int(min, max); i > 0; i--) w += pick(SYL);
  return cap(w);
};
// id from a name: lowercase ASCII, accents stripped, runs of other
// characters become one '-' (data/README.md, "Adding an entry").
const slug = (name) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/g, 'o').replace(/Ø/g, 'O').replace(/æ/g, 'ae').replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');

// Unique ids: collisions get a numeric suffix (ids stay well under 50 chars).
function uniqueId(base, used) {
  let id = base || 'x';
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}

const decade = () => (chance(0.1) ? null : 1900 + 10 * int(0, 12));
const describe = (name, kind) =>
  `${name} is a synthetic ${kind} genre generated for the musicgraph load benchmark; it exists only to give the server realistic volumes.`;

const genreIds = new Set();
const genres = [];
function addGenre(name, type, parents) {
  const id = uniqueId(slug(name), genreIds);
  const g = {
    id,
    name,
    type,
    parent: parents.length ? parents[0] : null,
    parents,
    description: describe(name, type),
    origin_year: decade(),
    links: [],
  };
  genres.push(g);
  return g;
}

// Distinct random picks from arr, the first one forced when given.
function distinct(arr, n, first) {
  const got = first === undefined ? [] : [first];
  while (got.length < Math.min(n, arr.length)) {
    const x = pick(arr);
    if (!got.includes(x)) got.push(x);
  }
  return got;
}

const roots = [];
for (let i = 0; i < opt.roots; i++) roots.push(addGenre(word(2, 3), 'root', []));
const rootIds = roots.map((g) => g.id);

const inters = [];
for (let i = 0; i < opt.intermediates; i++) {
  // Round-robin primary parent: every root gets children.
  const parents = distinct(rootIds, chance(0.3) ? 2 : 1, rootIds[i % rootIds.length]);
  const base = genres.find((g) => g.id === parents[0]).name;
  inters.push(addGenre(`${word(2, 2)} ${base}`, 'intermediate', parents));
}
const interIds = inters.map((g) => g.id);

const leaves = [];
for (let i = 0; i < opt.leaves; i++) {
  const n = chance(0.6) ? 1 : chance(0.6) ? 2 : 3;
  const parents = distinct(interIds, n, interIds[i % interIds.length]);
  const name = chance(0.5) ? `${pick(ADJ)} ${word(1, 2)}${pick(STYLE)}` : `${word(2, 3)}${pick(STYLE)}`;
  leaves.push(addGenre(name, 'leaf', parents));
}
const leafIds = leaves.map((g) => g.id);

// Influence links: a quarter of the non-root genres influence one or two
// others (any tier); no self-link, no duplicate target.
const allIds = genres.map((g) => g.id);
let nlinks = 0;
for (const g of genres) {
  if (g.type === 'root' || !chance(0.25)) continue;
  const targets = new Set();
  for (let k = int(1, 2); k > 0; k--) {
    const t = pick(allIds);
    if (t !== g.id) targets.add(t);
  }
  for (const t of targets) g.links.push({ to: t, kind: 'influence' });
  nlinks += targets.size;
}

const bandIds = new Set();
const bands = [];
for (let i = 0; i < opt.bands; i++) {
  let name;
  const r = rnd();
  if (r < 0.16) name = `The ${word(2, 3)} ${pick(NOUNS)}`;
  else if (r < 0.5) name = word(2, 4);
  else if (r < 0.8) name = `${word(2, 3)} ${word(1, 3)}`;
  else if (r < 0.9) name = `${word(2, 2)} & the ${pick(NOUNS)}`;
  else name = `${word(2, 3)} ${pick(NOUNS)}`;
  // The first pass gives every leaf a band; then primaries are random.
  const primary = i < leafIds.length ? leafIds[i] : pick(leafIds);
  const n = chance(0.5) ? 1 : chance(0.6) ? 2 : 3;
  bands.push({ id: uniqueId(slug(name), bandIds), name, primary_genre: primary, genres: distinct(leafIds, n, primary) });
}

// One object per line, like data/families/*.json.
const lines = [
  '{',
  '  "format": "musicgraph-dataset",',
  '  "format_version": 1,',
  '  "genres": [',
  genres.map((g) => '    ' + JSON.stringify(g)).join(',\n'),
  '  ],',
  '  "bands": [',
  bands.map((b) => '    ' + JSON.stringify(b)).join(',\n'),
  '  ]',
  '}',
  '',
];
writeFileSync(out, lines.join('\n'));

const bandsPerLeaf = new Map();
for (const b of bands) for (const g of b.genres) bandsPerLeaf.set(g, (bandsPerLeaf.get(g) || 0) + 1);
process.stderr.write(
  `gen-dataset: seed ${opt.seed}: ${roots.length} roots, ${inters.length} intermediates, ${leaves.length} leaves, ` +
    `${bands.length} bands, ${nlinks} influence links; first leaf ${leafIds[0]} has ${bandsPerLeaf.get(leafIds[0])} bands\n`,
);
