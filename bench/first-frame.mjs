#!/usr/bin/env node
// first-frame.mjs — time from navigation to the first drawn frame of the full
// genre map in headless Chromium: the explorer served by musicgraph (server
// positions, physics off) against "the original approach" (the same sigma.js
// and graphology files laying the map out with ForceAtlas2 in the page before
// drawing it), in the same run. Prints one JSON object on stdout.
//
//   node bench/first-frame.mjs MUSICGRAPH_URL [RUNS] [FA2_ITERATIONS]
//
// 1. Waits until musicgraph's background layout has finished: polls
//    /api/v1/graph until it says "laid_out" (every position is final, which
//    is the case being measured), and reads the layout time the server
//    reports on /metrics.
// 2. Serves bench/fa2/ from a small node server on 127.0.0.1 (never from
//    musicgraph): the page, sigma.min.js and graphology.umd.min.js from
//    node_modules (the files the binary embeds), graphology-layout-
//    forceatlas2 wrapped for the browser (it ships CommonJS only; the
//    wrapper below resolves its require() calls with Node's own resolver),
//    and the graph document: the exact gzip bytes musicgraph sent. Every
//    response is gzip-compressed, as musicgraph's are.
// 3. One Chromium (Debian's, headless, SwiftShader WebGL, the flags of
//    tests/browser), a fresh context (cold cache) per page load, viewport
//    1280x800. A MutationObserver installed before any page script records
//    performance.now() — milliseconds since navigation start — when
//    document.body.dataset.graphReady becomes "1": web/app.js sets it in the
//    animation frame after sigma's first render, and bench/fa2/page.js does
//    the same. One warm-up load (not counted), then RUNS loads of each page,
//    alternating which goes first in each round.
// 4. After each load (outside the timing): a screenshot of the map, decoded
//    by the browser, must have drawn pixels (> 500 sampled pixels away from
//    the background colour), and the graph must hold every genre.
// 5. The explorer's figures (explorerFigures below): bytes on the wire of the
//    first frame, map/eras switches and genres opened by a click, timed from
//    the click to the first frame drawn after it (median of 5). With
//    BENCH_BUNDLED_URL (a server with the bundled map, started by bench/run)
//    the same for the bundled map, first frame included, and how many names
//    of an open band list are drawn whole (bandListNames below).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../tests/lib/browser.mjs';
import { listNames, waitIdle } from '../tests/lib/explorer.mjs';
import { sleep } from '../tests/lib/wait.mjs';

const [mgUrl, runsArg, itersArg] = process.argv.slice(2);
if (!mgUrl) {
  process.stderr.write('usage: first-frame.mjs MUSICGRAPH_URL [RUNS] [FA2_ITERATIONS]\n');
  process.exit(2);
}
const RUNS = Number(runsArg || 3);
const ITERATIONS = Number(itersArg || 500);
const VIEWPORT = { width: 1280, height: 800 };
const BG = [0x0f, 0x13, 0x1a];
const LAYOUT_WAIT_MS = 180000;
const PAGE_TIMEOUT_MS = 180000;

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const say = (msg) => process.stderr.write(`first-frame: ${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;

// GET with the raw bytes and headers (no automatic decompression).
const get = (url, headers = {}) =>
  new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });

/* ---------- 1. the server's layout ---------- */

async function waitLaidOut() {
  const t0 = Date.now();
  for (;;) {
    const res = await get(mgUrl + '/api/v1/graph');
    if (res.status === 200) {
      const doc = JSON.parse(res.body.toString('utf8'));
      if (doc.laid_out === true && doc.genres.length)
        return { waited_ms: Date.now() - t0, genres: doc.genres.length };
    }
    if (Date.now() - t0 > LAYOUT_WAIT_MS) throw new Error(`no positions in /api/v1/graph after ${LAYOUT_WAIT_MS} ms`);
    await sleep(200);
  }
}

async function serverLayoutSeconds() {
  const res = await get(mgUrl + '/metrics');
  const m = /^musicgraph_layout_seconds (\S+)$/m.exec(res.body.toString('utf8'));
  return m ? Number(m[1]) : null;
}

/* ---------- 2. the bench page's server ---------- */

// A CommonJS package as one browser script that sets window[name].
function bundle(pkg, name) {
  const mods = new Map();
  const visit = (file) => {
    if (mods.has(file)) return mods.get(file).id;
    const src = readFileSync(file, 'utf8');
    const mod = { id: mods.size, src, deps: {} };
    mods.set(file, mod);
    const req = createRequire(file);
    for (const m of src.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) mod.deps[m[1]] = visit(req.resolve(m[1]));
    return mod.id;
  };
  visit(require.resolve(pkg));
  let out = `/* ${pkg}, wrapped for the browser by bench/first-frame.mjs */\n(function () {\nvar defs = [], cache = [];\n`;
  out += 'function load(id) {\n  if (cache[id]) return cache[id].exports;\n  var m = (cache[id] = { exports: {} });\n';
  out += '  defs[id][0].call(m.exports, m, m.exports, function (s) { return load(defs[id][1][s]); });\n  return m.exports;\n}\n';
  for (const m of mods.values()) out += `defs[${m.id}] = [function (module, exports, require) {\n${m.src}\n}, ${JSON.stringify(m.deps)}];\n`;
  out += `window[${JSON.stringify(name)}] = load(0);\n})();\n`;
  return out;
}

function startPageServer(graphBody) {
  const file = (p) => readFileSync(p);
  const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', json: 'application/json' };
  const routes = new Map([
    ['/', { type: types.html, gz: gzipSync(file(join(here, 'fa2/index.html'))) }],
    ['/page.js', { type: types.js, gz: gzipSync(file(join(here, 'fa2/page.js'))) }],
    ['/vendor/sigma.min.js', { type: types.js, gz: gzipSync(file(join(here, '../node_modules/sigma/dist/sigma.min.js'))) }],
    ['/vendor/graphology.umd.min.js', { type: types.js, gz: gzipSync(file(join(here, '../node_modules/graphology/dist/graphology.umd.min.js'))) }],
    ['/vendor/forceatlas2.js', { type: types.js, gz: gzipSync(bundle('graphology-layout-forceatlas2', 'forceAtlas2')) }],
    ['/api/v1/graph', { type: types.json, gz: graphBody }],
  ]);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // no 404 in the console
      return;
    }
    const r = routes.get(path);
    if (!r || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': r.type, 'Content-Encoding': 'gzip', 'Content-Length': r.gz.length, 'Cache-Control': 'no-cache' });
    res.end(r.gz);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/* ---------- 5. the explorer's own figures (issue 17) ---------- */

// One more load of the explorer, outside the first-frame timing: the bytes
// the first frame cost on the wire (the page, its scripts and styles and the
// graph document, as Chromium fetched them — in brotli where it asks for it,
// as Chromium 156 does from 127.0.0.1 — and what the total is with the graph
// in gzip and in brotli, from the two bodies the server sends), then five
// switches between the map and the eras and five genres opened by a click,
// each timed from the click to its first drawn frame by the page itself.
async function explorerFigures(browser, url) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.goto(url, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction(() => document.body.dataset.graphReady === '1', null, { timeout: PAGE_TIMEOUT_MS });
    const wire = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const by = { html: nav.transferSize, js: 0, css: 0, graph: 0, graph_body: 0 };
      for (const e of res) {
        const path = new URL(e.name).pathname;
        if (path === '/api/v1/graph') {
          by.graph += e.transferSize;
          by.graph_body += e.encodedBodySize;
        }
        else if (path.endsWith('.js')) by.js += e.transferSize;
        else if (path.endsWith('.css')) by.css += e.transferSize;
      }
      return by;
    });
    const br = await get(url.replace(/\/$/, '') + '/api/v1/graph', { 'Accept-Encoding': 'br' });
    const graphGz = await get(url.replace(/\/$/, '') + '/api/v1/graph', { 'Accept-Encoding': 'gzip' });
    wire.total = wire.html + wire.js + wire.css + wire.graph;
    wire.graph_gzip_body = graphGz.body.length;
    wire.graph_brotli_body = br.headers['content-encoding'] === 'br' ? br.body.length : null;
    wire.graph_encoding = wire.graph_body === wire.graph_brotli_body ? 'br' : wire.graph_body === wire.graph_gzip_body ? 'gzip' : 'other';
    // The same first frame with the graph's other body: the headers stay.
    wire.total_with_gzip_graph = wire.total - wire.graph_body + wire.graph_gzip_body;
    wire.total_with_brotli_graph = wire.graph_brotli_body == null ? null : wire.total - wire.graph_body + wire.graph_brotli_body;
    for (let i = 0; i < 5; i++) {
      for (const view of ['eras', 'map']) {
        await page.click('#view-' + view);
        await page.waitForTimeout(1200); // the move, and the camera after it
      }
    }
    const keys = await page.evaluate(() => {
      const { graph } = window.musicgraph;
      return graph.filterNodes((k, a) => a.level === 'root').slice(0, 5);
    });
    for (const key of keys) {
      const p = await page.evaluate((k) => {
        const { sigma, graph } = window.musicgraph;
        const v = sigma.graphToViewport(graph.getNodeAttributes(k));
        const r = sigma.getContainer().getBoundingClientRect();
        return { x: r.left + v.x, y: r.top + v.y };
      }, key);
      await page.mouse.click(p.x, p.y);
      await page.waitForTimeout(1200);
      await page.keyboard.press('Escape');
      await page.evaluate(() => window.musicgraph.sigma.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }));
      await page.waitForTimeout(400);
    }
    const t = await page.evaluate(() => window.musicgraph.timings);
    const stat = (xs) => ({ median_ms: xs.length ? r1(median(xs)) : null, runs_ms: xs.map(r1) });
    return { bytes_on_the_wire: wire, view_switch: stat(t.viewSwitch), panel_open: stat(t.panelOpen) };
  } finally {
    await context.close();
  }
}

// Band lists of the bundled map: every genre with 20 bands or more is
// opened in turn (the panel open beside it) and its band names are counted
// as drawn whole when the label box sigma drew lies inside the map, above the
// view bar and left of the panel. A name under another label is not drawn at
// all, so it counts as missing too, and so does a band the map leaves to the
// panel when it cuts a list short.
async function bandListNames(browser, url, doc) {
  const count = new Map();
  for (const b of doc.bands) for (const g of b.genres) count.set(g, (count.get(g) || 0) + 1);
  const ids = doc.genres.map((g) => g.id).filter((id) => (count.get(id) || 0) >= 20);
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.goto(url, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction(() => document.body.dataset.graphReady === '1', null, { timeout: PAGE_TIMEOUT_MS });
    const res = { genres: 0, names: 0, drawn_whole: 0, genres_cut_short: 0, genres_with_a_missing_name: [] };
    for (const id of ids) {
      await page.evaluate((g) => window.musicgraph.select('genre', g), id);
      await waitIdle(page);
      const names = count.get(id);
      const whole = (await listNames(page)).filter((b) => b.x0 >= 0 && b.x1 <= b.panelLeft && b.y0 >= 0 && b.y1 <= b.barTop).length;
      if (await page.evaluate(() => window.musicgraph.graph.hasNode('m:more'))) res.genres_cut_short++;
      res.genres++;
      res.names += names;
      res.drawn_whole += whole;
      if (whole < names) res.genres_with_a_missing_name.push({ id, names, drawn_whole: whole });
    }
    return res;
  } finally {
    await context.close();
  }
}

/* ---------- 3. and 4. the browser ---------- */

let decoder; // an about:blank page that decodes screenshots

// Sampled pixels (every other row and column) differing from the background.
async function litPixels(png) {
  return decoder.evaluate(
    async ({ b64, bg }) => {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const g = c.getContext('2d');
      g.drawImage(bmp, 0, 0);
      const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
      let lit = 0;
      let sampled = 0;
      for (let y = 0; y < bmp.height; y += 2) {
        for (let x = 0; x < bmp.width; x += 2) {
          const i = (y * bmp.width + x) * 4;
          sampled++;
          if (Math.max(Math.abs(d[i] - bg[0]), Math.abs(d[i + 1] - bg[1]), Math.abs(d[i + 2] - bg[2])) > 40) lit++;
        }
      }
      return { lit, sampled };
    },
    { b64: png.toString('base64'), bg: BG },
  );
}

async function load(browser, kind, url, genres) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.addInitScript(() => {
      const mark = () => {
        if (window.__firstFrame === undefined && document.body && document.body.dataset.graphReady === '1')
          window.__firstFrame = performance.now();
      };
      new MutationObserver(mark).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-graph-ready'] });
    });
    await page.goto(url, { waitUntil: 'commit', timeout: PAGE_TIMEOUT_MS });
    await page.waitForFunction(() => window.__firstFrame !== undefined, null, { timeout: PAGE_TIMEOUT_MS, polling: 50 });
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const doc = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/api/v1/graph');
      const g = (window.musicgraph && window.musicgraph.graph) || window.__graph;
      return {
        first_frame_ms: window.__firstFrame,
        dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
        graph_fetched_ms: doc ? doc.responseEnd : null,
        graph_transfer_bytes: doc ? doc.transferSize : null,
        nodes: g ? g.order : null,
        edges: g ? g.size : null,
        fa2: window.__bench || null,
      };
    });
    const shot = await page.locator('#graph').screenshot();
    const px = await litPixels(shot);
    const run = {
      first_frame_ms: r1(m.first_frame_ms),
      dom_content_loaded_ms: m.dom_content_loaded_ms == null ? null : r1(m.dom_content_loaded_ms),
      graph_fetched_ms: m.graph_fetched_ms == null ? null : r1(m.graph_fetched_ms),
      graph_transfer_bytes: m.graph_transfer_bytes,
      nodes: m.nodes,
      edges: m.edges,
      lit_pixels: px.lit,
      sampled_pixels: px.sampled,
      problems,
    };
    if (m.fa2) for (const k of ['fetch_ms', 'build_ms', 'layout_ms', 'render_ms']) run[k] = r1(m.fa2[k]);
    run.ok = px.lit > 500 && m.nodes === genres && problems.length === 0;
    if (!run.ok)
      say(`${kind}: check failed (lit pixels ${px.lit}, nodes ${m.nodes} of ${genres} genres, problems: ${problems.join('; ') || 'none'})`);
    return run;
  } finally {
    await context.close();
  }
}

let server;
let browser;
try {
  say('waiting for the server\'s layout (positions in /api/v1/graph)');
  const laid = await waitLaidOut();
  const serverLayout = await serverLayoutSeconds();
  say(`positions there after ${laid.waited_ms} ms of waiting; server layout ${serverLayout} s`);
  const gz = await get(mgUrl + '/api/v1/graph', { 'Accept-Encoding': 'gzip' });
  if (gz.status !== 200 || gz.headers['content-encoding'] !== 'gzip') throw new Error('/api/v1/graph did not answer 200 with gzip');
  server = await startPageServer(gz.body);
  const fa2Url = `http://127.0.0.1:${server.address().port}/?iterations=${ITERATIONS}`;
  const oursUrl = mgUrl + '/';

  browser = await launchChromium();
  decoder = await (await browser.newContext()).newPage();
  const runs = { ours: [], fa2: [] };
  const urls = { ours: oursUrl, fa2: fa2Url };
  // Starting Chromium's GPU process (SwiftShader) and friends is not part of
  // either page's cost: one load first, not counted. The explorer's is enough
  // (a ForceAtlas2 warm-up would cost as much as a measured run).
  const w = await load(browser, 'ours', urls.ours, laid.genres);
  say(`warm-up (explorer, not counted): ${w.first_frame_ms} ms`);
  for (let r = 1; r <= RUNS; r++) {
    for (const kind of r % 2 ? ['ours', 'fa2'] : ['fa2', 'ours']) {
      const run = await load(browser, kind, urls[kind], laid.genres);
      runs[kind].push({ round: r, ...run });
      say(`round ${r} ${kind}: first frame ${run.first_frame_ms} ms${run.layout_ms != null ? ` (ForceAtlas2 ${run.layout_ms} ms)` : ''}`);
    }
  }
  const summary = (list) => ({
    median_ms: r1(median(list.map((r) => r.first_frame_ms))),
    min_ms: r1(Math.min(...list.map((r) => r.first_frame_ms))),
    max_ms: r1(Math.max(...list.map((r) => r.first_frame_ms))),
    all_checks_ok: list.every((r) => r.ok),
  });
  const ours = summary(runs.ours);
  const fa2 = summary(runs.fa2);
  fa2.median_layout_ms = r1(median(runs.fa2.map((r) => r.layout_ms)));
  ours.explorer = await explorerFigures(browser, oursUrl);
  say(`explorer (large map): ${JSON.stringify(ours.explorer)}`);
  // The bundled map, when bench/run started a server with it.
  let bundled = null;
  if (process.env.BENCH_BUNDLED_URL) {
    const url = process.env.BENCH_BUNDLED_URL;
    const doc = JSON.parse((await get(url + '/api/v1/graph')).body.toString('utf8'));
    const list = [];
    for (let r = 1; r <= RUNS; r++) {
      const run = await load(browser, 'bundled', url + '/', doc.genres.length);
      list.push({ round: r, ...run });
      say(`bundled map round ${r}: first frame ${run.first_frame_ms} ms`);
    }
    bundled = { url, genres: doc.genres.length, ...summary(list), explorer: await explorerFigures(browser, url + '/'), runs: list };
    say(`explorer (bundled map): ${JSON.stringify(bundled.explorer)}`);
    bundled.band_list_names = await bandListNames(browser, url + '/', doc);
    const n = bundled.band_list_names;
    say(`band lists (bundled map): ${n.drawn_whole} of ${n.names} names drawn whole over ${n.genres} genres`);
  }
  process.stdout.write(
    JSON.stringify({
      chromium: browser.version(),
      viewport: VIEWPORT,
      genres: laid.genres,
      waited_for_server_layout_ms: laid.waited_ms,
      server_layout_seconds: serverLayout,
      graph_gzip_bytes: gz.body.length,
      fa2_iterations: ITERATIONS,
      ours: { url: oursUrl, ...ours, runs: runs.ours },
      fa2: { url: fa2Url, ...fa2, runs: runs.fa2 },
      ratio_fa2_to_ours: ours.median_ms ? Math.round((fa2.median_ms / ours.median_ms) * 100) / 100 : null,
      bundled,
    }) + '\n',
  );
} catch (e) {
  say(e.stack || e.message);
  process.exitCode = 1;
} finally {
  await browser?.close();
  server?.close();
}
