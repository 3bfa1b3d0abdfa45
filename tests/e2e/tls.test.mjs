// Native TLS: the server speaks HTTPS with MUSICGRAPH_TLS_CERT/_KEY, marks
// its session cookie Secure, and SIGHUP swaps in a renewed certificate for
// new connections without dropping the open ones; a broken replacement is
// refused and the old certificate stays in use. doctor reports the expiry.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../lib/server.mjs';

const dir = mkdtempSync(join(tmpdir(), 'musicgraph-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
const PASSWORD = 'tls-admin-password-1';
let srv;

function makeCert(name, days) {
  const c = join(dir, `${name}.crt`), k = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', String(days), '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return { c, k };
}

function get(path, agent) {
  return new Promise((ok, fail) => {
    const req = https.get({ host: '127.0.0.1', port: srv.port, path, agent: agent || false, rejectUnauthorized: false }, (res) => {
      let body = '';
      const cn = res.socket.getPeerCertificate().subject?.CN;
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode, body, cn, headers: res.headers }));
    });
    req.on('error', fail);
  });
}

const first = makeCert('first', 60);
const second = makeCert('second', 10);

before(async () => {
  copyFileSync(first.c, cert);
  copyFileSync(first.k, key);
  srv = await startServer({
    env: { MUSICGRAPH_TLS_CERT: cert, MUSICGRAPH_TLS_KEY: key, MUSICGRAPH_ADMIN_PASSWORD: PASSWORD },
    healthScheme: 'https',
  });
});
after(async () => assert.equal(await srv.stop(), 0));

test('HTTPS is served with the configured certificate; plain HTTP is not', async () => {
  const res = await get('/api/v1/genres/rock');
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).id, 'rock');
  assert.equal(res.cn, 'first');
  await assert.rejects(fetch(`http://127.0.0.1:${srv.port}/healthz`));
});

test('the session cookie is Secure over TLS', async () => {
  const res = await new Promise((ok, fail) => {
    const body = JSON.stringify({ username: 'admin', password: PASSWORD });
    const req = https.request(
      { host: '127.0.0.1', port: srv.port, path: '/api/v1/session', method: 'POST', rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (r) => { r.resume(); r.on('end', () => ok(r)); },
    );
    req.on('error', fail);
    req.end(body);
  });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['set-cookie'][0], /; Secure/);
});

test('SIGHUP: a renewed certificate serves new connections, open ones keep working', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const before = await get('/healthz', agent);
  assert.equal(before.cn, 'first');
  copyFileSync(second.c, cert);
  copyFileSync(second.k, key);
  process.kill(srv.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 700));
  const fresh = await get('/healthz');
  assert.equal(fresh.cn, 'second', 'a new connection gets the renewed certificate');
  const reused = await get('/healthz', agent);
  assert.equal(reused.status, 200, 'the open connection was not dropped');
  agent.destroy();
  assert.match(srv.logs(), /certificate .* loaded for new connections/);
});

test('SIGHUP with a broken certificate keeps the current one', async () => {
  writeFileSync(cert, 'not a certificate');
  process.kill(srv.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 700));
  const res = await get('/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.cn, 'second');
  assert.match(srv.logs(), /keeping the current certificate/);
  copyFileSync(second.c, cert);
});

test('doctor reports the certificate expiry; a missing key or half a configuration is refused', async () => {
  const report = await runCli(['doctor', '--state-dir', srv.stateDir, '--tls-cert', second.c, '--tls-key', second.k]);
  assert.match(report.stdout, /WARN\s+certificate\s+.*expires in \d+ days/, 'ten days left is a warning');
  const ok = await runCli(['doctor', '--state-dir', srv.stateDir, '--tls-cert', first.c, '--tls-key', first.k]);
  assert.match(ok.stdout, /ok\s+certificate\s+.*expires in (59|60) days/);
  const half = await runCli(['serve', '--state-dir', srv.stateDir, '--tls-cert', first.c]);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /go together/);
  const bad = await runCli(['serve', '--state-dir', srv.stateDir, '--listen', '127.0.0.1:0', '--tls-cert', first.c, '--tls-key', second.k]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot use the private key/);
});
