// Validation of the bundled dataset data/musicgraph.json.
// Run: node --test tests/e2e/dataset.test.mjs   (Node 20+, no dependencies)
import { test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Minimum sizes: raise these as the dataset grows.
const GENRES_MIN = 600;
const BANDS_MIN = 3000;
// Root genres ("families") that must exist.
const REQUIRED_ROOTS = [
  'rock', 'metal', 'punk', 'pop', 'electronic', 'hip-hop', 'jazz', 'blues',
  'rhythm-and-blues', 'country', 'folk', 'classical', 'caribbean', 'latin',
  'african', 'asian', 'middle-eastern', 'european', 'gospel', 'easy-listening', 'experimental',
];
// Ids that other parts of the project rely on.
const REQUIRED_GENRES = ['rock', 'metal', 'heavy-metal', 'death-metal', 'thrash-metal', 'groove-metal',
  'grindcore', 'punk-rock', 'hardcore-punk', 'jazz-fusion'];
const REQUIRED_BANDS = { pantera: 'Pantera', metallica: 'Metallica', motorhead: 'Motörhead', bjork: 'Björk' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Overridable so a candidate file can be validated before it replaces the committed one.
const DATA = process.env.MUSICGRAPH_DATASET || path.join(ROOT, 'data', 'musicgraph.json');
const ALLOW = process.env.MUSICGRAPH_LEAF_ALLOWLIST || path.join(ROOT, 'data', 'leaf-allowlist.json');

const raw = fs.readFileSync(DATA);
const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
const data = JSON.parse(text);
const allow = JSON.parse(fs.readFileSync(ALLOW, 'utf8'));
const genres = data.genres;
const bands = data.bands;
const gById = new Map(genres.map(g => [g.id, g]));

const ID_RE = /^[a-z0-9-]{1,50}$/;
// The C loader accepts origin years in this range only (earlier origins are recorded as null).
const YEAR_MIN = 1000;
const YEAR_MAX = 2100;
const TYPES = new Set(['root', 'intermediate', 'leaf']);
const GENRE_KEYS = ['id', 'name', 'type', 'parent', 'parents', 'description', 'origin_year', 'links'].sort();
const BAND_KEYS = ['id', 'name', 'primary_genre', 'genres'].sort();

function checkName(where, name) {
  assert.equal(typeof name, 'string', `${where}: name must be a string`);
  const cps = [...name].length;
  assert.ok(cps >= 1 && cps <= 100, `${where}: name length ${cps} not in 1..100`);
  assert.ok(!/\p{Cs}/u.test(name), `${where}: name is not well-formed UTF-16/UTF-8`);
  assert.ok(!/\p{Cc}/u.test(name), `${where}: name contains a control character`);
  assert.equal(name, name.trim(), `${where}: name has leading/trailing whitespace`);
}

test('top level', () => {
  assert.deepEqual(Object.keys(data).sort(), ['bands', 'format', 'format_version', 'genres']);
  assert.equal(data.format, 'musicgraph-dataset');
  assert.equal(data.format_version, 1);
  assert.ok(Array.isArray(genres) && Array.isArray(bands));
});

test('counts', () => {
  assert.ok(genres.length >= GENRES_MIN, `only ${genres.length} genres, need ${GENRES_MIN}`);
  assert.ok(bands.length >= BANDS_MIN, `only ${bands.length} bands, need ${BANDS_MIN}`);
});

test('genre ids and names', () => {
  const seen = new Set();
  for (const g of genres) {
    assert.deepEqual(Object.keys(g).sort(), GENRE_KEYS, `genre ${g.id}: unexpected key set`);
    assert.equal(typeof g.id, 'string');
    assert.match(g.id, ID_RE, `bad genre id ${JSON.stringify(g.id)}`);
    assert.ok(!seen.has(g.id), `duplicate genre id ${g.id}`);
    seen.add(g.id);
    checkName(`genre ${g.id}`, g.name);
  }
});

test('genre fields', () => {
  for (const g of genres) {
    const w = `genre ${g.id}`;
    assert.ok(TYPES.has(g.type), `${w}: bad type ${g.type}`);
    assert.equal(typeof g.description, 'string', `${w}: description must be a string`);
    assert.ok(g.description.trim().length >= 10 && g.description.length <= 500, `${w}: description length`);
    assert.ok(!/\p{Cs}/u.test(g.description) && !/\p{Cc}/u.test(g.description), `${w}: bad description text`);
    assert.ok(g.origin_year === null || (Number.isInteger(g.origin_year) && g.origin_year % 10 === 0
      && g.origin_year >= YEAR_MIN && g.origin_year <= YEAR_MAX), `${w}: origin_year must be a decade start year in ${YEAR_MIN}..${YEAR_MAX} or null`);
  }
});

test('genre parents', () => {
  for (const g of genres) {
    const w = `genre ${g.id}`;
    assert.ok(Array.isArray(g.parents), `${w}: parents must be an array`);
    assert.equal(new Set(g.parents).size, g.parents.length, `${w}: duplicate parents`);
    for (const p of g.parents) {
      assert.ok(gById.has(p), `${w}: unknown parent ${p}`);
      assert.notEqual(p, g.id, `${w}: is its own parent`);
    }
    if (g.type === 'root') {
      assert.equal(g.parent, null, `${w}: root must have parent null`);
      assert.equal(g.parents.length, 0, `${w}: root must have no parents`);
    } else {
      assert.ok(g.parents.length >= 1, `${w}: non-root needs at least one parent`);
      assert.ok(g.parents.includes(g.parent), `${w}: parent ${g.parent} is not in parents`);
    }
  }
});

test('type matches position in the tree', () => {
  const hasChild = new Set(genres.flatMap(g => g.parents));
  for (const g of genres) {
    if (g.type === 'leaf') assert.ok(!hasChild.has(g.id), `leaf ${g.id} is the parent of another genre`);
    if (g.type === 'intermediate') assert.ok(hasChild.has(g.id), `intermediate ${g.id} has no child genre`);
  }
});

test('parent graph has no cycles', () => {
  const state = new Map(); // 1 = on stack, 2 = done
  const visit = (id, trail) => {
    const s = state.get(id);
    if (s === 2) return;
    assert.notEqual(s, 1, `cycle: ${[...trail, id].join(' -> ')}`);
    state.set(id, 1);
    for (const p of gById.get(id).parents) visit(p, [...trail, id]);
    state.set(id, 2);
  };
  for (const g of genres) visit(g.id, []);
  // every genre reaches a root
  for (const g of genres) {
    let cur = g;
    for (let i = 0; cur.type !== 'root'; i++) { assert.ok(i < genres.length); cur = gById.get(cur.parent); }
  }
});

test('influence links', () => {
  let total = 0;
  for (const g of genres) {
    const w = `genre ${g.id}`;
    assert.ok(Array.isArray(g.links), `${w}: links must be an array`);
    const seen = new Set();
    for (const l of g.links) {
      assert.deepEqual(Object.keys(l).sort(), ['kind', 'to'], `${w}: bad link object`);
      assert.equal(l.kind, 'influence', `${w}: link kind must be influence`);
      assert.ok(gById.has(l.to), `${w}: link to unknown genre ${l.to}`);
      assert.notEqual(l.to, g.id, `${w}: self link`);
      assert.ok(!seen.has(l.to), `${w}: duplicate link to ${l.to}`);
      seen.add(l.to);
      total++;
    }
  }
  assert.ok(total > 0, 'no influence links at all');
});

test('root families present', () => {
  for (const r of REQUIRED_ROOTS) {
    assert.ok(gById.has(r), `missing root family ${r}`);
    assert.equal(gById.get(r).type, 'root', `${r} should be a root`);
    assert.ok(genres.some(g => g.parents.includes(r)), `root family ${r} has no sub-genre`);
  }
  for (const id of REQUIRED_GENRES) assert.ok(gById.has(id), `missing required genre ${id}`);
  assert.deepEqual([...gById.get('grindcore').parents].sort(), ['death-metal', 'hardcore-punk']);
});

test('bands', () => {
  const seen = new Set();
  for (const b of bands) {
    const w = `band ${b.id}`;
    assert.deepEqual(Object.keys(b).sort(), BAND_KEYS, `${w}: unexpected key set`);
    assert.equal(typeof b.id, 'string');
    assert.match(b.id, ID_RE, `bad band id ${JSON.stringify(b.id)}`);
    assert.ok(!seen.has(b.id), `duplicate band id ${b.id}`);
    seen.add(b.id);
    checkName(w, b.name);
    assert.ok(Array.isArray(b.genres) && b.genres.length >= 1, `${w}: genres must be a non-empty array`);
    assert.equal(new Set(b.genres).size, b.genres.length, `${w}: duplicate genres`);
    for (const x of b.genres) assert.ok(gById.has(x), `${w}: unknown genre ${x}`);
    assert.ok(gById.has(b.primary_genre), `${w}: unknown primary genre ${b.primary_genre}`);
    assert.equal(gById.get(b.primary_genre).type, 'leaf', `${w}: primary genre ${b.primary_genre} is not a leaf`);
    assert.ok(b.genres.includes(b.primary_genre), `${w}: primary genre not in genres`);
  }
  for (const [id, name] of Object.entries(REQUIRED_BANDS)) {
    const b = bands.find(x => x.id === id);
    assert.ok(b, `missing band ${id}`);
    assert.equal(b.name, name);
  }
});

test('every leaf genre has a band or is allow-listed', () => {
  assert.ok(Array.isArray(allow), 'leaf-allowlist.json must be an array');
  const allowIds = new Set();
  for (const a of allow) {
    assert.deepEqual(Object.keys(a).sort(), ['id', 'reason'], 'allowlist entries are {id, reason}');
    assert.ok(gById.has(a.id), `allowlist: unknown genre ${a.id}`);
    assert.equal(gById.get(a.id).type, 'leaf', `allowlist: ${a.id} is not a leaf`);
    assert.ok(typeof a.reason === 'string' && a.reason.trim().length > 0, `allowlist: ${a.id} needs a reason`);
    assert.ok(!allowIds.has(a.id), `allowlist: duplicate ${a.id}`);
    allowIds.add(a.id);
  }
  const used = new Set(bands.flatMap(b => b.genres));
  const bare = genres.filter(g => g.type === 'leaf' && !used.has(g.id) && !allowIds.has(g.id)).map(g => g.id);
  assert.deepEqual(bare, [], `leaf genres without bands: ${bare.join(', ')}`);
});
