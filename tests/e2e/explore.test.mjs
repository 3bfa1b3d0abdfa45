// Exploration over HTTP: path between genres, related genres, similar bands,
// the layout in the graph document, genre page metadata — and their bad
// parameters.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--shutdown-timeout', '1'] });
});
after(async () => assert.equal(await srv.stop(), 0));

const getJson = async (path) => {
  const res = await fetch(`${srv.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
};

test('path: a shortest path over parent and influence links, each step with its relation', async () => {
  const { status, body } = await getJson('/api/v1/path?from=grindcore&to=blues');
  assert.equal(status, 200);
  assert.equal(body.found, true);
  assert.equal(body.from.id, 'grindcore');
  assert.equal(body.to.id, 'blues');
  assert.ok(body.steps.length >= 2);
  assert.equal(body.steps[0].from.id, 'grindcore');
  assert.equal(body.steps.at(-1).to.id, 'blues');
  for (let i = 1; i < body.steps.length; i++) assert.equal(body.steps[i].from.id, body.steps[i - 1].to.id, 'steps chain');
  for (const s of body.steps) assert.ok(['parent', 'child', 'influenced', 'influenced_by'].includes(s.relation));
  // Each step is a real link in the graph document.
  const graph = (await getJson('/api/v1/graph')).body;
  const genres = new Map(graph.genres.map((g) => [g.id, g]));
  for (const s of body.steps) {
    const a = genres.get(s.from.id), b = genres.get(s.to.id);
    const ok = {
      parent: () => a.parents.includes(b.id),
      child: () => b.parents.includes(a.id),
      influenced: () => a.links.some((l) => l.to === b.id),
      influenced_by: () => b.links.some((l) => l.to === a.id),
    }[s.relation]();
    assert.ok(ok, `${s.from.id} ${s.relation} ${s.to.id}`);
  }
  const same = await getJson('/api/v1/path?from=rock&to=rock');
  assert.equal(same.body.found, true);
  assert.deepEqual(same.body.steps, []);
});

test('path: bad parameters', async () => {
  for (const q of ['', '?from=rock', '?to=rock', '?from=&to=rock', '?from=%zz&to=rock']) {
    const r = await getJson(`/api/v1/path${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.type, 'application/problem+json');
  }
  const unknown = await getJson('/api/v1/path?from=rock&to=no-such-genre');
  assert.equal(unknown.status, 404);
});

test('related genres: parents, children, siblings and influences, ranked, never itself', async () => {
  const { status, body } = await getJson('/api/v1/genres/grindcore/related?limit=10');
  assert.equal(status, 200);
  assert.ok(body.related.length > 0 && body.related.length <= 10);
  assert.ok(!body.related.some((r) => r.id === 'grindcore'));
  const ids = body.related.map((r) => r.id);
  assert.ok(ids.includes('death-metal') && ids.includes('hardcore-punk'), 'both parents are related');
  for (let i = 1; i < body.related.length; i++) assert.ok(body.related[i - 1].score >= body.related[i].score);
  for (const r of body.related) assert.ok(r.relations.length > 0);
  assert.equal((await getJson('/api/v1/genres/no-such/related')).status, 404);
  for (const q of ['?limit=0', '?limit=101', '?limit=x', '?limit=']) assert.equal((await getJson(`/api/v1/genres/rock/related${q}`)).status, 400, q);
});

test('similar bands: ranked by shared genres, with the genres they share', async () => {
  const { status, body } = await getJson('/api/v1/bands/pantera/similar?limit=5');
  assert.equal(status, 200);
  assert.equal(body.similar.length, 5);
  const pantera = (await getJson('/api/v1/bands/pantera')).body;
  for (const s of body.similar) {
    assert.notEqual(s.id, 'pantera');
    assert.ok(s.shared.length > 0);
    for (const g of s.shared) assert.ok(pantera.genres.includes(g));
  }
  for (let i = 1; i < body.similar.length; i++) assert.ok(body.similar[i - 1].score >= body.similar[i].score);
  assert.equal((await getJson('/api/v1/bands/no-such/similar')).status, 404);
  assert.equal((await getJson('/api/v1/bands/pantera/similar?limit=-1')).status, 400);
});

// Issue 16: with richer tags the similar lists of well-known artists read as a
// music fan expects: mostly artists of the same family, and the obvious
// neighbours among them (the bundled dataset, as seeded).
test('similar bands of well-known artists: their own family first, the obvious neighbours among them', async () => {
  const families = new Map();
  const familyOf = async (genre) => {
    if (!families.has(genre)) {
      let g = (await getJson(`/api/v1/genres/${genre}`)).body;
      while (g.parent) g = (await getJson(`/api/v1/genres/${g.parent}`)).body;
      families.set(genre, g.id);
    }
    return families.get(genre);
  };
  const cases = {
    metallica: ['megadeth', 'slayer', 'exodus', 'anthrax', 'kreator'],
    'miles-davis': ['john-coltrane', 'bill-evans'],
    'daft-punk': ['justice', 'cassius', 'thomas-bangalter', 'modjo'],
    'johnny-cash': ['waylon-jennings', 'david-allan-coe'],
    'fela-kuti': ['femi-kuti', 'tony-allen', 'seun-kuti'],
    nirvana: ['pearl-jam', 'mudhoney', 'stone-temple-pilots'],
    'bob-marley-and-the-wailers': ['peter-tosh', 'bunny-wailer', 'burning-spear'],
  };
  for (const [id, neighbours] of Object.entries(cases)) {
    const band = (await getJson(`/api/v1/bands/${id}`)).body;
    const family = await familyOf(band.primary_genre);
    const { status, body } = await getJson(`/api/v1/bands/${id}/similar?limit=10`);
    assert.equal(status, 200, id);
    const ids = body.similar.map((s) => s.id);
    assert.ok(neighbours.some((n) => ids.includes(n)), `${id}: one of ${neighbours} among ${ids}`);
    let same = 0;
    for (const s of body.similar.slice(0, 5)) {
      if ((await familyOf((await getJson(`/api/v1/bands/${s.id}`)).body.primary_genre)) === family) same++;
    }
    assert.ok(same >= 4, `${id}: ${same} of the first 5 similar bands in ${family}: ${ids.slice(0, 5)}`);
  }
  // Radiohead: the band member's solo work is among its neighbours.
  assert.ok((await getJson('/api/v1/bands/radiohead/similar?limit=10')).body.similar.some((s) => s.id === 'thom-yorke'));
});

test('search ranks exact and prefix matches first and ignores accents', async () => {
  const r = (await getJson('/api/v1/search?q=METAL')).body.results;
  assert.equal(r[0].id, 'metal', 'the exact match first');
  // A result found by an alias names it (MF Doom is found as "Metal Face"): the matched text counts.
  const matched = (x) => (x.alias ?? x.name).toLowerCase();
  const prefixEnd = r.findIndex((x) => !matched(x).startsWith('metal'));
  assert.ok(prefixEnd > 1);
  assert.ok(r.slice(prefixEnd).every((x) => !matched(x).startsWith('metal') && !x.name.toLowerCase().startsWith('metal')),
    'prefix matches come before the rest');
  assert.equal((await getJson('/api/v1/search?q=motorhead')).body.results[0].name, 'Motörhead');
  assert.equal((await getJson('/api/v1/search?q=bjork')).body.results[0].name, 'Björk');
  assert.equal((await getJson('/api/v1/search?q=sigur%20ros')).body.results[0].name, 'Sigur Rós');
});

test('the graph document carries layout coordinates once the background layout is done', async () => {
  const end = Date.now() + 30000;
  let graph;
  do {
    graph = (await getJson('/api/v1/graph')).body;
    if (graph.genres.every((g) => Number.isFinite(g.x) && Number.isFinite(g.y))) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < end);
  for (const g of graph.genres) assert.ok(Number.isFinite(g.x) && Number.isFinite(g.y), g.id);
  for (const b of graph.bands) assert.ok(Number.isFinite(b.x) && Number.isFinite(b.y), b.id);
  const points = new Set(graph.genres.map((g) => `${g.x},${g.y}`));
  assert.equal(points.size, graph.genres.length, 'no two genres at the same point');
});

test('genre pages carry their own title and description for link previews', async () => {
  const res = await fetch(`${srv.url}/genres/grindcore`);
  const html = await res.text();
  assert.match(html, /<title>Grindcore — musicgraph<\/title>/);
  const detail = (await getJson('/api/v1/genres/grindcore')).body;
  const escaped = detail.description.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;');
  assert.ok(html.includes(`content="${escaped}"`), 'the description meta tag holds the genre description');
});
