// Curation over HTTP: accounts, sessions, CSRF (tokens and cross-site
// requests), the login rate limit, every editing route under every
// permission, every data rule through the write API, refused and cascading
// deletions, huge id lists, the users API (and concurrent changes of one
// account) and the audit log.
// Also the equivalents of the original Flask app's tests (marked "flask:").
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../lib/server.mjs';

const ADMIN = { username: 'admin', password: 'curation-admin-pass-1' };
const USER = { username: 'reader', password: 'curation-user-pass-22' };
let srv;
let counter = 0;

before(async () => {
  srv = await startServer({
    env: {
      MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password,
      MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1',
    },
    args: ['--shutdown-timeout', '2'],
  });
  const pw = join(mkdtempSync(join(tmpdir(), 'musicgraph-pw-')), 'pw');
  writeFileSync(pw, USER.password + '\n');
  const made = await runCli(['user', 'create', USER.username, '--email', 'reader@example.org', '--password-file', pw, '--state-dir', srv.stateDir]);
  assert.equal(made.code, 0, made.stderr);
});
after(async () => assert.equal(await srv.stop(), 0));

// The server trusts 127.0.0.1 as a proxy, so each login can come from its
// own client address (X-Forwarded-For) and the rate limit, which has its own
// test, does not interfere with the others.
let clients = 0;
function nextAddress() {
  clients += 1;
  return `10.1.${Math.floor(clients / 250)}.${clients % 250}`;
}
async function login({ username, password }, address = nextAddress()) {
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json();
  if (res.status !== 200) return { status: res.status, body };
  const cookie = res.headers.get('set-cookie');
  return { status: 200, body, cookie: cookie.split(';')[0], setCookie: cookie, csrf: body.csrf_token };
}

let adminSession;
let userSession;
async function admin() {
  if (!adminSession) adminSession = await login(ADMIN);
  return adminSession;
}
async function reader() {
  if (!userSession) userSession = await login(USER);
  return userSession;
}

function send(session, method, path, body, { csrf = true, contentType = 'application/json' } = {}) {
  const headers = {};
  if (session?.cookie) headers.cookie = session.cookie;
  if (session?.csrf && csrf) headers['x-csrf-token'] = session.csrf;
  if (body !== undefined) headers['content-type'] = contentType;
  return fetch(`${srv.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const uid = (p) => `${p}-${process.pid}-${++counter}`;
const leaf = (id, extra = {}) => ({ id, name: `Test ${id}`, type: 'leaf', parents: ['death-metal'], parent: 'death-metal', ...extra });

async function fieldErrors(res) {
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = await res.json();
  return Object.fromEntries((body.errors || []).map((e) => [e.field, e.message]));
}

test('flask: the index answers 200 and lists genre names in its HTML', async () => {
  const res = await fetch(`${srv.url}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /Death metal/);
  assert.match(html, /href="\/genres\/grindcore"/);
});

test('flask: the login page answers 200 with a form', async () => {
  const res = await fetch(`${srv.url}/login`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<form method="post" action="\/login"/);
  assert.match(html, /name="password"/);
});

test('flask: a bad login stays on the login page with an error, a good one redirects', async () => {
  const bad = await fetch(`${srv.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=admin&password=not-the-password&next=%2Fadmin',
    redirect: 'manual',
  });
  assert.equal(bad.status, 401);
  const html = await bad.text();
  assert.match(html, /Wrong username or password/);
  assert.match(html, /value="admin"/, 'what was typed is kept');
  const good = await fetch(`${srv.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=admin&password=${encodeURIComponent(ADMIN.password)}&next=%2Fadmin%2Faudit`,
    redirect: 'manual',
  });
  assert.equal(good.status, 303);
  assert.equal(good.headers.get('location'), '/admin/audit');
  assert.match(good.headers.get('set-cookie'), /HttpOnly/);
  assert.match(good.headers.get('set-cookie'), /SameSite=Lax/);
});

test('login redirects only to local paths', async () => {
  // Browsers drop tabs and newlines from URLs: '/\t/evil.example' would become '//evil.example'.
  for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/\t/evil.example', '/\n/evil.example',
    '/\r/evil.example', '/ /evil.example', '/\x7f/evil.example', '/\x0b/evil.example', '/\x00/evil.example']) {
    const res = await fetch(`${srv.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=admin&password=${encodeURIComponent(ADMIN.password)}&next=${encodeURIComponent(next)}`,
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin', `next=${next} is ignored`);
  }
});

test('flask: /admin sends anonymous users to the login page; a non-admin is refused; an admin gets it', async () => {
  const anon = await fetch(`${srv.url}/admin/genres/new`, { redirect: 'manual' });
  assert.equal(anon.status, 303);
  assert.equal(anon.headers.get('location'), '/login?next=/admin/genres/new');
  const user = await reader();
  const refused = await fetch(`${srv.url}/admin`, { headers: { cookie: user.cookie }, redirect: 'manual' });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /not an admin account/);
  const a = await admin();
  const ok = await fetch(`${srv.url}/admin`, { headers: { cookie: a.cookie } });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-security-policy'), /script-src 'self'/);
});

test('flask: logout ends the session', async () => {
  const s = await login(ADMIN);
  const me = await send(s, 'GET', '/api/v1/me');
  assert.equal(me.status, 200);
  const out = await send(s, 'DELETE', '/api/v1/session');
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
  const after = await send(s, 'GET', '/api/v1/me');
  assert.equal(after.status, 401, 'the old cookie no longer works');
  // The form logout needs the CSRF token too.
  const s2 = await login(ADMIN);
  const noToken = await fetch(`${srv.url}/logout`, {
    method: 'POST',
    headers: { cookie: s2.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
    redirect: 'manual',
  });
  assert.equal(noToken.status, 403);
  const withToken = await fetch(`${srv.url}/logout`, {
    method: 'POST',
    headers: { cookie: s2.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `csrf_token=${s2.csrf}`,
    redirect: 'manual',
  });
  assert.equal(withToken.status, 303);
  assert.equal((await send(s2, 'GET', '/api/v1/me')).status, 401);
});

test('login answers 401 for a wrong password and for an unknown user, without saying which', async () => {
  const wrong = await login({ username: 'admin', password: 'wrong-password-1' });
  const unknown = await login({ username: 'nobody-here', password: 'wrong-password-1' });
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.equal(wrong.body.detail, unknown.body.detail);
});

test('a session is rotated at login: the cookie sent with the login stops working', async () => {
  const a = await login(ADMIN);
  assert.equal((await send(a, 'GET', '/api/v1/me')).status, 200);
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': nextAddress(), cookie: a.cookie },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(res.status, 200);
  const b = { cookie: res.headers.get('set-cookie').split(';')[0], csrf: (await res.json()).csrf_token };
  assert.notEqual(a.cookie, b.cookie);
  assert.notEqual(a.csrf, b.csrf);
  assert.equal((await send(a, 'GET', '/api/v1/me')).status, 401, 'the old session ended at login');
  assert.equal((await send(b, 'GET', '/api/v1/me')).status, 200);
});

test('a session ends after the idle timeout', async () => {
  // Its own server with a 3 s idle timeout, so that a loaded machine cannot
  // expire the sessions of the other tests between two of their requests.
  const idle = await startServer({ env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_SESSION_IDLE_SECONDS: '3' } });
  try {
    const res = await fetch(`${idle.url}/api/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie').split(';')[0];
    assert.equal((await fetch(`${idle.url}/api/v1/me`, { headers: { cookie } })).status, 200);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await fetch(`${idle.url}/api/v1/me`, { headers: { cookie } })).status, 401, 'idle session expired');
  } finally {
    assert.equal(await idle.stop(), 0);
  }
});

test('every editing route: anonymous 401, not admin 403, missing or wrong CSRF 403', async () => {
  const routes = [
    ['POST', '/api/v1/genres', leaf(uid('perm'))],
    ['PUT', '/api/v1/genres/grindcore', { name: 'Grindcore', type: 'leaf', parents: ['death-metal'] }],
    ['DELETE', '/api/v1/genres/grindcore'],
    ['POST', '/api/v1/bands', { name: 'X', primary_genre: 'grindcore', genres: ['grindcore'] }],
    ['PUT', '/api/v1/bands/pantera', { name: 'Pantera', primary_genre: 'groove-metal', genres: ['groove-metal'] }],
    ['DELETE', '/api/v1/bands/pantera'],
    ['POST', '/api/v1/users', { username: 'newbie', email: 'n@example.org' }],
    ['PATCH', '/api/v1/users/1', { disabled: true }],
  ];
  const user = await reader();
  const a = await admin();
  for (const [method, path, body] of routes) {
    assert.equal((await send(null, method, path, body)).status, 401, `${method} ${path} anonymous`);
    assert.equal((await send(user, method, path, body)).status, 403, `${method} ${path} as a user`);
    assert.equal((await send(a, method, path, body, { csrf: false })).status, 403, `${method} ${path} without CSRF`);
    const wrong = { ...a, csrf: 'x'.repeat(a.csrf.length) };
    assert.equal((await send(wrong, method, path, body)).status, 403, `${method} ${path} with a wrong CSRF token`);
  }
  for (const path of ['/api/v1/users', '/api/v1/audit']) {
    assert.equal((await send(null, 'GET', path)).status, 401);
    assert.equal((await send(user, 'GET', path)).status, 403);
  }
  // Nothing changed.
  assert.equal((await fetch(`${srv.url}/api/v1/bands/pantera`)).status, 200);
});

test('flask model: a genre with several parents, and a band with several genres', async () => {
  const a = await admin();
  const id = uid('multi');
  const g = await send(a, 'POST', '/api/v1/genres', {
    id,
    name: `Multi ${id}`,
    type: 'leaf',
    parents: ['death-metal', 'hardcore-punk'],
    parent: 'hardcore-punk',
    origin_year: 1990,
    description: 'A test genre with two parents.',
    links: [{ to: 'thrash-metal', kind: 'influence' }],
  });
  assert.equal(g.status, 201, JSON.stringify(await g.clone().json()));
  assert.equal(g.headers.get('location'), `/api/v1/genres/${id}`);
  const detail = await (await fetch(`${srv.url}/api/v1/genres/${id}`)).json();
  assert.deepEqual(detail.parents, ['death-metal', 'hardcore-punk']);
  assert.equal(detail.parent, 'hardcore-punk');
  assert.equal(detail.family, 'punk');
  const band = uid('band');
  const b = await send(a, 'POST', '/api/v1/bands', { id: band, name: `Band ${band}`, primary_genre: id, genres: [id, 'grindcore'] });
  assert.equal(b.status, 201);
  const again = await (await fetch(`${srv.url}/api/v1/genres/grindcore`)).json();
  assert.ok(again.bands.some((x) => x.id === band), 'the read API shows the change at once');
  const graph = await (await fetch(`${srv.url}/api/v1/graph`)).json();
  assert.ok(graph.genres.some((x) => x.id === id));
  const page = await fetch(`${srv.url}/genres/${id}`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), new RegExp(`Multi ${id}`));
});

test('a new genre gets its computed place even while edits keep coming faster than a layout', { timeout: 200_000 }, async () => {
  // Each edit is answered once its snapshot is served, and the layout runs
  // beside the rebuilds (at a lower priority): the positions computed for
  // data that moved on meanwhile must still reach the map, not be dropped.
  const a = await admin();
  const id = uid('placed');
  assert.equal((await send(a, 'POST', '/api/v1/genres', leaf(id))).status, 201);
  const deadline = Date.now() + 150_000;
  let edits = 0;
  let graph;
  for (;;) {
    const r = await send(a, 'PUT', `/api/v1/genres/${id}`, leaf(id, { description: `edit ${++edits}` }));
    assert.equal(r.status, 200);
    graph = await (await fetch(`${srv.url}/api/v1/graph`)).json();
    if (graph.laid_out === true || Date.now() > deadline) break;
  }
  assert.equal(graph.laid_out, true, `still provisional after ${edits} edits`);
  const g = graph.genres.find((x) => x.id === id);
  assert.ok(Number.isFinite(g.x) && Number.isFinite(g.y));
  const detail = await (await fetch(`${srv.url}/api/v1/genres/${id}`)).json();
  assert.equal(detail.description, `edit ${edits}`, 'the laid-out map is the newest data, not the one the layout started from');
});

test('ids are derived from the name when omitted, and a duplicate id is 409', async () => {
  const a = await admin();
  const name = `Ünïcode Ḡenre ${process.pid}`;
  const res = await send(a, 'POST', '/api/v1/genres', { name, type: 'leaf', parents: ['rock'] });
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.id, `unicode-genre-${process.pid}`.replace(/[^a-z0-9-]/g, ''));
  assert.equal(body.parent, 'rock', 'a single parent is the primary parent');
  const dup = await send(a, 'POST', '/api/v1/genres', { id: body.id, name: 'Other', type: 'leaf', parents: ['rock'] });
  assert.equal(dup.status, 409);
  assert.match((await fieldErrors(dup)).id, /already used/);
});

test('every data rule is refused with a message per field', async () => {
  const a = await admin();
  const cases = [
    [{ ...leaf('BAD ID'), id: 'BAD ID' }, 'id', /lowercase/],
    [{ ...leaf(uid('x')), id: 'x'.repeat(51) }, 'id', /at most 50/],
    [{ ...leaf(uid('x')), name: '' }, 'name', /required/],
    [{ ...leaf(uid('x')), name: 'n'.repeat(101) }, 'name', /at most 100/],
    [{ ...leaf(uid('x')), name: 'tab\there' }, 'name', /control/],
    [{ ...leaf(uid('x')), name: 'evil\u202Egpj.exe' }, 'name', /control/], // right-to-left override
    [{ ...leaf(uid('x')), name: 'line\u2028separator' }, 'name', /control/],
    [{ ...leaf(uid('x')), name: 'ok', description: 'a\u2067hidden\u2069 isolate' }, 'description', /control/],
    [{ ...leaf(uid('x')), type: 'huge' }, 'type', /root, intermediate or leaf/],
    [{ id: uid('x'), name: 'Root with parent', type: 'root', parents: ['rock'], parent: 'rock' }, 'parents', /root genre has no parents/],
    [{ id: uid('x'), name: 'Orphan', type: 'leaf', parents: [] }, 'parents', /at least one parent/],
    [{ ...leaf(uid('x')), parent: 'rock' }, 'parent', /must be one of the parents/],
    [{ ...leaf(uid('x')), parents: ['no-such-genre'], parent: 'no-such-genre' }, 'parents', /does not exist/],
    [{ ...leaf(uid('x')), parents: ['rock', 'rock'], parent: 'rock' }, 'parents', /listed twice/],
    [{ ...leaf(uid('x')), origin_year: 3000 }, 'origin_year', /between/],
    [{ ...leaf(uid('x')), links: [{ to: 'no-such', kind: 'influence' }] }, 'links', /does not exist/],
    [{ ...leaf(uid('x')), links: [{ to: 'rock', kind: 'sampled' }] }, 'links', /influence/],
    [{ ...leaf(uid('x')), colour: 'red' }, 'colour', /not a known field/],
  ];
  for (const [body, field, message] of cases) {
    const res = await send(a, 'POST', '/api/v1/genres', body);
    assert.equal(res.status, 400, `${field}: ${JSON.stringify(body).slice(0, 80)}`);
    const errors = await fieldErrors(res);
    assert.match(errors[field] || '', message, `${field} → ${JSON.stringify(errors)}`);
  }
  const bands = [
    [{ id: uid('b'), name: 'No genres', primary_genre: 'grindcore', genres: [] }, 'genres', /at least one genre/],
    [{ id: uid('b'), name: 'Not a leaf', primary_genre: 'metal', genres: ['metal'] }, 'primary_genre', /leaf/],
    [{ id: uid('b'), name: 'Primary missing', primary_genre: 'grindcore', genres: ['death-metal'] }, 'primary_genre', /one of the band/],
    [{ id: uid('b'), name: 'Unknown genre', primary_genre: 'nope', genres: ['nope'] }, 'genres', /does not exist/],
  ];
  for (const [body, field, message] of bands) {
    const res = await send(a, 'POST', '/api/v1/bands', body);
    assert.equal(res.status, 400, field);
    assert.match((await fieldErrors(res))[field] || '', message);
  }
});

test('a cycle in the parent graph is refused, not only a self-parent', async () => {
  const a = await admin();
  const x = uid('cyc'), y = uid('cyc');
  assert.equal((await send(a, 'POST', '/api/v1/genres', { id: x, name: x, type: 'intermediate', parents: ['rock'] })).status, 201);
  assert.equal((await send(a, 'POST', '/api/v1/genres', { id: y, name: y, type: 'intermediate', parents: [x] })).status, 201);
  const self = await send(a, 'PUT', `/api/v1/genres/${x}`, { name: x, type: 'intermediate', parents: [x] });
  assert.equal(self.status, 400);
  const cycle = await send(a, 'PUT', `/api/v1/genres/${x}`, { name: x, type: 'intermediate', parents: ['rock', y], parent: 'rock' });
  assert.equal(cycle.status, 400);
  assert.match(JSON.stringify(await cycle.json()), /cycle/);
  const still = await (await fetch(`${srv.url}/api/v1/genres/${x}`)).json();
  assert.deepEqual(still.parents, ['rock'], 'nothing was saved');
});

test('bad bodies: wrong content type, malformed JSON, invalid UTF-8, not an object, an id change, oversized', async () => {
  const a = await admin();
  assert.equal((await send(a, 'POST', '/api/v1/genres', 'name=x', { contentType: 'application/x-www-form-urlencoded' })).status, 400);
  assert.equal((await send(a, 'POST', '/api/v1/genres', '{"name": ', {})).status, 400);
  assert.equal((await send(a, 'POST', '/api/v1/genres', '[1,2]', {})).status, 400);
  for (const [body, says] of [['{"name":"a\\u0000b"}', /NUL character/], ['{"name":"a","name":"b"}', /same key twice/], ['{"name":"a"} x', /more after/]]) {
    const bad = await send(a, 'POST', '/api/v1/genres', body, {});
    assert.equal(bad.status, 400);
    const { detail } = await bad.json();
    assert.match(detail, says);
    assert.doesNotMatch(detail, /JSON_|jansson/, 'the parser\'s own wording does not reach the client');
  }
  const invalidUtf8 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","type":"leaf"}')]);
  const res = await fetch(`${srv.url}/api/v1/genres`, {
    method: 'POST',
    headers: { cookie: a.cookie, 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
    body: invalidUtf8,
  });
  assert.equal(res.status, 400);
  const rename = await send(a, 'PUT', '/api/v1/genres/grindcore', { id: 'grindcore-2', name: 'Grindcore', type: 'leaf', parents: ['death-metal'] });
  assert.equal(rename.status, 400);
  assert.match((await fieldErrors(rename)).id, /cannot be changed/);
  const huge = await send(a, 'POST', '/api/v1/genres', JSON.stringify({ name: 'x', description: 'd'.repeat(2 * 1024 * 1024) }));
  assert.equal(huge.status, 413);
  assert.equal((await send(a, 'PUT', '/api/v1/genres/no-such-genre', leaf('no-such-genre'))).status, 404);
});

test('deleting a genre: refused with the reason when it is a primary parent or genre; secondary links go with it', async () => {
  const a = await admin();
  const refused = await send(a, 'DELETE', '/api/v1/genres/death-metal');
  assert.equal(refused.status, 409);
  const body = await refused.json();
  assert.ok(body.blockers.genres.some((g) => g.id === 'grindcore' && g.name === 'Grindcore'));
  assert.match(body.detail, /primary parent/);
  assert.equal((await fetch(`${srv.url}/api/v1/genres/death-metal`)).status, 200, 'nothing was deleted');
  const band = await send(a, 'DELETE', '/api/v1/genres/groove-metal');
  assert.equal(band.status, 409);
  assert.ok((await band.json()).blockers.bands.some((b) => b.id === 'pantera'));

  // A genre that is only a secondary parent and a secondary band genre.
  const g = uid('secondary');
  const child = uid('child');
  const bandId = uid('band');
  assert.equal((await send(a, 'POST', '/api/v1/genres', leaf(g))).status, 201);
  assert.equal((await send(a, 'POST', '/api/v1/genres', { id: child, name: child, type: 'leaf', parents: ['rock', g], parent: 'rock' })).status, 201);
  assert.equal((await send(a, 'POST', '/api/v1/bands', { id: bandId, name: bandId, primary_genre: 'grindcore', genres: ['grindcore', g] })).status, 201);
  const del = await send(a, 'DELETE', `/api/v1/genres/${g}`);
  assert.equal(del.status, 200);
  const gone = await del.json();
  assert.equal(gone.deleted, g);
  assert.deepEqual(gone.unlinked.genres, [child]);
  assert.deepEqual(gone.unlinked.bands, [bandId]);
  assert.deepEqual((await (await fetch(`${srv.url}/api/v1/genres/${child}`)).json()).parents, ['rock']);
  assert.deepEqual((await (await fetch(`${srv.url}/api/v1/bands/${bandId}`)).json()).genres, ['grindcore']);
  assert.equal((await fetch(`${srv.url}/api/v1/genres/${g}`)).status, 404);
  assert.equal((await send(a, 'DELETE', `/api/v1/bands/${bandId}`)).status, 200);
  assert.equal((await fetch(`${srv.url}/api/v1/bands/${bandId}`)).status, 404);
});

test('users API: create (with a generated password), promote, never demote yourself or the last admin, disable', async () => {
  const a = await admin();
  const name = `curator${process.pid}`;
  const created = await send(a, 'POST', '/api/v1/users', { username: name, email: `${name}@example.org`, is_admin: false });
  assert.equal(created.status, 201);
  const { user, password } = await created.json();
  assert.equal(user.username, name);
  assert.ok(password && password.length >= 10, 'a generated password is returned once');
  assert.equal((await send(a, 'POST', '/api/v1/users', { username: name, email: 'other@example.org' })).status, 409);
  // Its audit entry, written in the same transaction as the account: once, by whom, never the hash.
  const entries = (await (await send(a, 'GET', '/api/v1/audit?per_page=100')).json()).entries;
  const mine = entries.filter((e) => e.entity_type === 'user' && e.entity_id === String(user.id));
  assert.deepEqual(mine.map((e) => [e.action, e.actor, e.before, e.after.username]), [['create', 'admin', null, name]]);
  assert.doesNotMatch(JSON.stringify(mine), /argon2|password/);
  const badName = await send(a, 'POST', '/api/v1/users', { username: 'a b', email: 'not-an-email', password: 'short' });
  const errors = await fieldErrors(badName);
  assert.ok(errors.username && errors.email && errors.password);
  // The new user can log in with the generated password.
  const s = await login({ username: name, password });
  assert.equal(s.status, 200);
  const list = await (await send(a, 'GET', '/api/v1/users')).json();
  assert.ok(list.users.some((u) => u.username === name && !u.is_admin));
  assert.ok(!JSON.stringify(list).includes('argon2'), 'password hashes are never sent');
  const promote = await send(a, 'PATCH', `/api/v1/users/${user.id}`, { is_admin: true });
  assert.equal(promote.status, 200);
  assert.equal((await promote.json()).user.is_admin, true);
  const me = await (await send(a, 'GET', '/api/v1/me')).json();
  const self = await send(a, 'PATCH', `/api/v1/users/${me.user.id}`, { is_admin: false });
  assert.equal(self.status, 403, 'nobody changes their own admin flag');
  // Demote the other admin, then the CLI refuses to demote the last one.
  assert.equal((await send(a, 'PATCH', `/api/v1/users/${user.id}`, { is_admin: false })).status, 200);
  const last = await runCli(['user', 'demote', 'admin', '--state-dir', srv.stateDir]);
  assert.equal(last.code, 1);
  assert.match(last.stderr, /last admin/);
  // Disabling ends the user's sessions.
  assert.equal((await send(a, 'PATCH', `/api/v1/users/${user.id}`, { disabled: true })).status, 200);
  assert.equal((await send(s, 'GET', '/api/v1/me')).status, 401);
  assert.equal((await login({ username: name, password })).status, 401);
});

test('the audit log records who changed what, before and after, newest first, paged', async () => {
  const a = await admin();
  const id = uid('audited');
  await send(a, 'POST', '/api/v1/genres', leaf(id));
  await send(a, 'PUT', `/api/v1/genres/${id}`, { ...leaf(id), name: 'Renamed' });
  await send(a, 'DELETE', `/api/v1/genres/${id}`);
  const page = await (await send(a, 'GET', '/api/v1/audit?per_page=3')).json();
  assert.equal(page.page, 1);
  assert.equal(page.per_page, 3);
  assert.ok(page.total >= 3);
  const [del, upd, cre] = page.entries;
  assert.deepEqual([del.action, upd.action, cre.action], ['delete', 'update', 'create']);
  for (const e of [del, upd, cre]) {
    assert.equal(e.actor, 'admin');
    assert.equal(e.entity_type, 'genre');
    assert.equal(e.entity_id, id);
    assert.match(e.at, /^\d{4}-\d\d-\d\dT/);
  }
  assert.equal(cre.before, null);
  assert.equal(cre.after.name, `Test ${id}`);
  assert.equal(upd.before.name, `Test ${id}`);
  assert.equal(upd.after.name, 'Renamed');
  assert.equal(del.after, null);
  const next = await (await send(a, 'GET', '/api/v1/audit?page=2&per_page=3')).json();
  assert.ok(next.entries.every((e) => e.id < cre.id), 'page 2 is older');
  assert.equal((await send(a, 'GET', '/api/v1/audit?per_page=0')).status, 400);
});

// A fresh account of its own for a test (the rate limit is per username).
async function newUser(prefix) {
  const a = await admin();
  const username = `${prefix}${process.pid}x${++counter}`;
  const password = `pw-${username}-long-enough`;
  const res = await send(a, 'POST', '/api/v1/users', { username, email: `${username}@example.org`, password });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return { username, password, id: JSON.parse(text).user.id };
}

test('login is rate limited per username and address: the 6th attempt gets 429 with Retry-After, also across restarts', async () => {
  const who = await newUser('limited');
  const address = '192.0.2.77';
  for (let i = 0; i < 5; i++) assert.equal((await login({ username: who.username, password: 'wrong-password-x' }, address)).status, 401);
  // The right password does not help from that address …
  const res = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify(who),
  });
  assert.equal(res.status, 429, 'the username is limited from this address');
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  // … but nobody can lock the account out from everywhere: its owner, elsewhere, gets in.
  assert.equal((await login(who, '192.0.2.78')).status, 200, 'the owner logs in from another address');
  assert.equal((await login(ADMIN, address)).status, 200, 'another account logs in from the limited address');
  // The limit lives in the database: a second server on the same data sees it.
  const other = await startServer({
    stateDir: srv.stateDir,
    args: ['--shutdown-timeout', '1'],
    env: { MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1' },
  });
  try {
    const again = await fetch(`${other.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ username: who.username, password: 'wrong-password-x' }),
    });
    assert.equal(again.status, 429);
  } finally {
    await other.stop({ keepState: true });
  }
});

test('parallel login attempts get no extra guesses: 10 at once from one address, exactly 5 are tried', async () => {
  const who = await newUser('parallel');
  const address = '192.0.2.99';
  const results = await Promise.all(
    Array.from({ length: 10 }, () => login({ username: who.username, password: 'wrong-password-y' }, address)),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
});

test('many failed logins for one username from many addresses slow its logins down but never refuse the owner', async () => {
  const who = await newUser('slowed');
  // 22 addresses, one wrong password each: past 20 per minute the answers are delayed.
  for (let i = 0; i < 22; i++) {
    assert.equal((await login({ username: who.username, password: 'wrong-password-z' }, `198.51.100.${i + 1}`)).status, 401);
  }
  const requestId = `slowed-${process.pid}`;
  const owner = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.200', 'x-request-id': requestId },
    body: JSON.stringify(who),
  });
  assert.equal(owner.status, 200, 'delayed, not refused');
  const lines = srv.logs().split('\n');
  const delayed = lines.filter((l) => l.includes('login delayed') && l.includes(who.username));
  assert.ok(delayed.length >= 2, `the server logs the delays:\n${delayed.join('\n')}`);
  // Written by the worker threads that did the work: each line carries the request's id.
  const mine = lines.filter((l) => l.includes(`id=${requestId}`));
  assert.ok(mine.some((l) => l.includes('login delayed')), mine.join('\n'));
  assert.ok(mine.some((l) => l.includes('login succeeded')), mine.join('\n'));
});

test('login CSRF: a login form posted from another site is refused, from this site it works', async () => {
  const form = (headers) =>
    fetch(`${srv.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': nextAddress(), ...headers },
      body: `username=admin&password=${encodeURIComponent(ADMIN.password)}`,
      redirect: 'manual',
    });
  for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', origin: srv.url }, { origin: srv.url.replace('127.0.0.1', 'localhost') }]) {
    const res = await form(headers);
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.equal(res.headers.get('set-cookie'), null, 'no session for a cross-site login');
    assert.match((await res.json()).detail, /another (site|origin)/);
  }
  for (const headers of [{ origin: srv.url }, { 'sec-fetch-site': 'same-origin', origin: srv.url }, { 'sec-fetch-site': 'none' }, {}]) {
    const res = await form(headers);
    assert.equal(res.status, 303, JSON.stringify(headers));
  }
  // Every other change too, even with a valid session and CSRF token.
  const a = await admin();
  const res = await fetch(`${srv.url}/api/v1/genres`, {
    method: 'POST',
    headers: { cookie: a.cookie, 'x-csrf-token': a.csrf, 'content-type': 'application/json', origin: 'https://evil.example' },
    body: JSON.stringify(leaf(uid('cross'))),
  });
  assert.equal(res.status, 403);
});

test('huge id lists are refused with one short error, not one per id', async () => {
  const a = await admin();
  const ids = Array.from({ length: 100000 }, (_, i) => `x${i.toString(36)}`);
  const genre = await send(a, 'POST', '/api/v1/genres', { ...leaf(uid('huge')), parents: ['death-metal', ...ids] });
  const gbody = await genre.text();
  assert.equal(genre.status, 400);
  assert.ok(gbody.length < 4096, `a ${gbody.length}-byte error body`);
  assert.match(gbody, /at most 100/);
  const band = await send(a, 'POST', '/api/v1/bands', { id: uid('many'), name: 'Many', primary_genre: 'grindcore', genres: ['grindcore', ...ids] });
  const bbody = await band.text();
  assert.equal(band.status, 400);
  assert.ok(bbody.length < 4096, `a ${bbody.length}-byte error body`);
  // Many entries each wrong in the map check: the list of errors is capped too.
  const links = ids.slice(0, 100).map((to) => ({ to, kind: 'influence' }));
  const linked = await send(a, 'POST', '/api/v1/genres', { ...leaf(uid('linked')), links });
  const lbody = await linked.json();
  assert.equal(linked.status, 400);
  assert.ok(lbody.errors.length <= 100, `${lbody.errors.length} errors listed`);
});

test('a password change and a disable at once: the account ends disabled, with the new password (no lost update)', async () => {
  const a = await admin();
  for (let round = 0; round < 4; round++) {
    const who = await newUser('raced');
    const newPassword = `changed-${who.password}`;
    // The password change hashes first (slow), the disable lands meanwhile.
    const change = send(a, 'PATCH', `/api/v1/users/${who.id}`, { password: newPassword });
    await new Promise((r) => setTimeout(r, 20));
    const disable = send(a, 'PATCH', `/api/v1/users/${who.id}`, { disabled: true });
    const [c, d] = await Promise.all([change, disable]);
    assert.equal(c.status, 200);
    assert.equal(d.status, 200);
    const users = (await (await send(a, 'GET', '/api/v1/users')).json()).users;
    assert.equal(users.find((u) => u.id === who.id).disabled, true, `round ${round}: the disable was undone`);
    assert.equal((await login({ username: who.username, password: newPassword })).status, 401, 'disabled');
    assert.equal((await send(a, 'PATCH', `/api/v1/users/${who.id}`, { disabled: false })).status, 200);
    assert.equal((await login({ username: who.username, password: newPassword })).status, 200, 'the new password holds');
  }
});
