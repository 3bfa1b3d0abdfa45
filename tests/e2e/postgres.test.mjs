// musicgraph on PostgreSQL: a throwaway cluster (tests/lib/postgres.mjs),
// real servers on it. What a user and an operator see: the map served and
// edited, the same answers as on SQLite for refused edits, rules the
// database itself holds against psql, migrations applied once by servers
// starting together, an older binary refused with the version it needs,
// connection errors that name the database and never the password, and two
// instances on one database behaving as one site (sessions, edits, a
// cycle attempted from both at once).
//
// Skipped, with the reason named, only where PostgreSQL is not installed
// (scripts/deps --test installs it).
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, postgresBin } from '../lib/postgres.mjs';
import { repoRoot, runCli, startServer } from '../lib/server.mjs';

const SKIP = postgresBin() ? false : 'PostgreSQL is not installed (scripts/deps --test installs it)';
const ADMIN = { username: 'admin', password: 'postgres-admin-pass-1' };
const SECRET = 'pg-test-secret-key-0123456789-abcdefghijklmnop';
const T = { timeout: 300_000, skip: SKIP };
let pg;

before(async () => {
  if (!SKIP) pg = await startPostgres();
});
after(async () => {
  if (pg) await pg.stop();
});

const server = (url, extra = {}) =>
  startServer({
    args: ['--database-url', url, ...(extra.args || [])],
    env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_SECRET_KEY: SECRET, ...(extra.env || {}) },
    seed: extra.seed ?? true,
    timeoutMs: 240_000,
  });

async function login(srv) {
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  return { cookie: res.headers.get('set-cookie').split(';')[0], csrf: body.csrf_token };
}

function send(srv, session, method, path, body) {
  const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${srv.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

// psql as the cluster's superuser: { code, out (trimmed, one value per line), err }.
async function psqlAt(url, sql) {
  const r = await pg.psql(url, sql);
  return { code: r.code, out: r.stdout.trim(), err: r.stderr };
}

const genre = (id, type, parents, extra = {}) => ({ id, name: `Test ${id}`, type, parents, parent: parents[0] ?? null, ...extra });

test('a server on PostgreSQL serves, edits and keeps the map in the database, not in its state directory', T, async () => {
  const url = await pg.createDatabase();
  const a = await server(url);
  try {
    const ready = await fetch(`${a.url}/readyz`);
    assert.equal(ready.status, 200);
    const thrash = await (await fetch(`${a.url}/api/v1/genres/thrash-metal`)).json();
    assert.equal(thrash.parent, 'heavy-metal');
    const s = await login(a);
    const made = await send(a, s, 'POST', '/api/v1/genres', genre('pg-test-core', 'leaf', ['heavy-metal']));
    assert.equal(made.status, 201, await made.clone().text());
    assert.equal((await fetch(`${a.url}/api/v1/genres/pg-test-core`)).status, 200, 'read your write');
    assert.equal(await (await psqlAt(url, "SELECT name FROM genres WHERE id = 'pg-test-core'")).out, 'Test pg-test-core');
    assert.match((await psqlAt(url, "SELECT actor || ' ' || action || ' ' || entity_id FROM audit_log")).out, /admin create pg-test-core/);
  } finally {
    assert.equal(await a.stop(), 0);
  }
  // Another state directory, the same database: the edit is there.
  const b = await server(url);
  try {
    const again = await fetch(`${b.url}/api/v1/genres/pg-test-core`);
    assert.equal(again.status, 200);
    assert.doesNotMatch(b.logs(), /seeded the bundled dataset/, 'a database with data is not seeded again');
  } finally {
    await b.stop();
  }
});

test('refused edits get the same answers on PostgreSQL as on SQLite', T, async () => {
  const url = await pg.createDatabase();
  const onPg = await server(url);
  const onSqlite = await startServer({ env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password } });
  try {
    const bad = [
      ['POST', '/api/v1/genres', genre('pg-root-with-parent', 'root', ['rock'])],
      ['POST', '/api/v1/genres', genre('pg-primary-not-among', 'leaf', ['rock'], { parent: 'jazz' })],
      ['POST', '/api/v1/genres', genre('Bad Id', 'leaf', ['rock'])],
      ['POST', '/api/v1/genres', genre('rock', 'root', [])],
      ['POST', '/api/v1/bands', { id: 'pg-band', name: 'B', primary_genre: 'rock', genres: ['rock'] }],
      ['POST', '/api/v1/bands', { id: 'pg-band', name: 'B', primary_genre: 'thrash-metal', genres: ['speed-metal'] }],
      ['PUT', '/api/v1/genres/heavy-metal', genre('heavy-metal', 'intermediate', ['rock', 'thrash-metal'], { parent: 'rock' })],
      ['DELETE', '/api/v1/genres/heavy-metal'],
      ['DELETE', '/api/v1/genres/thrash-metal'],
    ];
    const sp = await login(onPg);
    const ss = await login(onSqlite);
    for (const [method, path, body] of bad) {
      const p = await send(onPg, sp, method, path, body);
      const q = await send(onSqlite, ss, method, path, body);
      const [pb, qb] = [await p.json(), await q.json()];
      assert.ok(p.status >= 400, `${method} ${path} was accepted on PostgreSQL`);
      assert.equal(p.status, q.status, `${method} ${path}: ${JSON.stringify(pb)} vs ${JSON.stringify(qb)}`);
      assert.deepEqual(pb.errors, qb.errors, `${method} ${path}`);
      assert.equal(pb.detail, qb.detail, `${method} ${path}`);
    }
  } finally {
    await onPg.stop();
    await onSqlite.stop();
  }
});

test('the database itself refuses what the rules forbid, even from psql: a cycle, a root with parents, a primary genre that is no leaf', T, async () => {
  const url = await pg.createDatabase();
  const m = await runCli(['seed', '--database-url', url, '--state-dir', mkdtempSync(join(tmpdir(), 'mg-pg-'))]);
  assert.equal(m.code, 0, m.stderr);
  const version = (await psqlAt(url, 'SELECT version FROM data_version')).out;
  // thrash-metal's ancestor heavy-metal as thrash-metal's child: a cycle.
  const cycle = await psqlAt(url, "INSERT INTO genre_parents (genre_id, parent_id, position) VALUES ('heavy-metal', 'thrash-metal', 9)");
  assert.notEqual(cycle.code, 0);
  assert.match(cycle.err, /cannot be its own ancestor/);
  // Also when the cycle is longer and made in one transaction with other rows.
  const grandchild = (await psqlAt(url, `SELECT c.genre_id FROM genre_parents c JOIN genre_parents p ON c.parent_id = p.genre_id
    WHERE p.parent_id = 'heavy-metal' ORDER BY 1 LIMIT 1`)).out;
  assert.ok(grandchild, 'heavy-metal has a grandchild');
  const long = await psqlAt(url, `BEGIN; UPDATE genres SET description = 'x' WHERE id = 'rock';
    INSERT INTO genre_parents (genre_id, parent_id, position) VALUES ('heavy-metal', '${grandchild}', 1); COMMIT;`);
  assert.notEqual(long.code, 0);
  assert.match(long.err, /own ancestor/);
  const root = await psqlAt(url, "INSERT INTO genre_parents (genre_id, parent_id, position) VALUES ('rock', 'jazz', 1)");
  assert.notEqual(root.code, 0);
  assert.match(root.err, /root genre has no parents|own ancestor/);
  const band = await psqlAt(url, "UPDATE bands SET primary_genre = 'heavy-metal' WHERE id = 'metallica'");
  assert.notEqual(band.code, 0);
  assert.match(band.err, /leaf|violates/);
  const primary = await psqlAt(url, "UPDATE genres SET parent_id = 'jazz' WHERE id = 'thrash-metal'");
  assert.notEqual(primary.code, 0);
  assert.match(primary.err, /genres_primary_parent_among_parents/);
  const del = await psqlAt(url, "DELETE FROM genres WHERE id = 'heavy-metal'");
  assert.notEqual(del.code, 0, 'a genre that is a primary parent cannot be deleted');
  assert.equal((await psqlAt(url, 'SELECT version FROM data_version')).out, version);
  assert.equal((await psqlAt(url, "SELECT count(*) FROM genre_parents WHERE parent_id = 'thrash-metal' AND genre_id IN ('heavy-metal', 'rock')")).out, '0');
});

test('two servers starting at once on an empty database apply the migrations and seed once', T, async () => {
  const url = await pg.createDatabase();
  const [a, b] = await Promise.all([server(url), server(url)]);
  try {
    const migrations = readdirSync(join(repoRoot, 'src', 'store', 'migrations', 'postgres')).filter((f) => f.endsWith('.sql')).length;
    assert.equal((await psqlAt(url, 'SELECT count(*) FROM schema_migrations')).out, String(migrations));
    const logs = a.logs() + b.logs();
    assert.equal((logs.match(new RegExp(`applied ${migrations} migration\\(s\\)`, 'g')) || []).length, 1, logs);
    assert.equal((logs.match(/seeded the bundled dataset/g) || []).length, 1, logs);
    assert.equal((await psqlAt(url, "SELECT count(*) FROM users WHERE username = 'admin'")).out, '1');
    assert.equal((await psqlAt(url, 'SELECT version FROM data_version')).out, '1', 'the map was written once');
    for (const s of [a, b]) assert.equal((await fetch(`${s.url}/api/v1/genres/thrash-metal`)).status, 200);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a binary older than the schema refuses to start and names the version it needs', T, async () => {
  const url = await pg.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'mg-pg-'));
  assert.equal((await runCli(['migrate', '--database-url', url, '--state-dir', dir])).code, 0);
  const fake = await psqlAt(url, "INSERT INTO schema_migrations VALUES ('0099_from_the_future', 'abc', '2031-01-01T00:00:00Z', '9.4.1')");
  assert.equal(fake.code, 0, fake.err);
  const r = await runCli(['serve', '--database-url', url, '--state-dir', dir, '--listen', '127.0.0.1:0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /0099_from_the_future/);
  assert.match(r.stderr, /musicgraph 9\.4\.1 or newer/);
  const m = await runCli(['migrate', '--database-url', url, '--state-dir', dir]);
  assert.notEqual(m.code, 0);
  assert.match(m.stderr, /9\.4\.1/);
});

test('connection errors name the host and database and never the password', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-pg-'));
  const wrong = `postgres://musicgraph:Very-Secret-Pw%2F9@127.0.0.1:${pg.port}/nosuchdb`;
  const r = await runCli(['migrate', '--database-url', wrong, '--state-dir', dir]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`database "nosuchdb" on 127\\.0\\.0\\.1:${pg.port}`));
  assert.doesNotMatch(r.stderr, /Very-Secret|Secret-Pw/);
  // A wrong password, from a _FILE (the form a systemd credential takes).
  const file = join(dir, 'url');
  writeFileSync(file, `postgres://musicgraph:Another-Wrong-Pw@127.0.0.1:${pg.port}/postgres\n`);
  const f = await runCli(['migrate', '--state-dir', dir], { env: { MUSICGRAPH_DATABASE_URL_FILE: file } });
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /password authentication failed/);
  assert.match(f.stderr, /database "postgres" on 127\.0\.0\.1/);
  assert.doesNotMatch(f.stderr, /Another-Wrong/);
  // Nothing listening.
  const closed = await runCli(['migrate', '--state-dir', dir, '--database-url', 'postgresql://u:Pw-Nobody-Knows@127.0.0.1:1/db1']);
  assert.notEqual(closed.code, 0);
  assert.match(closed.stderr, /database "db1" on 127\.0\.0\.1:1/);
  assert.doesNotMatch(closed.stderr, /Pw-Nobody/);
  // A malformed URL quotes no password back either.
  const bad = await runCli(['migrate', '--state-dir', dir, '--database-url', 'postgres://u:Pw-Malformed%zz@127.0.0.1:1/db?nonsense=1']);
  assert.notEqual(bad.code, 0);
  assert.doesNotMatch(bad.stderr, /Pw-Malformed/);
});

test('two instances on one database are one site: sessions, edits, and a cycle attempted from both at once', T, async () => {
  const url = await pg.createDatabase();
  const a = await server(url);
  const b = await server(url);
  try {
    // A session opened on A works on B.
    const s = await login(a);
    const me = await fetch(`${b.url}/api/v1/me`, { headers: { cookie: s.cookie } });
    assert.equal(me.status, 200);
    assert.match(await me.text(), /"username":"admin"/);
    // An edit through A is served by B (after its poll).
    const made = await send(a, s, 'POST', '/api/v1/genres', genre('pg-x', 'intermediate', ['rock']));
    assert.equal(made.status, 201, await made.clone().text());
    const madeY = await send(b, s, 'POST', '/api/v1/genres', genre('pg-y', 'intermediate', ['rock']));
    assert.equal(madeY.status, 201, await madeY.clone().text());
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${b.url}/api/v1/genres/pg-x`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'B never served the genre made through A');
      await new Promise((r) => setTimeout(r, 100));
    }
    // x under y through A and y under x through B, at the same moment: one wins.
    const [ra, rb] = await Promise.all([
      send(a, s, 'PUT', '/api/v1/genres/pg-x', genre('pg-x', 'intermediate', ['rock', 'pg-y'])),
      send(b, s, 'PUT', '/api/v1/genres/pg-y', genre('pg-y', 'intermediate', ['rock', 'pg-x'])),
    ]);
    const statuses = [ra.status, rb.status].sort();
    assert.equal(statuses[0], 200, `${ra.status} ${await ra.text()} / ${rb.status} ${await rb.text()}`);
    assert.ok(statuses[1] >= 400, `both accepted: ${statuses}`);
    const cycles = await psqlAt(url, `WITH RECURSIVE up (g, a) AS (SELECT genre_id, parent_id FROM genre_parents
      UNION SELECT up.g, p.parent_id FROM up JOIN genre_parents p ON p.genre_id = up.a) SELECT count(*) FROM up WHERE g = a`);
    assert.equal(cycles.out, '0');
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a backup taken on SQLite restores into PostgreSQL and the reverse, accounts included', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-pg-'));
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'cross-backend-pass-1\n');
  const cli = async (args, what) => {
    const r = await runCli([...args, '--state-dir', dir]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    return r.stdout;
  };
  await cli(['seed'], 'seed SQLite');
  // An admin: a restore refuses a backup that would leave nobody to administer the site.
  await cli(['user', 'create', 'carol', '--email', 'carol@example.org', '--admin', '--password-file', pw], 'user on SQLite');
  const fromSqlite = (await cli(['backup', '--tag', 'sqlite'], 'backup SQLite')).match(/written: (\S+)/)[1];
  const url = await pg.createDatabase();
  await cli(['migrate', '--database-url', url], 'migrate PostgreSQL');
  await cli(['restore', fromSqlite, '--database-url', url], 'restore into PostgreSQL');
  assert.equal((await psqlAt(url, "SELECT email FROM users WHERE username = 'carol'")).out, 'carol@example.org');
  const genres = (await psqlAt(url, 'SELECT count(*) FROM genres')).out;
  assert.ok(Number(genres) > 1000, genres);
  // Changed on PostgreSQL, backed up there, restored into a fresh SQLite database.
  assert.equal((await psqlAt(url, "UPDATE genres SET name = 'Thrash (pg)' WHERE id = 'thrash-metal'")).code, 0);
  const fromPg = (await cli(['backup', '--tag', 'pg', '--database-url', url], 'backup PostgreSQL')).match(/written: (\S+)/)[1];
  await cli(['verify', fromPg], 'verify the PostgreSQL backup');
  const other = mkdtempSync(join(tmpdir(), 'mg-pg-'));
  // Another installation: it trusts the signing key of the first (backup-key show | trust).
  const pub = join(dir, 'signing.pub');
  writeFileSync(pub, await cli(['backup-key', 'show'], 'backup-key show'));
  const trusted = await runCli(['backup-key', 'trust', pub, '--state-dir', other]);
  assert.equal(trusted.code, 0, trusted.stderr);
  const back = await runCli(['restore', fromPg, '--state-dir', other]);
  assert.equal(back.code, 0, back.stderr);
  const srv = await startServer({ stateDir: other, seed: false });
  try {
    const g = await (await fetch(`${srv.url}/api/v1/genres/thrash-metal`)).json();
    assert.equal(g.name, 'Thrash (pg)');
    const login = await fetch(`${srv.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'carol', password: 'cross-backend-pass-1' }),
    });
    assert.equal(login.status, 200, 'the password hash travelled with the account');
  } finally {
    await srv.stop();
  }
});

test('while PostgreSQL is down reads are served, writes and logins answer 503 with Retry-After; afterwards it reconnects by itself', T, async () => {
  const url = await pg.createDatabase();
  const srv = await server(url);
  try {
    const s = await login(srv);
    const stopped = await pg.pause();
    assert.equal(stopped.code, 0, stopped.stderr);
    try {
      for (const path of ['/api/v1/graph', '/api/v1/genres/thrash-metal', '/genres/thrash-metal', '/healthz'])
        assert.equal((await fetch(`${srv.url}${path}`)).status, 200, `${path} during the outage`);
      const edit = await send(srv, s, 'POST', '/api/v1/genres', genre('pg-outage', 'leaf', ['heavy-metal']));
      assert.equal(edit.status, 503, await edit.clone().text());
      assert.match(edit.headers.get('content-type'), /application\/problem\+json/);
      assert.ok(Number(edit.headers.get('retry-after')) > 0);
      const again = await send(srv, s, 'POST', '/api/v1/genres', genre('pg-outage', 'leaf', ['heavy-metal']));
      assert.equal(again.status, 503, 'the reconnection attempt fails too, quickly');
      const logins = await fetch(`${srv.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      assert.equal(logins.status, 503);
      assert.ok(logins.headers.get('retry-after'));
      const ready = await fetch(`${srv.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /database/);
    } finally {
      const started = await pg.resume();
      assert.equal(started.code, 0, started.stderr);
    }
    // Back: the same session, no restart.
    const deadline = Date.now() + 30_000;
    let res;
    for (;;) {
      res = await send(srv, s, 'POST', '/api/v1/genres', genre('pg-outage', 'leaf', ['heavy-metal']));
      if (res.status !== 503 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(res.status, 201, await res.text());
    assert.equal((await fetch(`${srv.url}/api/v1/genres/pg-outage`)).status, 200);
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

// A steady, bounded load on srv (127.0.0.1): `readers` loops over map
// endpoints and `writers` loops each making distinct edits (a new genre per
// attempt, load-wW-I), until stop() or a count or the deadline. Every answer
// is recorded, with the error when there was none within limitMs or the
// connection broke.
function startLoad(srv, session, { readers = 4, writers = 2, limitMs, deadline }) {
  const reads = { ok: 0, failed: [] };
  const writes = []; // { id, at, ms, status, retryAfter, type, body } or { id, at, ms, error }
  let stopped = false;
  const timed = async (what, run) => {
    const t0 = Date.now();
    try {
      return { res: await run(AbortSignal.timeout(limitMs)), ms: Date.now() - t0 };
    } catch (e) {
      const why = e.name === 'TimeoutError' ? `no answer within ${limitMs} ms` : `${e.message} ${e.cause?.code || ''}`;
      return { error: `${what}: ${why}`, ms: Date.now() - t0 };
    }
  };
  const going = (i, max) => !stopped && i < max && Date.now() < deadline;
  const reader = async (n) => {
    const paths = ['/api/v1/graph', '/api/v1/genres/thrash-metal', '/api/v1/search?q=metal', '/api/v1/bands/metallica'];
    for (let i = 0; going(i, 5000); i++) {
      const path = paths[(i + n) % paths.length];
      const r = await timed(`GET ${path}`, async (signal) => {
        const res = await fetch(`${srv.url}${path}`, { signal });
        await res.arrayBuffer();
        return res.status;
      });
      if (r.res === 200) reads.ok++;
      else reads.failed.push(r.error || `GET ${path}: ${r.res}`);
    }
  };
  const writer = async (w) => {
    for (let i = 0; going(i, 1000); i++) {
      const id = `load-w${w}-${i}`;
      const at = Date.now();
      const r = await timed(`POST ${id}`, async (signal) => {
        const res = await fetch(`${srv.url}/api/v1/genres`, {
          method: 'POST',
          signal,
          headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' },
          body: JSON.stringify(genre(id, 'leaf', ['heavy-metal'])),
        });
        const h = res.headers;
        return { status: res.status, retryAfter: h.get('retry-after'), type: h.get('content-type'), body: await res.text() };
      });
      writes.push({ id, at, ms: r.ms, error: r.error, ...r.res });
      await new Promise((ok) => setTimeout(ok, 20));
    }
  };
  const all = Promise.all([...Array(readers).keys()].map(reader).concat([...Array(writers).keys()].map(writer)));
  return {
    reads,
    writes,
    acked: () => writes.filter((w) => w.status === 201),
    tally: () => JSON.stringify(writes.reduce((t, w) => ({ ...t, [w.status || 'no answer']: (t[w.status || 'no answer'] || 0) + 1 }), {})),
    async stop() {
      stopped = true;
      await all;
    },
  };
}

// The outage under load: readers and writers keep going while PostgreSQL
// stops and starts. What they must see (issue 12): every read 200; every
// write either acknowledged (201) and present afterwards, or refused with
// 503 and Retry-After — never another 5xx, never a dropped connection, never
// an answer later than the limit the URL sets (connect_timeout,
// statement_timeout); and the server still running, stopping cleanly.
test('under a steady load, while PostgreSQL stops and starts: no read fails, every write is acknowledged and kept or refused with 503', T, async (t) => {
  // A write may take connecting (3 s) plus a statement (5 s); the rest is margin for a loaded machine.
  const limitMs = 15_000;
  const url = (await pg.createDatabase()) + '?connect_timeout=3&options=-c%20statement_timeout%3D5000';
  const srv = await server(url);
  const deadline = Date.now() + 150_000;
  let load = null;
  let down = false;
  try {
    load = startLoad(srv, await login(srv), { limitMs, deadline });
    const until = async (what, cond) => {
      while (!cond()) {
        assert.ok(Date.now() < deadline, `the load ended before ${what}: writes ${load.tally()}, ${load.reads.ok} reads`);
        await new Promise((ok) => setTimeout(ok, 50));
      }
    };
    await until('5 writes were acknowledged', () => load.acked().length >= 5);
    const stopped = await pg.pause();
    assert.equal(stopped.code, 0, stopped.stderr);
    down = Date.now();
    const down0 = down;
    // Down for a while: writes refused, and at least 2 s of reads.
    await until('writes were refused during the outage', () => load.writes.filter((w) => w.at > down && w.status === 503).length >= 3 && Date.now() - down > 2000);
    const started = await pg.resume();
    assert.equal(started.code, 0, started.stderr);
    const up = Date.now();
    down = false;
    await until('5 writes were acknowledged after PostgreSQL came back', () => load.acked().filter((w) => w.at > up).length >= 5);
    await load.stop();
    const { reads, writes } = load;
    assert.deepEqual(reads.failed, [], `${reads.failed.length} of ${reads.ok + reads.failed.length} reads failed`);
    const bad = writes.filter((w) => !(w.status === 201 || (w.status === 503 && Number(w.retryAfter) > 0 && /application\/problem\+json/.test(w.type))));
    assert.deepEqual(bad.map((w) => `${w.id} after ${w.ms} ms: ${w.error || `${w.status} retry-after=${w.retryAfter} ${w.body}`}`), [], 'every write acknowledged, or refused with 503 and Retry-After');
    const refused = writes.filter((w) => w.status === 503);
    // Afterwards every acknowledged write is in the database and served, and no refused one is.
    const stored = new Set((await psqlAt(url, "SELECT id FROM genres WHERE id LIKE 'load-w%'")).out.split('\n').filter(Boolean));
    assert.deepEqual(load.acked().map((w) => w.id).filter((id) => !stored.has(id)), [], 'acknowledged writes lost');
    assert.deepEqual(refused.map((w) => w.id).filter((id) => stored.has(id)), [], 'writes refused with 503 that committed anyway');
    const served = new Set((await (await fetch(`${srv.url}/api/v1/graph`)).json()).genres.map((g) => g.id));
    assert.deepEqual([...stored].filter((id) => !served.has(id)), [], 'the server serves every stored write');
    assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
    t.diagnostic(`${reads.ok} reads, ${load.acked().length} writes acknowledged, ${refused.length} refused with 503; ` +
      `slowest answer to a write ${Math.max(...writes.map((w) => w.ms))} ms; PostgreSQL down ${up - down0} ms`);
  } finally {
    if (load) await load.stop();
    if (down) await pg.resume();
    assert.equal(await srv.stop(), 0, 'the server ran through it and stopped cleanly');
  }
});

test('doctor names the PostgreSQL server and warns about settings that lose acknowledged writes', T, async () => {
  const url = await pg.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'mg-pg-'));
  assert.equal((await runCli(['migrate', '--database-url', url, '--state-dir', dir])).code, 0);
  const r = await runCli(['doctor', '--database-url', url, '--state-dir', dir]);
  // The test cluster runs with synchronous_commit and fsync off, for speed: exactly what doctor must flag.
  assert.match(r.stdout, /WARN +database server +PostgreSQL 15\.\d+.*database "mg_\d+_\d+" on 127\.0\.0\.1:\d+.*synchronous_commit off/);
  assert.match(r.stdout, /ok +database +postgresql reachable/);
  assert.match(r.stdout, /MUSICGRAPH_DATABASE_URL=postgres:\/\/\*\*\*@127\.0\.0\.1/);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
});
