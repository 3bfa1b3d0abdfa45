// Two instances on one PostgreSQL database share one certificate: exactly
// one of them orders it from the CA (pebble on loopback, dns-01 through
// challtestsrv), under an advisory lock; the other takes it from the
// database. Renewal likewise.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { challengeEnv, pebbleMissing, startPebble, tlsGet, waitFor } from '../lib/pebble.mjs';
import { postgresBin, startPostgres } from '../lib/postgres.mjs';
import { freePort, startServer } from '../lib/server.mjs';

const skip = pebbleMissing || (postgresBin() ? false : 'PostgreSQL is not installed (scripts/deps --test installs it)');
const LIFETIME_S = 40; // renewal is due after about 27 s
const dir = mkdtempSync(join(tmpdir(), 'musicgraph-acme-pg-'));
let pebble, pg, url;
const servers = [];

// Orders placed by a server: each is announced by this log line before it starts.
const orders = (srv) => (srv.logs().match(/acme: (obtaining|renewing) a certificate for /g) || []).length;
const succeeded = async (srv) => Number((await tlsGet(srv.port, '/metrics')).body.match(/^musicgraph_acme_orders_total\{result="success"\} (\d+)$/m)[1]);
const acmeLines = () => servers.map((s, i) => s.logs().split('\n').filter((l) => /acme/.test(l)).map((l) => `[${i}] ${l}`).join('\n')).join('\n');

before(async () => {
  if (skip) return;
  pebble = await startPebble({ dir, httpPort: await freePort(), tlsPort: await freePort(), lifetimeS: LIFETIME_S });
  pg = await startPostgres();
  url = await pg.createDatabase();
  const env = { ...challengeEnv(pebble, dir, 'dns-01'), MUSICGRAPH_SECRET_KEY: 'acme-pg-test-secret-key-0123456789-abcdefgh' };
  // Both at once: each is ready when it serves HTTPS, so each has a certificate.
  servers.push(...(await Promise.all([0, 1].map(() => startServer({ env, args: ['--database-url', url], healthScheme: 'https', timeoutMs: 120000 })))));
});

after(async () => {
  for (const s of servers) assert.equal(await s.stop(), 0);
  pebble?.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('two instances starting together: one order, one certificate served by both', { skip, timeout: 60000 }, async () => {
  const [a, b] = servers;
  assert.equal(orders(a) + orders(b), 1, acmeLines());
  assert.equal((await succeeded(a)) + (await succeeded(b)), 1);
  const [ra, rb] = [await tlsGet(a.port, '/healthz', { ca: pebble.roots }), await tlsGet(b.port, '/healthz', { ca: pebble.roots })];
  assert.equal(ra.serial, rb.serial);
  const waiter = orders(a) ? b : a;
  assert.match(waiter.logs(), /acme: (serving the certificate for musicgraph\.test that another instance obtained|serving the stored certificate for musicgraph\.test) \(serial /);
  // The account key, the chain and its key are rows; each instance's copies stay private files.
  assert.equal((await pg.psql(url, "SELECT string_agg(split_part(name, ' ', 1), ',' ORDER BY name) FROM acme_state")).stdout.trim(), 'account,chain,key');
  for (const s of servers) {
    assert.equal(statSync(join(s.stateDir, 'acme', 'account.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(s.stateDir, 'acme', 'certificate.key')).mode & 0o777, 0o600);
  }
});

test('renewal: one instance renews, the other serves the renewed certificate', { skip, timeout: 120000 }, async () => {
  const [a, b] = servers;
  const first = (await tlsGet(a.port, '/healthz')).serial;
  await waitFor(() => `both instances on a new certificate\n${acmeLines()}`, async () => {
    const [ra, rb] = [await tlsGet(a.port, '/healthz'), await tlsGet(b.port, '/healthz')];
    return ra.serial !== first && ra.serial === rb.serial;
  }, 90000);
  assert.equal(orders(a) + orders(b), 2, acmeLines());
  assert.equal((await succeeded(a)) + (await succeeded(b)), 2);
  assert.match(a.logs() + b.logs(), /acme: serving the certificate for musicgraph\.test that another instance obtained/);
});
