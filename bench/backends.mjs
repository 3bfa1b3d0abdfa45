// SQLite and PostgreSQL side by side (issue 12), the bundled map, one server
// on each backend (2 threads), measured in one run:
//  - writes through the API: one client renaming a genre WRITES times in a
//    row, then 8 clients renaming 8 genres for WRITE_SECONDS; writes/s and
//    p50/p99 (each write answers once the new map is served: a transaction
//    and a snapshot rebuild); a write refused with 503 (the server's "try
//    again": its database busy past its wait, or its queue full) is counted
//    as refused, with its own count, and left out of the timings;
//  - reads: wrk on /api/v1/graph and a genre detail (after a pause for the
//    writes' aftermath and a 2 s warm-up of each server, READ_SECONDS each,
//    ROUNDS rounds, the backends alternating), req/s medians, and the ratio
//    PostgreSQL/SQLite (reads never touch the database; target >= 0.95) as
//    the median of each round's ratio: the two figures of a round are taken
//    back to back, so a machine that slows down or speeds up during the
//    part (what the previous parts leave behind) moves both. Both servers
//    serve the same bytes: what the ratio shows besides is the machine — the
//    ratio of the two medians moved by ±13 % between runs of 2 rounds, and
//    from 0.87 to 1.11 with 4; single rounds from 0.79 to 1.19, hence 8
//    shorter ones.
// The PostgreSQL cluster is a throwaway one on loopback with fsync and
// synchronous_commit on; the SQLite file runs with synchronous = FULL.
// Prints one JSON line.
//
//   node bench/backends.mjs   (MUSICGRAPH_BIN, WRITES=50, WRITE_SECONDS=10, READ_SECONDS=3, ROUNDS=8)
import { execFileSync } from 'node:child_process';
import { startPostgres } from '../tests/lib/postgres.mjs';
import { startServer } from '../tests/lib/server.mjs';

const WRITES = Number(process.env.WRITES || 50);
const WRITE_SECONDS = Number(process.env.WRITE_SECONDS || 10);
const READ_SECONDS = Number(process.env.READ_SECONDS || 3);
const ROUNDS = Number(process.env.ROUNDS || 8);
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const env = { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_LOG_LEVEL: 'warn' };

const pg = await startPostgres({ durable: true });
if (!pg) {
  console.log(JSON.stringify({ skipped: 'PostgreSQL is not installed' }));
  process.exit(0);
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => Math.round(x * 10) / 10;

async function session(url) {
  const r = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${await r.text()}`);
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: (await r.json()).csrf_token };
}

// A function that sends one write: true when it was saved, false when it was refused with 503.
function writer(name, url, s) {
  return async (method, path, body) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status === 503) return false;
    if (r.status !== 200 && r.status !== 201) throw new Error(`${name}: ${method} ${path}: ${r.status} ${text}`);
    return true;
  };
}

const genre = (id, name) => ({ id, name, type: 'leaf', parents: ['heavy-metal'], parent: 'heavy-metal' });

async function writes(name, url) {
  const send = writer(name, url, await session(url));
  const ids = Array.from({ length: 8 }, (_, i) => `bench-writes-${i}`);
  for (const id of ids)
    if (!(await send('POST', '/api/v1/genres', genre(id, `${id} 0`)))) throw new Error(`${name}: creating ${id} was refused`);
  let refusedOne = 0, refusedEight = 0;
  // One client, one write after the other.
  const one = [];
  const t0 = performance.now();
  for (let i = 1; i <= WRITES; i++) {
    const t = performance.now();
    if (await send('PUT', `/api/v1/genres/${ids[0]}`, genre(ids[0], `Bench writes ${i}`))) one.push(performance.now() - t);
    else refusedOne++;
  }
  const oneSeconds = (performance.now() - t0) / 1000;
  // Eight clients at once, each on its own genre, for WRITE_SECONDS.
  const eight = [];
  const until = performance.now() + WRITE_SECONDS * 1000;
  const t1 = performance.now();
  // One session for all of them: logins in flight count against the rate limit.
  await Promise.all(ids.map(async (id, c) => {
    for (let i = 1; performance.now() < until; i++) {
      const t = performance.now();
      if (await send('PUT', `/api/v1/genres/${id}`, genre(id, `Bench writes ${c}.${i}`))) eight.push(performance.now() - t);
      else {
        refusedEight++;
        await new Promise((r) => setTimeout(r, 100)); // not a busy loop against a server saying "later"
      }
    }
  }));
  const eightSeconds = (performance.now() - t1) / 1000;
  return {
    one_client: { writes: one.length, refused: refusedOne, per_s: ms(one.length / oneSeconds), p50_ms: ms(median(one)), p99_ms: ms(quantile(one, 0.99)) },
    eight_clients: { writes: eight.length, refused: refusedEight, per_s: ms(eight.length / eightSeconds), p50_ms: ms(median(eight)), p99_ms: ms(quantile(eight, 0.99)) },
  };
}

function wrk(url, seconds = READ_SECONDS) {
  const out = execFileSync('wrk', ['-t2', '-c50', `-d${seconds}s`, '-H', 'Accept-Encoding: gzip', url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`no figure from wrk on ${url}:\n${out}`);
  return Number(m[1]);
}

const servers = {};
try {
  servers.sqlite = await startServer({ env, timeoutMs: 240_000 });
  servers.postgres = await startServer({ args: ['--database-url', await pg.createDatabase()], env, timeoutMs: 240_000 });
  const result = { writes: {}, reads: {} };
  for (const [name, srv] of Object.entries(servers)) {
    result.writes[name] = await writes(name, srv.url);
    // Why writes were refused, in the server's words (its log), when some were.
    const why = [...new Set(srv.logs().match(/a write failed: [^\n]*/g) || [])].slice(0, 3);
    if (why.length) result.writes[name].refused_because = why;
  }
  // The last writes' rebuilds, brotli forms and the cluster's own work end first.
  await new Promise((r) => setTimeout(r, 3000));
  for (const path of ['/api/v1/graph', '/api/v1/genres/thrash-metal']) {
    for (const name of ['sqlite', 'postgres']) wrk(`${servers[name].url}${path}`, 2); // warm-up, not counted
    const rps = { sqlite: [], postgres: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? ['postgres', 'sqlite'] : ['sqlite', 'postgres'];
      for (const name of order) rps[name].push(wrk(`${servers[name].url}${path}`));
    }
    const ratios = rps.postgres.map((pg, r) => pg / rps.sqlite[r]);
    result.reads[path] = {
      sqlite_rps: Math.round(median(rps.sqlite)),
      postgres_rps: Math.round(median(rps.postgres)),
      ratio: Math.round(median(ratios) * 100) / 100,
      round_ratios: ratios.map((x) => Math.round(x * 100) / 100),
    };
  }
  result.settings = { writes: WRITES, write_seconds: WRITE_SECONDS, read_seconds: READ_SECONDS, rounds: ROUNDS };
  console.log(JSON.stringify(result));
} finally {
  for (const s of Object.values(servers)) await s.stop();
  await pg.stop();
}
