// Dataset format 2 over HTTP and the CLI: old ids answer 301 to the new one
// (pages and API, query kept), search finds entries by their aliases, the
// read documents carry the new fields, the admin API edits and checks them
// (and keeps them when a body leaves them out), exports carry them, and seed
// reads the family files, a directory of them, or a format-1 document.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli, startServer } from '../lib/server.mjs';

const TEST_TIMEOUT = 120000;
const ADMIN = { username: 'admin', password: 'aliases-admin-pass-1' };
let srv;
let session;

before(async () => {
  srv = await startServer({ env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password }, args: ['--shutdown-timeout', '1'] });
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(res.status, 200);
  session = { cookie: res.headers.get('set-cookie').split(';')[0], csrf: (await res.json()).csrf_token };
});
after(async () => assert.equal(await srv.stop(), 0));

const raw = (path, init = {}) => fetch(`${srv.url}${path}`, { redirect: 'manual', ...init });
const json = async (path) => {
  const res = await raw(path);
  assert.equal(res.status, 200, path);
  return res.json();
};
const send = (method, path, body) => raw(path, {
  method,
  headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const search = async (q) => (await json(`/api/v1/search?q=${encodeURIComponent(q)}`)).results;

test('former band ids answer 301 to the current id, for pages and the API, query kept', { timeout: TEST_TIMEOUT }, async () => {
  const cases = [
    ['/bands/bar-s-manco', '/bands/baris-manco'],
    ['/bands/as-k-veysel?from=search&x=%C3%A7', '/bands/asik-veysel?from=search&x=%C3%A7'],
    ['/api/v1/bands/ibrahim-tatl-ses', '/api/v1/bands/ibrahim-tatlises'],
    ['/api/v1/bands/bar-s-manco?pretty=1', '/api/v1/bands/baris-manco?pretty=1'],
    ['/api/v1/bands/as-k-veysel/similar?limit=3', '/api/v1/bands/asik-veysel/similar?limit=3'],
  ];
  for (const [from, to] of cases) {
    const res = await raw(from);
    assert.equal(res.status, 301, from);
    assert.equal(res.headers.get('location'), to, from);
    assert.ok(res.headers.get('x-request-id'));
    // The target answers, and an old deep link followed by a browser lands on the entry.
    const followed = await fetch(`${srv.url}${from}`);
    assert.equal(followed.status, 200, `${from} followed`);
  }
  const band = await json('/api/v1/bands/baris-manco');
  assert.equal(band.name, 'Barış Manço');
  assert.deepEqual(band.former_ids, ['bar-s-manco']);
  // Unknown ids stay 404; a current id is never redirected.
  assert.equal((await raw('/bands/no-such-band')).status, 404);
  assert.equal((await raw('/api/v1/bands/no-such-band')).status, 404);
  assert.equal((await raw('/api/v1/bands/baris-manco')).status, 200);
});

test('a genre created with a former id takes over the old links', { timeout: TEST_TIMEOUT }, async () => {
  const created = await send('POST', '/api/v1/genres', {
    id: 'test-new-wave-of-x', name: 'Test new wave of X', type: 'leaf', parents: ['metal'],
    former_ids: ['test-old-x'], aliases: ['NWOX'], region: 'Nowhere', origin_year: 2020,
  });
  assert.equal(created.status, 201, await created.clone().text());
  for (const [from, to] of [
    ['/genres/test-old-x', '/genres/test-new-wave-of-x'],
    ['/api/v1/genres/test-old-x?a=1&b=2', '/api/v1/genres/test-new-wave-of-x?a=1&b=2'],
    ['/api/v1/genres/test-old-x/related', '/api/v1/genres/test-new-wave-of-x/related'],
  ]) {
    const res = await raw(from);
    assert.equal(res.status, 301, from);
    assert.equal(res.headers.get('location'), to);
  }
  // A former id cannot be reused as an id, nor claimed twice.
  const clash = await send('POST', '/api/v1/genres', { id: 'test-old-x', name: 'Clash', type: 'leaf', parents: ['metal'] });
  assert.equal(clash.status, 400);
  assert.match(JSON.stringify(await clash.json()), /former id/);
  const twice = await send('POST', '/api/v1/genres', { name: 'Twice', type: 'leaf', parents: ['metal'], former_ids: ['test-old-x'] });
  assert.equal(twice.status, 400);
  assert.match(JSON.stringify(await twice.json()), /already a former id of genre test-new-wave-of-x/);
  assert.equal((await send('DELETE', '/api/v1/genres/test-new-wave-of-x')).status, 200);
  assert.equal((await raw('/genres/test-old-x')).status, 404, 'a deleted genre takes its former ids with it');
});

test('search finds entries by their aliases, once each, and says which alias matched', { timeout: TEST_TIMEOUT }, async () => {
  const first = async (q, kind, id) => {
    const r = await search(q);
    assert.ok(r.length > 0, `q=${q}: no results`);
    assert.equal(`${r[0].kind} ${r[0].id}`, `${kind} ${id}`, `q=${q}: ${JSON.stringify(r.slice(0, 3))}`);
    return r;
  };
  // "hiphop" is also the name with its space ignored: at equal rank the name wins, and no alias is named.
  let r = await first('hiphop', 'genre', 'hip-hop');
  assert.equal(r[0].name, 'Hip hop');
  assert.ok(!('alias' in r[0]), JSON.stringify(r[0]));
  await first('hip-hop', 'genre', 'hip-hop');
  r = await first('rap', 'genre', 'hip-hop');
  assert.equal(r[0].alias, 'rap');
  await first('dnb', 'genre', 'drum-and-bass');
  await first('kpop', 'genre', 'k-pop');
  await first('acdc', 'band', 'ac-dc');
  await first('Tupac', 'band', '2pac');
  await first('Oum Kalthoum', 'band', 'umm-kulthum');
  r = await search('rnb');
  assert.ok(r.some((x) => x.id === 'contemporary-r-and-b'), JSON.stringify(r));
  // "hip hop" matches the name and several aliases of one genre: it is listed once.
  r = await search('hip hop');
  assert.equal(r.filter((x) => x.kind === 'genre' && x.id === 'hip-hop').length, 1);
  // A match on the name carries no alias.
  r = await first('Metallica', 'band', 'metallica');
  assert.ok(!('alias' in r[0]));
});

test('the read documents carry the format-2 and format-3 fields', { timeout: TEST_TIMEOUT }, async () => {
  const g = await json('/api/v1/genres/thrash-metal');
  for (const k of ['aliases', 'former_ids', 'region', 'defining']) assert.ok(k in g, `genre detail lacks ${k}`);
  assert.equal(g.defining[0], 'metallica');
  assert.ok(g.defining.length <= 5);
  assert.match(g.region, /United States/);
  const b = await json('/api/v1/bands/black-sabbath');
  assert.equal(b.country, 'GB');
  assert.equal(b.active_from, 1968);
  assert.equal(b.type, 'group');
  assert.equal((await json('/api/v1/bands/ozzy-osbourne')).type, 'person');
  assert.ok(Array.isArray(b.aliases) && Array.isArray(b.former_ids));
  // The graph document adds the cheap fields, not the aliases.
  const graph = await json('/api/v1/graph');
  const gg = graph.genres.find((x) => x.id === 'thrash-metal');
  assert.deepEqual(gg.defining, g.defining);
  assert.equal(gg.region, g.region);
  assert.ok(!('aliases' in gg));
  const gb = graph.bands.find((x) => x.id === 'black-sabbath');
  assert.equal(gb.country, 'GB');
  assert.equal(gb.active_from, 1968);
  assert.equal(gb.type, 'group');
  // Every bundled artist says whether it is a person or a group, but for a few the curators left open.
  const unknown = graph.bands.filter((x) => x.type === null);
  assert.ok(graph.bands.every((x) => ['person', 'group', null].includes(x.type)));
  assert.ok(unknown.length < graph.bands.length / 100, `${unknown.length} artists without a type`);
});

test('the admin API checks the new fields, one message per field', { timeout: TEST_TIMEOUT }, async () => {
  const bad = async (body, field, re) => {
    const res = await send('POST', '/api/v1/bands', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const p = await res.json();
    assert.ok(p.errors.some((e) => e.field === field && re.test(e.message)), `${field}: ${JSON.stringify(p.errors)}`);
  };
  const band = { name: 'Test Band Fields', primary_genre: 'thrash-metal', genres: ['thrash-metal'] };
  await bad({ ...band, country: 'USA' }, 'country', /ISO 3166-1/);
  await bad({ ...band, country: 'us' }, 'country', /ISO 3166-1/);
  await bad({ ...band, active_from: 999 }, 'active_from', /between 1000 and 2100/);
  await bad({ ...band, active_from: '1990' }, 'active_from', /year/);
  await bad({ ...band, type: 'band' }, 'type', /"person", "group" or null/);
  await bad({ ...band, type: ['person'] }, 'type', /"person", "group" or null/);
  await bad({ ...band, aliases: ['TBF', 'tbf'] }, 'aliases', /listed twice/);
  await bad({ ...band, aliases: ['Test band fields'] }, 'aliases', /name itself/);
  await bad({ ...band, aliases: 'TBF' }, 'aliases', /array of names/);
  await bad({ ...band, former_ids: ['metallica'] }, 'former_ids', /id of another band/);
  await bad({ ...band, former_ids: ['Not An Id'] }, 'former_ids', /not a valid id/);
  const genre = { name: 'Test Genre Fields', type: 'leaf', parents: ['thrash-metal-revival'] };
  const g = await send('POST', '/api/v1/genres', { ...genre, defining: ['no-such-band'] });
  assert.equal(g.status, 400);
  assert.match(JSON.stringify(await g.json()), /the band 'no-such-band' does not exist/);
  const g2 = await send('POST', '/api/v1/genres', { ...genre, defining: ['a', 'b', 'c', 'd', 'e', 'f'] });
  assert.equal(g2.status, 400);
  assert.match(JSON.stringify(await g2.json()), /at most 5 defining bands/);
});

test('an update keeps the new fields its body leaves out; deleting a band leaves the lists it defined', { timeout: TEST_TIMEOUT }, async () => {
  const b = await send('POST', '/api/v1/bands', {
    id: 'test-defining-band', name: 'Test Defining Band', primary_genre: 'slam-death-metal', genres: ['slam-death-metal'],
    aliases: ['TDB'], country: 'SE', active_from: 2001, type: 'group',
  });
  assert.equal(b.status, 201, await b.clone().text());
  const slam = await json('/api/v1/genres/slam-death-metal');
  const g = await send('PUT', '/api/v1/genres/slam-death-metal', {
    ...Object.fromEntries(['name', 'type', 'parent', 'parents', 'description', 'origin_year', 'links'].map((k) => [k, slam[k]])),
    defining: ['test-defining-band', ...slam.defining.slice(0, 4)],
  });
  assert.equal(g.status, 200, await g.clone().text());
  // An editor that knows nothing of aliases saves the band: they stay.
  const put = await send('PUT', '/api/v1/bands/test-defining-band', {
    name: 'Test Defining Band (renamed)', primary_genre: 'slam-death-metal', genres: ['slam-death-metal', 'brutal-death-metal'],
  });
  assert.equal(put.status, 200, await put.clone().text());
  const after1 = await json('/api/v1/bands/test-defining-band');
  assert.equal(after1.name, 'Test Defining Band (renamed)');
  assert.deepEqual(after1.aliases, ['TDB']);
  assert.equal(after1.country, 'SE');
  assert.equal(after1.active_from, 2001);
  assert.equal(after1.type, 'group');
  // Explicit values replace them; null clears.
  const put2 = await send('PUT', '/api/v1/bands/test-defining-band', {
    name: 'Test Defining Band', primary_genre: 'slam-death-metal', genres: ['slam-death-metal'], aliases: [], country: null,
    type: 'person',
  });
  assert.equal(put2.status, 200);
  const after2 = await json('/api/v1/bands/test-defining-band');
  assert.deepEqual(after2.aliases, []);
  assert.equal(after2.country, null);
  assert.equal(after2.active_from, 2001);
  assert.equal(after2.type, 'person');
  // A band cannot be tagged away from a genre it defines.
  const away = await send('PUT', '/api/v1/bands/test-defining-band', { name: 'x', primary_genre: 'grindcore', genres: ['grindcore'] });
  assert.equal(away.status, 400);
  assert.match(JSON.stringify(await away.json()), /genre slam-death-metal.*does not list this genre/);
  // Deleting it takes it off the genre's defining list, and says so.
  const del = await send('DELETE', '/api/v1/bands/test-defining-band');
  assert.equal(del.status, 200);
  assert.deepEqual((await del.json()).unlinked, { genres: ['slam-death-metal'] });
  assert.deepEqual((await json('/api/v1/genres/slam-death-metal')).defining, slam.defining.slice(0, 4));
});

test('seed reads the bundled families, a directory of them, a format-1 file; export writes format 3', { timeout: TEST_TIMEOUT }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-seed-'));
  let r = await runCli(['seed', '--file', join(repoRoot, 'data', 'families'), '--state-dir', join(dir, 'a')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /seeded \d{4} genres and \d{4} bands from .*families/);
  const exported = await runCli(['export', '--state-dir', join(dir, 'a')]);
  assert.equal(exported.code, 0, exported.stderr);
  const payload = JSON.parse(exported.stdout.slice(exported.stdout.indexOf('"payload":') + 10, -2));
  assert.equal(payload.dataset.format_version, 3);
  const baris = payload.dataset.bands.find((b) => b.id === 'baris-manco');
  assert.deepEqual(baris.former_ids, ['bar-s-manco']);
  assert.equal(baris.country, 'TR');
  assert.equal(baris.type, 'person');
  assert.equal(payload.dataset.bands.find((b) => b.id === 'metallica').type, 'group');
  assert.ok(payload.dataset.genres.find((g) => g.id === 'hip-hop').aliases.includes('hiphop'));
  // One family file alone refers to genres of other families: refused, naming the file and the entry.
  r = await runCli(['seed', '--file', join(repoRoot, 'data', 'families', 'metal.json'), '--state-dir', join(dir, 'b')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /metal\.json breaks \d+ rules?:\n\s+genre \S+: \S+: /);
  // A format-1 document (no aliases, no countries) is still read.
  const v1 = join(dir, 'v1.json');
  writeFileSync(v1, JSON.stringify({ format: 'musicgraph-dataset', format_version: 1, genres: [
    { id: 'rock', name: 'Rock', type: 'root', parent: null, parents: [], description: null, origin_year: 1950, links: [] },
    { id: 'grunge', name: 'Grunge', type: 'leaf', parent: 'rock', parents: ['rock'], description: null, origin_year: null, links: [] },
  ], bands: [{ id: 'nirvana', name: 'Nirvana', primary_genre: 'grunge', genres: ['grunge'] }] }));
  r = await runCli(['seed', '--file', v1, '--state-dir', join(dir, 'c')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /seeded 2 genres and 1 bands/);
});
