// Browser tests of the explorer (web/*.js, web/index.html, web/style.css):
// the map drawn, genres and bands opened by a click, the panel's links.
//
// Each file starts its own musicgraph (bundled map) and Chromium; the files
// are split so that each finishes well within the test runner's per-file
// time on a loaded machine. Run one: node --test tests/browser/FILE
// (needs build/musicgraph, or MUSICGRAPH_BIN).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import {
  BG, api, assertBandInView, assertClean, clickNode, colourDistance, decodePng, env, genreName, graphState, hexRgb, listNames, nodePoint, offCentre, openPage, panelState, startExplorer, stopExplorer, waitIdle, waitPanel,
} from '../lib/explorer.mjs';

before(startExplorer);
after(stopExplorer);

describe('explorer: the map', { timeout: 1_200_000 }, () => {
  test('the page is served with the genre index for readers without JavaScript', async () => {
    const res = await fetch(env.server.url + '/');
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'/);
    const html = await res.text();
    assert.match(html, /<nav id="genre-index"/);
    const links = html.match(/<li><a href="\/genres\/[a-z0-9-]+">/g) || [];
    assert.equal(links.length, env.graphDoc.genres.length, 'one index link per genre');
    assert.doesNotMatch(html, /@@[A-Z_]+(:[^@]*)?@@/, 'no placeholder left unreplaced');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle="|\son[a-z]+="/, 'no inline style or event handler');
  });

  test('draws every genre as a node and the WebGL canvas shows them', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const g = await graphState(page);
    assert.equal(g.genres.length, env.graphDoc.genres.length, 'one node per genre');
    assert.equal(g.bands.length, 0, 'bands are hidden until a genre is clicked');
    for (const n of g.genres) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${n.id} has a position`);
    const distinct = new Set(g.genres.map((n) => `${Math.round(n.x)},${Math.round(n.y)}`));
    assert.ok(distinct.size > g.genres.length * 0.95, 'genres are spread out, not stacked');

    // Sizes by type, colours by family.
    const byId = new Map(g.genres.map((n) => [n.id, n]));
    const sizeOf = (type) => new Set(env.graphDoc.genres.filter((x) => x.type === type).map((x) => byId.get(x.id).size));
    const [root, mid, leaf] = ['root', 'intermediate', 'leaf'].map(sizeOf);
    assert.ok(Math.min(...root) > Math.max(...mid) && Math.min(...mid) > Math.max(...leaf), 'root > intermediate > leaf');
    const familyColour = new Map();
    for (const x of env.graphDoc.genres) {
      const c = byId.get(x.id).color;
      if (!familyColour.has(x.family)) familyColour.set(x.family, c);
      assert.equal(c, familyColour.get(x.family), `${x.id} has its family's colour`);
    }
    assert.equal(new Set(familyColour.values()).size, familyColour.size, 'each family has its own colour');

    // Edges: one per parent link; influence links drawn as their own kind.
    const parentEdges = g.edges.filter((e) => e.relation === 'parent' || e.relation === 'parent2');
    assert.equal(parentEdges.length, env.graphDoc.genres.reduce((s, x) => s + x.parents.length, 0));
    assert.ok(g.edges.some((e) => e.relation === 'influence'), 'influence links are drawn');

    // The pixels: the canvas is not blank, and a root genre's disc is drawn in
    // its colour exactly where sigma places it.
    const shot = decodePng(await page.locator('#graph').screenshot());
    let lit = 0;
    for (let y = 0; y < shot.height; y += 2) {
      for (let x = 0; x < shot.width; x += 2) if (colourDistance(shot.px(x, y), BG) > 40) lit++;
    }
    assert.ok(lit > 500, `the map has drawn pixels (${lit})`);
    const box = await page.locator('#graph').boundingBox();
    for (const rootGenre of env.graphDoc.genres.filter((x) => x.type === 'root').slice(0, 4)) {
      const p = await nodePoint(page, 'g:' + rootGenre.id);
      const px = shot.px(Math.round(p.x - box.x), Math.round(p.y - box.y));
      assert.ok(
        colourDistance(px, hexRgb(byId.get(rootGenre.id).color)) < 40,
        `pixel at ${rootGenre.id} is its colour ${byId.get(rootGenre.id).color}, got rgb(${px})`,
      );
    }
    assertClean(problems);
  });

  test('genre positions sent by the server are used, only stretched to the screen', async (t) => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const placed = new Map();
    await page.route('**/api/v1/graph', async (route) => {
      const doc = await (await route.fetch()).json();
      doc.genres.forEach((g, i) => {
        g.x = (i % 15) * 40 - 300;
        g.y = Math.floor(i / 15) * 40 - 250;
        placed.set(g.id, [g.x, g.y]);
      });
      await route.fulfill({ json: doc });
    });
    await page.goto(env.server.url + '/');
    await waitIdle(page);
    const g = await graphState(page);
    assert.equal(g.genres.length, placed.size);
    // One factor per axis for every node (the map is stretched to fill the
    // screen, at most 1.8 times), nothing moved on its own.
    const k = { x: null, y: null };
    for (const n of g.genres) {
      const [x, y] = placed.get(n.id);
      for (const [axis, server, drawn] of [['x', x, n.x], ['y', y, n.y]]) {
        if (server === 0) {
          assert.equal(drawn, 0);
          continue;
        }
        k[axis] ??= drawn / server;
        assert.ok(Math.abs(drawn / server - k[axis]) < 1e-9, `${n.id} kept the server's ${axis} (times ${k[axis]})`);
      }
    }
    assert.ok(Math.min(k.x, k.y) === 1 && Math.max(k.x, k.y) <= 1.8, `stretch ${k.x}, ${k.y}`);
    await clickNode(page, 'g:grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    assert.ok((await graphState(page)).bands.length > 0, 'bands still expand');
    assert.deepEqual(errors, []);
  });

  test('clicking a genre shows its bands and opens the panel; clicking it again collapses', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const detail = await api('/api/v1/genres/thrash-metal');
    assert.ok(detail.bands.length > 0);

    await clickNode(page, 'g:thrash-metal');
    await waitPanel(page, 'genre', 'thrash-metal');
    const panel = await panelState(page);
    assert.equal(panel.title, detail.name);
    assert.equal(panel.path, '/genres/thrash-metal');
    assert.match(panel.text, new RegExp(detail.description.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const decade = detail.origin_year === null ? 'unknown' : `${Math.floor(detail.origin_year / 10) * 10}s`;
    assert.ok(panel.text.includes(decade), `origin decade ${decade}`);

    const g = await graphState(page);
    assert.deepEqual(g.bands.map((b) => b.id).sort(), detail.bands.map((b) => b.id).sort(), 'exactly its bands are shown');
    for (const b of g.bands) {
      assert.ok(g.edges.some((e) => e.source === b.key && e.target === 'g:thrash-metal'), `${b.id} is linked to the genre`);
      const off = await offCentre(page, b.key);
      assert.ok(off.inside, `${b.id} is on screen`);
    }
    // Every name in the list is drawn whole where it can be read: none cut at the edge of the map
    // or under the panel (the widest column used to push its longest names off the left edge).
    const names = await listNames(page);
    assert.deepEqual(names.map((n) => n.key).sort(), g.bands.map((b) => b.key).sort(), 'every band of the list carries its name');
    for (const n of names) assert.ok(n.x0 >= 0 && n.x1 <= n.panelLeft, `${n.key}: its name is clear of the edge and the panel (${Math.round(n.x0)}–${Math.round(n.x1)} px, panel at ${Math.round(n.panelLeft)})`);
    // The band dots are painted (white-ish discs where sigma puts them).
    const shot = decodePng(await page.locator('#graph').screenshot());
    const box = await page.locator('#graph').boundingBox();
    const first = await nodePoint(page, g.bands[0].key);
    const px = shot.px(Math.round(first.x - box.x), Math.round(first.y - box.y));
    assert.ok(Math.min(...px) > 150, `band disc painted at ${g.bands[0].id}, got rgb(${px})`);

    // The panel lists the bands as links (its defining artists, also named above them, aside);
    // a long list (thrash metal has more than the panel shows at first) opens fully on request.
    const more = page.locator('#panel section.bands button');
    if (await more.count()) {
      assert.equal((await more.textContent()).trim(), `Show all ${detail.bands.length}`);
      await more.click();
    }
    const bandLinks = await page.$$eval('#panel section.bands a[data-kind="band"]', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(bandLinks.sort(), detail.bands.map((b) => '/bands/' + b.id).sort());

    await clickNode(page, 'g:thrash-metal');
    const closed = await panelState(page);
    assert.equal(closed.hidden, true, 'panel closed');
    assert.equal(closed.path, '/');
    assert.equal((await graphState(page)).bands.length, 0, 'bands collapsed');
    assertClean(problems);
  });

  test('a list too long to fit beside its genre is drawn in one block under or over it, every name whole', async (t) => {
    // Soul's 72 bands do not fit left and right of the genre at 1280x800 with the panel open;
    // split there, a third of such a list's names fell off the screen.
    const { page, problems } = await openPage(t, '/');
    const detail = await api('/api/v1/genres/soul');
    assert.ok(detail.bands.length >= 60, `soul has ${detail.bands.length} bands`);
    await page.evaluate(() => window.musicgraph.select('genre', 'soul', { push: true }));
    await waitPanel(page, 'genre', 'soul');
    const g = await graphState(page);
    assert.equal(g.bands.length, detail.bands.length);
    assert.equal(g.more.length, 0, 'the whole list is on the map');
    const genre = await nodePoint(page, 'g:soul');
    const ys = await Promise.all(g.bands.map(async (b) => (await nodePoint(page, b.key)).y));
    assert.ok(ys.every((y) => y > genre.y) || ys.every((y) => y < genre.y), 'every band is under the genre, or every band over it');
    const names = await listNames(page);
    assert.deepEqual(names.map((n) => n.key).sort(), g.bands.map((b) => b.key).sort(), 'every band of the list carries its name');
    for (const n of names) assert.ok(n.x0 >= 0 && n.x1 <= n.panelLeft && n.y0 >= 0 && n.y1 <= n.barTop, `${n.key}: its name is on screen, clear of the panel and the view bar`);
    assertClean(problems);
  });

  test('a list longer than the screen shows its first bands and how many more the panel lists; the rest is one click away', async (t) => {
    // Hard rock has 180 bands: at a readable row height they need more than one screen. Squeezed onto
    // one, sigma dropped the labels of half of them.
    const { page, problems } = await openPage(t, '/genres/hard-rock');
    const detail = await api('/api/v1/genres/hard-rock');
    const all = detail.bands.length;
    assert.ok(all >= 150, `hard rock has ${all} bands`);
    await waitPanel(page, 'genre', 'hard-rock');
    const g = await graphState(page);
    assert.ok(g.bands.length >= 60 && g.bands.length < all, `${g.bands.length} of ${all} bands on the map`);
    assert.equal(g.more.length, 1, 'one last row for the rest');
    assert.equal(g.more[0].label, `+${all - g.bands.length} more in the list`);
    // The map keeps the first of the panel's order: the defining artists, then the best known.
    const order = await page.$$eval('#panel .panel-section.bands a[data-kind="band"]', (as) => as.map((a) => a.dataset.id));
    const shown = new Set(g.bands.map((b) => b.id));
    assert.ok(order.slice(0, 40).every((id) => shown.has(id)), 'the first 40 bands of the panel are on the map');
    const listed = new Set(detail.bands.map((b) => b.id));
    for (const id of detail.defining.filter((d) => listed.has(d))) assert.ok(shown.has(id), `defining artist ${id} is on the map`);
    const names = await listNames(page);
    assert.equal(names.length, g.bands.length, 'every band on the map carries its name');
    for (const n of names) assert.ok(n.x0 >= 0 && n.x1 <= n.panelLeft && n.y0 >= 0 && n.y1 <= n.barTop, `${n.key}: its name is on screen, clear of the panel and the view bar`);
    const genre = await nodePoint(page, 'g:hard-rock');
    const barTop = await page.$eval('#era-bar', (e) => e.getBoundingClientRect().top);
    assert.ok(genre.y < barTop, 'the genre is not under the view bar');

    // The last row opens the whole list in the panel, at the first band the map does not show.
    await clickNode(page, 'm:more');
    await page.waitForFunction(() => document.activeElement?.dataset?.kind === 'band');
    const focused = await page.evaluate(() => document.activeElement.dataset.id);
    const whole = await page.$$eval('#panel .panel-section.bands a[data-kind="band"]', (as) => as.map((x) => x.dataset.id));
    assert.equal(whole.length, all, 'the panel lists every band');
    assert.ok(!shown.has(focused), `${focused}, focused, is one the map leaves to the panel`);
    assert.equal(focused, whole.find((id) => !shown.has(id)), 'the first band of the panel the map does not show');
    assert.equal((await panelState(page)).id, 'hard-rock', 'the genre stays open');

    // A band of the rest, once selected, is on the map, in its genre's list.
    await page.click(`#panel a[data-kind="band"][data-id="${focused}"]`);
    await waitPanel(page, 'band', focused);
    const after = await graphState(page);
    assert.ok(after.bands.some((b) => b.id === focused), `${focused} is drawn once selected`);
    assertClean(problems);
  });

  test('clicking another genre moves the bands there; the close button and Escape close the panel', async (t) => {
    const { page, problems } = await openPage(t, '/');
    await clickNode(page, 'g:thrash-metal');
    await waitPanel(page, 'genre', 'thrash-metal');
    const grind = await api('/api/v1/genres/grindcore');
    await page.evaluate(() => window.musicgraph.select('genre', 'grindcore', { push: true }));
    await waitPanel(page, 'genre', 'grindcore');
    let g = await graphState(page);
    assert.deepEqual(g.bands.map((b) => b.id).sort(), grind.bands.map((b) => b.id).sort());

    await page.click('#panel-close');
    assert.equal((await panelState(page)).hidden, true);
    assert.equal((await graphState(page)).bands.length, 0);
    assert.equal(new URL(page.url()).pathname, '/');

    await clickNode(page, 'g:grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    await page.keyboard.press('Escape');
    assert.equal((await panelState(page)).hidden, true);
    g = await graphState(page);
    assert.equal(g.bands.length, 0);
    assertClean(problems);
  });

  test('every name in the panel is a link that focuses its node', async (t) => {
    const { page, problems } = await openPage(t, '/genres/grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    const grind = await api('/api/v1/genres/grindcore');
    assert.ok(grind.parents.length >= 2, 'grindcore has several parents in the dataset');

    // Primary parent, all parents, children and bands are real links.
    const hrefs = await page.$$eval('#panel a', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.includes('/genres/' + grind.parent), 'primary parent linked');
    for (const p of grind.parents) assert.ok(hrefs.includes('/genres/' + p), `parent ${p} linked`);
    for (const b of grind.bands) assert.ok(hrefs.includes('/bands/' + b.id), `band ${b.id} linked`);

    // Parent link: focuses the parent without reloading the page.
    await page.evaluate(() => (window.__noReload = true));
    const other = grind.parents.find((p) => p !== grind.parent);
    await page.click(`#panel .panel-section a[href="/genres/${other}"]`);
    await waitPanel(page, 'genre', other);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'no page reload');
    assert.equal(new URL(page.url()).pathname, '/genres/' + other);
    assert.equal((await panelState(page)).title, genreName(other));
    let off = await offCentre(page, 'g:' + other);
    assert.ok(off.inside && Math.abs(off.dx) < 40 && Math.abs(off.dy) < 40, `camera moved to ${other} (${Math.round(off.dx)},${Math.round(off.dy)})`);

    // Band link: focuses the band, its genre expanded.
    const otherDetail = await api('/api/v1/genres/' + other);
    assert.ok(otherDetail.bands.length > 0, `the dataset lists bands under ${other}`);
    const band = otherDetail.bands[0];
    await page.click(`#panel a[href="/bands/${band.id}"]`);
    await waitPanel(page, 'band', band.id);
    assert.equal((await panelState(page)).title, band.name);
    await assertBandInView(page, band.id);

    // Band panel: primary genre and all genres are links too.
    const bandDoc = await api('/api/v1/bands/' + band.id);
    const bandHrefs = await page.$$eval('#panel a', (as) => as.map((a) => a.getAttribute('href')));
    for (const gid of bandDoc.genres) assert.ok(bandHrefs.includes('/genres/' + gid), `genre ${gid} linked`);
    await page.click(`#panel .facts a[href="/genres/${bandDoc.primary_genre}"]`);
    await waitPanel(page, 'genre', bandDoc.primary_genre);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'still no reload');
    assertClean(problems);
  });
});
