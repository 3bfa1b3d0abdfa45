#!/usr/bin/env node
// report.mjs — turns bench/run's raw measurements into the printed table and
// bench/results.json.
//
//   node bench/report.mjs META.json START.json BODIES.jsonl RAW.jsonl OUT.json
//
// Per endpoint and server, the figures are medians over the rounds (each
// statistic separately); errors are summed over all rounds, because one error
// is already worth a look. The ratio is musicgraph's median requests/s over
// nginx's, measured in the same run on the same bytes. The targets are those
// of issue 2; they are reported, never asserted (DESIGN §6).

import { readFileSync, writeFileSync } from 'node:fs';

const [metaPath, startPath, bodiesPath, rawPath, outPath] = process.argv.slice(2);
if (!outPath) {
  process.stderr.write('usage: report.mjs META.json START.json BODIES.jsonl RAW.jsonl OUT.json\n');
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const SERVERS = ['musicgraph', 'nginx'];
const endpoints = [];
for (const b of bodies) {
  const entry = { endpoint: b.endpoint, path: b.path, content_type: b.content_type, content_encoding: b.content_encoding || null, body_bytes: b.body_bytes, servers: {} };
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
for (const e of endpoints) out.push(`  ${e.endpoint.padEnd(7)} ${e.path}`);
out.push('');
out.push(`start to first 200 on /healthz: median ${start.median_healthz_ms} ms (runs: ${start.runs.map((r) => r.healthz_ms).join(', ')})`);
out.push(`start to first 200 on /api/v1/graph: median ${start.median_graph_ms} ms`);
out.push(`musicgraph RSS: ${results.rss_mib.idle_after_start} MiB idle after start, ${results.rss_mib.after_load} MiB after load (peak ${results.rss_mib.peak_hwm} MiB); nginx master+workers ${results.rss_mib.nginx_total_after_load} MiB`);
out.push('');
const busy = Math.max(...[meta.loadavg_before, meta.loadavg_after].map((l) => Number(String(l).split(' ')[0])));
out.push(`load average (1/5/15 min): ${meta.loadavg_before} before, ${meta.loadavg_after} after`);
if (busy > meta.machine.nproc * 0.5)
  out.push(`WARNING: the machine was busy (1-min load ${busy} on ${meta.machine.nproc} CPUs): absolute figures are low and noisy; the interleaved ratios hold up better.`);
out.push('');
out.push('targets (issue 2):');
for (const t of targets) out.push(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.what}: ${t.value} (target ${t.target})`);
out.push('');
process.stdout.write(out.join('\n') + '\n');
