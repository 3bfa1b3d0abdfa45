// Hostile and malformed HTTP input: the server answers with a 4xx (or closes
// the connection), never with a 5xx, never leaks files, and keeps serving.
// After every case /healthz must still answer: the process did not crash.
// Run: node --test tests/e2e/hostile.test.mjs   (Node 18+, no dependencies)
//
// Requests go over raw sockets (node:net) so that nothing normalises them.
// Where h2o itself rejects a request before the router sees it (a malformed
// request line, too many headers, a body over the limit) the answer is h2o's
// own and any 4xx is accepted.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer } from '../lib/server.mjs';
import { sleep } from '../lib/wait.mjs';

// No test may hang the run (a server that never answers, a child that never exits).
const TEST_TIMEOUT = 30_000;

let server;

before(async () => {
  // A short shutdown timeout: idle keep-alive connections would otherwise
  // hold up the stop (the CLI suite tests shutdown itself).
  server = await startServer({ args: ['--shutdown-timeout', '2'] });
});

after(async () => {
  if (!server) return;
  // A server that ignores SIGTERM must not hang the run (the last test reports it).
  const timer = setTimeout(() => process.kill(server.pid, 'SIGKILL'), 15_000);
  await server.stop();
  clearTimeout(timer);
});


// Parses every complete HTTP/1.x response in buf (no HEAD, no chunked bodies
// from this server): [{ status, headers, body }].
function parseResponses(buf) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
    if (!m) break;
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const status = Number(m[1]);
    const bodyStart = end + 4;
    const noBody = status === 304 || status === 204;
    const body = noBody ? Buffer.alloc(0) : buf.subarray(bodyStart, bodyStart + len);
    out.push({ status, headers, body: body.toString('utf8') });
    at = bodyStart + (noBody ? 0 : len);
  }
  return out;
}

// Opens a connection, writes data (a string/Buffer, or an array of chunks
// written with gapMs between them) and reads until the server closes or
// timeoutMs passes. { responses, closed, reset, raw }.
function exchange(data, { timeoutMs = 3000, gapMs = 0, expect = Infinity } = {}) {
  return new Promise((ok) => {
    const sock = net.connect(server.port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let done = false;
    let reset = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      ok({ responses: parseResponses(raw), closed, reset, raw });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => {
      raw = Buffer.concat([raw, d]);
      if (parseResponses(raw).length >= expect) finish(false);
    });
    sock.on('error', () => {
      reset = true;
    });
    sock.on('close', () => finish(true));
    sock.on('connect', async () => {
      const chunks = Array.isArray(data) ? data : [data];
      for (const c of chunks) {
        if (done || sock.destroyed) return;
        sock.write(c);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

const get = (target, extra = '') => `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;

async function assertAlive(what) {
  const res = await fetch(`${server.url}/healthz`);
  assert.equal(res.status, 200, `after ${what}: /healthz answered ${res.status}`);
  assert.equal((await res.json()).status, 'ok', `after ${what}`);
  const state = await Promise.race([server.exited.then((code) => `exited with ${code}`), sleep(0).then(() => 'running')]);
  assert.equal(state, 'running', `after ${what}: the server process ${state}`);
}

// Either one response whose status is in allowed, or (when closeOk) the
// connection closed without one. Never a 5xx.
function assertRejected(result, allowed, what, { closeOk = false } = {}) {
  const r = result.responses[0];
  if (!r) {
    assert.ok(closeOk && (result.closed || result.reset), `${what}: no response and the connection stayed open`);
    return null;
  }
  assert.ok(r.status < 500, `${what}: server error ${r.status}`);
  assert.ok(allowed.includes(r.status), `${what}: status ${r.status}, expected one of ${allowed.join('/')}`);
  return r;
}

// One answer, then the connection closed: a smuggled request is never served.
async function assertRefusedAndClosed(data, what) {
  const r = await exchange(data, { timeoutMs: 3000 });
  assert.equal(r.responses.length, 1, `${what}: ${r.responses.length} responses (${r.responses.map((x) => x.status)})`);
  const [res] = r.responses;
  assert.equal(res.status, 400, `${what}: status ${res.status}`);
  assert.match(res.headers['content-type'], /problem\+json/, what);
  assert.ok(res.headers['x-request-id'], `${what}: no X-Request-Id`);
  assert.equal(res.headers.connection, 'close', `${what}: the connection is kept alive`);
  assert.ok(r.closed, `${what}: the server did not close the connection`);
  return res;
}

test('request smuggling: conflicting framing is refused and the connection closed (RFC 9112 §6.3)', { timeout: TEST_TIMEOUT }, async () => {
  const smuggled = 'GET /api/v1/genres/rock HTTP/1.1\r\nHost: x\r\n\r\n';
  for (const [first, second] of [[smuggled.length, 0], [0, smuggled.length], [smuggled.length, smuggled.length]]) {
    const res = await assertRefusedAndClosed(
      `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${first}\r\nContent-Length: ${second}\r\n\r\n${smuggled}`,
      `Content-Length ${first} and ${second}`);
    assert.match(JSON.parse(res.body).detail, /more than one Content-Length/);
  }
  await assertRefusedAndClosed(
    `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    'Content-Length with Transfer-Encoding');
  await assertRefusedAndClosed(
    `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    'two Transfer-Encoding headers');
  // Lines may end with a bare LF, mixed with CRLF, as the parser accepts them: a head that ends in
  // "\n\r\n" (found by tests/fuzz/fuzz_http.c) is checked like any other, also when no blank line
  // follows in what the client sent after it.
  for (const eol of ['\n', '\r\n']) {
    await assertRefusedAndClosed(
      `POST /api/v1/session HTTP/1.1${eol}Host: x${eol}Content-Length: 0${eol}Content-Length: 4\n\r\nabcd`,
      `two Content-Lengths, lines ending in ${JSON.stringify(eol)}, the head in "\\n\\r\\n"`);
  }
  await assertRefusedAndClosed('GET /healthz HTTP/1.1\r\n\r\n', 'HTTP/1.1 without Host');
  await assertRefusedAndClosed('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'two Host headers');
  // HTTP/1.0 has no Host requirement; one Content-Length is fine.
  const old = await exchange('GET /healthz HTTP/1.0\r\n\r\n', { timeoutMs: 3000 });
  assert.equal(old.responses[0]?.status, 200, 'HTTP/1.0 without Host');
  const one = await exchange(`POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab`);
  assert.equal(one.responses[0]?.status, 405, 'one Content-Length is served normally');
  await assertAlive('smuggling attempts');
});

test('a request target over 8 KB gets 414 and a head over 32 KB gets 431, as problem documents', { timeout: TEST_TIMEOUT }, async () => {
  const long = await exchange(get(`/api/v1/genres/${'a'.repeat(9000)}`));
  assert.equal(long.responses[0]?.status, 414);
  assert.match(long.responses[0].headers['content-type'], /problem\+json/);
  assert.ok(long.responses[0].headers['x-request-id']);
  const big = await exchange(get('/healthz', `X-Big: ${'b'.repeat(40 * 1024)}\r\n`));
  assert.equal(big.responses[0]?.status, 431);
  assert.match(big.responses[0].headers['content-type'], /problem\+json/);
  // Just under the limits is served.
  assert.equal((await exchange(get(`/api/v1/genres/${'a'.repeat(7000)}`))).responses[0]?.status, 404);
  assert.equal((await exchange(get('/healthz', `X-Big: ${'b'.repeat(30 * 1024)}\r\n`))).responses[0]?.status, 200);
  await assertAlive('long targets and heads');
});

test('very long URLs: 20 KB, 100 KB and 1 MB paths', { timeout: TEST_TIMEOUT }, async () => {
  for (const size of [20_000, 100_000]) {
    const r = await exchange(get(`/${'a'.repeat(size)}`));
    assertRejected(r, [414], `${size}-byte path`);
    await assertAlive(`${size}-byte path`);
    const api = await exchange(get(`/api/v1/genres/${'b'.repeat(size)}`));
    const res = assertRejected(api, [414], `${size}-byte genre id`);
    assert.ok(!res.body.includes('b'.repeat(1000)), 'the id is not echoed back in full');
  }
  const huge = await exchange(get(`/${'a'.repeat(1_000_000)}`), { timeoutMs: 5000 });
  assertRejected(huge, [400, 404, 414, 431], '1 MB path', { closeOk: true });
  await assertAlive('1 MB path');
});

test('a very long query string and a search text far over the limit', { timeout: TEST_TIMEOUT }, async () => {
  const r = await exchange(get(`/api/v1/search?q=${'x'.repeat(100_000)}`));
  const res = assertRejected(r, [400, 414], '100 KB search text');
  if (res.status === 400) assert.match(res.headers['content-type'], /problem\+json/);
  const params = Array.from({ length: 5000 }, (_, i) => `p${i}=${i}`).join('&');
  const many = await exchange(get(`/api/v1/search?${params}&q=rock`));
  assertRejected(many, [200, 400, 414], '5000 query parameters');
  await assertAlive('long query strings');
});

test('a genre id of 10 000 characters', { timeout: TEST_TIMEOUT }, async () => {
  const id = 'x'.repeat(10_000);
  const api = assertRejected(await exchange(get(`/api/v1/genres/${id}`)), [400, 404, 414], 'api 10k id');
  if (api.status === 404) assert.match(api.headers['content-type'], /problem\+json/);
  const page = assertRejected(await exchange(get(`/genres/${id}`)), [400, 404, 414], 'page 10k id');
  if (page.status === 404) assert.match(page.headers['content-type'], /text\/html/);
  assertRejected(await exchange(get(`/bands/${id}`)), [400, 404, 414], 'band page 10k id');
  assertRejected(await exchange(get(`/api/v1/bands/${'%41'.repeat(10_000)}`)), [400, 404, 414], 'encoded 10k id');
  await assertAlive('10k ids');
});

test('a huge header and very many headers', { timeout: TEST_TIMEOUT }, async () => {
  const big = await exchange(get('/healthz', `X-Big: ${'b'.repeat(64 * 1024)}\r\n`));
  assertRejected(big, [431], '64 KB header');
  await assertAlive('64 KB header');

  const huge = await exchange(get('/healthz', `X-Huge: ${'h'.repeat(2 * 1024 * 1024)}\r\n`), { timeoutMs: 5000 });
  assertRejected(huge, [400, 431], '2 MB header', { closeOk: true });
  await assertAlive('2 MB header');

  const many = Array.from({ length: 1000 }, (_, i) => `X-H${i}: v\r\n`).join('');
  assertRejected(await exchange(get('/healthz', many)), [200, 400, 431], '1000 headers', { closeOk: true });
  await assertAlive('1000 headers');

  const longId = await exchange(get('/healthz', `X-Request-Id: ${'r'.repeat(10_000)}\r\n`));
  const res = assertRejected(longId, [200, 400, 431], '10 KB X-Request-Id');
  if (res.status === 200) assert.ok(res.headers['x-request-id'].length <= 64, 'a 10 KB request id is echoed');
  await assertAlive('long X-Request-Id');
});

test('path traversal never reaches the file system', { timeout: TEST_TIMEOUT }, async () => {
  const targets = [
    '/assets/../../etc/passwd',
    '/assets/../../../../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/..%2f..%2f..%2fetc%2fpasswd',
    '/assets/..%5c..%5cetc%5cpasswd',
    '/assets/%252e%252e%252fetc%252fpasswd',
    '/../../etc/passwd',
    '/genres/..%2f..%2f..%2fetc%2fpasswd',
    '/api/v1/genres/..%2F..%2Fetc%2Fpasswd',
    '/assets/....//....//etc/passwd',
    '/assets/%c0%ae%c0%ae/etc/passwd',
  ];
  for (const t of targets) {
    const r = assertRejected(await exchange(get(t)), [400, 404], t);
    assert.ok(!/root:.*:0:0:/.test(r.body), `${t}: leaked /etc/passwd`);
  }
  // The real asset directory's neighbours are not served either.
  for (const t of ['/assets/index.html', '/assets/../web/app.js', '/assets/%2e%2e/data/families/metal.json']) {
    const r = assertRejected(await exchange(get(t)), [400, 404], t);
    assert.ok(!r.body.includes('@@GENRE_LIST@@') && !r.body.includes('"format_version"'), `${t}: leaked a file`);
  }
  // The static asset route itself, with a name it really serves: it answers
  // that asset (the route is reached), and every twist of the name gives
  // either that same asset (the path normalizes to it) or a 4xx, never
  // anything else.
  const page = (await exchange(get('/'))).responses[0];
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)[1];
  const real = assertRejected(await exchange(get(asset, 'Accept-Encoding: identity\r\n')), [200], asset);
  assert.ok(real.body.length > 1000, `${asset}: served`);
  const name = asset.slice('/assets/'.length);
  const twists = [
    `/assets/../assets/${name}`, `/assets/./${name}`, `/assets//${name}`, `/assets/x/../${name}`,
    `/assets/%2e%2e/assets/${name}`, `/assets/..%2fassets%2f${name}`, `/assets/%2e/${name}`,
    `/assets/${name}/../../../../etc/passwd`, `/assets/${name}%00.png`, `/assets/${name}/`, `/assets/${name}%2f..%2f..%2fetc%2fpasswd`,
    `/assets/${name.toUpperCase()}`, `/assets/%252e%252e/${name}`, `/x/../assets/${name}`,
  ];
  for (const t of twists) {
    const r = assertRejected(await exchange(get(t, 'Accept-Encoding: identity\r\n')), [200, 400, 404], t);
    if (r.status === 200) assert.equal(r.body, real.body, `${t}: 200 with something other than ${asset}`);
    assert.ok(!/root:.*:0:0:/.test(r.body), `${t}: leaked /etc/passwd`);
  }
  await assertAlive('path traversal');
});

test('NUL bytes in the path and the query', { timeout: TEST_TIMEOUT }, async () => {
  for (const t of ['/api/v1/genres/rock%00', '/api/v1/genres/rock%00.json', '/api/v1/bands/%00', '/genres/rock%00x']) {
    const r = assertRejected(await exchange(get(t)), [400, 404], t);
    if (t.startsWith('/api/')) assert.match(r.headers['content-type'], /problem\+json/, t);
  }
  for (const t of ['/api/v1/search?q=ro%00ck', '/api/v1/search?q=%00', '/api/v1/search?q=rock&limit=5%00',
    '/api/v1/search?q%00=rock']) {
    const r = assertRejected(await exchange(get(t)), [400], t);
    assert.match(r.headers['content-type'], /problem\+json/, t);
  }
  // A raw NUL in the request line: h2o's own parser rejects it.
  assertRejected(await exchange(get('/api/v1/genres/ro\0ck')), [400, 404], 'raw NUL', { closeOk: true });
  await assertAlive('NUL bytes');
});

test('invalid UTF-8 in the query and the path', { timeout: TEST_TIMEOUT }, async () => {
  for (const q of ['%ff', '%C3', '%C3%28', '%ED%A0%80', '%F8%88%80%80%80', '%C0%AF', 'ok%E2%82']) {
    const r = assertRejected(await exchange(get(`/api/v1/search?q=${q}`)), [400], `q=${q}`);
    assert.match(r.headers['content-type'], /problem\+json/);
  }
  for (const t of ['/api/v1/genres/%ff', '/api/v1/bands/%C3%28', '/genres/%ff%fe', '/bands/%ED%A0%80']) {
    assertRejected(await exchange(get(t)), [400, 404], t);
  }
  // Raw (unencoded) high bytes in the request line.
  const raw = Buffer.concat([Buffer.from('GET /api/v1/search?q='), Buffer.from([0xff, 0xfe, 0xc3]),
    Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
  assertRejected(await exchange(raw), [400], 'raw 0xff in the query', { closeOk: true });
  await assertAlive('invalid UTF-8');
});

test('path parameters are percent-decoded exactly once', { timeout: TEST_TIMEOUT }, async () => {
  // %2D is "-": decoded once, death%2Dmetal is death-metal.
  assert.equal((await exchange(get('/api/v1/genres/death%2Dmetal'))).responses[0]?.status, 200);
  // %252D is "%2D" after one decoding: no genre has that id (a second decoding would find death-metal).
  const twice = await exchange(get('/api/v1/genres/death%252Dmetal'));
  assert.equal(twice.responses[0]?.status, 404, 'decoded twice');
  // A valid %25 is a percent sign, not a malformed escape.
  assert.equal((await exchange(get('/api/v1/genres/100%25'))).responses[0]?.status, 404);
  // %252F never becomes a slash inside a parameter.
  const slash = await exchange(get('/api/v1/genres/a%252Fb'));
  assert.equal(slash.responses[0]?.status, 404);
  await assertAlive('percent-decoding');
});

test('malformed percent-escapes', { timeout: TEST_TIMEOUT }, async () => {
  for (const t of ['/api/v1/search?q=%', '/api/v1/search?q=%g0', '/api/v1/search?q=%%41', '/api/v1/search?%zz=1&q=a']) {
    assertRejected(await exchange(get(t)), [400], t);
  }
  for (const t of ['/api/v1/genres/%', '/api/v1/genres/%zz', '/genres/%4', '/assets/%']) {
    assertRejected(await exchange(get(t)), [400, 404], t);
  }
  await assertAlive('malformed escapes');
});

test('pipelined requests on one socket are answered in order', { timeout: TEST_TIMEOUT }, async () => {
  const reqs = [
    'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/v1/genres/rock HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/v1/genres/nope HTTP/1.1\r\nHost: x\r\n\r\n',
    'HEAD /api/v1/bands/motorhead HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /api/v1/search?q=bjork HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  ];
  const r = await exchange(reqs.join(''));
  // The HEAD response has a Content-Length but no body: re-parse around it.
  const statuses = [...r.raw.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200, 404, 200, 200], 'statuses of the pipelined requests');
  assert.ok(r.closed, 'Connection: close on the last request closes the socket');
  const text = r.raw.toString('utf8');
  assert.ok(text.indexOf('"status":"ok"') < text.indexOf('"id":"rock"'), 'responses out of order');
  assert.ok(text.includes('Björk'), 'last response missing');

  const fifty = Array.from({ length: 50 }, (_, i) =>
    `GET /api/v1/search?q=${i % 2 ? 'metal' : 'rock'} HTTP/1.1\r\nHost: x\r\n${i === 49 ? 'Connection: close\r\n' : ''}\r\n`).join('');
  const many = await exchange(fifty, { timeoutMs: 5000 });
  assert.equal(many.responses.length, 50, '50 pipelined requests');
  assert.ok(many.responses.every((x) => x.status === 200));
  await assertAlive('pipelining');
});

test('a request written one byte at a time', { timeout: TEST_TIMEOUT }, async () => {
  const bytes = [...Buffer.from('GET /api/v1/genres/death-metal HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')]
    .map((b) => Buffer.from([b]));
  const r = await exchange(bytes, { gapMs: 2, timeoutMs: 5000, expect: 1 });
  assert.equal(r.responses.length, 1, 'no response to a request sent byte by byte');
  assert.equal(r.responses[0].status, 200);
  assert.equal(JSON.parse(r.responses[0].body).id, 'death-metal');
  await assertAlive('1-byte writes');
});

test('garbage instead of HTTP', { timeout: TEST_TIMEOUT }, async () => {
  const garbage = [
    Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS ClientHello
    'hello\r\n\r\n',
    'GET\r\n\r\n',
    'GET /healthz\r\n\r\n', // HTTP/0.9
    'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n',
    'GET /healthz HTTP/1.1\r\n: empty name\r\n\r\n',
    'GET  /healthz  HTTP/1.1\r\n\r\n',
    '\r\n\r\n\r\n\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', // HTTP/2 preface over cleartext 1.1
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
  ];
  for (const g of garbage) {
    const what = `garbage ${JSON.stringify(g.toString('latin1').slice(0, 24))}`;
    const r = await exchange(g, { timeoutMs: 1000, expect: 1 });
    for (const res of r.responses) assert.ok(res.status < 500, `${what}: ${res.status}`);
    await assertAlive(what);
  }
});

test('unusual but valid request forms are served', { timeout: TEST_TIMEOUT }, async () => {
  const http10 = await exchange('GET /healthz HTTP/1.0\r\n\r\n', { expect: 1 });
  assert.equal(http10.responses[0]?.status, 200, 'HTTP/1.0 without Host');
  const odd = await exchange('FOO /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assertRejected(odd, [400, 405, 501], 'unknown method');
  const lf = await exchange('GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n');
  assertRejected(lf, [200, 400], 'bare LF line endings', { closeOk: true });
  await assertAlive('unusual request forms');
});

test('an absolute-form request target is served (RFC 9112 §3.2.2: a server MUST accept it)', { timeout: TEST_TIMEOUT }, async () => {
  const absolute = await exchange(`GET http://localhost:${server.port}/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  const r = assertRejected(absolute, [200], 'GET http://localhost:PORT/healthz');
  assert.equal(JSON.parse(r.body).status, 'ok');
  await assertAlive('absolute-form target');
});

test('a request body on GET with a huge Content-Length: 413 or close, never a crash', { timeout: TEST_TIMEOUT }, async () => {
  for (const len of ['10000000000', '5000000', '18446744073709551615', '99999999999999999999999']) {
    const r = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${len}\r\n\r\nabc`, { timeoutMs: 2000, expect: 1 });
    assertRejected(r, [400, 413], `Content-Length ${len}`, { closeOk: true });
    await assertAlive(`Content-Length ${len}`);
  }
  // Actually sending more than the limit (1 MiB by default).
  const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
  const sent = await exchange([`POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, body],
    { timeoutMs: 4000 });
  assertRejected(sent, [405, 413], '2 MiB body', { closeOk: true });
  const chunked = await exchange([`GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
    `${(2 * 1024 * 1024).toString(16)}\r\n`, body, '\r\n0\r\n\r\n'], { timeoutMs: 4000 });
  assertRejected(chunked, [200, 400, 413], '2 MiB chunked body', { closeOk: true });
  for (const bad of ['-1', 'abc', '1, 2', ' 12 x']) {
    const r = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${bad}\r\n\r\n`, { timeoutMs: 1500, expect: 1 });
    for (const res of r.responses) assert.ok(res.status < 500, `Content-Length ${bad}: ${res.status}`);
  }
  const both = await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    { timeoutMs: 1500, expect: 1 });
  for (const res of both.responses) assert.ok(res.status < 500, `CL + TE: ${res.status}`);
  await assertAlive('request bodies');
});

test('a body over the limit: the client always reads the 413, however much it keeps sending', { timeout: TEST_TIMEOUT }, async () => {
  // The server answers as soon as it sees the Content-Length, then lingers,
  // discarding the rest, so the answer is not destroyed by a reset while the
  // client is still sending (h2o alone closes at once: 0 of 5 read it).
  for (const mib of [2, 4, 4, 16, 16]) {
    const body = Buffer.alloc(mib * 1024 * 1024, 0x78);
    const r = await exchange([`POST /api/v1/genres HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body],
      { timeoutMs: 8000, expect: 1 });
    assert.equal(r.responses[0]?.status, 413, `${mib} MiB body: ${r.responses[0]?.status ?? (r.reset ? 'connection reset' : 'no answer')}`);
  }
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${server.url}/api/v1/genres`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(4 * 1024 * 1024), signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 413);
    await res.arrayBuffer();
  }
  await assertAlive('oversized bodies');
});

test('slow clients that disconnect mid-request, and while many are open', { timeout: TEST_TIMEOUT }, async () => {
  // One client sends half a request line, waits, and hangs up.
  const half = await exchange(['GET /api/v1/gra', 'ph HTTP/1.1\r\nHo'], { gapMs: 300, timeoutMs: 700 });
  assert.equal(half.responses.length, 0);
  await assertAlive('half a request');
  // A client that promised a body and hangs up half-way.
  await exchange(['POST /api/v1/genres HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', 'a'.repeat(500)],
    { gapMs: 200, timeoutMs: 500 });
  await assertAlive('half a body');
  // 200 slow clients hold connections open while a normal client is served.
  const sockets = await Promise.all(Array.from({ length: 200 }, () => new Promise((ok) => {
    const s = net.connect(server.port, '127.0.0.1', () => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      ok(s);
    });
    s.on('error', () => ok(s));
  })));
  try {
    const t0 = Date.now();
    await assertAlive('200 open slow clients');
    const res = await fetch(`${server.url}/api/v1/genres/rock`);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 < 2000, 'slow clients delay other clients');
  } finally {
    for (const s of sockets) s.destroy();
  }
  await sleep(100);
  await assertAlive('slow clients gone');
});

test('clients that hang up while a large response is being written', { timeout: TEST_TIMEOUT }, async () => {
  await Promise.all(Array.from({ length: 30 }, () => new Promise((ok) => {
    const s = net.connect(server.port, '127.0.0.1', () =>
      s.write('GET /api/v1/graph HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n'));
    s.once('data', () => {
      s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
      ok();
    });
    s.on('error', () => ok());
    s.on('close', () => ok());
  })));
  await sleep(100);
  await assertAlive('hang-ups mid-response');
});

test('many concurrent clients are all answered', { timeout: TEST_TIMEOUT }, async () => {
  const paths = ['/healthz', '/api/v1/graph', '/api/v1/genres/metal', '/api/v1/search?q=me', '/', '/genres/rock'];
  const results = await Promise.all(Array.from({ length: 120 }, (_, i) =>
    fetch(`${server.url}${paths[i % paths.length]}`).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    })));
  assert.ok(results.every((s) => s === 200), `statuses: ${[...new Set(results)].join(', ')}`);
});

test('the server survived everything and exits 0 on SIGTERM', { timeout: TEST_TIMEOUT }, async () => {
  await assertAlive('the whole suite');
  const code = await server.stop();
  const logs = server.logs();
  server = null;
  assert.equal(code, 0, `exit status ${code}`);
  assert.doesNotMatch(logs, /AddressSanitizer|runtime error:|LeakSanitizer|Segmentation fault/, 'sanitizer report in the logs');
});
