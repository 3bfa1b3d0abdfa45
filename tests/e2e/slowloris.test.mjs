// Slow clients cannot exhaust the server: hundreds of connections that
// trickle their headers do not stop normal requests from being answered, the
// server cuts them off after the request timeout, and connections beyond the
// limit are closed at once instead of piling up.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer } from '../lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({
    env: { MUSICGRAPH_REQUEST_TIMEOUT: '3', MUSICGRAPH_MAX_CONNECTIONS: '600', MUSICGRAPH_LOG_LEVEL: 'warn' },
  });
});
after(async () => assert.equal(await srv.stop(), 0));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
