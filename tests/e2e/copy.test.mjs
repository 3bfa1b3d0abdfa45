// `musicgraph copy`: a whole site moved from one database to another, as an
// operator does it when the site outgrows SQLite (and back). What they see:
// a server on the target serves the same map, the users log in with their
// passwords, the audit log is there; a target that holds data is refused
// (naming it, never its password) and left as it was; a source that is not
// a database, cannot be reached, breaks a rule or comes from a newer
// musicgraph leaves the target unchanged.
//
// The PostgreSQL cases start a throwaway cluster (tests/lib/postgres.mjs)
// and are skipped, by name, where PostgreSQL is not installed; the SQLite to
// SQLite cases run everywhere.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, postgresBin } from '../lib/postgres.mjs';
import { repoRoot, runCli, startServer } from '../lib/server.mjs';

const SKIP = postgresBin() ? false : 'PostgreSQL is not installed (scripts/deps --test installs it)';
const PG = { timeout: 300_000, skip: SKIP };
const ADMIN = { username: 'admin', password: 'copy-admin-pass-1' };
const CURATOR = { username: 'curator', password: 'copy-curator-pass-1' };
let pg;

before(async () => {
  if (!SKIP) pg = await startPostgres();
});
after(async () => {
  if (pg) await pg.stop();
});

const temp = () => mkdtempSync(join(tmpdir(), 'mg-copy-'));
const sqliteUrl = (dir) => `sqlite://${join(dir, 'musicgraph.db')}`;

// A server on the database url (the state directory dir holds the rest).
const server = (url, dir = temp()) =>
  startServer({
    stateDir: dir,
    args: ['--database-url', url],
    env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password },
    timeoutMs: 240_000,
  });

// musicgraph copy, run from an operator's state directory of its own.
const copy = (...args) => runCli(['copy', ...args, '--state-dir', temp()]);

async function login(srv, who) {
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  assert.equal(res.status, 200, `${who.username} logs in on ${srv.url}: ${await res.clone().text()}`);
  const body = await res.json();
  return { cookie: res.headers.get('set-cookie').split(';')[0], csrf: body.csrf_token };
}

async function send(srv, session, method, path, body) {
  const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${srv.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}

const leaf = (id, parent) => ({ id, name: `Copy ${id}`, type: 'leaf', parents: [parent], parent });

// A site with history: seeded, edited by the admin, a second user (a
// curator) who logged in and edited too; the audit log records both.
async function makeSite() {
  const dir = temp();
  const url = sqliteUrl(dir);
  const srv = await server(url, dir);
  try {
    const a = await login(srv, ADMIN);
    assert.equal((await send(srv, a, 'POST', '/api/v1/users', { username: CURATOR.username, email: 'curator@example.org', password: CURATOR.password, is_admin: true })).status, 201);
    assert.equal((await send(srv, a, 'POST', '/api/v1/genres', leaf('copy-admin-made', 'heavy-metal'))).status, 201);
    const thrash = JSON.parse((await send(srv, a, 'GET', '/api/v1/genres/thrash-metal')).body);
    const renamed = await send(srv, a, 'PUT', '/api/v1/genres/thrash-metal', { ...thrash, name: 'Thrash (copied)' });
    assert.equal(renamed.status, 200, renamed.body);
    const c = await login(srv, CURATOR);
    assert.equal((await send(srv, c, 'POST', '/api/v1/genres', leaf('copy-curator-made', 'thrash-metal'))).status, 201);
    assert.equal((await send(srv, c, 'DELETE', '/api/v1/genres/copy-admin-made')).status, 200);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
  return { dir, url };
}

// The database's contents as `export` writes them: the payload (map,
// accounts with hashes and last logins, audit log) and its checksum.
async function exported(url) {
  const r = await runCli(['export', '-', '--database-url', url, '--state-dir', temp()]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  return { payload: doc.payload, sha: doc.manifest.payload_sha256, counts: doc.manifest.counts };
}

// The map as a server shows it, without the layout coordinates (each server lays out its own).
async function graph(srv) {
  const g = await (await fetch(`${srv.url}/api/v1/graph`)).json();
  const strip = (o) => Object.fromEntries(Object.entries(o).filter(([k]) => !['x', 'y', 'ex', 'ey'].includes(k)));
  return { genres: g.genres.map(strip), bands: (g.bands || []).map(strip) };
}

// What a user of the copy sees: the map, both logins, the audit log with both actors.
async function assertServes(url, expected) {
  const srv = await server(url);
  try {
    assert.deepEqual(await graph(srv), expected.graph, 'the same map');
    assert.equal((await (await fetch(`${srv.url}/api/v1/genres/thrash-metal`)).json()).name, 'Thrash (copied)');
    assert.equal((await fetch(`${srv.url}/api/v1/genres/copy-curator-made`)).status, 200);
    assert.equal((await fetch(`${srv.url}/api/v1/genres/copy-admin-made`)).status, 404, 'the deletion travelled too');
    const a = await login(srv, ADMIN);
    await login(srv, CURATOR);
    const audit = JSON.parse((await send(srv, a, 'GET', '/api/v1/audit?per_page=100')).body);
    assert.equal(audit.total, expected.audit.total);
    assert.deepEqual(audit.entries.map((e) => [e.id, e.actor, e.action, e.entity_id]), expected.audit.entries.map((e) => [e.id, e.actor, e.action, e.entity_id]));
    assert.ok(audit.entries.some((e) => e.actor === 'curator' && e.action === 'delete'), 'the curator\'s edits are in the audit log');
    return audit;
  } finally {
    assert.equal(await srv.stop(), 0);
  }
}

// What the source's own server shows (read once, before any copy).
async function seen(url) {
  const srv = await server(url);
  try {
    const a = await login(srv, ADMIN);
    return { graph: await graph(srv), audit: JSON.parse((await send(srv, a, 'GET', '/api/v1/audit?per_page=100')).body) };
  } finally {
    assert.equal(await srv.stop(), 0);
  }
}

const psql = async (url, sql) => {
  const r = await pg.psql(url, sql);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
};

test('copy moves a whole SQLite site into PostgreSQL and back: the same map, logins and audit log; sessions stay behind', PG, async () => {
  const site = await makeSite();
  const expected = await seen(site.url); // (its admin's login is part of what is copied)
  const before = await exported(site.url);
  const target = await pg.createDatabase();
  const r = await copy('--from', site.url, '--to', target);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /copied \d+ genres, \d+ bands, 2 users and \d+ audit entries from SQLite database .* to PostgreSQL database "mg_\d+_\d+" on 127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /sessions were not copied/);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
  const onPg = await exported(target);
  assert.deepEqual(onPg.payload, before.payload, 'PostgreSQL holds exactly what SQLite held');
  assert.equal(onPg.sha, before.sha);
  assert.equal(await psql(target, 'SELECT count(*) FROM sessions'), '0', 'no session travelled');
  assert.equal(await psql(target, 'SELECT count(*) FROM schema_migrations'), String(readdirSync(join(repoRoot, 'src/store/migrations/postgres')).length), 'the target was migrated');
  await assertServes(target, expected);
  // New ids on the copy do not collide with the copied ones.
  {
    const srv = await server(target);
    try {
      const a = await login(srv, ADMIN);
      assert.equal((await send(srv, a, 'POST', '/api/v1/genres', leaf('copy-made-on-pg', 'thrash-metal'))).status, 201);
      assert.equal((await send(srv, a, 'DELETE', '/api/v1/genres/copy-made-on-pg')).status, 200);
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  }
  // The reverse: PostgreSQL into a new SQLite file.
  const back = temp();
  const r2 = await copy('--from', target, '--to', sqliteUrl(back));
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /from PostgreSQL database "mg_\d+_\d+" on 127\.0\.0\.1:\d+ to SQLite database /);
  assert.deepEqual((await exported(sqliteUrl(back))).payload, (await exported(target)).payload, 'SQLite holds exactly what PostgreSQL held');
  const audit = await assertServes(sqliteUrl(back), { ...expected, audit: await seen(target).then((s) => s.audit) });
  assert.ok(audit.entries.some((e) => e.entity_id === 'copy-made-on-pg'), 'the edit made on PostgreSQL came back');
});

test('copy refuses a target that holds data, naming it and not its password, and leaves it as it was; --replace overwrites it after a safety backup', PG, async () => {
  const site = await makeSite();
  const target = await pg.createDatabase();
  const srv = await server(target); // a server that seeded the target and made its first admin
  await srv.stop();
  const version = await psql(target, 'SELECT version FROM data_version');
  const was = await exported(target);
  const r = await copy('--from', site.url, '--to', target);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the target, PostgreSQL database "mg_\d+_\d+" on 127\.0\.0\.1:\d+, already holds data \(\d+ genres, \d+ bands, 1 user and 0 audit entries\): nothing was copied/);
  assert.match(r.stderr, /--replace/);
  assert.doesNotMatch(r.stderr, new RegExp(pg.password));
  assert.equal(await psql(target, 'SELECT version FROM data_version'), version);
  assert.equal((await exported(target)).sha, was.sha, 'the target is unchanged');
  // With --replace it becomes the source; what it held is in the safety backup.
  const ops = temp();
  const replaced = await runCli(['copy', '--from', site.url, '--to', target, '--replace', '--state-dir', ops]);
  assert.equal(replaced.code, 0, replaced.stderr);
  const safety = replaced.stdout.match(/the data it replaced is in (\S+)/);
  assert.ok(safety && existsSync(safety[1]), replaced.stdout);
  assert.deepEqual((await exported(target)).payload, (await exported(site.url)).payload);
});

test('a hostile or unreachable source, or a source from a newer musicgraph, leaves the target unchanged', PG, async () => {
  const dir = temp();
  const target = await pg.createDatabase();
  const tables = () => psql(target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  // A file that is not a database.
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not a database, just text that an operator mistyped a path to\n'.repeat(100));
  const r1 = await copy('--from', `sqlite://${junk}`, '--to', target);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /cannot open the source: .*junk\.db: file is not a database/);
  // An unreachable database: named, its password never printed.
  const r2 = await copy('--from', 'postgresql://someone:Pw-Never-Shown@127.0.0.1:1/elsewhere', '--to', target);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /cannot open the source: cannot connect to PostgreSQL database "elsewhere" on 127\.0\.0\.1:1/);
  assert.doesNotMatch(r2.stderr, /Pw-Never/);
  assert.equal(await tables(), '0', 'the target was not even migrated');
  const site = await makeSite();
  // An unreachable target.
  const r5 = await copy('--from', site.url, '--to', 'postgresql://u:Pw-Target-Secret@127.0.0.1:1/prod');
  assert.equal(r5.code, 1);
  assert.match(r5.stderr, /cannot open the target: cannot connect to PostgreSQL database "prod" on 127\.0\.0\.1:1/);
  assert.doesNotMatch(r5.stderr, /Pw-Target/);
  // A source that breaks a rule SQLite does not hold itself (a parent cycle, written behind musicgraph's back).
  execFileSync('sqlite3', [join(site.dir, 'musicgraph.db'), "INSERT INTO genre_parents (genre_id, parent_id, position) VALUES ('heavy-metal', 'thrash-metal', 9)"]);
  const r3 = await copy('--from', site.url, '--to', target);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /the source, SQLite database .*, cannot be copied: the data breaks/);
  assert.match(r3.stderr, /heavy-metal/);
  assert.equal(await tables(), '0');
  // A source written by a newer musicgraph.
  const newer = await pg.createDatabase();
  assert.equal((await runCli(['migrate', '--database-url', newer, '--state-dir', dir])).code, 0);
  await psql(newer, "INSERT INTO schema_migrations VALUES ('0099_from_the_future', 'abc', '2031-01-01T00:00:00Z', '9.4.1')");
  const r4 = await copy('--from', newer, '--to', sqliteUrl(join(dir, 'new')));
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /the source, PostgreSQL database "mg_\d+_\d+" .*, was written by a newer musicgraph: it has 1 migration\(s\) this version .* does not know/);
  assert.ok(!existsSync(join(dir, 'new', 'musicgraph.db')), 'no target file was made');
  assert.equal(await tables(), '0');
});

test('copy between two SQLite databases: refused onto data, the source never created or changed, the same database refused', async () => {
  const site = await makeSite();
  // A backup records its signing key in the source's database; the key travels with the site.
  const signer = temp();
  const backup = await runCli(['backup', '--database-url', site.url, '--state-dir', signer]);
  assert.equal(backup.code, 0, backup.stderr);
  const key = (await runCli(['backup-key', 'show', '--state-dir', signer])).stdout.split(' ')[0];
  const before = await exported(site.url);
  const dir = temp();
  const target = sqliteUrl(dir);
  const r = await copy('--from', site.url, '--to', target);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await exported(target)).payload, before.payload);
  const shown = (await runCli(['backup-key', 'show', '--database-url', target, '--state-dir', temp()])).stdout;
  assert.ok(key.startsWith('ed25519:') && shown.includes(`${key} signs on `), shown);
  const again = await copy('--from', site.url, '--to', target);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`the target, SQLite database ${join(dir, 'musicgraph.db')}, already holds data`));
  const missing = join(dir, 'typo', 'musicgraph.db');
  const r2 = await copy('--from', `sqlite://${missing}`, '--to', sqliteUrl(temp()));
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /there is no SQLite database at .*typo/);
  assert.ok(!existsSync(missing), 'the source is never created');
  const same = await copy('--from', site.url, '--to', site.url, '--replace');
  assert.equal(same.code, 1);
  assert.match(same.stderr, /--from and --to name the same database/);
  const usage = await copy('--from', site.url);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--from URL --to URL/);
  assert.deepEqual((await exported(site.url)).payload, before.payload, 'the source is unchanged');
});
