// Two instances on one PostgreSQL database behind the shipped nginx example
// (deploy/nginx/musicgraph.conf with its second upstream server line
// uncommented, ports replaced: tests/lib/nginx.mjs), all on loopback: what a
// visitor and a curator see through nginx while the upstream has two
// servers, and while one of them stops.
//
// Which instance answered is read from nginx's own access log
// ($upstream_addr), not from anything musicgraph says.
//
// Skipped, with the reason named, where PostgreSQL or nginx is not installed
// (scripts/deps --test installs both).
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { freePort, startServer } from '../lib/server.mjs';
import { startPostgres, postgresBin } from '../lib/postgres.mjs';
import { NGINX, exampleSite } from '../lib/nginx.mjs';
import { existsSync } from 'node:fs';
import { sleep, waitFor } from '../lib/wait.mjs';

const SKIP = !postgresBin() ? 'PostgreSQL is not installed (scripts/deps --test installs it)'
  : !existsSync(NGINX) ? 'nginx is not installed (scripts/deps --test installs it)' : false;
const ADMIN = { username: 'admin', password: 'nginx-two-admin-pass' };
const SECRET = 'nginx-two-instances-secret-0123456789-abcdef';
const T = { timeout: 240_000, skip: SKIP };

let pg, site, nginx;
const instances = []; // [{ srv, upstream: '127.0.0.1:PORT' }]

const start = (url) =>
  startServer({
    args: ['--database-url', url, '--shutdown-timeout', '3'],
    env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_SECRET_KEY: SECRET, MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1' },
    timeoutMs: 180_000,
  });

before(async () => {
  if (SKIP) return;
  pg = await startPostgres();
  const url = await pg.createDatabase();
  // One after the other: the first seeds the database and creates the admin.
  for (let i = 0; i < 2; i++) {
    const srv = await start(url);
    instances.push({ srv, upstream: `127.0.0.1:${srv.port}` });
  }
  site = exampleSite({ port80: await freePort(), port443: await freePort(), upstreams: instances.map((i) => i.srv.port) });
  nginx = await site.start();
});

after(async () => {
  if (nginx) await nginx.stop();
  for (const { srv } of instances) await srv.stop();
  if (pg) await pg.stop();
});

// The upstream addresses nginx used for the log lines after `from` that match `what` (a regexp on
// "METHOD URI STATUS"); a failed-over request lists both ("A, B").
function upstreamsSince(from, what) {
  return site.accessLog().slice(from).filter((l) => what.test(l)).map((l) => l.split(' ').slice(3).join(' '));
}

async function loginThroughNginx() {
  const res = await site.https('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(res.status, 200, res.body.toString());
  return { cookie: res.headers['set-cookie'][0].split(';')[0], csrf: JSON.parse(res.body).csrf_token };
}

test('requests through nginx are served by both instances', T, async () => {
  const from = site.accessLog().length;
  for (let i = 0; i < 12; i++) {
    const res = await site.https('/api/v1/genres/rock');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).id, 'rock');
  }
  const used = new Set(upstreamsSince(from, /^GET \/api\/v1\/genres\/rock 200/));
  assert.deepEqual([...used].sort(), instances.map((i) => i.upstream).sort(), 'round robin over the two servers');
});

test('a session made through nginx works whichever instance answers', T, async () => {
  const s = await loginThroughNginx();
  const from = site.accessLog().length;
  for (let i = 0; i < 8; i++) {
    const me = await site.https('/api/v1/me', { headers: { cookie: s.cookie } });
    assert.equal(me.status, 200, me.body.toString());
    assert.equal(JSON.parse(me.body).user.username, 'admin');
  }
  const used = new Set(upstreamsSince(from, /^GET \/api\/v1\/me 200/));
  assert.equal(used.size, 2, `both instances accepted the session: ${[...used]}`);
  // Writes with it, on whichever instance nginx picks: the session and its CSRF token hold on both.
  const writes = site.accessLog().length;
  for (let i = 1; i <= 4; i++) {
    const res = await site.https('/api/v1/genres', {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ id: `nginx-session-${i}`, name: `Nginx Session ${i}`, type: 'leaf', parents: ['rock'], parent: 'rock' }),
    });
    assert.equal(res.status, 201, res.body.toString());
  }
  assert.equal(new Set(upstreamsSince(writes, /^POST \/api\/v1\/genres 201/)).size, 2, 'writes on both instances');
});

test('an edit made through nginx is served afterwards through nginx, by both instances', T, async () => {
  const s = await loginThroughNginx();
  const genre = { id: 'nginx-two-core', name: 'Nginx Two Core', type: 'leaf', parents: ['heavy-metal'], parent: 'heavy-metal' };
  const made = await site.https('/api/v1/genres', {
    method: 'POST',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(genre),
  });
  assert.equal(made.status, 201, made.body.toString());
  // The other instance rebuilds its map on the NOTIFY: wait for it, then every read through nginx has it.
  for (const { srv } of instances)
    await waitFor(`${srv.url} serving the new genre`, async () => (await fetch(`${srv.url}/api/v1/genres/nginx-two-core`)).status === 200);
  const from = site.accessLog().length;
  for (let i = 0; i < 6; i++) {
    const res = await site.https('/api/v1/genres/nginx-two-core');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).name, 'Nginx Two Core');
  }
  assert.equal(new Set(upstreamsSince(from, /^GET \/api\/v1\/genres\/nginx-two-core 200/)).size, 2);
});

test('one instance stopped with SIGTERM while requests run: no GET through nginx fails, the session goes on', T, async () => {
  const s = await loginThroughNginx();
  const paths = ['/api/v1/graph', '/api/v1/genres/rock', '/api/v1/search?q=pan', '/genres/rock', '/api/v1/me'];
  const results = [];
  let stopAt = Infinity;
  const deadline = { at: Date.now() + 60_000 };
  // Four clients, each one request after the other, until a second and a half after the stop
  // (bounded by the deadline above, whatever happens).
  const client = async (n) => {
    for (let i = n; Date.now() < Math.min(stopAt + 1500, deadline.at); i++) {
      const path = paths[i % paths.length];
      try {
        const res = await site.https(path, { headers: { cookie: s.cookie, 'accept-encoding': 'gzip' } });
        results.push({ path, status: res.status, after: Date.now() > stopAt });
      } catch (e) {
        results.push({ path, status: `error: ${e.message}`, after: Date.now() > stopAt });
      }
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  await waitFor('requests running', async () => results.length >= 40, 30_000, 10);
  const from = site.accessLog().length;
  const stopped = instances[1];
  stopAt = Date.now();
  const code = await stopped.srv.stop();
  await Promise.all(clients);
  assert.equal(code, 0, 'the stopped instance drained and exited cleanly');
  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
  const after = results.filter((r) => r.after).length;
  assert.ok(after >= 20, `requests ran after the stop (${after})`);
  // After the stop, nginx gave up on the stopped server: later requests went to the other one.
  await sleep(200);
  const tail = upstreamsSince(from, /^GET /);
  assert.ok(tail.length > 0);
  assert.equal(tail.at(-1), instances[0].upstream, `the last requests were served by the instance left: ${tail.slice(-5)}`);
  // The session made when both ran still works, on the instance left.
  const me = await site.https('/api/v1/me', { headers: { cookie: s.cookie } });
  assert.equal(me.status, 200);
  assert.doesNotMatch(site.errorLog(), /\[(emerg|alert|crit)\]/);
});
