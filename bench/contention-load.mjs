#!/usr/bin/env node
// contention-load.mjs — the background load of bench/contention.sh: clients
// that log in continuously and one admin who edits, for a fixed time.
//
//   node bench/contention-load.mjs URL SECONDS LOGINS EDITORS
//
// Each login client posts the admin's credentials to /api/v1/session in a
// loop (every login runs argon2id on the server); each editor logs in once,
// then creates and deletes a leaf genre in a loop (every write commits a
// transaction and publishes a new snapshot before it answers). The password
// comes from MUSICGRAPH_ADMIN_PASSWORD. Prints one JSON line: how many of
// each were done, how many failed, and their latencies (ms, p50/p99/max).

const [url, secondsArg, loginsArg, editorsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const password = process.env.MUSICGRAPH_ADMIN_PASSWORD;
if (!url || !(seconds > 0) || !password) {
  process.stderr.write('usage: MUSICGRAPH_ADMIN_PASSWORD=… contention-load.mjs URL SECONDS LOGINS EDITORS\n');
  process.exit(2);
}
const deadline = Date.now() + seconds * 1000;
const origin = new URL(url).origin;

async function login() {
  const res = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ username: 'admin', password }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200) return { status: res.status };
  return { status: 200, cookie: res.headers.get('set-cookie').split(';')[0], csrf: body.csrf_token };
}

function stats(ms, failed) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10 : null);
  return { done: s.length, failed, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: s.length ? Math.round(s[s.length - 1]) : null };
}

async function loginLoop() {
  const ms = [];
  let failed = 0;
  while (Date.now() < deadline) {
    const t0 = performance.now();
    const r = await login().catch(() => ({ status: 0 }));
    if (r.status === 200) ms.push(performance.now() - t0);
    else failed++;
  }
  return { ms, failed };
}

async function editLoop(n) {
  const ms = [];
  let failed = 0;
  const s = await login();
  if (s.status !== 200) throw new Error(`the editor could not log in: ${s.status}`);
  const headers = { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json', origin };
  for (let i = 0; Date.now() < deadline; i++) {
    const id = `bench-${process.pid}-${n}-${i}`;
    const t0 = performance.now();
    const made = await fetch(`${url}/api/v1/genres`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ id, name: `Bench ${id}`, type: 'leaf', parent: 'death-metal', parents: ['death-metal'] }),
    }).catch(() => ({ status: 0 }));
    const t1 = performance.now();
    if (made.status === 201) ms.push(t1 - t0);
    else failed++;
    const gone = await fetch(`${url}/api/v1/genres/${id}`, { method: 'DELETE', headers }).catch(() => ({ status: 0 }));
    if (gone.status === 200) ms.push(performance.now() - t1);
    else failed++;
  }
  return { ms, failed };
}

const [logins, edits] = await Promise.all([
  Promise.all(Array.from({ length: Number(loginsArg) }, () => loginLoop())),
  Promise.all(Array.from({ length: Number(editorsArg) }, (_, n) => editLoop(n))),
]);
const merge = (xs) => stats(xs.flatMap((x) => x.ms), xs.reduce((n, x) => n + x.failed, 0));
process.stdout.write(JSON.stringify({ seconds, logins: merge(logins), edits: merge(edits) }) + '\n');
