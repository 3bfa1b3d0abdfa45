#!/usr/bin/env node
// explore-targets.mjs — picks the URLs bench/run loads for the exploration
// endpoints of issue 4, from the generated dataset, and prints one line per
// endpoint: "name|path|what was picked and why".
//
//   node bench/explore-targets.mjs DATASET.json PREFIX_QUERY NO_MATCH_QUERY
//
// Each pick is the expensive case of its endpoint on this dataset, chosen
// deterministically (ties go to the first entry in dataset order):
//   path     from the first leaf to the leaf of another family (root by
//            primary parents) that is farthest from it over parent and
//            influence links: the search has to cross the map;
//   related  the genre with the most candidates (parents, children,
//            siblings through any parent, influence neighbours both ways);
//   similar  the band whose genres hold the most bands in total (each is a
//            candidate that has to be scored);
//   search   a typo of the longest band name (the edit-distance pass); a
//            prefix query (accent-folded: "quebec" has to find
//            "Québécois …") and a query that matches nothing (every name is
//            scanned and nothing is ranked).

import { readFileSync } from 'node:fs';

const [file, prefixQuery, noMatchQuery] = process.argv.slice(2);
if (!noMatchQuery) {
  process.stderr.write('usage: explore-targets.mjs DATASET.json PREFIX_QUERY NO_MATCH_QUERY\n');
  process.exit(2);
}
const d = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(d.genres.map((g) => [g.id, g]));

const family = (g) => {
  const seen = new Set();
  while (g.parent && !seen.has(g.id)) {
    seen.add(g.id);
    g = byId.get(g.parent);
  }
  return g.id;
};

// Undirected adjacency over parent and influence links.
const adj = new Map(d.genres.map((g) => [g.id, new Set()]));
const link = (a, b) => {
  if (a === b || !adj.has(a) || !adj.has(b)) return;
  adj.get(a).add(b);
  adj.get(b).add(a);
};
for (const g of d.genres) {
  for (const p of g.parents) link(g.id, p);
  for (const l of g.links || []) link(g.id, l.to);
}

// path: BFS from the first leaf.
const leaves = d.genres.filter((g) => g.type === 'leaf');
const from = leaves[0];
const dist = new Map([[from.id, 0]]);
for (const queue = [from.id]; queue.length; ) {
  const id = queue.shift();
  for (const n of adj.get(id)) {
    if (!dist.has(n)) {
      dist.set(n, dist.get(id) + 1);
      queue.push(n);
    }
  }
}
let to = null;
for (const g of leaves) {
  if (family(g) === family(from) || !dist.has(g.id)) continue;
  if (!to || dist.get(g.id) > dist.get(to.id)) to = g;
}
if (!to) {
  process.stderr.write('explore-targets: no leaf of another family is reachable from the first leaf\n');
  process.exit(1);
}

// related: most candidates.
const children = new Map(d.genres.map((g) => [g.id, []]));
for (const g of d.genres) for (const p of g.parents) children.get(p)?.push(g.id);
let related = null;
let relatedCount = -1;
for (const g of d.genres) {
  const c = new Set([...g.parents, ...children.get(g.id), ...adj.get(g.id)]);
  for (const p of g.parents) for (const s of children.get(p) || []) c.add(s);
  c.delete(g.id);
  if (c.size > relatedCount) {
    related = g;
    relatedCount = c.size;
  }
}

// similar: most bands sharing a genre (counted with repetition).
const bandsIn = new Map();
for (const b of d.bands) for (const g of b.genres) bandsIn.set(g, (bandsIn.get(g) || 0) + 1);
let similar = null;
let similarCount = -1;
for (const b of d.bands) {
  const n = b.genres.reduce((s, g) => s + bandsIn.get(g) - 1, 0);
  if (n > similarCount) {
    similar = b;
    similarCount = n;
  }
}

// search: how many names the queries hit (folded as the server folds).
const fold = (s) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[øØ]/g, 'o')
    .replace(/[æÆ]/g, 'ae')
    .replace(/ß/g, 'ss')
    .toLowerCase();
const names = [...d.genres, ...d.bands].map((x) => fold(x.name));
const prefixHits = names.filter((n) => n.startsWith(fold(prefixQuery)) || n.includes(' ' + fold(prefixQuery))).length;
const noMatchHits = names.filter((n) => n.includes(fold(noMatchQuery))).length;
if (noMatchHits) {
  process.stderr.write(`explore-targets: "${noMatchQuery}" matches ${noMatchHits} names; pick another BENCH_NOMATCH_QUERY\n`);
  process.exit(1);
}

// A typo: the longest band name with one letter in its middle changed, so
// that no real match fills the results and the edit-distance pass runs.
const longest = d.bands.reduce((a, b) => (fold(b.name).replace(/[^a-z0-9]/g, '').length > fold(a.name).replace(/[^a-z0-9]/g, '').length ? b : a));
const plain = fold(longest.name).replace(/[^a-z0-9 ]/g, '');
const mid = plain.length >> 1;
const typo = plain.slice(0, mid) + (plain[mid] === 'x' ? 'q' : 'x') + plain.slice(mid + 1);

const q = encodeURIComponent;
const lines = [
  ['path', `/api/v1/path?from=${q(from.id)}&to=${q(to.id)}`, `${from.id} (family ${family(from)}) to ${to.id} (family ${family(to)}), ${dist.get(to.id)} links apart`],
  ['related', `/api/v1/genres/${q(related.id)}/related`, `${related.type} genre with the most candidates (${relatedCount})`],
  ['similar', `/api/v1/bands/${q(similar.id)}/similar`, `band in ${similar.genres.length} genres holding ${similarCount} other bands`],
  ['search-prefix', `/api/v1/search?q=${q(prefixQuery)}`, `prefix, accent-folded: ${prefixHits} names start with it or have a word that does`],
  ['search-none', `/api/v1/search?q=${q(noMatchQuery)}`, 'no name matches: a full scan, nothing to rank'],
  ['search-typo', `/api/v1/search?q=${q(typo)}`, `a typo of "${longest.name}": every name through the typo filter, edit distance on the few left`],
];
for (const l of lines) process.stdout.write(l.join('|') + '\n');
