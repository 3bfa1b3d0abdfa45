// ACME: the server obtains its certificate from a real CA on loopback
// (Debian's pebble, which really fetches the http-01 token from our plain
// listener, resolving the name through pebble-challtestsrv's DNS), serves
// HTTPS with it, renews it before it expires without dropping a request,
// and reports a broken or unreachable CA as a clear error, not a crash.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, freePort, runCli, startServer } from '../lib/server.mjs';

const NAME = 'musicgraph.test';
const LIFETIME_S = 40; // short-lived certificates: renewal is due after about 27 s
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const available = have('pebble') && have('pebble-challtestsrv');
const skip = available ? false : 'needs pebble and pebble-challtestsrv (Debian package pebble; scripts/deps --test installs it)';

const dir = mkdtempSync(join(tmpdir(), 'musicgraph-acme-'));
const children = [];
let pebble; // { directory, caFile, roots: PEM of the issuing root }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startChild(cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  children.push(child);
  return { child, logs: () => output };
}

// GET over TLS, naming NAME by SNI; ca: PEM roots to verify against (or none: no verification).
function tlsGet(port, path, { ca, agent = false } = {}) {
  return new Promise((ok, fail) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, servername: NAME, agent, timeout: 5000,
        ...(ca ? { ca } : { rejectUnauthorized: false }) },
      (res) => {
        const cert = res.socket.getPeerCertificate();
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => ok({ status: res.statusCode, body, serial: cert.serialNumber, issuer: cert.issuer?.CN, names: cert.subjectaltname }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
  });
}

async function waitFor(what, fn, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(250);
  }
}

async function startPebble(httpPort, tlsPort) {
  // pebble's own HTTPS listener needs a certificate; the package ships none.
  const caFile = join(dir, 'pebble-https.pem'), keyFile = join(dir, 'pebble-https.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
    '-out', caFile, '-days', '2', '-subj', '/CN=pebble listener', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const [dnsPort, challMgmt, acmePort, mgmtPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  startChild('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${challMgmt}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
  const config = join(dir, 'pebble.json');
  writeFileSync(config, JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
    certificate: caFile, privateKey: keyFile, httpPort, tlsPort, ocspResponderURL: '',
    externalAccountBindingRequired: false, certificateValidityPeriod: LIFETIME_S,
  } }));
  // PEBBLE_VA_ALWAYS_VALID=0: pebble really fetches the token from our server.
  const p = startChild('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`],
    { PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_AUTHZREUSE: '0' });
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const get = (url) => new Promise((ok, fail) => {
    https.get(url, { ca: execFileSync('cat', [caFile]) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? ok(body) : fail(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', fail);
  });
  await waitFor(() => `pebble at ${directory}\n${p.logs()}`, () => get(directory), 20000);
  const roots = await get(`https://127.0.0.1:${mgmtPort}/roots/0`);
  return { directory, caFile, roots, dnsPort, challMgmt };
}

function acmeEnv(plainPort, extra = {}) {
  return {
    MUSICGRAPH_ACME_DOMAINS: NAME,
    MUSICGRAPH_ACME_EMAIL: 'ops@musicgraph.test',
    MUSICGRAPH_ACME_DIRECTORY: pebble.directory,
    MUSICGRAPH_ACME_CA_ROOTS: pebble.caFile,
    MUSICGRAPH_HTTP_REDIRECT_LISTEN: `127.0.0.1:${plainPort}`,
    ...extra,
  };
}

let srv, plainPort, alpnPort;

before(async () => {
  if (skip) return;
  plainPort = await freePort();
  alpnPort = await freePort(); // where pebble checks tls-alpn-01: the HTTPS port of the second server
  pebble = await startPebble(plainPort, alpnPort);
  const started = Date.now();
  // Ready means /healthz answered over HTTPS: the certificate had to come first.
  srv = await startServer({ env: acmeEnv(plainPort), healthScheme: 'https', timeoutMs: 90000 });
  console.log(`# first HTTPS response ${Date.now() - started} ms after start (http-01, pebble on loopback)`);
});

after(async () => {
  if (srv) {
    assert.equal(await srv.stop(), 0);
    rmSync(srv.stateDir, { recursive: true, force: true }); // given back to startServer on restarts, so kept by stop()
  }
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('a certificate is obtained at first start and served: it verifies against pebble\'s root for the name', { skip }, async () => {
  const res = await tlsGet(srv.port, '/api/v1/genres/rock', { ca: pebble.roots });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).id, 'rock');
  assert.match(res.issuer, /Pebble Intermediate CA/);
  assert.match(res.names, new RegExp(`DNS:${NAME.replace('.', '\\.')}`));
  assert.match(srv.logs(), /acme: account .* \(created\)/);
  assert.match(srv.logs(), /answering the http-01 challenge for musicgraph\.test/);
  const stat = statSync(join(srv.stateDir, 'acme', 'account.key'));
  assert.equal(stat.mode & 0o777, 0o600, 'the account key is for the owner only');
  assert.equal(statSync(join(srv.stateDir, 'acme', 'certificate.key')).mode & 0o777, 0o600);
  const chain = new X509Certificate(execFileSync('cat', [join(srv.stateDir, 'acme', 'certificate.pem')]));
  assert.equal(chain.serialNumber, res.serial, 'the stored certificate is the one served');
});

test('doctor reports the account, the certificate and the last order', { skip }, async () => {
  const report = await runCli(['doctor', '--state-dir', srv.stateDir], { env: acmeEnv(plainPort) });
  assert.match(report.stdout, /ok\s+acme account\s+.*account\.key at https:\/\/127\.0\.0\.1:\d+\/dir/);
  assert.match(report.stdout, /ok\s+acme certificate\s+musicgraph\.test: issuer .*Pebble Intermediate CA.*, serial [0-9A-F]+, expires in 0 days/);
  assert.match(report.stdout, /ok\s+acme last order\s+succeeded at \d{4}-\d\d-\d\dT.*: serial [0-9A-F]+/);
});

test('the plain listener redirects to HTTPS and answers only pending challenges', { skip }, async () => {
  const res = await fetch(`http://127.0.0.1:${plainPort}/genres/rock?x=1`, { redirect: 'manual' });
  assert.equal(res.status, 308);
  assert.equal(res.headers.get('location'), 'https://127.0.0.1/genres/rock?x=1');
  const token = await fetch(`http://127.0.0.1:${plainPort}/.well-known/acme-challenge/not-a-pending-token`);
  assert.equal(token.status, 404);
});

test('/metrics reports the certificate expiry and the orders', { skip }, async () => {
  const metrics = (await tlsGet(srv.port, '/metrics')).body;
  const expiry = Number(metrics.match(/^musicgraph_tls_certificate_expiry_timestamp_seconds (\d+)$/m)?.[1]);
  assert.ok(expiry > Date.now() / 1000 && expiry <= Date.now() / 1000 + LIFETIME_S + 5, `expiry ${expiry}`);
  assert.match(metrics, /^musicgraph_acme_orders_total\{result="success"\} [1-9]/m);
});

test('renewal before expiry replaces the certificate without a failed request', { skip, timeout: 150000 }, async () => {
  const first = (await tlsGet(srv.port, '/healthz')).serial;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
  let requests = 0, failures = 0, renewed = null;
  const errors = [];
  // Until a new connection sees a new serial: requests on kept-alive connections and on fresh ones.
  const deadline = Date.now() + 120000;
  while (!renewed && Date.now() < deadline) {
    const [kept, fresh] = await Promise.allSettled([tlsGet(srv.port, '/healthz', { agent }), tlsGet(srv.port, '/healthz')]);
    for (const r of [kept, fresh]) {
      requests++;
      if (r.status !== 'fulfilled' || r.value.status !== 200) {
        failures++;
        errors.push(r.reason?.message || r.value?.status);
      }
    }
    if (fresh.status === 'fulfilled' && fresh.value.serial !== first) renewed = fresh.value;
    await sleep(50);
  }
  agent.destroy();
  assert.ok(renewed, `no new certificate within two minutes\n${srv.logs().split('\n').filter((l) => /acme/.test(l)).join('\n')}`);
  assert.equal(failures, 0, `${failures} of ${requests} requests failed: ${errors.slice(0, 3).join(', ')}`);
  assert.match(srv.logs(), /acme: renewing a certificate for musicgraph\.test/);
  const verified = await tlsGet(srv.port, '/healthz', { ca: pebble.roots });
  assert.equal(verified.serial, renewed.serial);
});

test('a restart serves the stored certificate; a corrupt one is replaced by a new order', { skip, timeout: 150000 }, async () => {
  const stateDir = srv.stateDir;
  const chainFile = join(stateDir, 'acme', 'certificate.pem');
  assert.equal(await srv.stop({ keepState: true }), 0);
  const stored = new X509Certificate(readFileSync(chainFile)).serialNumber;
  srv = await startServer({ env: acmeEnv(plainPort), stateDir, healthScheme: 'https', timeoutMs: 90000 });
  assert.match(srv.logs(), new RegExp(`serving the stored certificate for musicgraph\\.test \\(serial ${stored}`));
  assert.equal(await srv.stop({ keepState: true }), 0);

  writeFileSync(chainFile, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  srv = await startServer({ env: acmeEnv(plainPort), stateDir, healthScheme: 'https', timeoutMs: 90000 });
  assert.match(srv.logs(), /not using the stored certificate, ordering a new one: /);
  const res = await tlsGet(srv.port, '/healthz', { ca: pebble.roots });
  assert.equal(res.status, 200);
  assert.notEqual(res.serial, stored);
  assert.equal(new X509Certificate(readFileSync(chainFile)).serialNumber, res.serial, 'the new chain replaced the corrupt file');
});

test('tls-alpn-01: the certificate is obtained through the HTTPS port alone, no plain listener', { skip, timeout: 120000 }, async () => {
  const env = acmeEnv(0, { MUSICGRAPH_ACME_CHALLENGE: 'tls-alpn-01' });
  delete env.MUSICGRAPH_HTTP_REDIRECT_LISTEN;
  const started = Date.now();
  const alpn = await startServer({ env, healthScheme: 'https', timeoutMs: 90000, port: alpnPort });
  try {
    console.log(`# first HTTPS response ${Date.now() - started} ms after start (tls-alpn-01, pebble on loopback)`);
    const res = await tlsGet(alpnPort, '/api/v1/genres/rock', { ca: pebble.roots });
    assert.equal(res.status, 200);
    assert.match(res.issuer, /Pebble Intermediate CA/);
    assert.match(alpn.logs(), /answering the tls-alpn-01 challenge for musicgraph\.test/);
  } finally {
    assert.equal(await alpn.stop(), 0);
  }
});

// The hook sets the TXT record through pebble-challtestsrv's HTTP API, the
// DNS server pebble asks; the server waits until that server shows it.
function dnsHook(exitCode = 0) {
  const hook = join(dir, `hook-${exitCode}.sh`);
  writeFileSync(hook, [
    '#!/bin/sh',
    '# HOOK add|remove NAME TXT_NAME TXT_VALUE',
    'echo "$*" >>"$0.calls"',
    `[ ${exitCode} -eq 0 ] || exit ${exitCode}`,
    'case "$1" in',
    `  add) path=set-txt; body="{\\"host\\":\\"$3.\\",\\"value\\":\\"$4\\"}" ;;`,
    `  remove) path=clear-txt; body="{\\"host\\":\\"$3.\\"}" ;;`,
    '  *) exit 2 ;;',
    'esac',
    `exec curl -sf -o /dev/null -X POST -d "$body" "http://127.0.0.1:${pebble.challMgmt}/$path"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return hook;
}

test('dns-01: the hook sets the TXT record, the server waits until it is visible, the CA validates it', { skip, timeout: 120000 }, async () => {
  const hook = dnsHook();
  const env = acmeEnv(0, { MUSICGRAPH_ACME_CHALLENGE: 'dns-01', MUSICGRAPH_ACME_DNS_HOOK: hook,
    MUSICGRAPH_ACME_DNS_RESOLVER: `127.0.0.1:${pebble.dnsPort}` });
  delete env.MUSICGRAPH_HTTP_REDIRECT_LISTEN;
  const started = Date.now();
  const dns = await startServer({ env, healthScheme: 'https', timeoutMs: 90000 });
  try {
    console.log(`# first HTTPS response ${Date.now() - started} ms after start (dns-01 through the hook, pebble on loopback)`);
    const res = await tlsGet(dns.port, '/healthz', { ca: pebble.roots });
    assert.equal(res.status, 200);
    assert.match(res.issuer, /Pebble Intermediate CA/);
    assert.match(dns.logs(), /the DNS hook set _acme-challenge\.musicgraph\.test, waiting until it can be seen/);
    const calls = readFileSync(`${hook}.calls`, 'utf8').trim().split('\n');
    assert.match(calls[0], /^add musicgraph\.test _acme-challenge\.musicgraph\.test [A-Za-z0-9_-]{43}$/);
    assert.equal(calls[1], calls[0].replace(/^add/, 'remove'), 'the record is removed after validation');
  } finally {
    assert.equal(await dns.stop(), 0);
  }
});

// Starts a server that cannot get a certificate; resolves once its log matches expected.
async function startFailing(env, expected) {
  const state = mkdtempSync(join(dir, 'failing-'));
  const port = await freePort();
  const child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', state, '--threads', '1'],
    { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  const deadline = Date.now() + 60000;
  while (!expected.test(logs)) {
    if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) throw new Error(`expected ${expected} in the log:\n${logs}`);
    await sleep(200);
  }
  return { state, port, child, stop: () => (child.kill('SIGTERM'), exited) };
}

test('dns-01: a hook that fails is reported with its exit status and a retry is scheduled', { skip, timeout: 90000 }, async () => {
  const env = acmeEnv(0, { MUSICGRAPH_ACME_CHALLENGE: 'dns-01', MUSICGRAPH_ACME_DNS_HOOK: dnsHook(3) });
  delete env.MUSICGRAPH_HTTP_REDIRECT_LISTEN;
  const failing = await startFailing(env,
    /could not obtain a certificate \(retrying in \d+ s\): the DNS hook \S+hook-3\.sh add _acme-challenge\.musicgraph\.test exited with status 3/);
  assert.equal(await failing.stop(), 0);
});

// A CA that answers nonsense, and one that is not there at all.
test('a CA that answers garbage or is down gives a clear error in the log and the server keeps running', { skip, timeout: 150000 }, async () => {
  const hostile = createServer((req, res) => {
    if (req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"newNonce": "javascript:alert(1)", "newAccount": 42, "newOrder": [');
    } else {
      res.writeHead(500);
      res.end('<html>oops</html>');
    }
  });
  await new Promise((r) => hostile.listen(0, '127.0.0.1', r));
  const down = await freePort();
  for (const [directory, expected] of [
    [`http://127.0.0.1:${hostile.address().port}/dir`, /could not obtain a certificate \(retrying in \d+ s\): the CA's directory is not a JSON object/],
    [`http://127.0.0.1:${down}/dir`, /could not obtain a certificate \(retrying in \d+ s\): cannot reach the ACME CA at http:\/\/127\.0\.0\.1:\d+\/dir/],
  ]) {
    const env = acmeEnv(await freePort(), { MUSICGRAPH_ACME_DIRECTORY: directory, MUSICGRAPH_ACME_CA_ROOTS: '' });
    const failing = await startFailing(env, expected);
    assert.equal(failing.child.exitCode, null, 'the server is still running');
    const report = await runCli(['doctor', '--state-dir', failing.state], { env });
    assert.match(report.stdout, /WARN\s+acme certificate\s+none yet for musicgraph\.test/);
    assert.match(report.stdout, /WARN\s+acme last order\s+failed at .*: (the CA's directory|cannot reach)/);
    // Without a certificate the TLS listener accepts and closes: no plain-text answer on it.
    await assert.rejects(tlsGet(failing.port, '/healthz'));
    assert.equal(await failing.stop(), 0, 'a clean stop while the manager waits to retry');
  }
  hostile.close();
});
