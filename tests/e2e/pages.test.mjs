// Pages without JavaScript: /genres/{id}, /bands/{id} and /search?q= carry
// the panel's content as HTML written by the server (src/api/infobox.c),
// every name escaped, every relation a plain link; what crawlers and link
// previews read too.
import { after, before, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

async function page(path, status = 200) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, status, path);
  assert.match(res.headers.get('content-security-policy') || '', /script-src 'self'/);
  return res.text();
}

const json = async (path) => (await fetch(server.url + path)).json();
const panelOf = (html) => {
  const m = /<aside id="panel"([^>]*)>([\s\S]*?)<\/aside>/.exec(html);
  assert.ok(m, 'the page has the panel');
  return { open: !/\bhidden\b/.test(m[1]), html: m[2] };
};
const links = (html, kind) => [...html.matchAll(new RegExp(`<a href="/${kind}s/([a-z0-9-]+)" data-kind="${kind}"`, 'g'))].map((m) => m[1]);

test('a genre page carries its panel: family and decade in words, each relation once, every band', async () => {
  const id = 'contemporary-r-and-b';
  const g = await json('/api/v1/genres/' + id);
  const graph = await json('/api/v1/graph');
  const family = graph.genres.find((x) => x.id === g.family);
  const { open, html } = panelOf(await page('/genres/' + id));
  assert.ok(open, 'the panel is shown');
  assert.match(html, /<h2 id="panel-title"[^>]*>Contemporary R&amp;B<\/h2>/, 'the name, escaped');
  assert.ok(html.includes(`${family.name} family`), 'the family in words');
  assert.ok(html.includes(`in the ${Math.floor(g.origin_year / 10) * 10}s`), 'the decade in words');
  assert.ok(html.includes(g.description.replace(/&/g, '&amp;')), 'the description');
  const genres = links(html.split('<section class="panel-section bands"')[0], 'genre');
  for (const p of g.parents) assert.ok(genres.includes(p), `origin ${p} linked`);
  const once = genres.slice(1); // the family link comes first and may repeat as an origin
  assert.equal(new Set(once).size, once.length, 'each genre once in the sections');
  assert.deepEqual(links(html, 'band').sort(), g.bands.map((b) => b.id).sort(), 'every band linked');
  assert.doesNotMatch(html, /\b(ROOT|LEAF)\b|badge/, 'no type jargon');
});

test('a band page carries its genres, similar bands and searches elsewhere', async () => {
  const b = await json('/api/v1/bands/bjork');
  const similar = (await json('/api/v1/bands/bjork/similar?limit=8')).similar;
  const { open, html } = panelOf(await page('/bands/bjork'));
  assert.ok(open);
  assert.match(html, /<h2 id="panel-title"[^>]*>Björk<\/h2>/);
  assert.match(html, /id="panel-kind"><span class="kind">Solo artist · Pop family</, 'a person, in words');
  assert.match(panelOf(await page('/bands/metallica')).html, /id="panel-kind"><span class="kind">Group · Metal family</, 'a group');
  assert.deepEqual(links(html, 'genre'), [b.primary_genre, ...b.genres.filter((x) => x !== b.primary_genre)], 'the genres, primary first');
  assert.deepEqual(links(html, 'band'), similar.map((x) => x.id), 'the similar bands');
  for (const site of ['musicbrainz.org', 'en.wikipedia.org', 'bandcamp.com', 'www.youtube.com']) {
    assert.match(html, new RegExp(`<a rel="noopener noreferrer" href="https://${site.replace(/\./g, '\\.')}/[^"]*Bj%C3%B6rk"`), site);
  }
});

test('the home page has the panel empty and hidden; an unknown id is a 404 with the map', async () => {
  assert.equal(panelOf(await page('/')).open, false);
  assert.equal(panelOf(await page('/genres/no-such-genre', 404)).open, false);
});

test('/search?q= lists the matches as links, genres then bands, the query escaped', async () => {
  const api = (await json('/api/v1/search?q=metal&limit=50')).results;
  const { open, html } = panelOf(await page('/search?q=metal'));
  assert.ok(open);
  const [genrePart, bandPart = ''] = html.split('<h3>Artists');
  assert.deepEqual(links(genrePart, 'genre'), api.filter((r) => r.kind === 'genre').map((r) => r.id));
  assert.deepEqual(links(bandPart, 'band'), api.filter((r) => r.kind === 'band').map((r) => r.id));
  const hostile = await page('/search?q=' + encodeURIComponent('<script>alert(1)</script>'));
  assert.ok(hostile.includes('Search: &lt;script&gt;alert(1)&lt;/script&gt;'), 'the query is text');
  assert.doesNotMatch(hostile, /<script>alert/);
  assert.match(panelOf(hostile).html, /No genre or artist matches/);
  await page('/search?q=' + 'x'.repeat(101), 400);
  // The search box works without JavaScript: a form to this page.
  assert.match(await page('/'), /<form class="search" id="search" action="\/search" method="get" role="search">/);
});
