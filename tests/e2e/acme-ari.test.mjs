// ACME Renewal Information (RFC 9773): when the CA's directory offers
// renewalInfo, the server renews inside the window the CA suggests instead
// of at two thirds of the lifetime. Debian's pebble has no ARI, so each
// server here talks to pebble through a proxy (tests/lib/pebble.mjs) that
// adds renewalInfo and answers it with a window the test chooses; orders,
// challenges (dns-01 through challtestsrv) and certificates are pebble's.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certId, challengeEnv, pebbleMissing as skip, sleep, startAriProxy, startPebble, tlsGet, waitFor } from '../lib/pebble.mjs';
import { freePort, startServer } from '../lib/server.mjs';

const LIFETIME_S = 60; // two thirds: 40 s; the latest renewal: expiry minus a tenth, 54 s
const HOUR = 3600e3;
const dir = mkdtempSync(join(tmpdir(), 'musicgraph-acme-ari-'));
let pebble;
const servers = {}; // name -> { srv, proxy }
const far = () => ({ start: new Date(Date.now() + 365 * 24 * HOUR), end: new Date(Date.now() + 366 * 24 * HOUR), retryAfter: 1 });

// Each server gets its own name (dns-01 records of one name would collide)
// and its own proxy answering renewalInfo with answer(certID).
async function start(name, answer) {
  const proxy = await startAriProxy(pebble, answer);
  const env = { ...challengeEnv(pebble, dir, 'dns-01'), MUSICGRAPH_ACME_DOMAINS: `${name}.musicgraph.test`, MUSICGRAPH_ACME_DIRECTORY: proxy.directory };
  const srv = await startServer({ env, healthScheme: 'https', timeoutMs: 90000 });
  servers[name] = { srv, proxy };
  return servers[name];
}

const acmeLines = (srv) => srv.logs().split('\n').filter((l) => /acme/.test(l)).join('\n');

before(async () => {
  if (skip) return;
  pebble = await startPebble({ dir, httpPort: await freePort(), tlsPort: await freePort(), lifetimeS: LIFETIME_S });
  let first = null;
  await Promise.all([
    start('far', far),
    // The first certificate's window is already over; its successor's is far away.
    start('past', (id) => ((first ??= id) === id ? { start: new Date(Date.now() - 2 * HOUR), end: new Date(Date.now() - HOUR), retryAfter: 1 } : far())),
    start('broken', () => ({ status: 200, body: '{"suggestedWindow":{"start":"soon","end":"2030-01-01T00:00:00Z"}}' })),
  ]);
});

after(async () => {
  for (const { srv, proxy } of Object.values(servers)) {
    assert.equal(await srv.stop(), 0);
    proxy.close();
  }
  pebble?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a window already past: the server renews at once, naming the certificate it replaces', { skip, timeout: 90000 }, async () => {
  const { srv, proxy } = servers.past;
  const { seen } = proxy;
  await waitFor(() => `a second certificate\n${acmeLines(srv)}`, async () => seen.certificates.length >= 2 && (await tlsGet(srv.port, '/healthz')).serial === new X509Certificate(seen.certificates[1]).serialNumber, 60000);
  const firstId = certId(seen.certificates[0]);
  assert.equal(seen.asks[0], firstId, 'the CA was asked about the first certificate by its RFC 9773 certID');
  // On a busy machine an order can fail and be placed again: they are told apart by what they replace.
  const renewal = seen.orders.findIndex((o) => o.replaces !== undefined);
  assert.ok(renewal > 0, 'a renewal order came after the first ones');
  assert.ok(seen.orders.slice(0, renewal).every((o) => o.replaces === undefined), 'the first order replaces nothing');
  assert.ok(seen.orders.slice(renewal).every((o) => o.replaces === firstId), 'the renewal names the certificate it replaces');
  assert.match(srv.logs(), /acme: the CA suggests renewing past\.musicgraph\.test \(serial [0-9A-F]+\) between \S+ and \S+: renewing now/);
  assert.match(srv.logs(), /acme: renewing a certificate for past\.musicgraph\.test from \S+ \(inside the CA's renewal window\)/);
  // The successor's window is far away: it is asked about and not renewed.
  await waitFor('a question about the second certificate', async () => seen.asks.includes(certId(seen.certificates[1])), 30000);
  assert.ok(!seen.orders.some((o) => o.replaces === certId(seen.certificates[1])), 'the successor is not renewed');
  assert.equal(seen.certificates.length, 2, 'two certificates issued: the first and its one renewal');
});

test('a window far ahead: no renewal at two thirds, re-asked after Retry-After, renewed before expiry all the same', { skip, timeout: 120000 }, async () => {
  const { srv, proxy } = servers.far;
  const { seen } = proxy;
  const cert = new X509Certificate(seen.certificates[0]);
  const id = certId(seen.certificates[0]);
  const notBefore = Date.parse(cert.validFrom), notAfter = Date.parse(cert.validTo);
  const twoThirds = notBefore + ((notAfter - notBefore) * 2) / 3;
  // The earlier test may take long on a busy machine: what happened when is
  // read from the proxy's clock, not sampled at the moment this test runs.
  await waitFor(() => `a renewal before expiry\n${acmeLines(srv)}`, async () => (await tlsGet(srv.port, '/healthz')).serial !== cert.serialNumber, notAfter - Date.now() + 20000);
  const renewal = seen.orders.find((o) => o.replaces !== undefined);
  assert.equal(renewal.replaces, id, 'the renewal names the certificate it replaces');
  // Renewed neither at two thirds (40 s) nor after the expiry: at the expiry minus a tenth of the lifetime (54 s).
  assert.ok(renewal.at > twoThirds + 5000 && renewal.at < notAfter, `renewal ordered ${(renewal.at - notBefore) / 1000} s into a ${(notAfter - notBefore) / 1000} s lifetime\n${acmeLines(srv)}`);
  // Retry-After: 1, which the server raises to a tenth of this 60 s lifetime.
  const asked = seen.asks.filter((a, i) => a === id && seen.askedAt[i] <= twoThirds).length;
  assert.ok(asked >= 2 && asked <= 10, `asked ${asked} times about ${id} before two thirds of its lifetime`);
  assert.match(srv.logs(), /acme: the CA suggests renewing far\.musicgraph\.test \(serial [0-9A-F]+\) between \d{4}-\S+ and \d{4}-\S+: renewing at \d{4}-/);
  assert.match(srv.logs(), /acme: renewing a certificate for far\.musicgraph\.test from \S+ \(close to its expiry, later than the CA's window allows\)/);
  // The server logs the swap a moment after new connections get the certificate: the line may trail.
  const swapped = () => srv.logs().split('\n').some((l) => /certificate for far\.musicgraph\.test loaded for new connections/.test(l) && !l.includes(cert.serialNumber));
  await waitFor(() => `the new certificate's line in the log\n${acmeLines(srv)}`, async () => swapped(), 10000);
});

test('an unreadable renewalInfo answer: logged once, renewal at two thirds of the lifetime', { skip, timeout: 90000 }, async () => {
  const { srv, proxy } = servers.broken;
  const { seen } = proxy;
  await waitFor(() => `a second certificate\n${acmeLines(srv)}`, async () => seen.certificates.length >= 2, 60000);
  assert.ok(seen.asks.length >= 2, `asked ${seen.asks.length} times`);
  const warnings = srv.logs().match(/no renewal information from the CA, renewing broken\.musicgraph\.test at two thirds of its lifetime instead \(asking again later\): the CA's suggestedWindow has a time that is not RFC 3339/g);
  assert.equal(warnings?.length, 1, acmeLines(srv));
  assert.match(srv.logs(), /acme: renewing a certificate for broken\.musicgraph\.test from \S+ \(a third of its lifetime is left\)/);
});
