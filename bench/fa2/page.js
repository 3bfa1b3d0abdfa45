/*
 * bench/fa2/page.js — the genre map drawn the way the original app did it:
 * every genre starts at a random point and ForceAtlas2 (graphology's own
 * implementation, Barnes–Hut on for more than 2,000 nodes, its inferred
 * settings) runs a fixed number of iterations in the page before sigma draws
 * the first frame. Same data (/api/v1/graph, server positions ignored), same
 * nodes and edges, sizes and family colours as web/app.js.
 *
 * Sets window.__bench = {fetch_ms, build_ms, layout_ms, render_ms,
 * iterations, nodes, edges} and then, one frame after sigma's first render,
 * document.body.dataset.graphReady = "1", as the explorer does.
 * ?iterations=N changes the budget (default 500).
 */
(function () {
  'use strict';
  const BG = '#0f131a';
  const NODE_SIZE = { root: 15, intermediate: 9, leaf: 5.5 };
  const PALETTE = [
    '#f2705e', '#5aa9f0', '#f5b83d', '#61c98b', '#b48cf2', '#4fd1c5',
    '#f078b4', '#c7d65a', '#e8955a', '#8fa3ff', '#a3d9ff', '#e0c08f',
  ];
  const params = new URLSearchParams(location.search);
  const ITERATIONS = Number(params.get('iterations')) || 500;

  // Seeded, so that every run lays out the same start.
  let seed = 12345;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  async function boot() {
    const t0 = performance.now();
    const res = await fetch('/api/v1/graph', { headers: { Accept: 'application/json' } });
    const doc = await res.json();
    const t1 = performance.now();

    const genres = new Map(doc.genres.map((g) => [g.id, g]));
    const roots = doc.genres.filter((g) => g.family === g.id).map((g) => g.id).sort();
    const colour = new Map(roots.map((id, i) => [id, i < PALETTE.length ? PALETTE[i] : `hsl(${(i * 137.508) % 360}, 62%, 64%)`]));
    const graph = new graphology.Graph({ type: 'directed', multi: false, allowSelfLoops: false });
    for (const g of doc.genres) {
      graph.addNode('g:' + g.id, {
        x: random() * 1000,
        y: random() * 1000,
        size: NODE_SIZE[g.type] || NODE_SIZE.leaf,
        color: colour.get(g.family) || '#9aa5b5',
        label: g.name,
      });
    }
    for (const g of doc.genres) {
      for (const p of g.parents || []) {
        if (genres.has(p) && p !== g.id && !graph.hasEdge('g:' + g.id, 'g:' + p)) graph.addEdge('g:' + g.id, 'g:' + p, { size: 1, color: '#3a4250' });
      }
    }
    for (const g of doc.genres) {
      for (const l of g.links || []) {
        const a = 'g:' + g.id;
        const b = 'g:' + l.to;
        if (!genres.has(l.to) || a === b || graph.hasEdge(a, b) || graph.hasEdge(b, a)) continue;
        graph.addEdge(a, b, { size: 1, color: '#4a4536' });
      }
    }
    const t2 = performance.now();

    forceAtlas2.assign(graph, { iterations: ITERATIONS, settings: forceAtlas2.inferSettings(graph) });
    const t3 = performance.now();

    const renderer = new Sigma(graph, document.getElementById('graph'), {
      renderEdgeLabels: false,
      labelColor: { color: '#dfe6f0' },
      labelRenderedSizeThreshold: 7,
    });
    renderer.refresh();
    const t4 = performance.now();
    window.__graph = graph;
    window.__bench = {
      fetch_ms: t1 - t0,
      build_ms: t2 - t1,
      layout_ms: t3 - t2,
      render_ms: t4 - t3,
      iterations: ITERATIONS,
      nodes: graph.order,
      edges: graph.size,
    };
    requestAnimationFrame(() => {
      document.body.dataset.graphReady = '1';
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
