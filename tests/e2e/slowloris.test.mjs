// Slow clients cannot exhaust the server: hundreds of connections that
// trickle their headers do not stop normal requests from being answered, the
// server cuts them off after the request timeout, and connections beyond the
// limit are closed at once instead of piling up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({
    env: { MUSICGRAPH_REQUEST_TIMEOUT: '2', MUSICGRAPH_MAX_CONNECTIONS: '600', MUSICGRAPH_LOG_LEVEL: 'warn' },
  });
});
after(async () => assert.equal(await srv.stop(), 0));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Opens a connection that sends one header byte every 500 ms; resolves with
// the time the server closed it (or null if still open when asked).
function slowClient(port) {
  const sock = net.connect(port, '127.0.0.1');
  const opened = Date.now();
  const state = { closedAfter: null, sock };
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

test('normal requests are served while 400 slow clients hold connections', async () => {
  const slow = Array.from({ length: 400 }, () => slowClient(srv.port));
  await sleep(500);
  const timings = [];
  for (let i = 0; i < 20; i++) {
    const t0 = Date.now();
    const res = await fetch(`${srv.url}/api/v1/genres/rock`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    timings.push(Date.now() - t0);
  }
  // Not a timing assertion: answers arrive at all, and not after the slow clients are gone.
  assert.ok(slow.filter((s) => s.closedAfter === null).length > 300, 'slow clients were still connected while served');
  // The request timeout (2 s) cuts slow clients off.
  await sleep(3500);
  const open = slow.filter((s) => s.closedAfter === null).length;
  assert.equal(open, 0, `${open} slow connections are still open after the request timeout`);
  for (const s of slow) s.sock.destroy();
});

test('connections beyond MUSICGRAPH_MAX_CONNECTIONS are closed at once, and service continues', async () => {
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
  const res = await fetch(`${srv.url}/healthz`);
  assert.equal(res.status, 200);
});
