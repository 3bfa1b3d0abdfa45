#!/usr/bin/env node
// report.mjs — turns bench/run's raw measurements into the printed table and
// bench/results.json.
//
//   node bench/report.mjs META.json START.json BODIES.jsonl RAW.jsonl OUT.json
//        [--layout LAYOUT.json] [--browser BROWSER.json] [--backup BACKUP.json]
//        [--contention CONTENTION.json] [--contention-baseline CONTENTION.json]
//        [--propagation PROPAGATION.json] [--backends BACKENDS.json] [--acme ACME.json]
//
// Per endpoint and server, the figures are medians over the rounds (each
// statistic separately); errors are summed over all rounds, because one error
// is already worth a look. The ratio is musicgraph's median requests/s over
// nginx's, measured in the same run on the same bytes; the exploration
// endpoints (group "explore") are measured on musicgraph alone. The optional
// files are the outputs of bench/layout_bench.c, bench/first-frame.mjs and
// bench/backup-bench.sh, bench/contention.sh (the baseline: the same
// run against another binary, e.g. main before a change), bench/propagation.mjs,
// bench/backends.mjs and bench/acme.mjs; each may be
// {"error": …} instead (and the backup one {"available": false} when the
// binary has no backup commands). The targets are those of issues 2, 4, 5,
// 10 and 12; they are reported, never asserted (DESIGN §6).

import { readFileSync, writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const [metaPath, startPath, bodiesPath, rawPath, outPath] = argv;
const opts = {};
for (let i = 5; i < argv.length; i += 2) {
  const m = /^--(layout|browser|backup|deploy|contention|contention-baseline|propagation|backends|acme)$/.exec(argv[i]);
  if (!m || !argv[i + 1]) {
    process.stderr.write(`report.mjs: unknown argument ${argv[i]}\n`);
    process.exit(2);
  }
  opts[m[1]] = argv[i + 1];
}
if (!outPath) {
  process.stderr.write('usage: report.mjs META.json START.json BODIES.jsonl RAW.jsonl OUT.json [--layout F] [--browser F] [--backup F] [--deploy F]\n');
  process.exit(2);
}
const jsonl = (p) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
const start = JSON.parse(readFileSync(startPath, 'utf8'));
const bodies = jsonl(bodiesPath);
const raw = jsonl(rawPath);
const layout = opts.layout ? JSON.parse(readFileSync(opts.layout, 'utf8')) : null;
const browser = opts.browser ? JSON.parse(readFileSync(opts.browser, 'utf8')) : null;
const backup = opts.backup ? JSON.parse(readFileSync(opts.backup, 'utf8')) : null;
const deploy = opts.deploy ? JSON.parse(readFileSync(opts.deploy, 'utf8')) : null;
const contention = opts.contention ? JSON.parse(readFileSync(opts.contention, 'utf8')) : null;
const baseline = opts['contention-baseline'] ? JSON.parse(readFileSync(opts['contention-baseline'], 'utf8')) : null;
const propagation = opts.propagation ? JSON.parse(readFileSync(opts.propagation, 'utf8')) : null;
const acme = opts.acme ? JSON.parse(readFileSync(opts.acme, 'utf8')) : null;
const backends = opts.backends ? JSON.parse(readFileSync(opts.backends, 'utf8')) : null;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const SERVERS = ['musicgraph', 'nginx'];
const endpoints = [];
for (const b of bodies) {
  const entry = { endpoint: b.endpoint, path: b.path, group: b.group || 'static', note: b.note || null, content_type: b.content_type, content_encoding: b.content_encoding || null, body_bytes: b.body_bytes, servers: {} };
  for (const server of SERVERS) {
    const runs = raw
      .filter((r) => r.endpoint === b.endpoint && r.server === server)
      .map((r) => {
        const w = r.wrk;
        const e = w.errors;
        return {
          round: r.round,
          requests: w.requests,
          duration_s: w.duration_us / 1e6,
          rps: w.requests / (w.duration_us / 1e6),
          p50_ms: w.latency_us.p50 / 1000,
          p99_ms: w.latency_us.p99 / 1000,
          p999_ms: w.latency_us.p999 / 1000,
          max_ms: w.latency_us.max / 1000,
          socket_errors: e.connect + e.read + e.write + e.timeout,
          status_errors: e.status,
          wire_bytes_per_response: w.requests ? w.bytes / w.requests : 0,
          wrk: w,
        };
      });
    if (!runs.length) continue;
    const rps = runs.map((r) => r.rps);
    entry.servers[server] = {
      rps: round(median(rps), 0),
      rps_min: round(Math.min(...rps), 0),
      rps_max: round(Math.max(...rps), 0),
      p50_ms: round(median(runs.map((r) => r.p50_ms)), 3),
      p99_ms: round(median(runs.map((r) => r.p99_ms)), 3),
      errors: runs.reduce((n, r) => n + r.socket_errors + r.status_errors, 0),
      socket_errors: runs.reduce((n, r) => n + r.socket_errors, 0),
      status_errors: runs.reduce((n, r) => n + r.status_errors, 0),
      wire_bytes_per_response: round(median(runs.map((r) => r.wire_bytes_per_response)), 0),
      runs: runs.map((r) => ({ ...r, rps: round(r.rps, 1) })),
    };
  }
  const m = entry.servers.musicgraph, n = entry.servers.nginx;
  entry.ratio_to_nginx = m && n && n.rps ? round(m.rps / n.rps, 2) : null;
  endpoints.push(entry);
}

// Targets of issue 2.
const ep = (name) => endpoints.find((e) => e.endpoint === name);
const targets = [];
const ratioTarget = (name, min) => {
  const e = ep(name);
  if (e) targets.push({ what: `${name} (${e.path}) requests/s vs nginx`, target: `>= ${min.toFixed(1)}x`, value: `${e.ratio_to_nginx}x`, met: e.ratio_to_nginx >= min });
};
ratioTarget('graph', 1.0);
ratioTarget('page', 1.0);
ratioTarget('genre', 0.8);
const search = ep('search');
if (search && search.servers.musicgraph)
  targets.push({ what: `search p99 at ${meta.settings.connections} connections`, target: '< 5 ms', value: `${search.servers.musicgraph.p99_ms} ms`, met: search.servers.musicgraph.p99_ms < 5 });
const rssMiB = round(meta.rss_kib.after_load / 1024, 1);
targets.push({ what: 'musicgraph RSS after load (VmRSS)', target: '< 40 MiB', value: `${rssMiB} MiB`, met: rssMiB < 40 });
targets.push({ what: 'start to first 200 on /healthz (median)', target: '< 300 ms', value: `${start.median_healthz_ms} ms`, met: start.median_healthz_ms < 300 });
for (const t of targets) t.issue = 2;

// Targets of issue 4.
const target4 = (what, value, unit, limit) =>
  targets.push({ issue: 4, what, target: `< ${limit.toLocaleString('en-US')} ${unit}`, value: `${value} ${unit}`, met: value < limit });
const failedTarget = (issue, what, error) => targets.push({ issue, what, target: 'measured', value: `failed: ${error}`, met: false });
if (layout && !layout.error) {
  target4('layout from scratch, genres + bands (median wall)', layout.full.layout_ms.median_ms, 'ms', 2000);
  target4('rebuild after one edit (new leaf genre): build + refine (median wall)', layout.new_genre.rebuild_ms.median_ms, 'ms', 500);
  target4('rebuild after one edit (new band): build + refine (median wall)', layout.new_band.rebuild_ms.median_ms, 'ms', 500);
} else if (layout) failedTarget(4, 'layout', layout.error);
for (const e of endpoints.filter((x) => x.group === 'explore')) {
  const m = e.servers.musicgraph;
  if (m) target4(`${e.endpoint} p99 at ${meta.settings.connections} connections`, m.p99_ms, 'ms', 5);
}
if (browser && !browser.error) {
  target4('navigation to first drawn frame of the genre map (median)', browser.ours.median_ms, 'ms', 1500);
  if (!browser.ours.all_checks_ok || !browser.fa2.all_checks_ok)
    targets.push({ issue: 4, what: 'first-frame checks (pixels drawn, every genre in the graph, no page error)', target: 'all pass', value: 'a check failed', met: false });
} else if (browser) failedTarget(4, 'browser first frame', browser.error);

// Backups (issue 5).
if (backup && backup.error) failedTarget(5, 'backups', backup.error);
else if (backup && backup.available !== false) {
  const t5 = (what, v, limit) => targets.push({ issue: 5, what, target: `< ${limit.toLocaleString('en-US')} ms`, value: `${v} ms`, met: v < limit });
  t5('backup of the large dataset (median)', backup.backup_ms.median, 2000);
  t5('verify of that backup (median)', backup.verify_ms.median, 2000);
  t5('restore of that backup, safety backup included (median)', backup.restore_ms.median, 5000);
  // Issue 12: the same targets on PostgreSQL.
  const p = backup.postgres;
  if (p && p.backup_ms) {
    const t12 = (what, v, limit) => targets.push({ issue: 12, what, target: `< ${limit.toLocaleString('en-US')} ms`, value: `${v} ms`, met: v < limit });
    t12('backup of the large dataset on PostgreSQL (median)', p.backup_ms.median, 2000);
    t12('verify of that backup on PostgreSQL (median)', p.verify_ms.median, 2000);
    t12('restore of that backup on PostgreSQL (median)', p.restore_ms.median, 5000);
  }
}

// Deploys and rollbacks under load (issue 15).
if (deploy && deploy.error) failedTarget(15, 'deploy agent', deploy.error);
else if (deploy) {
  targets.push({ issue: 15, what: `failed requests during ${deploy.runs} deploys`, target: '0', value: String(deploy.deploy_failed_total), met: deploy.deploy_failed_total === 0 });
  targets.push({ issue: 15, what: `failed requests during ${deploy.runs} rollbacks`, target: '0', value: String(deploy.rollback_failed_total), met: deploy.rollback_failed_total === 0 });
}

// Reads while others log in, edit, restore (issue 10).
if (contention && contention.error) failedTarget(10, 'contention', contention.error);
else if (contention) {
  const c = contention.summary;
  const t10 = (what, target, value, met) => targets.push({ issue: 10, what, target, value, met });
  t10('genre reads p99 while 2 clients log in and 1 edits', '< 10 ms', `${c.logins_edits.p99_ms} ms`, c.logins_edits.p99_ms < 10);
  const share = round(c.logins_edits.rps / c.quiet.rps, 2);
  t10('genre reads/s while 2 clients log in and 1 edits, share of quiet', '>= 0.50', `${share} (${c.logins_edits.rps} of ${c.quiet.rps})`, share >= 0.5);
  t10('genre reads p99 of the large map while restores run', '< 10 ms', `${c.restore.p99_ms} ms`, c.restore.p99_ms < 10);
}

// Instances on one PostgreSQL database (issue 12): bench/propagation.mjs.
if (propagation && propagation.error) failedTarget(12, 'propagation between instances', propagation.error);
else if (propagation && !propagation.skipped)
  targets.push({ issue: 12, what: `edit on one instance served by ${propagation.instances - 1} others (p99 of ${propagation.edits})`, target: '< 100 ms', value: `${propagation.p99_ms} ms`, met: propagation.p99_ms < 100 });
if (backends && backends.error) failedTarget(12, 'SQLite and PostgreSQL side by side', backends.error);
else if (backends && !backends.skipped)
  for (const [path, r] of Object.entries(backends.reads))
    targets.push({ issue: 12, what: `reads of ${path} on PostgreSQL vs SQLite (req/s)`, target: '>= 0.95x', value: `${r.ratio}x`, met: r.ratio >= 0.95 });

const results = {
  ...meta,
  start_time: start,
  rss_mib: {
    idle_after_start: round(meta.rss_kib.idle_after_start / 1024, 1),
    after_load: rssMiB,
    peak_hwm: round(meta.rss_kib.peak_hwm / 1024, 1),
    nginx_total_after_load: round(meta.rss_kib.nginx_total_after_load / 1024, 1),
  },
  endpoints,
  layout,
  browser,
  backup,
  deploy,
  contention,
  contention_baseline: baseline,
  propagation,
  backends,
  acme,
  targets,
};
writeFileSync(outPath, JSON.stringify(results, null, 2) + '\n');

// The table.
const fmt = (x, d = 0) => (x == null ? '-' : Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const header = ['endpoint', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'body B', 'wire B/resp', 'vs nginx'];
const rows = [];
for (const e of endpoints) {
  for (const server of SERVERS) {
    const s = e.servers[server];
    if (!s) continue;
    rows.push([
      server === 'musicgraph' ? `${e.endpoint}${e.content_encoding ? ' (' + e.content_encoding + ')' : ''}` : '',
      server,
      fmt(s.rps),
      fmt(s.p50_ms, 2),
      fmt(s.p99_ms, 2),
      fmt(s.errors),
      fmt(e.body_bytes),
      fmt(s.wire_bytes_per_response),
      server === 'musicgraph' && e.ratio_to_nginx != null ? `${e.ratio_to_nginx.toFixed(2)}x` : '',
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
const out = [];
out.push('');
out.push(`musicgraph ${meta.commit}${meta.dirty ? ' (+local changes)' : ''} vs ${meta.tools.nginx.replace('nginx version: ', '')} — ${meta.date}`);
out.push(`${meta.machine.nproc} CPUs (${meta.machine.model_name}); wrk -t${meta.settings.wrk_threads} -c${meta.settings.connections} -d${meta.settings.duration_s}s, ` +
  `median of ${meta.settings.rounds} interleaved rounds; ${meta.settings.server_threads} server threads / nginx workers`);
out.push(`dataset: ${meta.dataset.summary.replace(/^gen-dataset: /, '')}`);
out.push('');
out.push(line(header));
out.push(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) out.push(line(r));
out.push('');
const epw = Math.max(...endpoints.map((e) => e.endpoint.length));
for (const e of endpoints) out.push(`  ${e.endpoint.padEnd(epw)}  ${e.path}${e.note ? '  — ' + e.note : ''}`);
const explore = endpoints.filter((e) => e.group === 'explore');
if (explore.length)
  out.push(`  (${explore.map((e) => e.endpoint).join(', ')}: musicgraph alone, ${meta.settings.rounds} runs of ${meta.settings.explore_duration_s}s)`);
out.push('');
out.push(`start to first 200 on /healthz: median ${start.median_healthz_ms} ms (runs: ${start.runs.map((r) => r.healthz_ms).join(', ')})`);
out.push(`start to first 200 on /api/v1/graph: median ${start.median_graph_ms} ms`);
out.push(`musicgraph RSS: ${results.rss_mib.idle_after_start} MiB idle after start, ${results.rss_mib.after_load} MiB after load (peak ${results.rss_mib.peak_hwm} MiB); nginx master+workers ${results.rss_mib.nginx_total_after_load} MiB`);
out.push('');
if (meta.server_layout)
  out.push(
    meta.server_layout.layout_seconds
      ? `the server laid the map out in the background after start in ${fmt(meta.server_layout.layout_seconds * 1000)} ms (/metrics); the load waited for it`
      : 'the server started from the layout saved by an earlier start (no layout run)',
  );
out.push('');

// Layout (bench/layout_bench.c).
const ms = (x) => `${fmt(x.median_ms)} ms (CPU ${fmt(x.median_cpu_ms)})`;
if (layout && layout.error) out.push(`layout: FAILED: ${layout.error}`, '');
else if (layout) {
  out.push(`layout (issue 4): ${fmt(layout.dataset.genres)} genres + ${fmt(layout.dataset.bands)} bands, ${fmt(layout.dataset.edges)} edges; median of ${layout.runs}, wall (process CPU, all threads)`);
  const rows = [];
  if (layout.full.store_load_ms) rows.push(['reading the map from SQLite (store_load)', ms(layout.full.store_load_ms)]);
  rows.push(['snapshot build without layout (graph_build)', ms(layout.full.snapshot_build_ms)]);
  rows.push(['layout from scratch (graph_layout_compute)', ms(layout.full.layout_ms)]);
  for (const key of ['new_genre', 'new_band']) {
    const sc = layout[key];
    const d = sc.displacement;
    rows.push([`after one edit: ${sc.edit} (${sc.new_node})`, '']);
    rows.push(['  1. build with the previous positions + page', ms(sc.build_ms)]);
    rows.push(['  2. refine the layout (background thread)', ms(sc.layout_ms)]);
    rows.push(['  1 + 2 = rebuild', ms(sc.rebuild_ms)]);
    rows.push(['  3. republish with the new positions', ms(sc.republish_ms)]);
    rows.push(['  1 + 2 + 3 = until the laid-out map is served', ms(sc.until_laid_out_ms)]);
    rows.push(['  displacement of the untouched nodes',
      `mean ${d.mean.toFixed(2)} (${(d.mean_share_of_side * 100).toFixed(3)}% of the ${fmt(2 * d.box)} side; genres ${d.mean_genres.toFixed(2)}), p99 ${d.p99.toFixed(1)}, max ${d.max.toFixed(1)}, ${fmt(d.nodes)} nodes`]);
    rows.push(['  new node to its anchor', `${sc.new_node_to_anchor.toFixed(1)} (median parent edge ${layout.median_parent_edge.toFixed(1)})`]);
  }
  const lw = Math.max(...rows.filter((r) => r[1]).map((r) => r[0].length));
  for (const [a, b] of rows) out.push(b ? `  ${a.padEnd(lw)}  ${b}` : `  ${a}`);
  out.push(`  the ${layout.runs} layouts from scratch are identical: ${layout.deterministic ? 'yes' : 'NO'}`);
  out.push('');
}

// First frame in the browser (bench/first-frame.mjs).
if (browser && browser.error) out.push(`first frame: FAILED: ${browser.error}`, '');
else if (browser) {
  const o = browser.ours;
  const f = browser.fa2;
  const runs = (r) => r.runs.map((x) => fmt(x.first_frame_ms)).join(', ');
  out.push(`first drawn frame of the genre map (issue 4): Chromium ${browser.chromium} headless (SwiftShader), ${browser.viewport.width}x${browser.viewport.height}, ` +
    `${fmt(browser.genres)} genres, cold cache, median of ${o.runs.length}`);
  const rows = [
    ['musicgraph explorer (positions from the server)', o, `map document received at ${fmt(median(o.runs.map((x) => x.graph_fetched_ms)))} ms`],
    [`original approach (ForceAtlas2, ${fmt(browser.fa2_iterations)} iterations in the page)`, f, `ForceAtlas2 alone ${fmt(f.median_layout_ms)} ms`],
  ];
  const lw = Math.max(...rows.map((r) => r[0].length));
  const vw = Math.max(...rows.map((r) => fmt(r[1].median_ms).length));
  for (const [label, r, note] of rows) out.push(`  ${label.padEnd(lw)}  ${fmt(r.median_ms).padStart(vw)} ms  (runs ${runs(r)}; ${note})`);
  out.push(`  the original approach takes ${browser.ratio_fa2_to_ours}x as long; checks (pixels drawn, every genre in the graph, no page error): ${o.all_checks_ok && f.all_checks_ok ? 'passed' : 'FAILED'}`);
  out.push('');
  // Issue 17: both maps, bytes on the wire and the two interactions.
  const maps = [['large map', { ...o, genres: browser.genres }], ...(browser.bundled ? [['bundled map', browser.bundled]] : [])];
  out.push('explorer (issue 17): first frame (target 1.0 s bundled, 1.5 s large), click to first frame (target 100 ms, median of 5), first-frame bytes');
  for (const [name, m] of maps) {
    const e = m.explorer;
    if (!e) continue;
    const w = e.bytes_on_the_wire;
    out.push(`  ${name} (${fmt(m.genres)} genres): first frame ${fmt(m.median_ms)} ms; map/eras switch ${fmt(e.view_switch.median_ms)} ms; panel open ${fmt(e.panel_open.median_ms)} ms`);
    out.push(`    on the wire: ${fmt(w.total)} B (page ${fmt(w.html)}, scripts ${fmt(w.js)}, styles ${fmt(w.css)}, graph ${fmt(w.graph)} ${w.graph_encoding ?? 'gzip'}); ` +
      `graph in brotli ${fmt(w.graph_brotli_body)} B instead of ${fmt(w.graph_gzip_body)} in gzip (${w.graph_brotli_body ? Math.round((1 - w.graph_brotli_body / w.graph_gzip_body) * 100) : '?'}% less): ` +
      `total ${fmt(w.total_with_brotli_graph)} B with brotli, ${fmt(w.total_with_gzip_graph)} B with gzip`);
    const n = m.band_list_names;
    if (n) {
      const worst = [...n.genres_with_a_missing_name].sort((x, y) => x.drawn_whole / x.names - y.drawn_whole / y.names).slice(0, 3);
      out.push(`    band lists: ${fmt(n.drawn_whole)} of ${fmt(n.names)} names drawn whole beside the panel (${Math.round((n.drawn_whole / n.names) * 1000) / 10}%) over the ${fmt(n.genres)} genres with 20+ bands; ` +
        `${n.genres_with_a_missing_name.length} genres miss a name${worst.length ? ' (fewest: ' + worst.map((x) => `${x.id} ${x.drawn_whole}/${x.names}`).join(', ') + ')' : ''}` +
        (n.genres_cut_short === undefined ? '' : `; ${n.genres_cut_short} lists cut short, the rest in the panel`));
    }
  }
  out.push('');
}

// Backups (bench/backup-bench.sh).
if (backup && backup.error) out.push(`backups: FAILED: ${backup.error}`, '');
else if (backup && backup.available === false) out.push('backups: this musicgraph has no backup/verify/restore commands (skipped)', '');
else if (backup) {
  const b = (k) => `${fmt(backup[k].median)} ms (${backup[k].all ? backup[k].all.map((x) => fmt(x)).join(', ') : 'max ' + fmt(backup[k].max)})`;
  out.push(`backups (issue 5), large dataset, median of ${backup.runs} (each run in brackets):`);
  out.push(`  backup ${b('backup_ms')}, verify ${b('verify_ms')}, restore ${b('restore_ms')}, the restore's safety backup included`);
  out.push(`  file ${fmt(backup.backup_bytes)} bytes gzip (${fmt(backup.backup_json_bytes)} bytes of JSON); database ${fmt(backup.database_bytes)} bytes`);
  // Issue 18: signed (every backup) against signed + encrypted (passphrase, Argon2id), one run.
  const e = backup.encrypted;
  if (e) {
    const mib = (kib) => (kib / 1024).toFixed(1);
    out.push('  signed vs signed + encrypted (median ms; peak RSS MiB, largest of the runs):');
    out.push(`    ${'step'.padEnd(8)} ${'signed'.padStart(9)} ${'encrypted'.padStart(10)} ${'RSS signed'.padStart(11)} ${'RSS encrypted'.padStart(14)}`);
    for (const step of ['backup', 'verify', 'restore'])
      out.push(`    ${step.padEnd(8)} ${fmt(backup[`${step}_ms`].median).padStart(9)} ${fmt(e[`${step}_ms`].median).padStart(10)} ${mib(backup.peak_rss_kib[step]).padStart(11)} ${mib(e.peak_rss_kib[step]).padStart(14)}`);
    out.push(`    file: ${fmt(backup.backup_bytes)} bytes signed, ${fmt(e.backup_bytes)} bytes encrypted`);
  }
  const p = backup.postgres;
  if (p && p.backup_ms) {
    const b = (k) => `${fmt(p[k].median)} ms (${p[k].all.map((x) => fmt(x)).join(', ')})`;
    out.push(`  on PostgreSQL (a durable throwaway cluster on loopback): backup ${b('backup_ms')}, verify ${b('verify_ms')}, restore ${b('restore_ms')}`);
  } else if (p && p.skipped) out.push(`  on PostgreSQL: skipped (${p.skipped})`);
  out.push('');
}

// Propagation between instances (bench/propagation.mjs).
if (propagation && propagation.error) out.push(`propagation: FAILED: ${propagation.error}`, '');
else if (propagation && propagation.skipped) out.push(`propagation: skipped (${propagation.skipped})`, '');
else if (propagation)
  out.push(`propagation (issue 12), ${propagation.instances} instances on one PostgreSQL database, ${propagation.edits} edits: p50 ${propagation.p50_ms} ms, p99 ${propagation.p99_ms} ms, max ${propagation.max_ms} ms`, '');
// Both backends (bench/backends.mjs).
if (backends && backends.error) out.push(`backends: FAILED: ${backends.error}`, '');
else if (backends && backends.skipped) out.push(`backends: skipped (${backends.skipped})`, '');
else if (backends) {
  out.push('SQLite and PostgreSQL (issue 12), the bundled map; each write answers once the new map is served:');
  for (const b of ['sqlite', 'postgres']) {
    const w = backends.writes[b];
    const refused = (x) => (x.refused ? `, ${x.refused} refused with 503` : '');
    out.push(`  ${b.padEnd(8)}  writes, 1 client: ${w.one_client.per_s}/s (p50 ${w.one_client.p50_ms} ms, p99 ${w.one_client.p99_ms} ms${refused(w.one_client)}); 8 clients: ${w.eight_clients.per_s}/s (p50 ${w.eight_clients.p50_ms} ms, p99 ${w.eight_clients.p99_ms} ms${refused(w.eight_clients)})`);
  }
  for (const [path, r] of Object.entries(backends.reads))
    out.push(`  reads ${path}: SQLite ${fmt(r.sqlite_rps)} req/s, PostgreSQL ${fmt(r.postgres_rps)} req/s (${r.ratio}x)`);
  out.push('');
}
// The deploy agent (bench/deploy.mjs).
if (deploy && deploy.error) out.push(`deploy agent: FAILED: ${deploy.error}`, '');
else if (deploy) {
  out.push(`deploy agent (issue 15), median of ${deploy.runs} (each run in brackets), wrk on a genre throughout:`);
  out.push(`  deploy, channel moved to the new version serving: ${fmt(deploy.deploy_ms_median)} ms (${deploy.deploy_ms.map((x) => fmt(x)).join(', ')}); the agent's own run ${fmt(deploy.deploy_agent_ms_median)} ms`);
  out.push(`  rollback of a version that cannot start, channel moved to the old version serving again: ${fmt(deploy.rollback_ms_median)} ms (${deploy.rollback_ms.map((x) => fmt(x)).join(', ')})`);
  out.push(`  failed requests: ${deploy.deploy_failed_total} during deploys, ${deploy.rollback_failed_total} during rollbacks (of ${fmt(deploy.requests)})`);
  out.push('');
}

// Contention (bench/contention.sh).
if (contention && contention.error) out.push(`contention: FAILED: ${contention.error}`, '');
else if (contention) {
  const parts = [
    ['quiet', 'bundled map, quiet'],
    ['logins_edits', 'bundled map, 2 log in + 1 edits'],
    ['quiet_large', 'large map, quiet'],
    ['restore', 'large map, restores running'],
  ];
  out.push(`reads while others work (issue 10): GET one genre, wrk -t2 -c${contention.connections} -d${contention.duration_s}s, median of ${contention.rounds} rounds, quiet and loaded alternating`);
  const runs = [['this build', contention], ...(baseline && !baseline.error ? [[`baseline (${baseline.binary || 'other binary'})`, baseline]] : [])];
  const lw = Math.max(...parts.map((p) => p[1].length));
  for (const [label, c] of runs) {
    out.push(`  ${label}`);
    for (const [key, name] of parts) {
      const p = c.summary[key];
      if (!p) continue;
      out.push(`    ${name.padEnd(lw)}  ${fmt(p.rps).padStart(7)} req/s  p50 ${fmt(p.p50_ms, 2).padStart(6)} ms  p99 ${fmt(p.p99_ms, 2).padStart(7)} ms  max ${fmt(p.max_ms, 1).padStart(7)} ms  errors ${p.errors}`);
    }
    const w = c.summary.logins_edits.runs.map((r) => r.writers);
    out.push(`    meanwhile: ${w.map((x) => `${x.logins.done} logins (p50 ${x.logins.p50_ms} ms), ${x.edits.done} edits (p50 ${x.edits.p50_ms} ms)`).join('; ')}`);
    out.push(`    restores: ${c.summary.restore.runs.map((r) => r.restore_ms.map((x) => fmt(x)).join(', ') + ' ms').join('; ')}`);
  }
  out.push('');
}

// Certificates (bench/acme.mjs): measured, no target.
if (acme && acme.error) out.push(`acme: FAILED: ${acme.error}`, '');
else if (acme && acme.skipped) out.push(`acme: skipped (${acme.skipped})`, '');
else if (acme) {
  out.push(`certificates (issue 13): cold start without a certificate to the first HTTPS response, pebble on loopback, median of ${acme.runs}:`);
  const base = acme.none.median_ms;
  out.push(`  no ACME (plain HTTP, the baseline)  ${fmt(base)} ms`);
  for (const c of ['http-01', 'tls-alpn-01', 'dns-01'])
    out.push(`  ${c.padEnd(11)}  ${fmt(acme[c].median_ms).padStart(6)} ms, of which getting the certificate ${fmt(acme[c].median_ms - base)} ms (runs: ${acme[c].runs_ms.map((x) => fmt(x)).join(', ')})`);
  out.push('');
}

const loads = [meta.loadavg_before, meta.loadavg_after, ...Object.values(meta.loadavg_at || {})].map((l) => Number(String(l).split(' ')[0]));
const busy = Math.max(...loads);
out.push(`load average (1/5/15 min): ${meta.loadavg_before} before, ${meta.loadavg_after} after`);
if (meta.loadavg_at) out.push(`  1-min load at the start of each part: ${Object.entries(meta.loadavg_at).map(([k, v]) => `${k} ${v.split(' ')[0]}`).join(', ')}`);
if (busy > meta.machine.nproc * 0.5)
  out.push(`WARNING: the machine was busy (1-min load up to ${busy} on ${meta.machine.nproc} CPUs): absolute figures are low and noisy; the interleaved ratios hold up better.`);
out.push('');
for (const issue of [2, 4, 5, 10, 12, 15]) {
  const list = targets.filter((t) => t.issue === issue);
  if (!list.length) continue;
  out.push(`targets (issue ${issue}):`);
  for (const t of list) out.push(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.what}: ${t.value} (target ${t.target})`);
}
out.push('');
process.stdout.write(out.join('\n') + '\n');
