// Slow clients cannot exhaust the server: hundreds of connections that
// trickle their headers do not stop normal requests from being answered, the
// server cuts them off after the request timeout, and connections beyond the
// limit are closed at once instead of piling up.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startServer } from '../lib/server.mjs';
import { sleep } from '../lib/wait.mjs';

let srv;
before(async () => {
  srv = await startServer({
    env: { MUSICGRAPH_REQUEST_TIMEOUT: '3', MUSICGRAPH_MAX_CONNECTIONS: '600', MUSICGRAPH_MAX_CONNECTIONS_PER_CLIENT: '600', MUSICGRAPH_LOG_LEVEL: 'warn' },
  });
});
after(async () => assert.equal(await srv.stop(), 0));


// Opens a connection that sends one header byte every 500 ms; records when
// it is connected and the time the server closed it (null while open).
function slowClient(port) {
  const sock = net.connect(port, '127.0.0.1');
  const opened = Date.now();
  const state = { closedAfter: null, sock };
  state.connected = new Promise((ok) => { sock.on('connect', ok); sock.on('close', ok); });
  const text = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
  let i = 0;
  const timer = setInterval(() => {
    if (!sock.destroyed && i < text.length) sock.write(text[i++]);
  }, 500);
  sock.on('error', () => {});
  sock.on('close', () => {
    clearInterval(timer);
    state.closedAfter = Date.now() - opened;
  });
  return state;
}

test('normal requests are served while 400 slow clients hold connections', { timeout: 60_000 }, async () => {
  const slow = Array.from({ length: 400 }, () => slowClient(srv.port));
  await Promise.all(slow.map((s) => s.connected));
  const stillOpen = () => slow.filter((s) => s.closedAfter === null).length;
  const openWhenServed = [];
  for (let i = 0; i < 20; i++) {
    // A request that waits is a named failure, not a hung suite.
    const res = await fetch(`${srv.url}/api/v1/genres/rock`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    openWhenServed.push(stillOpen());
  }
  // Not a timing assertion: the answers came while the slow clients were
  // connected (at least the first one; the later ones may meet the timeout).
  assert.ok(openWhenServed[0] > 300, `only ${openWhenServed[0]} slow clients were connected when the first answer came`);
  // The request timeout (3 s) cuts slow clients off.
  await sleep(5000);
  const open = stillOpen();
  assert.equal(open, 0, `${open} slow connections are still open after the request timeout`);
  for (const s of slow) s.sock.destroy();
});

test('connections beyond MUSICGRAPH_MAX_CONNECTIONS are closed at once, and service continues', { timeout: 60_000 }, async () => {
  const socks = [];
  for (let i = 0; i < 800; i++) {
    const s = net.connect(srv.port, '127.0.0.1');
    s.on('error', () => {});
    const entry = { s, gone: false };
    s.on('close', () => (entry.gone = true));
    socks.push(entry);
  }
  await sleep(800);
  const closed = socks.filter((e) => e.gone).length;
  assert.ok(closed >= 150, `the server closed the connections over its limit (${closed} closed)`);
  for (const e of socks) e.s.destroy();
  await sleep(300);
  const res = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
});

// Opens n idle connections from one loopback address; resolves when each is
// either connected-and-still-open or closed by the server.
async function holdConnections(port, localAddress, n) {
  const socks = Array.from({ length: n }, () => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    const entry = { s, gone: false };
    s.on('error', () => {});
    s.on('close', () => (entry.gone = true));
    return entry;
  });
  await sleep(1000);
  return socks;
}

// GET /healthz from a given source address on a fresh connection.
function healthFrom(port, localAddress) {
  return new Promise((ok) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', localAddress, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => ok(0));
  });
}

test('one client address cannot take every connection; trusted proxies are exempt', { timeout: 60_000 }, async () => {
  const limited = await startServer({
    env: { MUSICGRAPH_MAX_CONNECTIONS: '300', MUSICGRAPH_MAX_CONNECTIONS_PER_CLIENT: '100',
      MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.3', MUSICGRAPH_LOG_LEVEL: 'warn' },
  });
  try {
    const attacker = await holdConnections(limited.port, '127.0.0.2', 250);
    const held = attacker.filter((e) => !e.gone).length;
    assert.equal(held, 100, `the attacker holds ${held} connections, its limit is 100`);
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push(await healthFrom(limited.port, '127.0.0.1'));
    assert.deepEqual(statuses, Array(20).fill(200), 'everybody else is served');
    // A trusted reverse proxy carries many clients: it may exceed the per-client limit.
    const proxy = await holdConnections(limited.port, '127.0.0.3', 150);
    assert.equal(proxy.filter((e) => !e.gone).length, 150, 'the trusted proxy keeps its 150 connections');
    // Closing frees the attacker's share again.
    for (const e of attacker) e.s.destroy();
    await sleep(500);
    assert.equal(await healthFrom(limited.port, '127.0.0.2'), 200);
    for (const e of proxy) e.s.destroy();
  } finally {
    assert.equal(await limited.stop(), 0);
  }
});
