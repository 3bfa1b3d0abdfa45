// Everything at once: reads, logins, edits, account changes, a restore from
// the command line, /readyz and /metrics, and clients that hang up while
// their work is queued — the work that crosses from the event loops to the
// worker threads and back (docs/event-loops.md). Each answer is checked as a
// user would see it (writes are visible to the next read on any
// connection), and the server must stop cleanly with nothing reported by
// the sanitizer it was built with: tests/run runs this file once against the
// AddressSanitizer binary and once against the ThreadSanitizer one.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../lib/server.mjs';

const PASSWORD = 'concurrency-admin-pass-1';
const TIMEOUT = { timeout: 300_000 };
let srv;

before(async () => {
  srv = await startServer({
    // Each client logs in from its own address (X-Forwarded-For), so that
    // the rate limit, which counts logins in flight, sees one client each.
    env: {
      MUSICGRAPH_ADMIN_PASSWORD: PASSWORD,
      MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1',
      TSAN_OPTIONS: 'halt_on_error=0 second_deadlock_stack=1',
    },
    args: ['--shutdown-timeout', '5'],
    timeoutMs: 120_000,
  });
});

after(async () => {
  if (srv) await srv.stop();
});

// While the restore holds SQLite's write lock longer than the server waits for
// it (5 s: a slow sanitizer build on a busy machine), a login is told to come
// back (503 with Retry-After); a login begun after the restore works.
let restoreEnded = 0;
async function login(client, counts) {
  let res, body;
  for (;;) {
    const started = Date.now();
    res = await fetch(`${srv.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    body = await res.json();
    if (!(res.status === 503 && started < restoreEnded)) break;
    assert.equal(res.headers.get('retry-after'), '1');
    counts.deferred++;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  assert.equal(res.status, 200, JSON.stringify(body));
  return { cookie: res.headers.get('set-cookie').split(';')[0], csrf: body.csrf_token };
}

function send(session, method, path, body) {
  const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${srv.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

// A login whose client hangs up before the answer: the server keeps going.
function abandonedLogin() {
  return new Promise((ok) => {
    const body = JSON.stringify({ username: 'admin', password: PASSWORD });
    const sock = net.connect(srv.port, '127.0.0.1', () => {
      sock.write(
        `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.9.9\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      setTimeout(() => sock.destroy(), 5);
    });
    sock.on('error', () => {});
    sock.on('close', ok);
  });
}

async function reader(until, counts) {
  while (Date.now() < until) {
    const res = await fetch(`${srv.url}/api/v1/genres/thrash-metal`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    counts.reads++;
  }
}

async function logins(client, until, counts) {
  while (Date.now() < until) {
    await login(client, counts);
    counts.logins++;
  }
}

async function editor(n, until, counts) {
  const s = await login('10.0.0.1', counts);
  for (let i = 0; i < 2 || Date.now() < until; i++) {
    const id = `conc-${process.pid}-${n}-${i}`;
    const made = await send(s, 'POST', '/api/v1/genres', { id, name: `Concurrent ${id}`, type: 'leaf', parent: 'death-metal', parents: ['death-metal'] });
    assert.equal(made.status, 201, await made.text());
    // Read-your-writes, on another connection.
    assert.equal((await fetch(`${srv.url}/api/v1/genres/${id}`, { headers: { connection: 'close' } })).status, 200);
    const gone = await send(s, 'DELETE', `/api/v1/genres/${id}`);
    assert.equal(gone.status, 200);
    assert.equal((await fetch(`${srv.url}/api/v1/genres/${id}`, { headers: { connection: 'close' } })).status, 404);
    counts.edits++;
  }
}

async function accounts(until, counts) {
  const s = await login('10.0.0.2', counts);
  const made = await send(s, 'POST', '/api/v1/users', { username: `conc${process.pid}`, email: `conc${process.pid}@example.org`, password: 'concurrent-user-pass-1' });
  assert.equal(made.status, 201);
  const { id } = (await made.json()).user;
  for (let i = 0; i < 2 || Date.now() < until; i++) {
    const [a, b] = await Promise.all([
      send(s, 'PATCH', `/api/v1/users/${id}`, { password: `concurrent-user-pass-${i + 2}` }),
      send(s, 'PATCH', `/api/v1/users/${id}`, { disabled: i % 2 === 0 }),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const users = (await (await send(s, 'GET', '/api/v1/users')).json()).users;
    assert.equal(users.find((u) => u.id === id).disabled, i % 2 === 0);
    counts.patches++;
  }
}

async function operators(until, counts) {
  while (Date.now() < until) {
    const [ready, metrics] = await Promise.all([fetch(`${srv.url}/readyz`), fetch(`${srv.url}/metrics`)]);
    assert.equal(ready.status, 200);
    assert.match(await metrics.text(), /musicgraph_work_backlog\{pool="db"\}/);
    await ready.arrayBuffer();
    if (counts.probes < 3) await abandonedLogin();
    counts.probes++;
  }
}

test('reads, logins, edits, account changes and a restore at once: every answer right, a clean stop', TIMEOUT, async () => {
  const counts = { reads: 0, logins: 0, edits: 0, patches: 0, probes: 0, deferred: 0 };
  const until = Date.now() + 15_000;
  const backups = mkdtempSync(join(tmpdir(), 'musicgraph-conc-'));
  const backup = await runCli(['backup', '--state-dir', srv.stateDir, '--to', backups]);
  assert.equal(backup.code, 0, backup.stderr);
  const file = /^backup written: (\S+)/m.exec(backup.stdout)[1];
  const work = [
    ...Array.from({ length: 4 }, () => reader(until, counts)),
    logins('10.0.1.1', until, counts),
    logins('10.0.1.2', until, counts),
    operators(until, counts),
  ];
  // A restore beside the server (another process): the server switches to
  // it. It refuses when accounts or the map change under it, so the writers
  // start once it is done.
  restoreEnded = Infinity;
  const restored = await runCli(['restore', file, '--state-dir', srv.stateDir]);
  restoreEnded = Date.now();
  assert.equal(restored.code, 0, restored.stderr);
  work.push(editor(1, until, counts), accounts(until, counts));
  await Promise.all(work);
  for (const [what, n] of Object.entries(counts)) if (what !== 'deferred') assert.ok(n > 0, `no ${what} were done`);
  const code = await srv.stop({ keepState: true });
  const logs = srv.logs();
  srv = null;
  assert.doesNotMatch(logs, /WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error:/, logs.slice(-4000));
  assert.equal(code, 0, 'a clean stop');
});
