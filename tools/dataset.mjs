#!/usr/bin/env node
// dataset.mjs — the curators' tool for the bundled dataset (data/families/*.json).
//
//   node tools/dataset.mjs check [FILE…]   validate; report the problems in FILE… (default: all files)
//   node tools/dataset.mjs figures         the figures per family and in total, against the targets
//   node tools/dataset.mjs gaps [FILE…]    what phase 2 still has to fill in FILE…: bands without a type, a country,
//                                          a year or a second genre, leaves with bands but no defining band
//   node tools/dataset.mjs format          rewrite the files in the canonical layout: each entry in the file of
//                                          its family, genres in tree order, bands grouped by primary genre,
//                                          fixed key order, one entry a line
//   node tools/dataset.mjs sample [--seed N] [--artists N] [--genres N]
//                                          a seeded random sample (mulberry32, uniform, without replacement,
//                                          over the entries sorted by id) with the fields an audit judges
//
// FILEs may lie in another directory than data/families (a candidate copy): the
// tool then reads that directory; without FILEs it reads MUSICGRAPH_DATASET_DIR
// if set, else data/families.
//
// A family file holds one root genre, every genre whose primary-parent chain
// leads to it and every band whose primary genre is one of them; it may refer
// to genres and bands of other files. Checking one file therefore reads all
// of them (a fraction of a second) but reports only what concerns that file.
// The rules are those of src/domain/rules.c (which `musicgraph seed` applies)
// plus the conventions of data/README.md; tests/e2e/dataset.test.mjs runs the
// same checks on every file and asserts the targets of issue 16.
//
// Node 18, no dependencies. Exit status: 0 clean, 1 problems found, 2 usage.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FAMILIES_DIR = path.join(ROOT, 'data', 'families');
export const ALLOWLIST = path.join(ROOT, 'data', 'leaf-allowlist.json');

// The targets of issue 16 (tests/e2e/dataset.test.mjs asserts them).
export const TARGETS = {
  genres: 1000,
  intermediates: 80,
  leavesOffRootMax: 0.4,
  bands: 8000,
  multiGenreShare: 0.6,
  countryYearShare: 0.9,
};

export const FORMAT = 'musicgraph-dataset';
export const FORMAT_VERSION = 3;
export const GENRE_KEYS = ['id', 'name', 'type', 'parent', 'parents', 'description', 'origin_year', 'links',
  'aliases', 'former_ids', 'region', 'defining'];
export const BAND_KEYS = ['id', 'name', 'type', 'primary_genre', 'genres', 'aliases', 'former_ids', 'country',
  'active_from'];
const BAND_TYPES = ['person', 'group'];

const ID_RE = /^[a-z0-9-]{1,50}$/;
const YEAR_MIN = 1000;
const YEAR_MAX = 2100;
const NAME_MAX = 100;
const ALIASES_MAX = 20;
const FORMER_IDS_MAX = 10;
const DEFINING_MAX = 5;
const TYPES = new Set(['root', 'intermediate', 'leaf']);
// ISO 3166-1 alpha-2 codes in use, and XK (Kosovo): the list of src/domain/rules.c.
const COUNTRIES = new Set(('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ ' +
  'BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ' +
  'ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO ' +
  'IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ' +
  'ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR ' +
  'PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK ' +
  'TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW').split(' '));

// Letters Unicode does not decompose, as in src/core/text.c.
const FOLD_EXTRA = { '·': '', 'æ': 'ae', 'ð': 'd', 'ø': 'o', 'þ': 'th', 'đ': 'd', 'ħ': 'h', 'ı': 'i', 'ĸ': 'k',
  'ł': 'l', 'ŋ': 'ng', 'œ': 'oe', 'ŧ': 't', 'ƀ': 'b', 'ƈ': 'c', 'ƒ': 'f', 'ƥ': 'p', 'ƴ': 'y', 'ƶ': 'z', 'ȥ': 'z',
  'ɔ': 'o', 'ɖ': 'd', 'ə': 'e', 'ɛ': 'e', 'ɣ': 'g', 'ɨ': 'i', 'ɲ': 'n', 'ʉ': 'u', 'ʋ': 'v', 'ß': 'ss',
  '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '‘': "'", '’': "'", '“': '"', '”': '"' };

/** The search key of a name: what src/core/text.c's text_fold gives for Latin text. */
export function fold(s) {
  return [...s.normalize('NFKD').toLowerCase().replace(/\p{M}/gu, '')].map(c => FOLD_EXTRA[c] ?? c).join('');
}

/** The id the editor derives from a name (domain_slugify). */
export function slugify(name) {
  return fold(name).replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
}

/** Reads every family file of dir: {files: [{file, family, doc}], genres, bands}, entries tagged with _file. */
export function loadFamilies(dir = FAMILIES_DIR) {
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.json') && !f.startsWith('.')).sort()
    .map(f => path.join(dir, f));
  const out = { files: [], genres: [], bands: [], problems: [] };
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    let doc;
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file));
      doc = JSON.parse(text);
    } catch (e) {
      out.problems.push({ file: rel, entry: 'file', message: `cannot be read: ${e.message}` });
      continue;
    }
    out.files.push({ file: rel, family: doc.family, doc });
    for (const g of Array.isArray(doc.genres) ? doc.genres : []) out.genres.push(Object.assign(g, { _file: rel }));
    for (const b of Array.isArray(doc.bands) ? doc.bands : []) out.bands.push(Object.assign(b, { _file: rel }));
  }
  // Plain enumerable tags would end up in JSON output; keep them hidden.
  for (const e of [...out.genres, ...out.bands]) Object.defineProperty(e, '_file', { enumerable: false });
  return out;
}

export function loadAllowlist(file = ALLOWLIST) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const isText = (s, max) => typeof s === 'string' && s.length > 0 && [...s].length <= max &&
  !/\p{Cc}/u.test(s) && !/\p{Cs}/u.test(s) && s === s.trim();

/**
 * Every rule and convention. Returns [{file, entry, message}], in file order.
 * ds: what loadFamilies returns; allow: the leaf allowlist.
 */
export function validate(ds, allow = []) {
  const problems = [...ds.problems];
  const add = (file, entry, message) => problems.push({ file, entry, message });
  const gById = new Map();
  const bById = new Map();

  for (const f of ds.files) {
    const d = f.doc;
    const keys = Object.keys(d).sort().join(',');
    if (keys !== 'bands,family,format,format_version,genres')
      add(f.file, 'file', `top-level keys must be format, format_version, family, genres, bands (found ${keys})`);
    if (d.format !== FORMAT) add(f.file, 'file', `format must be "${FORMAT}"`);
    if (d.format_version !== FORMAT_VERSION) add(f.file, 'file', `format_version must be ${FORMAT_VERSION}`);
    if (path.basename(f.file) !== `${d.family}.json`) add(f.file, 'file', `family "${d.family}" must match the file name`);
    if (!Array.isArray(d.genres) || !Array.isArray(d.bands)) add(f.file, 'file', 'genres and bands must be arrays');
    // One entry per line, so that diffs stay readable.
    const lines = fs.readFileSync(path.join(ROOT, f.file), 'utf8').split('\n');
    const entryLines = lines.filter(l => /^\s*\{"id":/.test(l)).length;
    if (entryLines !== (d.genres?.length ?? 0) + (d.bands?.length ?? 0))
      add(f.file, 'file', 'every genre and band must sit on a line of its own (run: node tools/dataset.mjs format)');
  }

  for (const g of ds.genres) {
    const w = `genre ${g.id}`;
    if (Object.keys(g).sort().join() !== [...GENRE_KEYS].sort().join())
      add(g._file, w, `keys must be exactly ${GENRE_KEYS.join(', ')}`);
    if (typeof g.id !== 'string' || !ID_RE.test(g.id)) add(g._file, w, 'id must match ^[a-z0-9-]{1,50}$');
    else if (gById.has(g.id)) add(g._file, w, `id is used by another genre (in ${gById.get(g.id)._file})`);
    else gById.set(g.id, g);
  }
  for (const b of ds.bands) {
    const w = `band ${b.id}`;
    if (Object.keys(b).sort().join() !== [...BAND_KEYS].sort().join())
      add(b._file, w, `keys must be exactly ${BAND_KEYS.join(', ')}`);
    if (typeof b.id !== 'string' || !ID_RE.test(b.id)) add(b._file, w, 'id must match ^[a-z0-9-]{1,50}$');
    else if (bById.has(b.id)) add(b._file, w, `id is used by another band (in ${bById.get(b.id)._file})`);
    else bById.set(b.id, b);
  }

  const arr = v => (Array.isArray(v) ? v : []);
  const checkAliases = (e, w) => {
    if (!Array.isArray(e.aliases)) return add(e._file, w, 'aliases must be an array of names');
    if (e.aliases.length > ALIASES_MAX) add(e._file, w, `at most ${ALIASES_MAX} aliases`);
    const seen = new Set([typeof e.name === 'string' ? fold(e.name) : '']);
    for (const a of e.aliases) {
      if (!isText(a, NAME_MAX)) add(e._file, w, `alias ${JSON.stringify(a)} must be 1-${NAME_MAX} characters, trimmed, no control characters`);
      else if (seen.has(fold(a))) add(e._file, w, `alias "${a}" repeats the name or another alias`);
      else seen.add(fold(a));
    }
  };
  const checkFormer = (e, w, current, claimed, kind) => {
    if (!Array.isArray(e.former_ids)) return add(e._file, w, 'former_ids must be an array of ids');
    if (e.former_ids.length > FORMER_IDS_MAX) add(e._file, w, `at most ${FORMER_IDS_MAX} former ids`);
    for (const f of e.former_ids) {
      if (typeof f !== 'string' || !ID_RE.test(f)) add(e._file, w, `former id ${JSON.stringify(f)} is not a valid id`);
      else if (current.has(f)) add(e._file, w, `former id "${f}" is the id of a current ${kind}`);
      else if (claimed.has(f)) add(e._file, w, `former id "${f}" is already a former id of ${kind} ${claimed.get(f)}`);
      else claimed.set(f, e.id);
    }
  };

  // Genres: fields, parents, family membership.
  const claimedGenre = new Map();
  const familyOf = new Map(); // genre id -> root id by primary parents
  const rootOf = id => {
    if (familyOf.has(id)) return familyOf.get(id);
    const seen = new Set();
    let cur = gById.get(id);
    while (cur && cur.type !== 'root' && !seen.has(cur.id)) { seen.add(cur.id); cur = gById.get(cur.parent); }
    const root = cur && cur.type === 'root' ? cur.id : null;
    familyOf.set(id, root);
    return root;
  };
  const hasChild = new Set(ds.genres.flatMap(g => arr(g.parents)));
  for (const g of ds.genres) {
    const w = `genre ${g.id}`;
    if (!isText(g.name, NAME_MAX)) add(g._file, w, `name must be 1-${NAME_MAX} characters, trimmed, no control characters`);
    if (!TYPES.has(g.type)) add(g._file, w, `type must be root, intermediate or leaf, not ${JSON.stringify(g.type)}`);
    if (typeof g.description !== 'string' || g.description.trim().length < 10 || g.description.length > 500 ||
        /\p{Cc}/u.test(g.description))
      add(g._file, w, 'description must be one or two sentences (10-500 characters, no control characters)');
    if (!(g.origin_year === null || (Number.isInteger(g.origin_year) && g.origin_year % 10 === 0 &&
        g.origin_year >= YEAR_MIN && g.origin_year <= YEAR_MAX)))
      add(g._file, w, `origin_year must be the first year of a decade in ${YEAR_MIN}..${YEAR_MAX}, or null`);
    if (!(g.region === null || isText(g.region, NAME_MAX))) add(g._file, w, 'region must be a short text or null');
    if (!Array.isArray(g.parents)) { add(g._file, w, 'parents must be an array'); continue; }
    if (new Set(g.parents).size !== g.parents.length) add(g._file, w, 'a parent is listed twice');
    for (const p of g.parents) {
      if (!gById.has(p)) add(g._file, w, `parent ${p} does not exist`);
      if (p === g.id) add(g._file, w, 'a genre cannot be its own parent');
    }
    if (g.type === 'root') {
      if (g.parent !== null || g.parents.length) add(g._file, w, 'a root has parent null and no parents');
      if (path.basename(g._file) !== `${g.id}.json`) add(g._file, w, `a root genre lives in data/families/${g.id}.json`);
    } else {
      if (!g.parents.length) add(g._file, w, 'needs at least one parent');
      if (!g.parents.includes(g.parent)) add(g._file, w, `primary parent ${g.parent} must be one of parents`);
      const root = rootOf(g.id);
      if (root && path.basename(g._file) !== `${root}.json`)
        add(g._file, w, `its primary parents lead to ${root}: it belongs in data/families/${root}.json`);
    }
    if (g.type === 'leaf' && hasChild.has(g.id)) add(g._file, w, 'a leaf is nobody\'s parent: make it an intermediate');
    if (g.type === 'intermediate' && !hasChild.has(g.id)) add(g._file, w, 'an intermediate needs a sub-genre: make it a leaf');
    if (!Array.isArray(g.links)) add(g._file, w, 'links must be an array');
    else {
      const seen = new Set();
      for (const l of g.links) {
        if (!l || Object.keys(l).sort().join() !== 'kind,to' || l.kind !== 'influence')
          add(g._file, w, 'links are {"to": id, "kind": "influence"}');
        else if (!gById.has(l.to)) add(g._file, w, `link to unknown genre ${l.to}`);
        else if (l.to === g.id) add(g._file, w, 'a genre cannot influence itself');
        else if (seen.has(l.to)) add(g._file, w, `the link to ${l.to} is listed twice`);
        seen.add(l.to);
      }
    }
    checkAliases(g, w);
    checkFormer(g, w, gById, claimedGenre, 'genre');
    if (!Array.isArray(g.defining)) add(g._file, w, 'defining must be an array of band ids');
    else {
      if (g.defining.length > DEFINING_MAX) add(g._file, w, `at most ${DEFINING_MAX} defining bands`);
      if (new Set(g.defining).size !== g.defining.length) add(g._file, w, 'a defining band is listed twice');
    }
  }

  // Parent cycles (every genre must reach a root).
  const state = new Map();
  const visit = (id, trail) => {
    const s = state.get(id);
    if (s === 2) return true;
    if (s === 1) { add(gById.get(id)._file, `genre ${id}`, `parent cycle: ${[...trail, id].join(' -> ')}`); return false; }
    state.set(id, 1);
    for (const p of arr(gById.get(id).parents)) if (gById.has(p) && !visit(p, [...trail, id])) return false;
    state.set(id, 2);
    return true;
  };
  for (const g of gById.values()) if (!visit(g.id, [])) break;

  // Descendants, for "a defining band carries the genre or one of its sub-genres".
  const ancestors = new Map();
  const ancestorsOf = id => {
    if (ancestors.has(id)) return ancestors.get(id);
    const set = new Set([id]);
    ancestors.set(id, set);
    for (const p of arr(gById.get(id)?.parents)) if (gById.has(p)) for (const a of ancestorsOf(p)) set.add(a);
    return set;
  };

  const claimedBand = new Map();
  const used = new Set();
  for (const b of ds.bands) {
    const w = `band ${b.id}`;
    if (!isText(b.name, NAME_MAX)) add(b._file, w, `name must be 1-${NAME_MAX} characters, trimmed, no control characters`);
    if (!Array.isArray(b.genres) || b.genres.length === 0) { add(b._file, w, 'genres must be a non-empty array'); continue; }
    if (new Set(b.genres).size !== b.genres.length) add(b._file, w, 'a genre is listed twice');
    for (const x of b.genres) { if (!gById.has(x)) add(b._file, w, `unknown genre ${x}`); used.add(x); }
    const pg = gById.get(b.primary_genre);
    if (!pg) add(b._file, w, `primary genre ${b.primary_genre} does not exist`);
    else {
      if (pg.type !== 'leaf') add(b._file, w, `primary genre ${b.primary_genre} must be a leaf, not ${pg.type}`);
      const root = rootOf(pg.id);
      if (root && path.basename(b._file) !== `${root}.json`)
        add(b._file, w, `its primary genre is in ${root}: it belongs in data/families/${root}.json`);
    }
    if (!b.genres.includes(b.primary_genre)) add(b._file, w, 'primary genre must be one of genres');
    else if (b.genres[0] !== b.primary_genre) add(b._file, w, 'list the primary genre first in genres');
    if (!(b.type === null || BAND_TYPES.includes(b.type)))
      add(b._file, w, `type must be "person", "group" or null (found ${JSON.stringify(b.type)})`);
    checkAliases(b, w);
    checkFormer(b, w, bById, claimedBand, 'band');
    if (!(b.country === null || COUNTRIES.has(b.country)))
      add(b._file, w, `country ${JSON.stringify(b.country)} is not an ISO 3166-1 alpha-2 code (US, GB, BR…)`);
    if (!(b.active_from === null || (Number.isInteger(b.active_from) && b.active_from >= YEAR_MIN && b.active_from <= YEAR_MAX)))
      add(b._file, w, `active_from must be a year in ${YEAR_MIN}..${YEAR_MAX} or null`);
  }

  // Defining bands, and leaves without bands.
  const allowIds = new Set();
  for (const a of Array.isArray(allow) ? allow : []) {
    const g = gById.get(a?.id);
    if (!g) add('data/leaf-allowlist.json', `genre ${a?.id}`, 'allow-listed genre does not exist');
    else if (g.type !== 'leaf') add('data/leaf-allowlist.json', `genre ${a.id}`, 'only leaves can be allow-listed');
    else if (typeof a.reason !== 'string' || !a.reason.trim()) add('data/leaf-allowlist.json', `genre ${a.id}`, 'needs a reason');
    else allowIds.add(a.id);
  }
  for (const g of gById.values()) {
    const w = `genre ${g.id}`;
    for (const id of arr(g.defining)) {
      const b = bById.get(id);
      if (!b) add(g._file, w, `defining band ${id} does not exist`);
      else if (!arr(b.genres).some(x => gById.has(x) && ancestorsOf(x).has(g.id)))
        add(g._file, w, `defining band ${id} does not list this genre or one of its sub-genres`);
    }
    if (g.type === 'leaf' && !used.has(g.id) && !allowIds.has(g.id))
      add(g._file, w, 'a leaf needs a band (or an entry in data/leaf-allowlist.json with the reason)');
    if (g.type === 'leaf' && used.has(g.id) && arr(g.defining).length === 0)
      add(g._file, w, 'a leaf with bands names at least one defining band');
  }
  return problems;
}

/** Figures per family and in total: {families: {id: {...}}, total: {...}}. */
export function figures(ds) {
  const gById = new Map(ds.genres.map(g => [g.id, g]));
  const blank = () => ({ genres: 0, intermediates: 0, leaves: 0, leavesOffRoot: 0, bands: 0, multiGenre: 0,
    countryYear: 0, withCountry: 0, withYear: 0, withType: 0, leavesWithBands: 0, leavesWithDefining: 0, aliases: 0 });
  const families = {};
  const total = blank();
  const fam = file => (families[path.basename(file, '.json')] ??= blank());
  const used = new Set(ds.bands.flatMap(b => (Array.isArray(b.genres) ? b.genres : [])));
  for (const g of ds.genres) {
    for (const t of [fam(g._file), total]) {
      t.genres++;
      if (g.type === 'intermediate') t.intermediates++;
      if (g.type === 'leaf') {
        t.leaves++;
        if (gById.get(g.parent)?.type === 'root') t.leavesOffRoot++;
        if (used.has(g.id)) {
          t.leavesWithBands++;
          if (Array.isArray(g.defining) && g.defining.length) t.leavesWithDefining++;
        }
      }
      t.aliases += Array.isArray(g.aliases) ? g.aliases.length : 0;
    }
  }
  for (const b of ds.bands) {
    for (const t of [fam(b._file), total]) {
      t.bands++;
      if (Array.isArray(b.genres) && b.genres.length >= 2) t.multiGenre++;
      if (b.country) t.withCountry++;
      if (b.active_from) t.withYear++;
      if (b.country && b.active_from) t.countryYear++;
      if (b.type) t.withType++;
      t.aliases += Array.isArray(b.aliases) ? b.aliases.length : 0;
    }
  }
  return { families, total };
}

// ---- canonical layout ----

/**
 * Puts every entry in the file of its family and in canonical order: genres
 * depth-first from the root (sub-genres by name), bands by the position of
 * their primary genre, then by name. Entries whose family cannot be worked
 * out (a broken parent) stay where they are, at the end. Returns
 * Map(family id -> {family, genres, bands}).
 */
export function arrange(ds) {
  const gById = new Map(ds.genres.map(g => [g.id, g]));
  const docs = new Map(ds.files.map(f => [f.family, { family: f.family, genres: [], bands: [] }]));
  const home = (id, fallbackFile) => {
    const seen = new Set();
    let g = gById.get(id);
    while (g && g.parent && !seen.has(g.id)) { seen.add(g.id); g = gById.get(g.parent); }
    const root = g && !g.parent && g.type === 'root' ? g.id : path.basename(fallbackFile, '.json');
    if (!docs.has(root)) docs.set(root, { family: root, genres: [], bands: [] });
    return docs.get(root);
  };
  const children = new Map();
  for (const g of ds.genres) if (g.parent) (children.get(g.parent) ?? children.set(g.parent, []).get(g.parent)).push(g);
  const byName = (a, b) => fold(a.name ?? '').localeCompare(fold(b.name ?? '')) || String(a.id).localeCompare(String(b.id));
  const order = new Map();
  const placed = new Set();
  const visit = g => {
    if (placed.has(g.id)) return;
    placed.add(g.id);
    order.set(g.id, order.size);
    home(g.id, g._file).genres.push(g);
    for (const c of (children.get(g.id) ?? []).sort(byName)) visit(c);
  };
  for (const g of ds.genres.filter(x => x.type === 'root' && !x.parent).sort(byName)) visit(g);
  for (const g of ds.genres) if (!placed.has(g.id)) { order.set(g.id, order.size); home(g.id, g._file).genres.push(g); }
  const bands = [...ds.bands].sort((a, b) => (order.get(a.primary_genre) ?? Infinity) - (order.get(b.primary_genre) ?? Infinity) || byName(a, b));
  for (const b of bands) home(gById.has(b.primary_genre) ? b.primary_genre : null, b._file).bands.push(b);
  return docs;
}

const line = (obj, keys) => JSON.stringify(Object.fromEntries(keys.map(k => [k, obj[k]])));

/** The canonical text of a family document: fixed key order, one genre or band per line. */
export function formatFamily(doc) {
  const withDefaults = (e, keys) => {
    const out = { ...e };
    for (const k of keys) if (!(k in out)) out[k] = ['aliases', 'former_ids', 'defining', 'links', 'parents'].includes(k) ? [] : null;
    return out;
  };
  const g = doc.genres.map(x => '    ' + line(withDefaults(x, GENRE_KEYS), GENRE_KEYS));
  const b = doc.bands.map(x => '    ' + line(withDefaults(x, BAND_KEYS), BAND_KEYS));
  return `{\n  "format": "${FORMAT}",\n  "format_version": ${FORMAT_VERSION},\n  "family": ${JSON.stringify(doc.family)},\n` +
    `  "genres": [\n${g.join(',\n')}\n  ],\n  "bands": [\n${b.join(',\n')}\n  ]\n}\n`;
}

// ---- audit sample ----

/** mulberry32: a small seeded PRNG, so that an audit sample can be drawn again from its seed. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n entries of list drawn uniformly without replacement (partial Fisher-Yates over the list sorted by id). */
export function sample(list, n, rand) {
  const a = [...list].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

function printSample(ds, opts) {
  const rand = mulberry32(opts.seed);
  const gName = new Map(ds.genres.map(g => [g.id, g.name]));
  const names = ids => ids.map(id => gName.get(id) ?? id).join(', ');
  const artists = sample(ds.bands, opts.artists, rand);
  const genres = sample(ds.genres, opts.genres, rand);
  console.log(`# sample: seed ${opts.seed}, ${artists.length} of ${ds.bands.length} artists, ` +
    `${genres.length} of ${ds.genres.length} genres\n\n## artists: id | name | primary genre | other genres | country | active_from`);
  artists.forEach((b, i) => console.log(`A${i + 1} | ${b.id} | ${b.name} | ${gName.get(b.primary_genre) ?? b.primary_genre} | ` +
    `${names(b.genres.slice(1))} | ${b.country ?? '-'} | ${b.active_from ?? '-'}`));
  console.log('\n## genres: id | name | type | parents (primary first) | origin_year | region | description');
  genres.forEach((g, i) => console.log(`G${i + 1} | ${g.id} | ${g.name} | ${g.type} | ${names(g.parents) || '-'} | ` +
    `${g.origin_year ?? '-'} | ${g.region ?? '-'} | ${g.description}`));
}

// ---- command line ----

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(0)}%` : '-');

function printFigures(ds, only) {
  const { families, total } = figures(ds);
  const head = ['family', 'genres', 'inter', 'leaves', 'off-root', 'bands', '2+genres', 'country+year', 'type',
    'defining'];
  const rows = Object.entries(families).filter(([id]) => !only || only.has(id)).map(([id, t]) => [id, t]);
  if (!only) rows.push(['TOTAL', total]);
  const cells = rows.map(([id, t]) => [id, t.genres, t.intermediates, t.leaves, pct(t.leavesOffRoot, t.leaves), t.bands,
    pct(t.multiGenre, t.bands), pct(t.countryYear, t.bands), pct(t.withType, t.bands),
    `${t.leavesWithDefining}/${t.leavesWithBands}`]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map(c => String(c[i]).length)));
  const fmt = r => r.map((c, i) => (i ? String(c).padStart(width[i]) : String(c).padEnd(width[i]))).join('  ');
  console.log(fmt(head));
  for (const c of cells) console.log(fmt(c));
  if (!only) {
    const T = TARGETS;
    console.log(`\ntargets: genres ${total.genres}/${T.genres}, intermediates ${total.intermediates}/${T.intermediates}, ` +
      `leaves off a root ${pct(total.leavesOffRoot, total.leaves)} (max ${T.leavesOffRootMax * 100}%), ` +
      `bands ${total.bands}/${T.bands}, 2+ genres ${pct(total.multiGenre, total.bands)} (min ${T.multiGenreShare * 100}%), ` +
      `country and year ${pct(total.countryYear, total.bands)} (min ${T.countryYearShare * 100}%), ` +
      `leaves with bands and a defining band ${total.leavesWithDefining}/${total.leavesWithBands}`);
  }
}

function main(argv) {
  const [cmd, ...rest] = argv;
  const usage = 'usage: node tools/dataset.mjs check [FILE…] | figures | gaps [FILE…] | format\n' +
    '       node tools/dataset.mjs sample [--seed N] [--artists N] [--genres N]\n';
  if (!cmd || cmd === '-h' || cmd === '--help') {
    process.stdout.write(usage);
    return cmd ? 0 : 2;
  }
  if (cmd === 'sample') {
    const opts = { seed: 1, artists: 150, genres: 60 };
    for (let i = 0; i < rest.length; i += 2) {
      const key = rest[i].replace(/^--/, '');
      const val = Number(rest[i + 1]);
      if (!(key in opts) || !Number.isInteger(val) || val < 0) {
        process.stderr.write(usage);
        return 2;
      }
      opts[key] = val;
    }
    printSample(loadFamilies(process.env.MUSICGRAPH_DATASET_DIR || FAMILIES_DIR), opts);
    return 0;
  }
  // The directory of the FILEs named (a candidate copy works too), else MUSICGRAPH_DATASET_DIR or data/families.
  const dir = rest.length ? path.dirname(path.resolve(rest[0])) : process.env.MUSICGRAPH_DATASET_DIR || FAMILIES_DIR;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write(`dataset: no directory ${dir}\n`);
    return 2;
  }
  const ds = loadFamilies(dir);
  const files = rest.map(f => path.relative(ROOT, path.resolve(f)));
  for (const f of files)
    if (!ds.files.some(x => x.file === f)) {
      process.stderr.write(`dataset: ${f} is not a family file of ${path.relative(ROOT, dir) || '.'} (all FILEs in one directory)\n`);
      return 2;
    }
  if (cmd === 'check') {
    const problems = validate(ds, loadAllowlist()).filter(p => !files.length || files.includes(p.file));
    for (const p of problems) console.log(`${p.file}: ${p.entry}: ${p.message}`);
    printFigures(ds, files.length ? new Set(files.map(f => path.basename(f, '.json'))) : null);
    console.log(problems.length ? `\n${problems.length} problem(s)` : '\nno problems');
    return problems.length ? 1 : 0;
  }
  if (cmd === 'figures') {
    printFigures(ds, null);
    return 0;
  }
  if (cmd === 'gaps') {
    const mine = e => !files.length || files.includes(e._file);
    const withBands = new Set(ds.bands.flatMap(b => b.genres));
    let n = 0;
    const say = (e, what) => { console.log(`${e._file}: ${e.id}: ${what}`); n++; };
    for (const g of ds.genres.filter(mine))
      if (withBands.has(g.id) && !(g.defining ?? []).length && g.type === 'leaf') say(g, 'missing defining band');
    for (const b of ds.bands.filter(mine)) {
      const missing = [!b.type && 'type', !b.country && 'country', !b.active_from && 'active_from',
        b.genres.length < 2 && 'second genre'].filter(Boolean);
      if (missing.length) say(b, `missing ${missing.join(', ')}`);
    }
    console.log(`\n${n} gap(s)`);
    return 0;
  }
  if (cmd === 'format') {
    if (ds.problems.length) {
      for (const p of ds.problems) console.log(`${p.file}: ${p.entry}: ${p.message}`);
      return 1;
    }
    for (const doc of arrange(ds).values()) {
      const abs = path.join(dir, `${doc.family}.json`);
      const text = formatFamily(doc);
      const before = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : null;
      if (before === text) continue;
      fs.writeFileSync(abs, text);
      console.log(`${before === null ? 'created' : 'formatted'} ${path.relative(ROOT, abs)}`);
      if (before === null) console.log('  a new family file: add it to dataset_files in meson.build');
      if (!doc.genres.length && !doc.bands.length) console.log('  it is empty now: remove it and its line in meson.build');
    }
    return 0;
  }
  process.stderr.write(usage);
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));
