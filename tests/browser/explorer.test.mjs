// Browser tests of the explorer (web/index.html, web/app.js, web/style.css)
// against the real musicgraph binary with the bundled dataset, in Debian's
// headless Chromium (WebGL through SwiftShader).
//
// Everything is asserted the way a user would see it: pixels on the WebGL
// canvas, nodes where sigma says they are, the panel's text, the URL, the
// history, the layout at phone width. Every page also fails its test on a
// console error, an uncaught exception or a Content-Security-Policy
// violation.
//
// Run: node --test tests/browser/   (needs build/musicgraph, or MUSICGRAPH_BIN)
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.mjs';

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];
const BG = [0x0f, 0x13, 0x1a];

let server;
let browser;
let graphDoc;

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // The server lays the map out in the background after it starts (seconds
  // under ASan on a loaded machine); until then the graph has no positions
  // and the page places nodes itself, then moves them when the layout lands.
  // Pixel and click tests want the final map: wait for it.
  const deadline = Date.now() + 120_000;
  for (;;) {
    graphDoc = await api('/api/v1/graph');
    if (graphDoc.genres.every((g) => Number.isFinite(g.x) && Number.isFinite(g.y))) break;
    assert.ok(Date.now() < deadline, 'the server laid the map out within 2 minutes');
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/* ---------- helpers ---------- */

async function api(path) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

const genreName = (id) => graphDoc.genres.find((g) => g.id === id).name;

// A fresh context per test (own history, cache, storage). `problems` collects
// console errors, page errors, CSP violations and dialogs (an alert() would
// mean injected script ran).
async function openPage(t, path, { width = 1280, height = 800, expectStatus = 200 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  t.after(async () => {
    await context.close();
  });
  const res = await page.goto(server.url + path);
  assert.equal(res.status(), expectStatus, `status of ${path}`);
  await waitIdle(page);
  return { page, problems };
}

function assertClean(problems) {
  assert.deepEqual(problems, [], 'no console errors, page errors, CSP violations or dialogs');
}

// Graph drawn and the camera at rest.
async function waitIdle(page) {
  await page.waitForFunction(() => document.body.dataset.graphReady === '1' && !document.body.dataset.cameraMoving, null, {
    timeout: 15000,
  });
  // One more frame so sigma has painted the final camera state.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function waitPanel(page, kind, id) {
  await page.waitForFunction(
    ([k, i]) => {
      const p = document.getElementById('panel');
      return !p.hidden && p.dataset.kind === k && p.dataset.id === i && p.dataset.loaded === '1';
    },
    [kind, id],
    { timeout: 10000 },
  );
  await waitIdle(page);
}

// Page coordinates of a node, from sigma's own graph -> viewport transform.
async function nodePoint(page, key) {
  return page.evaluate((k) => {
    const { sigma, graph } = window.musicgraph;
    if (!graph.hasNode(k)) return null;
    const a = graph.getNodeAttributes(k);
    const v = sigma.graphToViewport({ x: a.x, y: a.y });
    const r = sigma.getContainer().getBoundingClientRect();
    return { x: r.left + v.x, y: r.top + v.y };
  }, key);
}

async function clickNode(page, key) {
  await waitIdle(page);
  const p = await nodePoint(page, key);
  assert.ok(p, `node ${key} is in the graph`);
  const onMap = await page.evaluate(({ x, y }) => {
    const el = document.elementFromPoint(x, y);
    return !!el && document.getElementById('graph').contains(el);
  }, p);
  assert.ok(onMap, `node ${key} at ${Math.round(p.x)},${Math.round(p.y)} is visible on the map, not under an overlay`);
  await page.mouse.click(p.x, p.y);
  // sigma turns two clicks within 300 ms into a double click.
  await page.waitForTimeout(350);
  await waitIdle(page);
}

async function graphState(page) {
  return page.evaluate(() => {
    const { graph } = window.musicgraph;
    const out = { genres: [], bands: [], edges: [] };
    graph.forEachNode((key, a) => {
      (a.kind === 'genre' ? out.genres : out.bands).push({ key, id: a.id, x: a.x, y: a.y, size: a.size, color: a.color, level: a.level });
    });
    graph.forEachEdge((key, a, s, t) => out.edges.push({ key, source: s, target: t, relation: a.relation }));
    return out;
  });
}

async function panelState(page) {
  return page.evaluate(() => {
    const p = document.getElementById('panel');
    return {
      hidden: p.hidden,
      kind: p.dataset.kind || null,
      id: p.dataset.id || null,
      title: document.getElementById('panel-title').textContent,
      text: p.innerText,
      path: location.pathname,
    };
  });
}

// Where a focused node sits relative to the centre of the part of the map the
// panel does not cover. A genre is framed together with its band list, so
// for genres the centre of that group is measured (`group`), and `inside`
// tells whether the node itself is visible.
async function offCentre(page, key) {
  return page.evaluate((k) => {
    const { sigma, graph } = window.musicgraph;
    const view = (n) => {
      const a = graph.getNodeAttributes(n);
      return sigma.graphToViewport({ x: a.x, y: a.y });
    };
    const v = view(k);
    const pts = [v];
    if (graph.getNodeAttribute(k, 'kind') === 'genre') {
      graph.forEachNeighbor(k, (n, a) => {
        if (a.kind === 'band') pts.push(view(n));
      });
    }
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    const gx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const gy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const c = sigma.getContainer().getBoundingClientRect();
    const panel = document.getElementById('panel');
    let w = c.width;
    let h = c.height;
    if (!panel.hidden) {
      const p = panel.getBoundingClientRect();
      if (p.left > c.left + c.width / 3) w = p.left - c.left;
      else h = p.top - c.top;
    }
    return { dx: gx - w / 2, dy: gy - h / 2, inside: v.x >= 0 && v.y >= 0 && v.x <= w && v.y <= h };
  }, key);
}

// Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium writes).
function decodePng(buf) {
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'PNG bit depth');
      assert.equal(data[12], 0, 'PNG not interlaced');
      channels = { 2: 3, 6: 4 }[data[9]];
      assert.ok(channels, `PNG colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 3);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let add = 0;
      if (f === 1) add = a;
      else if (f === 2) add = b;
      else if (f === 3) add = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + add) & 255;
    }
    for (let x = 0; x < width; x++) line.copy(out, (y * width + x) * 3, x * channels, x * channels + 3);
    prev = line;
  }
  return { width, height, px: (x, y) => [...out.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)] };
}

const hexRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const colourDistance = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/* ---------- tests ---------- */

describe('explorer', () => {
  test('the page is served with the genre index for readers without JavaScript', async () => {
    const res = await fetch(server.url + '/');
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'/);
    const html = await res.text();
    assert.match(html, /<nav id="genre-index"/);
    const links = html.match(/<li><a href="\/genres\/[a-z0-9-]+">/g) || [];
    assert.equal(links.length, graphDoc.genres.length, 'one index link per genre');
    assert.doesNotMatch(html, /@@[A-Z_]+(:[^@]*)?@@/, 'no placeholder left unreplaced');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle="|\son[a-z]+="/, 'no inline style or event handler');
  });

  test('draws every genre as a node and the WebGL canvas shows them', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const g = await graphState(page);
    assert.equal(g.genres.length, graphDoc.genres.length, 'one node per genre');
    assert.equal(g.bands.length, 0, 'bands are hidden until a genre is clicked');
    for (const n of g.genres) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${n.id} has a position`);
    const distinct = new Set(g.genres.map((n) => `${Math.round(n.x)},${Math.round(n.y)}`));
    assert.ok(distinct.size > g.genres.length * 0.95, 'genres are spread out, not stacked');

    // Sizes by type, colours by family.
    const byId = new Map(g.genres.map((n) => [n.id, n]));
    const sizeOf = (type) => new Set(graphDoc.genres.filter((x) => x.type === type).map((x) => byId.get(x.id).size));
    const [root, mid, leaf] = ['root', 'intermediate', 'leaf'].map(sizeOf);
    assert.ok(Math.min(...root) > Math.max(...mid) && Math.min(...mid) > Math.max(...leaf), 'root > intermediate > leaf');
    const familyColour = new Map();
    for (const x of graphDoc.genres) {
      const c = byId.get(x.id).color;
      if (!familyColour.has(x.family)) familyColour.set(x.family, c);
      assert.equal(c, familyColour.get(x.family), `${x.id} has its family's colour`);
    }
    assert.equal(new Set(familyColour.values()).size, familyColour.size, 'each family has its own colour');

    // Edges: one per parent link; influence links drawn as their own kind.
    const parentEdges = g.edges.filter((e) => e.relation === 'parent' || e.relation === 'parent2');
    assert.equal(parentEdges.length, graphDoc.genres.reduce((s, x) => s + x.parents.length, 0));
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
    for (const rootGenre of graphDoc.genres.filter((x) => x.type === 'root').slice(0, 4)) {
      const p = await nodePoint(page, 'g:' + rootGenre.id);
      const px = shot.px(Math.round(p.x - box.x), Math.round(p.y - box.y));
      assert.ok(
        colourDistance(px, hexRgb(byId.get(rootGenre.id).color)) < 40,
        `pixel at ${rootGenre.id} is its colour ${byId.get(rootGenre.id).color}, got rgb(${px})`,
      );
    }
    assertClean(problems);
  });

  test('genre positions sent by the server are used as they are', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
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
    await page.goto(server.url + '/');
    await waitIdle(page);
    const g = await graphState(page);
    assert.equal(g.genres.length, placed.size);
    for (const n of g.genres) assert.deepEqual([n.x, n.y], placed.get(n.id), `${n.id} kept the server's position`);
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
    // The band dots are painted (white-ish discs where sigma puts them).
    const shot = decodePng(await page.locator('#graph').screenshot());
    const box = await page.locator('#graph').boundingBox();
    const first = await nodePoint(page, g.bands[0].key);
    const px = shot.px(Math.round(first.x - box.x), Math.round(first.y - box.y));
    assert.ok(Math.min(...px) > 150, `band disc painted at ${g.bands[0].id}, got rgb(${px})`);

    // The panel lists the bands as links.
    const bandLinks = await page.$$eval('#panel a[data-kind="band"]', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(bandLinks.sort(), detail.bands.map((b) => '/bands/' + b.id).sort());

    await clickNode(page, 'g:thrash-metal');
    const closed = await panelState(page);
    assert.equal(closed.hidden, true, 'panel closed');
    assert.equal(closed.path, '/');
    assert.equal((await graphState(page)).bands.length, 0, 'bands collapsed');
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
    off = await offCentre(page, 'b:' + band.id);
    assert.ok(off.inside && Math.abs(off.dx) < 60 && Math.abs(off.dy) < 60, `camera on ${band.id}`);

    // Band panel: primary genre and all genres are links too.
    const bandDoc = await api('/api/v1/bands/' + band.id);
    const bandHrefs = await page.$$eval('#panel a', (as) => as.map((a) => a.getAttribute('href')));
    for (const gid of bandDoc.genres) assert.ok(bandHrefs.includes('/genres/' + gid), `genre ${gid} linked`);
    await page.click(`#panel .facts a[href="/genres/${bandDoc.primary_genre}"]`);
    await waitPanel(page, 'genre', bandDoc.primary_genre);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'still no reload');
    assertClean(problems);
  });

  test('search suggests genres and bands; keyboard and mouse pick one and focus it', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const input = page.getByRole('combobox', { name: 'Search genres and bands' });

    // Accent-insensitive: "motorhead" finds Motörhead; arrows + Enter pick it.
    await input.fill('motorhead');
    const option = page.getByRole('option', { name: /Motörhead/ });
    await option.waitFor();
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    await input.press('ArrowDown');
    assert.equal(await option.getAttribute('aria-selected'), 'true');
    assert.equal(await input.getAttribute('aria-activedescendant'), await option.getAttribute('id'));
    await input.press('Enter');
    await waitPanel(page, 'band', 'motorhead');
    assert.equal((await panelState(page)).title, 'Motörhead');
    assert.equal(new URL(page.url()).pathname, '/bands/motorhead');
    assert.ok(await nodePoint(page, 'b:motorhead'), 'the band node is shown');
    assert.equal(await page.locator('#search-results').isHidden(), true, 'suggestions closed');

    // Mouse: a genre.
    await input.fill('grind');
    const grind = page.getByRole('option', { name: new RegExp(genreName('grindcore')) });
    await grind.click();
    await waitPanel(page, 'genre', 'grindcore');
    const off = await offCentre(page, 'g:grindcore');
    assert.ok(off.inside, 'grindcore is on screen');

    // Björk by its plain spelling, Enter straight away takes the top hit.
    await input.fill('bjork');
    await page.getByRole('option', { name: /Björk/ }).waitFor();
    await input.press('Enter');
    await waitPanel(page, 'band', 'bjork');

    // Nothing found says so.
    await input.fill('zzzzqqq');
    await page.getByText('No genre or band matches.').waitFor();
    assertClean(problems);
  });

  test('deep links /genres/death-metal and /bands/pantera open focused and survive reload', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal');
    const dm = await api('/api/v1/genres/death-metal');
    for (let round = 0; round < 2; round++) {
      await waitPanel(page, 'genre', 'death-metal');
      const panel = await panelState(page);
      assert.equal(panel.title, dm.name);
      const g = await graphState(page);
      assert.deepEqual(g.bands.map((b) => b.id).sort(), dm.bands.map((b) => b.id).sort(), 'its bands are expanded');
      const off = await offCentre(page, 'g:death-metal');
      assert.ok(off.inside && Math.abs(off.dx) < 40 && Math.abs(off.dy) < 40, 'focused on death metal and its bands');
      if (round === 0) {
        await page.reload();
        await waitIdle(page);
      }
    }
    assert.match(await page.title(), new RegExp(dm.name));

    const pantera = await api('/api/v1/bands/pantera');
    await page.goto(server.url + '/bands/pantera');
    for (let round = 0; round < 2; round++) {
      await waitPanel(page, 'band', 'pantera');
      assert.equal((await panelState(page)).title, pantera.name);
      const g = await graphState(page);
      assert.ok(
        g.edges.some((e) => e.source === 'b:pantera' && e.target === 'g:' + pantera.primary_genre),
        'the primary genre is expanded with the band',
      );
      const off = await offCentre(page, 'b:pantera');
      assert.ok(off.inside && Math.abs(off.dx) < 60 && Math.abs(off.dy) < 60, 'focused on pantera');
      if (round === 0) {
        await page.reload();
        await waitIdle(page);
      }
    }
    assertClean(problems);
  });

  test('an unknown id says so and shows the map', async (t) => {
    const { page } = await openPage(t, '/genres/no-such-genre', { expectStatus: 404 });
    await page.getByText(/No genre with the id/).waitFor();
    assert.equal((await panelState(page)).hidden, true);
    assert.equal((await graphState(page)).genres.length, graphDoc.genres.length);
  });

  test('back and forward restore the focus', async (t) => {
    const { page, problems } = await openPage(t, '/');
    await clickNode(page, 'g:death-metal');
    await waitPanel(page, 'genre', 'death-metal');
    await page.click('#panel a[href="/genres/grindcore"]');
    await waitPanel(page, 'genre', 'grindcore');
    await page.click('#panel a[data-kind="band"]');
    const bandId = await page.evaluate(() => document.getElementById('panel').dataset.id);
    await waitPanel(page, 'band', bandId);

    await page.goBack();
    await waitPanel(page, 'genre', 'grindcore');
    assert.equal(new URL(page.url()).pathname, '/genres/grindcore');
    await page.goBack();
    await waitPanel(page, 'genre', 'death-metal');
    let off = await offCentre(page, 'g:death-metal');
    assert.ok(off.inside, 'camera back on death metal');
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('panel').hidden);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal((await graphState(page)).bands.length, 0, 'home: nothing expanded');

    await page.goForward();
    await waitPanel(page, 'genre', 'death-metal');
    await page.goForward();
    await waitPanel(page, 'genre', 'grindcore');
    await page.goForward();
    await waitPanel(page, 'band', bandId);
    off = await offCentre(page, 'b:' + bandId);
    assert.ok(off.inside, 'camera forward on the band');
    assertClean(problems);
  });

  test('the genre index links focus genres without a reload', async (t) => {
    const { page, problems } = await openPage(t, '/');
    assert.equal(await page.locator('#genre-index li').count(), graphDoc.genres.length);
    await page.evaluate(() => (window.__noReload = true));
    await page.click('#genre-index summary');
    await page.click('#genre-index a[href="/genres/rock"]');
    await waitPanel(page, 'genre', 'rock');
    assert.equal(await page.evaluate(() => window.__noReload), true);
    assert.equal(await page.locator('#genre-index details').getAttribute('open'), null, 'index folds away');
    assertClean(problems);
  });

  test('at 360 px: no horizontal scroll, the panel is a bottom sheet, search reachable', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal', { width: 360, height: 740 });
    await waitPanel(page, 'genre', 'death-metal');
    const layout = await page.evaluate(() => {
      const r = (id) => document.getElementById(id).getBoundingClientRect().toJSON();
      return {
        scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
        clientWidth: document.documentElement.clientWidth,
        panel: r('panel'),
        search: r('search-input'),
      };
    });
    assert.ok(layout.scrollWidth <= layout.clientWidth, `no horizontal scroll (${layout.scrollWidth} > ${layout.clientWidth})`);
    assert.ok(layout.panel.left <= 1 && layout.panel.right >= 359, 'sheet spans the width');
    assert.ok(Math.abs(layout.panel.bottom - 740) <= 1, 'sheet sits at the bottom');
    assert.ok(layout.panel.top > 740 * 0.4, 'sheet leaves the upper part of the map visible');
    assert.ok(layout.search.left >= 0 && layout.search.right <= 360 && layout.search.top >= 0, 'search box on screen');
    const off = await offCentre(page, 'g:death-metal');
    assert.ok(off.inside && Math.abs(off.dx) < 40 && Math.abs(off.dy) < 40, 'focused genre centred above the sheet');

    // Everything overflowing would show as wide elements.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => e.tagName + (e.id ? '#' + e.id : '')),
    );
    assert.deepEqual(wide, []);

    const input = page.getByRole('combobox', { name: 'Search genres and bands' });
    await input.fill('pantera');
    await page.getByRole('option', { name: /Pantera/ }).click();
    await waitPanel(page, 'band', 'pantera');
    assertClean(problems);
  });

  test('names from the data are shown as text, never as markup', async (t) => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const evilBand = '<img src=x onerror=alert(3)> & "quotes"';
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => {
      problems.push('dialog ' + d.message());
      d.dismiss().catch(() => {});
    });
    // The API answers are rewritten in flight so any server can be used.
    await page.route('**/api/v1/graph', async (route) => {
      const doc = await (await route.fetch()).json();
      const g = doc.genres.find((x) => x.id === 'grindcore');
      g.name = evil;
      doc.bands.find((b) => b.id === 'pantera').name = evilBand;
      await route.fulfill({ json: doc });
    });
    await page.route('**/api/v1/genres/grindcore', async (route) => {
      const doc = await (await route.fetch()).json();
      doc.name = evil;
      doc.description = evil;
      await route.fulfill({ json: doc });
    });
    await page.route('**/api/v1/search?*', (route) =>
      route.fulfill({ json: { query: 'x', results: [{ kind: 'genre', id: 'grindcore', name: evil }, { kind: 'band', id: 'pantera', name: evilBand }] } }),
    );
    await page.goto(server.url + '/genres/grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    const panel = await panelState(page);
    assert.equal(panel.title, evil);
    assert.equal(await page.locator('#panel .description').textContent(), evil);
    await page.getByRole('combobox', { name: 'Search genres and bands' }).fill('x');
    await page.getByRole('option').first().waitFor();
    assert.equal(await page.locator('#search-results .option-name').first().textContent(), evil);
    assert.equal(await page.locator('#search-results .option-name').nth(1).textContent(), evilBand);
    assert.equal(await page.locator('img').count(), 0, 'no <img> was created from data');
    assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script was created');
    assert.equal(await page.evaluate(() => window.musicgraph.graph.getNodeAttribute('g:grindcore', 'label')), evil);
    await page.waitForTimeout(200);
    assert.deepEqual(problems, []);
  });

  test('the panel lists related genres and similar bands as links', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal');
    await waitPanel(page, 'genre', 'death-metal');
    const related = (await api('/api/v1/genres/death-metal/related?limit=8')).related;
    assert.ok(related.length > 0);
    const section = page.locator('#panel section.related');
    await section.waitFor();
    assert.match(await section.locator('h3').textContent(), /Related genres/);
    assert.deepEqual(
      await section.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      related.map((r) => '/genres/' + r.id),
    );

    await page.goto(server.url + '/bands/pantera');
    await waitIdle(page);
    await waitPanel(page, 'band', 'pantera');
    const similar = (await api('/api/v1/bands/pantera/similar?limit=8')).similar;
    assert.ok(similar.length > 0);
    const bandSection = page.locator('#panel section.related');
    await bandSection.waitFor();
    assert.match(await bandSection.locator('h3').textContent(), /Similar bands/);
    assert.deepEqual(
      await bandSection.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      similar.map((r) => '/bands/' + r.id),
    );
    await bandSection.locator('a').first().click();
    await waitPanel(page, 'band', similar[0].id);
    assertClean(problems);
  });

  test('the path between two genres is listed, drawn on the map, and kept in the URL', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal');
    await waitPanel(page, 'genre', 'death-metal');
    const doc = await api('/api/v1/path?from=death-metal&to=jazz');
    assert.equal(doc.found, true);
    const ids = ['death-metal', ...doc.steps.map((st) => st.to.id)];

    const input = page.getByRole('combobox', { name: 'Path to another genre' });
    await input.fill('jazz');
    await page.locator('#path-results').getByRole('option', { name: /^Jazz/ }).first().click();
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    await waitIdle(page);

    const check = async () => {
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/genres/death-metal?path=jazz');
      const listed = await page.locator('.path-steps a').evaluateAll((as) => as.map((a) => a.dataset.id));
      assert.deepEqual(listed, ids, 'every step listed in order');
      // On the map: path genres keep their colour, the rest is dimmed, the
      // edges along the path are highlighted, and everything is in view.
      const shown = await page.evaluate((pathIds) => {
        const { sigma, graph } = window.musicgraph;
        const res = { nodes: [], offPathDimmed: 0, offPath: 0, edges: [] };
        graph.forEachNode((k, a) => {
          if (a.kind !== 'genre') return;
          const d = sigma.getNodeDisplayData(k);
          if (pathIds.includes(a.id)) {
            const v = sigma.graphToViewport({ x: a.x, y: a.y });
            res.nodes.push({ id: a.id, bright: d.color === a.color, x: v.x, y: v.y });
          } else {
            res.offPath++;
            if (d.color === a.dimColor) res.offPathDimmed++;
          }
        });
        for (let i = 1; i < pathIds.length; i++) {
          const e = graph.edge('g:' + pathIds[i - 1], 'g:' + pathIds[i]) || graph.edge('g:' + pathIds[i], 'g:' + pathIds[i - 1]);
          res.edges.push(!!e && sigma.getEdgeDisplayData(e).color === graph.getEdgeAttribute(e, 'hiColor'));
        }
        const c = sigma.getContainer().getBoundingClientRect();
        const p = document.getElementById('panel').getBoundingClientRect();
        res.visibleWidth = p.left - c.left;
        res.height = c.height;
        return res;
      }, ids);
      for (const n of shown.nodes) {
        assert.ok(n.bright, `${n.id} is highlighted`);
        assert.ok(n.x >= 0 && n.x <= shown.visibleWidth && n.y >= 0 && n.y <= shown.height, `${n.id} is in view`);
      }
      assert.equal(shown.offPathDimmed, shown.offPath, 'genres off the path are dimmed');
      assert.deepEqual(shown.edges, ids.slice(1).map(() => true), 'each step is a highlighted edge');
    };
    await check();
    await page.reload();
    await waitIdle(page);
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    await waitIdle(page);
    await check();

    await page.getByRole('button', { name: 'Clear path' }).click();
    assert.equal(new URL(page.url()).search, '');
    assert.equal(await page.locator('.path-steps').count(), 0);
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    assertClean(problems);
  });

  test('the panel and search are accessible', async (t) => {
    const { page, problems } = await openPage(t, '/genres/rock');
    await waitPanel(page, 'genre', 'rock');
    assert.equal(await page.getByRole('complementary', { name: 'Details' }).count(), 1, 'panel is a labelled <aside>');
    assert.equal(await page.getByRole('button', { name: 'Close details' }).count(), 1);
    const input = page.getByRole('combobox', { name: 'Search genres and bands' });
    assert.equal(await input.getAttribute('aria-controls'), 'search-results');
    assert.equal(await page.locator('#search-results').getAttribute('role'), 'listbox');
    // "/" jumps to the search box; the focus ring is visible.
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(ring, 'none', 'keyboard focus is visible');
    assertClean(problems);
  });
});
