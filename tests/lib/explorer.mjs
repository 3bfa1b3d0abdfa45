// What the explorer's browser tests share (tests/browser/explorer*.test.mjs):
// one musicgraph with the bundled map and one Chromium per file, and the
// helpers that look at the page the way a user would — pixels on the WebGL
// canvas, nodes where sigma says they are, the panel's text, the URL.
//
// Each file calls startExplorer() in before() and stopExplorer() in after().
// Every page fails its test on a console error, an uncaught exception, a
// Content-Security-Policy violation or a dialog (assertClean).
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { launchChromium, watchPage } from './browser.mjs';
import { startServer } from './server.mjs';

export const BG = [0x0f, 0x13, 0x1a];
export const env = { server: null, browser: null, graphDoc: null };

export async function startExplorer() {
  env.server = await startServer();
  env.browser = await launchChromium();
  // Every node is placed from the start; wait for the final layout so that
  // every test sees the same map.
  const deadline = Date.now() + 150_000; // a loaded machine lays out slowly under ASan
  do {
    env.graphDoc = await api('/api/v1/graph');
    if (!env.graphDoc.laid_out) await new Promise((r) => setTimeout(r, 200));
  } while (!env.graphDoc.laid_out && Date.now() < deadline);
}

export async function stopExplorer() {
  await env.browser?.close();
  await env.server?.stop();
}

export async function api(path) {
  const res = await fetch(env.server.url + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

export const genreName = (id) => env.graphDoc.genres.find((g) => g.id === id).name;

// A fresh context per test (own history, cache, storage). `problems` collects
// console errors, page errors, CSP violations and dialogs (an alert() would
// mean injected script ran).
export async function openPage(t, path, { width = 1280, height = 800, expectStatus = 200 } = {}) {
  const context = await env.browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems = await watchPage(page);
  t.after(async () => {
    await context.close();
  });
  const res = await page.goto(env.server.url + path);
  assert.equal(res.status(), expectStatus, `status of ${path}`);
  await waitIdle(page);
  return { page, problems };
}

export function assertClean(problems) {
  assert.deepEqual(problems, [], 'no console errors, page errors, CSP violations or dialogs');
}

// The names of the open band list as sigma drew them (label boxes in the
// map's pixels), with the panel's left edge, the top of the view bar that
// floats over the map's bottom and the map's height in the same pixels, so
// that a caller can tell which names are readable.
export async function listNames(page) {
  return page.evaluate(() => {
    const map = document.getElementById('graph').getBoundingClientRect();
    const panelLeft = document.getElementById('panel').getBoundingClientRect().left - map.left;
    const bar = document.getElementById('era-bar');
    const barTop = bar.hidden ? map.height : bar.getBoundingClientRect().top - map.top;
    return window.musicgraph.labels().filter((b) => b.key.startsWith('b:')).map((b) => ({ key: b.key, x0: b.x0, x1: b.x1, y0: b.y0, y1: b.y1, panelLeft, barTop, height: map.height }));
  });
}

// Graph drawn and the camera at rest.
export async function waitIdle(page) {
  await page.waitForFunction(() => document.body.dataset.graphReady === '1' && !document.body.dataset.cameraMoving, null, {
    timeout: 15000,
  });
  // One more frame so sigma has painted the final camera state.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

export async function waitPanel(page, kind, id) {
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
export async function nodePoint(page, key) {
  return page.evaluate((k) => {
    const { sigma, graph } = window.musicgraph;
    if (!graph.hasNode(k)) return null;
    const a = graph.getNodeAttributes(k);
    const v = sigma.graphToViewport({ x: a.x, y: a.y });
    const r = sigma.getContainer().getBoundingClientRect();
    return { x: r.left + v.x, y: r.top + v.y };
  }, key);
}

export async function clickNode(page, key) {
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

export async function graphState(page) {
  return page.evaluate(() => {
    const { graph } = window.musicgraph;
    // more: the last row of a band list cut short ("+N more in the list").
    const out = { genres: [], bands: [], more: [], edges: [] };
    graph.forEachNode((key, a) => {
      const list = a.kind === 'genre' ? out.genres : a.kind === 'band' ? out.bands : out.more;
      list.push({ key, id: a.id, x: a.x, y: a.y, size: a.size, color: a.color, level: a.level, label: a.label });
    });
    graph.forEachEdge((key, a, s, t) => out.edges.push({ key, source: s, target: t, relation: a.relation }));
    return out;
  });
}

export async function panelState(page) {
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
// panel does not cover. A genre is framed together with its band list, dots
// and names, so for genres the centre of that group is measured, and
// `inside` tells whether the node itself is visible.
export async function offCentre(page, key) {
  return page.evaluate((k) => {
    const { sigma, graph } = window.musicgraph;
    const view = (n) => {
      const a = graph.getNodeAttributes(n);
      return sigma.graphToViewport({ x: a.x, y: a.y });
    };
    const v = view(k);
    const pts = [v];
    if (graph.getNodeAttribute(k, 'kind') === 'genre') {
      const bands = new Set();
      graph.forEachNeighbor(k, (n, a) => {
        if (a.kind !== 'band') return;
        bands.add(n);
        pts.push(view(n));
      });
      for (const b of window.musicgraph.labels()) {
        if (bands.has(b.key)) pts.push({ x: b.x0, y: b.y0 }, { x: b.x1, y: b.y1 });
      }
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

// A band's view: the band, every one of its genres and its labelmates lit
// and inside the part of the map the panel leaves visible, the band named.
export async function assertBandInView(page, id) {
  const band = await api('/api/v1/bands/' + id);
  const seen = await page.evaluate((keys) => {
    const { sigma, graph, labels } = window.musicgraph;
    const c = sigma.getContainer().getBoundingClientRect();
    const p = document.getElementById('panel').getBoundingClientRect();
    const w = p.left > c.left + c.width / 3 ? p.left - c.left : c.width;
    const h = p.left > c.left + c.width / 3 ? c.height : p.top - c.top;
    const named = new Set(labels().map((l) => l.key));
    return keys.map((k) => {
      const a = graph.getNodeAttributes(k);
      const v = sigma.graphToViewport({ x: a.x, y: a.y });
      return { k, inside: v.x >= 0 && v.y >= 0 && v.x <= w && v.y <= h, lit: sigma.getNodeDisplayData(k).color === a.color, named: named.has(k) };
    });
  }, ['b:' + id, ...band.genres.map((g) => 'g:' + g)]);
  for (const n of seen) {
    assert.ok(n.inside, `${n.k} is in view with ${id}`);
    assert.ok(n.lit, `${n.k} is lit`);
  }
  assert.ok(seen[0].named, `${id} carries its name`);
}

// Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium writes).
export function decodePng(buf) {
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

export const hexRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
export const colourDistance = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
