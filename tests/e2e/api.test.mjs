// Black-box tests of the read API, the pages and the common HTTP behaviour
// (DESIGN.md §5 "Contracts"), against the real binary with the bundled dataset.
// Run: node --test tests/e2e/api.test.mjs   (Node 20+, no dependencies)
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { binary, startServer } from '../lib/server.mjs';

// No test may hang the run (a server that never answers, a child that never exits).
const TEST_TIMEOUT = 30_000;

let server;
let graph; // the /api/v1/graph document, loaded once
let firstGraph; // the first answer, before the background layout finished
let genreById;
let bandById;

// One HTTP/1.1 request with exactly the given headers (fetch would add
// Accept-Encoding and decompress on its own): { status, headers, body: Buffer }.
function request(method, path, headers = {}) {
  return new Promise((ok, fail) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end();
  });
}

const get = (path, headers) => request('GET', path, headers);

// Runs fn over items, at most n at a time (the dataset has thousands of entries).
async function inBatches(items, n, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(fn))));
  return out;
}

async function getJson(path, headers) {
  const res = await get(path, headers);
  assert.ok(res.headers['x-request-id'], `${path}: no X-Request-Id`);
  let json;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch (e) {
    assert.fail(`${path}: body is not JSON (${res.status}): ${res.body.toString('utf8').slice(0, 200)}`);
  }
  return { ...res, json };
}

function assertJsonType(res, path) {
  assert.match(res.headers['content-type'] || '', /^application\/json\b/, `${path}: content-type`);
}

// RFC 9457 problem document with the given status.
function assertProblem(res, status, path) {
  assert.equal(res.status, status, `${path}: status`);
  assert.match(res.headers['content-type'] || '', /^application\/problem\+json\b/, `${path}: content-type`);
  const p = JSON.parse(res.body.toString('utf8'));
  for (const k of ['type', 'title', 'status', 'detail']) assert.ok(k in p, `${path}: problem lacks "${k}"`);
  assert.equal(p.status, status, `${path}: problem.status`);
  assert.equal(typeof p.title, 'string');
  assert.ok(p.title.length > 0);
  assert.equal(typeof p.detail, 'string');
  assert.ok(res.headers['x-request-id'], `${path}: no X-Request-Id`);
  return p;
}

// Lower case, accents removed: what a user means by "case- and accent-insensitive".
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

before(async () => {
  // A short shutdown timeout: idle keep-alive connections would otherwise
  // hold up the stop (the CLI suite tests shutdown itself).
  server = await startServer({ args: ['--shutdown-timeout', '2'] });
  // The map is served at once with provisional positions and laid out in the
  // background, then published again: wait for that so every test sees the
  // same data.
  const deadline = Date.now() + 150_000; // a loaded machine lays out slowly under ASan
  for (;;) {
    const res = await getJson('/api/v1/graph', { 'accept-encoding': 'identity' });
    assert.equal(res.status, 200);
    graph = res.json;
    firstGraph ??= graph;
    if (Date.now() > deadline || graph.laid_out === true) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  genreById = new Map(graph.genres.map((g) => [g.id, g]));
  bandById = new Map(graph.bands.map((b) => [b.id, b]));
});

after(async () => {
  if (!server) return;
  // A server that ignores SIGTERM must not hang the run (the last test reports it).
  const timer = setTimeout(() => process.kill(server.pid, 'SIGKILL'), 15_000);
  await server.stop();
  clearTimeout(timer);
});

test('GET /healthz answers {"status":"ok","version":…} with the binary version', { timeout: TEST_TIMEOUT }, async () => {
  const res = await getJson('/healthz');
  assert.equal(res.status, 200);
  assertJsonType(res, '/healthz');
  const version = execFileSync(binary, ['version'], { encoding: 'utf8' }).split(' ')[1];
  assert.deepEqual(res.json, { status: 'ok', version });
});

// ---------------------------------------------------------------- graph

test('graph document has the documented shape', { timeout: TEST_TIMEOUT }, async () => {
  assert.equal(typeof graph.version, 'number');
  assert.ok(Array.isArray(graph.genres) && graph.genres.length > 0, 'no genres');
  assert.ok(Array.isArray(graph.bands) && graph.bands.length > 0, 'no bands');
  for (const g of graph.genres) {
    const w = `genre ${g.id}`;
    for (const k of ['id', 'name', 'type', 'parent', 'parents', 'family', 'origin_year', 'links'])
      assert.ok(k in g, `${w}: missing ${k}`);
    assert.match(g.id, /^[a-z0-9-]{1,50}$/, w);
    assert.equal(typeof g.name, 'string');
    assert.ok(['root', 'intermediate', 'leaf'].includes(g.type), `${w}: type ${g.type}`);
    assert.ok(Array.isArray(g.parents), `${w}: parents`);
    assert.ok(g.origin_year === null || Number.isInteger(g.origin_year), `${w}: origin_year`);
    assert.ok(Array.isArray(g.links), `${w}: links`);
    for (const l of g.links) {
      assert.equal(typeof l.to, 'string', `${w}: link.to`);
      assert.equal(typeof l.kind, 'string', `${w}: link.kind`);
    }
  }
  for (const b of graph.bands) {
    const w = `band ${b.id}`;
    for (const k of ['id', 'name', 'primary_genre', 'genres']) assert.ok(k in b, `${w}: missing ${k}`);
    assert.match(b.id, /^[a-z0-9-]{1,50}$/, w);
    assert.ok(Array.isArray(b.genres) && b.genres.length > 0, `${w}: genres`);
  }
  assert.equal(genreById.size, graph.genres.length, 'duplicate genre ids');
  assert.equal(bandById.size, graph.bands.length, 'duplicate band ids');
});

test('graph document is consistent: parents exist, families are roots, bands point at leaves', { timeout: TEST_TIMEOUT }, () => {
  for (const g of graph.genres) {
    const w = `genre ${g.id}`;
    for (const p of g.parents) assert.ok(genreById.has(p), `${w}: parent ${p} does not exist`);
    for (const l of g.links) assert.ok(genreById.has(l.to), `${w}: link to ${l.to} does not exist`);
    if (g.type === 'root') {
      assert.equal(g.parent, null, `${w}: a root has a primary parent`);
      assert.deepEqual(g.parents, [], `${w}: a root has parents`);
      assert.equal(g.family, g.id, `${w}: a root is its own family`);
    } else {
      assert.ok(g.parents.includes(g.parent), `${w}: primary parent ${g.parent} not among parents`);
    }
    const fam = genreById.get(g.family);
    assert.ok(fam, `${w}: family ${g.family} does not exist`);
    assert.equal(fam.type, 'root', `${w}: family ${g.family} is not a root genre`);
    // The family is where the primary-parent chain ends.
    let at = g;
    for (let steps = 0; at.parent !== null; steps++) {
      assert.ok(steps < graph.genres.length, `${w}: primary-parent chain loops`);
      at = genreById.get(at.parent);
    }
    assert.equal(at.id, g.family, `${w}: family is not the end of the primary-parent chain`);
  }
  for (const b of graph.bands) {
    const w = `band ${b.id}`;
    for (const id of b.genres) assert.ok(genreById.has(id), `${w}: genre ${id} does not exist`);
    assert.ok(b.genres.includes(b.primary_genre), `${w}: primary genre not among its genres`);
    assert.equal(genreById.get(b.primary_genre).type, 'leaf', `${w}: primary genre is not a leaf`);
  }
  for (const id of ['rock', 'metal', 'death-metal', 'heavy-metal'])
    assert.ok(genreById.has(id), `the bundled dataset should have ${id}`);
});

test('graph document carries layout coordinates for every node, from the first answer on', { timeout: TEST_TIMEOUT }, () => {
  assert.equal(graph.laid_out, true, 'the background layout finished');
  for (const doc of [firstGraph, graph]) assertPlaced(doc);
});

function assertPlaced(doc) {
  const seen = new Map();
  for (const [kind, list] of [['genre', doc.genres], ['band', doc.bands]]) {
    for (const n of list) {
      const w = `${kind} ${n.id}`;
      assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${w}: no finite x/y (${n.x}, ${n.y})`);
      const key = `${n.x},${n.y}`;
      assert.ok(!seen.has(key), `${w} and ${seen.get(key)} share the point ${key}`);
      seen.set(key, w);
    }
  }
}

test('graph: ETag and If-None-Match give 304 without a body', { timeout: TEST_TIMEOUT }, async () => {
  const first = await get('/api/v1/graph', { 'accept-encoding': 'identity' });
  assert.equal(first.status, 200);
  assertJsonType(first, '/api/v1/graph');
  const etag = first.headers.etag;
  assert.match(etag || '', /^(W\/)?"[^"]+"$/, 'ETag missing or malformed');

  const again = await get('/api/v1/graph', { 'accept-encoding': 'identity' });
  assert.equal(again.headers.etag, etag, 'ETag is not stable for unchanged data');

  const cached = await get('/api/v1/graph', { 'accept-encoding': 'identity', 'if-none-match': etag });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0, '304 must not have a body');
  assert.equal(cached.headers.etag, etag, '304 repeats the ETag');
  assert.ok(cached.headers['x-request-id']);

  const inList = await get('/api/v1/graph', { 'accept-encoding': 'identity', 'if-none-match': `"nope", ${etag}` });
  assert.equal(inList.status, 304, 'an ETag inside an If-None-Match list matches');

  const other = await get('/api/v1/graph', { 'accept-encoding': 'identity', 'if-none-match': '"something-else"' });
  assert.equal(other.status, 200, 'a different ETag gets the full document');
  assert.ok(other.body.equals(first.body));
});

test('graph: gzip when asked for, same document as identity', { timeout: TEST_TIMEOUT }, async () => {
  const plain = await get('/api/v1/graph', { 'accept-encoding': 'identity' });
  assert.equal(plain.headers['content-encoding'], undefined, 'identity asked, encoding given');
  const gz = await get('/api/v1/graph', { 'accept-encoding': 'gzip' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers.vary || '', /accept-encoding/i, 'Vary: Accept-Encoding missing');
  assert.match(plain.headers.vary || '', /accept-encoding/i, 'Vary must also be on the identity response');
  assert.ok(gz.body.length < plain.body.length, 'gzip body is not smaller');
  const inflated = gunzipSync(gz.body);
  assert.ok(inflated.equals(plain.body), 'gunzipped body differs from the identity body');
  // Each representation has its own validator, and it revalidates.
  assert.ok(gz.headers.etag, 'gzip response has no ETag');
  assert.notEqual(gz.headers.etag, plain.headers.etag, 'gzip and identity share an ETag');
  const cached = await get('/api/v1/graph', { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag });
  assert.equal(cached.status, 304);

  const browser = await get('/api/v1/graph', { 'accept-encoding': 'gzip, deflate' });
  assert.equal(browser.headers['content-encoding'], 'gzip');
  const refused = await get('/api/v1/graph', { 'accept-encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 means no gzip');
  assert.ok(refused.body.equals(plain.body));
});

// ---------------------------------------------------------------- genres

test('GET /api/v1/genres lists every genre with a count', { timeout: TEST_TIMEOUT }, async () => {
  const res = await getJson('/api/v1/genres', { 'accept-encoding': 'identity' });
  assert.equal(res.status, 200);
  assertJsonType(res, '/api/v1/genres');
  assert.equal(res.json.count, res.json.genres.length);
  assert.equal(res.json.count, graph.genres.length);
  assert.deepEqual(new Set(res.json.genres.map((g) => g.id)), new Set(genreById.keys()));
  for (const g of res.json.genres) {
    const ref = genreById.get(g.id);
    assert.equal(g.name, ref.name);
    assert.equal(g.type, ref.type);
    assert.equal(g.parent, ref.parent);
    assert.deepEqual(g.parents, ref.parents);
  }
});

test('GET /api/v1/genres/{id} for every genre matches the graph document', { timeout: TEST_TIMEOUT }, async () => {
  // children = genres that list it as a parent; bands = bands that list it (primary or not).
  const children = new Map(graph.genres.map((g) => [g.id, new Set()]));
  for (const g of graph.genres) for (const p of g.parents) children.get(p).add(g.id);
  const bandsOf = new Map(graph.genres.map((g) => [g.id, new Set()]));
  for (const b of graph.bands) for (const id of b.genres) bandsOf.get(id).add(b.id);

  const ids = [...genreById.keys()];
  const results = await inBatches(ids, 50, (id) => getJson(`/api/v1/genres/${id}`));
  ids.forEach((id, i) => {
    const { status, json: d, headers } = results[i];
    const ref = genreById.get(id);
    assert.equal(status, 200, `genre ${id}`);
    assert.match(headers['content-type'], /^application\/json\b/);
    for (const k of ['id', 'name', 'type', 'parent', 'parents', 'origin_year', 'links'])
      assert.deepEqual(d[k], ref[k], `genre ${id}: ${k} differs from the graph document`);
    assert.ok('description' in d, `genre ${id}: no description`);
    assert.ok(Array.isArray(d.children) && Array.isArray(d.bands), `genre ${id}: children/bands`);
    for (const c of d.children) assert.equal(c.name, genreById.get(c.id)?.name, `genre ${id}: child ${c.id}`);
    for (const b of d.bands) assert.equal(b.name, bandById.get(b.id)?.name, `genre ${id}: band ${b.id}`);
    assert.deepEqual(new Set(d.children.map((c) => c.id)), children.get(id), `genre ${id}: children`);
    assert.deepEqual(new Set(d.bands.map((b) => b.id)), bandsOf.get(id), `genre ${id}: bands`);
  });
});

test('genre detail lists bands that have it as a secondary genre', { timeout: TEST_TIMEOUT }, async () => {
  const band = graph.bands.find((b) => b.genres.length > 1);
  assert.ok(band, 'the dataset has a band with several genres');
  const secondary = band.genres.find((g) => g !== band.primary_genre);
  const { json } = await getJson(`/api/v1/genres/${secondary}`);
  assert.ok(json.bands.some((b) => b.id === band.id), `${band.id} missing from genre ${secondary}'s bands`);
});

test('death metal: description, children and bands as a user sees them', { timeout: TEST_TIMEOUT }, async () => {
  const { status, json } = await getJson('/api/v1/genres/death-metal');
  assert.equal(status, 200);
  assert.equal(json.name, 'Death metal');
  assert.equal(typeof json.description, 'string');
  assert.ok(json.description.length > 10);
  assert.ok(json.children.length > 0, 'death metal has sub-genres');
});

test('a percent-encoded id is decoded', { timeout: TEST_TIMEOUT }, async () => {
  const { status, json } = await getJson('/api/v1/genres/death%2Dmetal');
  assert.equal(status, 200);
  assert.equal(json.id, 'death-metal');
});

// ---------------------------------------------------------------- bands

test('GET /api/v1/bands lists every band with a count', { timeout: TEST_TIMEOUT }, async () => {
  const res = await getJson('/api/v1/bands', { 'accept-encoding': 'identity' });
  assert.equal(res.status, 200);
  assertJsonType(res, '/api/v1/bands');
  assert.equal(res.json.count, res.json.bands.length);
  assert.equal(res.json.count, graph.bands.length);
  for (const b of res.json.bands) {
    const ref = bandById.get(b.id);
    for (const k of ['id', 'name', 'primary_genre', 'genres']) assert.deepEqual(b[k], ref?.[k], `band ${b.id}: ${k}`);
  }
});

test('GET /api/v1/bands/{id} matches the graph document (a sample of bands)', { timeout: TEST_TIMEOUT }, async () => {
  const ids = [...bandById.keys()].filter((_, i) => i % 5 === 0);
  const results = await inBatches(ids, 50, (id) => getJson(`/api/v1/bands/${id}`));
  ids.forEach((id, i) => {
    assert.equal(results[i].status, 200, `band ${id}`);
    const d = results[i].json;
    for (const k of ['id', 'name', 'primary_genre', 'genres'])
      assert.deepEqual(d[k], bandById.get(id)[k], `band ${id}: ${k}`);
  });
  const { json } = await getJson('/api/v1/bands/motorhead');
  assert.equal(json.name, 'Motörhead');
});

test('unknown genre and band ids: 404 problem+json', { timeout: TEST_TIMEOUT }, async () => {
  for (const path of ['/api/v1/genres/no-such-genre', '/api/v1/bands/no-such-band', '/api/v1/genres/ROCK']) {
    assertProblem(await get(path), 404, path);
  }
});

// ---------------------------------------------------------------- search

async function search(qs) {
  return getJson(`/api/v1/search?${qs}`);
}

test('search is case- and accent-insensitive', { timeout: TEST_TIMEOUT }, async () => {
  for (const [q, kind, id, name] of [
    ['motorhead', 'band', 'motorhead', 'Motörhead'],
    ['MOTORHEAD', 'band', 'motorhead', 'Motörhead'],
    ['Mot%C3%B6rhead', 'band', 'motorhead', 'Motörhead'],
    ['BJORK', 'band', 'bjork', 'Björk'],
    ['bj%C3%B6rk', 'band', 'bjork', 'Björk'],
    ['DEATH%20METAL', 'genre', 'death-metal', 'Death metal'],
    ['death+metal', 'genre', 'death-metal', 'Death metal'],
    ['%20%20death%20metal%20', 'genre', 'death-metal', 'Death metal'],
  ]) {
    const res = await search(`q=${q}`);
    assert.equal(res.status, 200, q);
    assertJsonType(res, q);
    const hit = res.json.results.find((r) => r.id === id);
    assert.deepEqual(hit && { kind: hit.kind, id: hit.id, name: hit.name }, { kind, id, name }, `q=${q}: ${JSON.stringify(res.json.results.slice(0, 5))}`);
  }
});

// Every name and alias of every entry, from the lists (the graph document has no aliases).
let keysById;
async function searchKeys() {
  if (keysById) return keysById;
  keysById = new Map();
  for (const kind of ['genres', 'bands']) {
    const list = (await getJson(`/api/v1/${kind}`)).json[kind];
    for (const x of list) keysById.set(`${kind.slice(0, -1)} ${x.id}`, [x.name, ...x.aliases]);
  }
  return keysById;
}

test('search results are real entries whose name or alias contains the query', { timeout: TEST_TIMEOUT }, async () => {
  const res = await search('q=metal&limit=50');
  assert.equal(res.status, 200);
  assert.ok(res.json.results.length > 0);
  const keys = await searchKeys();
  for (const r of res.json.results) {
    assert.deepEqual(Object.keys(r).filter((k) => k !== 'alias').sort(), ['id', 'kind', 'match', 'name']);
    assert.notEqual(r.match, 'typo', 'enough real matches: no typo looked for');
    assert.ok(r.kind === 'genre' || r.kind === 'band', `kind ${r.kind}`);
    const ref = r.kind === 'genre' ? genreById.get(r.id) : bandById.get(r.id);
    assert.ok(ref, `${r.kind} ${r.id} does not exist`);
    assert.equal(r.name, ref.name);
    if ('alias' in r) assert.ok(keys.get(`${r.kind} ${r.id}`).includes(r.alias), `${r.alias} is not an alias of ${r.id}`);
    const matched = r.alias ?? r.name;
    assert.ok(fold(matched).includes('metal'), `${matched} does not contain "metal"`);
  }
});

test('search puts prefix matches before substring matches', { timeout: TEST_TIMEOUT }, async () => {
  for (const q of ['metal', 'rock', 'punk', 'death']) {
    const res = await search(`q=${q}&limit=50`);
    const prefix = res.json.results.map((r) => fold(r.alias ?? r.name).startsWith(q));
    const firstOther = prefix.indexOf(false);
    if (firstOther >= 0)
      assert.ok(!prefix.slice(firstOther).includes(true),
        `q=${q}: a prefix match comes after a substring match: ${res.json.results.map((r) => r.name).join(', ')}`);
    const expectedPrefix = [...(await searchKeys()).values()].filter((names) => names.some((n) => fold(n).startsWith(q))).length;
    assert.ok(prefix.filter(Boolean).length === Math.min(expectedPrefix, 50),
      `q=${q}: not every prefix match is listed first`);
  }
  // An exact name is the first result.
  const exact = await search('q=metal');
  assert.equal(exact.json.results[0].id, 'metal');
});

test('search forgives spacing, punctuation and typos, and ranks equal matches by importance', { timeout: TEST_TIMEOUT }, async () => {
  for (const [q, id, match] of [
    ['hip-hop', 'hip-hop', 'exact'],
    ['hiphop', 'hip-hop', 'exact'],
    ['shoe%20gaze', 'shoegaze', 'exact'],
    ['kpop', 'k-pop', 'exact'],
    ['acdc', 'ac-dc', 'exact'],
    ['motorhed', 'motorhead', 'typo'],
  ]) {
    const res = await search(`q=${q}`);
    const first = res.json.results[0];
    assert.ok(first && first.id === id && first.match === match, `q=${q}: ${JSON.stringify(res.json.results.slice(0, 3))}`);
  }
  const metal = (await search('q=metal&limit=50')).json;
  const at = (id) => metal.results.findIndex((r) => r.id === id);
  // Among genres matched the same way, the more important first: a genre's
  // bands, twice its sub-genres and its influence links.
  const importance = (id) =>
    graph.bands.filter((x) => x.genres.includes(id)).length +
    2 * graph.genres.filter((x) => x.parents.includes(id)).length +
    graph.genres.find((x) => x.id === id).links.length;
  const words = metal.results.filter((r) => r.kind === 'genre' && r.match === 'word');
  assert.ok(words.length > 10 && at('thrash-metal') >= 0, 'many genres have a word "metal"');
  for (let i = 1; i < words.length; i++)
    assert.ok(importance(words[i - 1].id) >= importance(words[i].id), `${words[i - 1].id} before ${words[i].id}`);
  const compactKey = (n) => fold(n).replace(/[^a-z0-9\u0080-\uffff]/g, '');
  const matching = [...(await searchKeys()).values()].filter((names) => names.some((n) => compactKey(n).includes('metal')));
  assert.equal(metal.total, matching.length, 'total counts every genre and band that matches, by name or alias, once');
});

test('search limit: 20 by default, 1..50 accepted', { timeout: TEST_TIMEOUT }, async () => {
  const everything = [...graph.genres, ...graph.bands].filter((x) => fold(x.name).includes('e')).length;
  assert.ok(everything > 50, 'the dataset has more than 50 names with an "e"');
  assert.equal((await search('q=e')).json.results.length, 20);
  assert.equal((await search('q=e&limit=1')).json.results.length, 1);
  assert.equal((await search('q=e&limit=50')).json.results.length, 50);
  assert.equal((await search('q=e&limit=7')).json.results.length, 7);
  const none = await search('q=zzzzqqqq');
  assert.equal(none.status, 200);
  assert.deepEqual(none.json.results, []);
});

test('search validation errors are 400 problems naming the field', { timeout: TEST_TIMEOUT }, async () => {
  const missing = await get('/api/v1/search');
  const p = assertProblem(missing, 400, 'no q');
  assert.ok(Array.isArray(p.errors), 'errors[] missing');
  assert.ok(p.errors.some((e) => e.field === 'q' && typeof e.message === 'string'), JSON.stringify(p.errors));

  const long = await get(`/api/v1/search?q=${'a'.repeat(101)}`);
  const pl = assertProblem(long, 400, 'q of 101 chars');
  assert.ok(pl.errors?.some((e) => e.field === 'q'), 'a too long q names the field');
  assert.equal((await get(`/api/v1/search?q=${'a'.repeat(100)}`)).status, 200, '100 characters are fine');
  // The limit counts characters, not bytes: 100 × "ö" is 200 bytes.
  assert.equal((await get(`/api/v1/search?q=${'%C3%B6'.repeat(100)}`)).status, 200, '100 non-ASCII characters');

  for (const limit of ['0', '51', '-1', 'abc', '', '10x', '1.5']) {
    const res = await get(`/api/v1/search?q=rock&limit=${limit}`);
    const pp = assertProblem(res, 400, `limit=${limit}`);
    assert.ok(pp.errors?.some((e) => e.field === 'limit'), `limit=${limit}: errors name the field`);
  }
  for (const qs of ['q=%zz', 'q=%', 'q=ab%4', 'q=%ff', 'q=%C3', 'q=a%00b']) {
    assertProblem(await get(`/api/v1/search?${qs}`), 400, qs);
  }
});

// ---------------------------------------------------------------- pages

function assertPageHeaders(res, path) {
  assert.match(res.headers['content-type'] || '', /^text\/html\b/, `${path}: content-type`);
  const csp = res.headers['content-security-policy'];
  assert.ok(csp, `${path}: no Content-Security-Policy`);
  assert.ok(!csp.includes('unsafe-inline'), `${path}: CSP allows unsafe-inline`);
  assert.ok(!csp.includes('unsafe-eval'), `${path}: CSP allows unsafe-eval`);
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives['script-src'], ["'self'"], `${path}: script-src`);
  assert.deepEqual(directives['frame-ancestors'], ["'none'"], `${path}: frame-ancestors`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${path}: X-Content-Type-Options`);
  assert.ok(res.headers['referrer-policy'], `${path}: Referrer-Policy`);
  assert.ok(res.headers['x-request-id'], `${path}: X-Request-Id`);
}

function assertNoInlineScript(html, path) {
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    assert.match(m[1], /\bsrc\s*=/, `${path}: inline <script> without src`);
    assert.equal(m[2].trim(), '', `${path}: <script src> with inline content`);
  }
  assert.ok(!/\son[a-z]+\s*=/i.test(html), `${path}: inline event handler attribute`);
  assert.ok(!/javascript:/i.test(html), `${path}: javascript: URL`);
}

const decodeEntities = (s) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#0*39;|&#x0*27;|&apos;/gi, "'")
    .replace(/&amp;/g, '&');

function titleOf(html) {
  return decodeEntities(html.match(/<title>([\s\S]*?)<\/title>/i)?.[1] ?? '');
}

function metaDescription(html) {
  const m = html.match(/<meta\s+name="description"\s+content="([^"]*)"/i);
  return m ? decodeEntities(m[1]) : null;
}

test('GET / is the explorer page with strict security headers', { timeout: TEST_TIMEOUT }, async () => {
  const res = await get('/', { 'accept-encoding': 'identity' });
  assert.equal(res.status, 200);
  assertPageHeaders(res, '/');
  const html = res.body.toString('utf8');
  assert.match(html, /^<!doctype html>/i);
  assertNoInlineScript(html, '/');
  assert.ok(metaDescription(html), 'no meta description');
  assert.ok(titleOf(html).includes('musicgraph'));
});

test('GET / lists every genre as a link to its page', { timeout: TEST_TIMEOUT }, async () => {
  const html = (await get('/')).body.toString('utf8');
  const links = new Map();
  for (const m of html.matchAll(/<a href="\/genres\/([^"]+)">([^<]*)<\/a>/g)) links.set(m[1], decodeEntities(m[2]));
  assert.equal(links.get('death-metal'), 'Death metal');
  for (const g of graph.genres) assert.equal(links.get(g.id), g.name, `genre ${g.id} is not linked from /`);
});

test('the graph document is served brotli-compressed when accepted, gzip otherwise, each with its ETag', { timeout: TEST_TIMEOUT }, async (t) => {
  const plain = await get('/api/v1/graph', { 'accept-encoding': 'identity' });
  // The brotli form is made after the snapshot is published, in the
  // background (no write waits for it): gzip until then.
  let br;
  for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 100))) {
    br = await get('/api/v1/graph', { 'accept-encoding': 'gzip, deflate, br' });
    if (br.headers['content-encoding'] !== 'gzip' || Date.now() > deadline) break;
  }
  const gz = await get('/api/v1/graph', { 'accept-encoding': 'gzip, br;q=0' });
  assert.equal(br.headers['content-encoding'], 'br', 'brotli preferred');
  assert.equal(gz.headers['content-encoding'], 'gzip', 'br;q=0 is refused');
  assert.ok(brotliDecompressSync(br.body).equals(plain.body), 'brotli inflates to the same bytes');
  assert.ok(gunzipSync(gz.body).equals(plain.body));
  assert.match(br.headers.vary || '', /Accept-Encoding/);
  assert.notEqual(br.headers.etag, gz.headers.etag);
  assert.notEqual(br.headers.etag, plain.headers.etag);
  assert.equal((await get('/api/v1/graph', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag })).status, 304);
  assert.equal((await get('/api/v1/graph', { 'accept-encoding': 'brotli' })).headers['content-encoding'], undefined, 'a longer token is not br');
  assert.ok(br.body.length < gz.body.length, `brotli ${br.body.length} < gzip ${gz.body.length} bytes`);
  t.diagnostic(`graph document: ${plain.body.length} bytes, gzip ${gz.body.length}, brotli ${br.body.length} (${Math.round((1 - br.body.length / gz.body.length) * 100)}% less than gzip)`);
});

test('GET / is gzip-compressed when asked for and revalidates with its ETag', { timeout: TEST_TIMEOUT }, async () => {
  const plain = await get('/', { 'accept-encoding': 'identity' });
  const gz = await get('/', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(gz.body).equals(plain.body));
  assertPageHeaders(gz, '/ (gzip)');
  assert.ok(plain.headers.etag);
  const cached = await get('/', { 'accept-encoding': 'identity', 'if-none-match': plain.headers.etag });
  assert.equal(cached.status, 304);
});

test('assets referenced by the page are served immutable with the right type', { timeout: TEST_TIMEOUT }, async () => {
  const html = (await get('/')).body.toString('utf8');
  const urls = [...new Set([...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]))];
  assert.ok(urls.some((u) => u.endsWith('.js')), 'the page loads a script asset');
  assert.ok(urls.some((u) => u.endsWith('.css')), 'the page loads a stylesheet asset');
  const types = { js: /^(text|application)\/javascript\b/, css: /^text\/css\b/, svg: /^image\/svg\+xml/, png: /^image\/png/ };
  for (const url of urls) {
    assert.match(url, /^\/assets\/[A-Za-z0-9_.-]+\.[0-9a-f]{6,}\.[a-z.]+$|^\/assets\/[A-Za-z0-9_-]+\.[0-9a-f]{6,}\./, `${url}: no hash in the name`);
    const res = await get(url, { 'accept-encoding': 'identity' });
    assert.equal(res.status, 200, url);
    assert.ok(res.body.length > 0, `${url}: empty`);
    assert.match(res.headers['cache-control'] || '', /immutable/, `${url}: Cache-Control`);
    assert.match(res.headers['cache-control'] || '', /max-age=\d{7,}/, `${url}: long max-age`);
    const ext = url.split('.').pop();
    if (types[ext]) assert.match(res.headers['content-type'] || '', types[ext], `${url}: content-type`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    // A wrong hash (an old release's name) is a 404.
    const wrong = url.replace(/\.([0-9a-f]{6,})\./, (_, h) => `.${h === '00000000' ? '11111111' : '00000000'}.`);
    assert.notEqual(wrong, url);
    const miss = await get(wrong);
    assert.equal(miss.status, 404, `${wrong}: a wrong hash must be 404`);
    assert.doesNotMatch(miss.headers['cache-control'] || '', /immutable/, `${wrong}: a 404 must not be cached for ever`);
  }
  // The unhashed name is not served either.
  assert.equal((await get('/assets/app.js')).status, 404);
});

test('the UI is ES modules importing each other by hashed name, each preloaded by the page', { timeout: TEST_TIMEOUT }, async () => {
  {
    const html = (await get('/')).body.toString('utf8');
    const entry = [...html.matchAll(/<script type="module" src="(\/assets\/[^"]+)"><\/script>/g)].map((m) => m[1]);
    assert.equal(entry.length, 1, 'one module entry point');
    const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="(\/assets\/[^"]+)">/g)].map((m) => m[1]));
    // Walk the import graph from the entry: every import is a hashed sibling
    // that is served, and every module reached is preloaded by the page.
    const seen = new Set();
    const queue = [...entry];
    while (queue.length) {
      const url = queue.pop();
      if (seen.has(url)) continue;
      seen.add(url);
      const mod = await get(url, { 'accept-encoding': 'identity' });
      assert.equal(mod.status, 200, url);
      assert.match(mod.headers['content-type'], /^text\/javascript/);
      for (const m of mod.body.toString('utf8').matchAll(/^import [^;]*? from '([^']+)';$/gm)) {
        assert.match(m[1], /^\.\/[a-z0-9-]+\.[0-9a-f]{8}\.js$/, `${url} imports ${m[1]} by its hashed name`);
        queue.push('/assets/' + m[1].slice(2));
      }
    }
    assert.ok(seen.size > 3, `the explorer is several modules (${seen.size})`);
    for (const url of seen) if (!entry.includes(url)) assert.ok(preloaded.has(url), `${url} is preloaded`);
    assert.equal(preloaded.size, seen.size - 1, 'nothing else is preloaded');
  }
});

test('genre pages carry the genre name in the title and a description', { timeout: TEST_TIMEOUT }, async () => {
  const { json: d } = await getJson('/api/v1/genres/death-metal');
  const res = await get('/genres/death-metal');
  assert.equal(res.status, 200);
  assertPageHeaders(res, '/genres/death-metal');
  const html = res.body.toString('utf8');
  assertNoInlineScript(html, '/genres/death-metal');
  assert.ok(titleOf(html).includes('Death metal'), `title: ${titleOf(html)}`);
  const desc = metaDescription(html);
  assert.ok(desc && desc.length > 0, 'no meta description');
  assert.ok(desc.includes(d.description) || desc.includes('Death metal'), `meta description: ${desc}`);
});

test('band pages carry the band name in the title', { timeout: TEST_TIMEOUT }, async () => {
  const res = await get('/bands/motorhead');
  assert.equal(res.status, 200);
  assertPageHeaders(res, '/bands/motorhead');
  const html = res.body.toString('utf8');
  assertNoInlineScript(html, '/bands/motorhead');
  assert.ok(titleOf(html).includes('Motörhead'), `title: ${titleOf(html)}`);
  assert.ok(metaDescription(html)?.includes('Motörhead'));
});

test('a sample of genre and band pages answer 200 with their own title', { timeout: TEST_TIMEOUT }, async () => {
  const paths = [
    ...graph.genres.filter((_, i) => i % 4 === 0).map((g) => [`/genres/${g.id}`, g.name]),
    ...graph.bands.filter((_, i) => i % 25 === 0).map((b) => [`/bands/${b.id}`, b.name]),
  ];
  const results = await inBatches(paths, 50, ([p]) => get(p));
  paths.forEach(([p, name], k) => {
    assert.equal(results[k].status, 200, p);
    assert.ok(titleOf(results[k].body.toString('utf8')).includes(name), `${p}: title lacks ${name}`);
  });
});

test('unknown genre and band pages are 404 but still the HTML explorer', { timeout: TEST_TIMEOUT }, async () => {
  for (const path of ['/genres/no-such-genre', '/bands/no-such-band']) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    assertPageHeaders(res, path);
    const html = res.body.toString('utf8');
    assert.match(html, /^<!doctype html>/i, `${path}: not HTML`);
    assertNoInlineScript(html, path);
  }
});

// ---------------------------------------------------------------- common HTTP behaviour

test('every response carries X-Request-Id; a sane client id is echoed', { timeout: TEST_TIMEOUT }, async () => {
  const seen = new Set();
  for (const path of ['/healthz', '/api/v1/graph', '/api/v1/genres/nope', '/nope', '/', '/api/v1/search']) {
    const res = await get(path);
    const id = res.headers['x-request-id'];
    assert.match(id || '', /^[A-Za-z0-9._-]{8,64}$/, `${path}: X-Request-Id ${id}`);
    assert.ok(!seen.has(id), 'generated request ids repeat');
    seen.add(id);
  }
  const post = await request('POST', '/api/v1/graph');
  assert.ok(post.headers['x-request-id'], '405 without X-Request-Id');

  for (const sane of ['abc-123', 'req_42.a', 'A1B2C3D4E5F6']) {
    const res = await get('/healthz', { 'x-request-id': sane });
    assert.equal(res.headers['x-request-id'], sane, `sane id ${sane} not echoed`);
  }
  const problem = await get('/api/v1/genres/nope', { 'x-request-id': 'trace-me-1' });
  assert.equal(problem.headers['x-request-id'], 'trace-me-1');
});

test('an insane client X-Request-Id is replaced', { timeout: TEST_TIMEOUT }, async () => {
  for (const insane of ['x'.repeat(200), 'a b', '<script>', 'id;drop', 'é-utf8', '"quoted"', '']) {
    const res = await get('/healthz', { 'x-request-id': insane });
    const id = res.headers['x-request-id'];
    assert.ok(id, `no X-Request-Id for ${JSON.stringify(insane)}`);
    assert.notEqual(id, insane, `insane id ${JSON.stringify(insane.slice(0, 20))} echoed`);
    assert.match(id, /^[A-Za-z0-9._-]{8,64}$/);
  }
});

test('problem documents repeat the request id a user can quote', { timeout: TEST_TIMEOUT }, async () => {
  const res = await get('/api/v1/genres/nope', { 'x-request-id': 'quote-me' });
  const p = assertProblem(res, 404, '/api/v1/genres/nope');
  if ('request_id' in p) assert.equal(p.request_id, 'quote-me');
});

test('wrong method: 405 with an Allow header', { timeout: TEST_TIMEOUT }, async () => {
  for (const [method, path] of [
    // Read-only resources (genres and bands get write methods later).
    ['POST', '/api/v1/graph'],
    ['DELETE', '/api/v1/graph'],
    ['PUT', '/healthz'],
    ['POST', '/'],
    ['PATCH', '/api/v1/search?q=rock'],
    ['PUT', '/genres/rock'],
  ]) {
    const res = await request(method, path);
    assertProblem(res, 405, `${method} ${path}`);
    const allow = (res.headers.allow || '').split(',').map((s) => s.trim());
    assert.ok(allow.includes('GET'), `${method} ${path}: Allow is ${res.headers.allow}`);
    assert.ok(!allow.includes(method), `${method} ${path}: Allow lists the refused method`);
  }
});

test('unknown routes: 404 problem+json', { timeout: TEST_TIMEOUT }, async () => {
  for (const path of ['/nope', '/api/v1/nope', '/api/v2/graph', '/api/v1/genres/rock/extra', '/api/v1/graph/x',
    '/a/b/c/d/e/f/g/h/i/j/k']) {
    assertProblem(await get(path), 404, path);
  }
});

test('HEAD answers like GET without a body', { timeout: TEST_TIMEOUT }, async () => {
  for (const path of ['/healthz', '/api/v1/graph', '/api/v1/genres/rock', '/api/v1/search?q=rock', '/',
    '/genres/rock', '/api/v1/genres/nope', '/genres/nope']) {
    const g = await get(path, { 'accept-encoding': 'identity' });
    const h = await request('HEAD', path, { 'accept-encoding': 'identity' });
    assert.equal(h.status, g.status, `HEAD ${path}: status`);
    assert.equal(h.body.length, 0, `HEAD ${path}: has a body`);
    for (const k of ['content-type', 'etag', 'cache-control', 'content-security-policy', 'x-content-type-options',
      'vary', 'content-encoding'])
      assert.equal(h.headers[k], g.headers[k], `HEAD ${path}: ${k}`);
    if (h.headers['content-length'] !== undefined)
      assert.equal(h.headers['content-length'], g.headers['content-length'], `HEAD ${path}: content-length`);
    assert.ok(h.headers['x-request-id'], `HEAD ${path}: X-Request-Id`);
  }
  const gz = await request('HEAD', '/api/v1/graph', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.body.length, 0);
});

test('the graph document is the same through fetch (what the explorer does)', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(`${server.url}/api/v1/graph`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), graph);
});

test('the server exits 0 on SIGTERM', { timeout: TEST_TIMEOUT }, async () => {
  const code = await server.stop();
  server = null;
  assert.equal(code, 0);
});
