// Propagation latency between instances on one PostgreSQL database (issue
// 12): a throwaway cluster (tests/lib/postgres.mjs), INSTANCES servers on
// one database; EDITS times, an edit is made through instance A and every
// other instance is asked (every PROBE_MS) for the edited genre until it
// serves the new name. Prints one JSON line: the latencies from A's
// response to the last other instance serving the change (p50, p99, max, ms).
//
//   node bench/propagation.mjs   (MUSICGRAPH_BIN, INSTANCES=3, EDITS=200, PROBE_MS=2)
// (200 edits: with 50, the p99 would be the single slowest edit.)
import { startPostgres } from '../tests/lib/postgres.mjs';
import { startServer } from '../tests/lib/server.mjs';

const INSTANCES = Number(process.env.INSTANCES || 3);
const EDITS = Number(process.env.EDITS || 200);
const PROBE_MS = Number(process.env.PROBE_MS || 2);
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };

const pg = await startPostgres({ durable: true });
if (!pg) {
  console.log(JSON.stringify({ skipped: 'PostgreSQL is not installed' }));
  process.exit(0);
}
const url = await pg.createDatabase();
const env = { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_SECRET_KEY: 'bench-secret-0123456789-abcdefghijklmnopqrstuv', MUSICGRAPH_LOG_LEVEL: 'warn' };
const servers = [];
try {
  servers.push(await startServer({ args: ['--database-url', url], env, timeoutMs: 240_000 }));
  for (let i = 1; i < INSTANCES; i++) servers.push(await startServer({ args: ['--database-url', url], env, timeoutMs: 240_000 }));
  const [a, ...others] = servers;
  const login = await fetch(`${a.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const session = { cookie: login.headers.get('set-cookie').split(';')[0], csrf: (await login.json()).csrf_token };
  const genre = (name) => ({ id: 'bench-prop', name, type: 'leaf', parents: ['heavy-metal'], parent: 'heavy-metal' });
  const send = (method, path, body) => fetch(`${a.url}${path}`, {
    method,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const made = await send('POST', '/api/v1/genres', genre('Bench 0'));
  if (made.status !== 201) throw new Error(`create: ${made.status} ${await made.text()}`);
  const latencies = [];
  for (let i = 1; i <= EDITS; i++) {
    const name = `Bench ${i}`;
    const r = await send('PUT', '/api/v1/genres/bench-prop', genre(name));
    if (r.status !== 200) throw new Error(`edit: ${r.status} ${await r.text()}`);
    const t0 = performance.now();
    await Promise.all(others.map(async (o) => {
      for (;;) {
        const g = await (await fetch(`${o.url}/api/v1/genres/bench-prop`)).json();
        if (g.name === name) return;
        await new Promise((res) => setTimeout(res, PROBE_MS));
      }
    }));
    latencies.push(performance.now() - t0);
  }
  latencies.sort((x, y) => x - y);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
  console.log(JSON.stringify({ instances: INSTANCES, edits: EDITS, p50_ms: +at(0.5).toFixed(1), p99_ms: +at(0.99).toFixed(1), max_ms: +latencies.at(-1).toFixed(1) }));
} finally {
  for (const s of servers) await s.stop();
  await pg.stop();
}
