// Operations: health, readiness and metrics endpoints; logs (JSON lines, no
// secret ever logged, client address through trusted proxies only); SIGHUP
// reloads the log settings; doctor's checks and exit codes; production
// refuses weak secrets.
import { test, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPostgres, runCli, startServer } from '../lib/server.mjs';
import { sleep } from '../lib/wait.mjs';

const ADMIN_PASSWORD = 'ops-test-password-123';
const SECRET = 'k7Gm2pQx9vLr4sWz8bNc1dFh6jTy3uEa5oIq0';
let srv;
let configFile;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-ops-'));
  configFile = join(dir, 'musicgraph.conf');
  writeFileSync(configFile, 'MUSICGRAPH_LOG_LEVEL=info\n');
  srv = await startServer({
    args: ['--config', configFile],
    env: {
      MUSICGRAPH_LOG_FORMAT: 'json',
      MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MUSICGRAPH_SECRET_KEY: SECRET,
      MUSICGRAPH_TRUSTED_PROXIES: '10.9.8.7',
    },
  });
});
after(async () => assert.equal(await srv.stop(), 0, 'SIGTERM stops the server with exit 0'));

const logLines = () =>
  srv
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

test('/healthz answers without the database; /readyz names each check', async () => {
  const health = await fetch(`${srv.url}/healthz`);
  assert.equal(health.status, 200);
  const ready = await fetch(`${srv.url}/readyz`);
  assert.equal(ready.status, 200);
  const body = await ready.json();
  assert.equal(body.status, 'ready');
  assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'migrations', 'server', 'snapshot']);
  for (const v of Object.values(body.checks)) assert.equal(v, 'ok');
});

test('/metrics speaks Prometheus text with the promised series', async () => {
  await fetch(`${srv.url}/api/v1/genres/rock`);
  await fetch(`${srv.url}/api/v1/genres/does-not-exist`);
  const res = await fetch(`${srv.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /musicgraph_http_requests_total\{method="GET",route="\/api\/v1\/genres\/\{id\}",status="200"\} [1-9]/);
  assert.match(text, /musicgraph_http_requests_total\{method="GET",route="\/api\/v1\/genres\/\{id\}",status="404"\} [1-9]/);
  for (const name of [
    'musicgraph_http_request_duration_seconds_bucket',
    'musicgraph_http_requests_in_flight',
    'musicgraph_http_open_connections',
    'musicgraph_db_errors_total',
    'musicgraph_db_query_duration_seconds_count',
    'musicgraph_snapshot_version',
    'musicgraph_snapshot_bytes',
    'musicgraph_snapshot_build_seconds',
    'musicgraph_process_resident_memory_bytes',
    'musicgraph_build_info',
  ])
    assert.ok(text.includes(name), `${name} is exported`);
  // Every sample line is NAME{labels} VALUE or NAME VALUE with a number.
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    assert.match(line, /^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$/, line);
  }
});

test('request log lines are JSON with method, route, status, duration, id and client', async () => {
  const res = await fetch(`${srv.url}/api/v1/search?q=metal`, { headers: { 'x-request-id': 'trace-abc-123' } });
  assert.equal(res.headers.get('x-request-id'), 'trace-abc-123');
  await sleep(200);
  const line = logLines().find((l) => l.msg === 'request' && l.id === 'trace-abc-123');
  assert.ok(line, 'the request was logged');
  assert.equal(line.method, 'GET');
  assert.equal(line.route, '/api/v1/search');
  assert.equal(line.status, '200');
  assert.equal(line.client, '127.0.0.1');
  assert.ok(Number(line.ms) >= 0);
  assert.ok(line.ts && line.level === 'info');
});

test('X-Forwarded-For is ignored from an untrusted peer', async () => {
  await fetch(`${srv.url}/healthz`, { headers: { 'x-forwarded-for': '203.0.113.50', 'x-request-id': 'xff-untrusted' } });
  await sleep(200);
  const line = logLines().find((l) => l.id === 'xff-untrusted');
  assert.equal(line.client, '127.0.0.1', 'a client cannot choose its own address');
});

test('no password, secret or session token ever reaches the log', async () => {
  // A failed and a successful login, then an authenticated request.
  await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'wrong-password-xyz' }),
  });
  const login = await fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { csrf_token } = await login.json();
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const token = cookie.split('=')[1];
  const me = await fetch(`${srv.url}/api/v1/me?token=${token}`, { headers: { cookie } });
  assert.equal(me.status, 200);
  await sleep(300);
  const logs = srv.logs();
  assert.ok(logs.includes('login failed') && logs.includes('login succeeded'), 'logins are logged');
  for (const secret of [ADMIN_PASSWORD, 'wrong-password-xyz', SECRET, token, csrf_token])
    assert.ok(!logs.includes(secret), `the log must not contain ${secret.slice(0, 6)}…`);
});

test('SIGHUP reloads the log level from the config file without dropping connections', async () => {
  writeFileSync(configFile, 'MUSICGRAPH_LOG_LEVEL=warn\n');
  process.kill(srv.pid, 'SIGHUP');
  await sleep(600);
  await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': 'after-reload' } });
  await sleep(200);
  assert.ok(logLines().some((l) => l.msg.startsWith('reload: log level warn')), 'the reload is logged');
  assert.ok(!logLines().some((l) => l.id === 'after-reload'), 'info lines stop after the reload');
  writeFileSync(configFile, 'MUSICGRAPH_LOG_LEVEL=info\n');
  process.kill(srv.pid, 'SIGHUP');
  await sleep(600);
  await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': 'after-second-reload' } });
  await sleep(200);
  assert.ok(logLines().some((l) => l.id === 'after-second-reload'));
});

test('doctor: ok on a healthy state directory, JSON form, exit code follows the worst check', async () => {
  const backup = mkdtempSync(join(tmpdir(), 'musicgraph-doctor-'));
  const text = await runCli(['doctor', '--state-dir', srv.stateDir, '--listen', '127.0.0.1:1']);
  assert.match(text.stdout, /MUSICGRAPH_SECRET_KEY=/);
  assert.match(text.stdout, onPostgres ? /database\s+postgresql reachable/ : /database\s+sqlite reachable/);
  assert.match(text.stdout, /schema\s+current/);
  // No backup yet: a warning, exit 1.
  assert.match(text.stdout, /WARN\s+backups/);
  assert.equal(text.code, 1);
  const json = await runCli(['doctor', '--json', '--state-dir', srv.stateDir]);
  const report = JSON.parse(json.stdout);
  assert.equal(report.status, 'warn');
  assert.ok(report.checks.find((c) => c.check === 'database' && c.status === 'ok'));
  // Secrets are redacted in both forms.
  const withSecret = await runCli(['doctor', '--json', '--state-dir', srv.stateDir], {
    env: { MUSICGRAPH_SECRET_KEY: SECRET },
  });
  assert.ok(!withSecret.stdout.includes(SECRET));
  assert.match(JSON.parse(withSecret.stdout).config.MUSICGRAPH_SECRET_KEY, /^\(set, \d+ characters\)$/);
  // A database that cannot be opened is an error: exit 2.
  const broken = await runCli(['doctor', '--state-dir', backup, '--database-url', 'sqlite:///nonexistent-dir/x/y.db']);
  assert.equal(broken.code, 2);
  assert.match(broken.stdout, /ERROR\s+database/);
});

test('production refuses to start without a strong secret, and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-prod-'));
  const missing = await runCli(['serve', '--state-dir', dir, '--listen', '127.0.0.1:0'], {
    env: { MUSICGRAPH_ENV: 'production', MUSICGRAPH_SECRET_KEY: '' },
  });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /refusing to start in production: MUSICGRAPH_SECRET_KEY/);
  const weak = await runCli(['serve', '--state-dir', dir, '--listen', '127.0.0.1:0'], {
    env: { MUSICGRAPH_ENV: 'production', MUSICGRAPH_SECRET_KEY: 'short' },
  });
  assert.notEqual(weak.code, 0);
  assert.match(weak.stderr, /at least 32/);
  const doctor = await runCli(['doctor', '--state-dir', dir], { env: { MUSICGRAPH_ENV: 'production', MUSICGRAPH_SECRET_KEY: 'short' } });
  assert.equal(doctor.code, 2);
  assert.match(doctor.stdout, /ERROR\s+secret key/);
});

test('a malformed trusted-proxy range refuses to start instead of trusting everybody', async () => {
  for (const bad of ['10.0.0.0/x', '10.0.0.0/', '10.0.0.0/33', '::1/129', '10.0.0.0/8x', 'proxy.example']) {
    const res = await runCli(['serve', '--listen', '127.0.0.1:0', '--state-dir', mkdtempSync(join(tmpdir(), 'musicgraph-ops-')), '--no-seed'],
      { env: { MUSICGRAPH_TRUSTED_PROXIES: bad } });
    assert.ok(res.code !== 0 && res.code !== null, `${bad}: exit ${res.code}`);
    assert.match(res.stderr, /MUSICGRAPH_TRUSTED_PROXIES/, `${bad}: ${res.stderr}`);
  }
});

test('several X-Forwarded-For headers are one list: the client is its rightmost untrusted address', async () => {
  const proxied = await startServer({ env: { MUSICGRAPH_LOG_FORMAT: 'json', MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' } });
  try {
    const send = (id, xff) => new Promise((ok, fail) => {
      const req = http.get({ host: '127.0.0.1', port: proxied.port, path: '/healthz', agent: false,
        headers: { 'x-request-id': id, 'x-forwarded-for': xff } }, (res) => { res.resume(); res.on('end', ok); });
      req.on('error', fail);
    });
    await send('xff-two-headers', ['198.51.100.1', '203.0.113.9, 10.1.2.3']);
    await send('xff-spoofed-left', ['203.0.113.66, 198.51.100.2']);
    await send('xff-all-trusted', ['10.0.0.5, 10.0.0.6']);
    await sleep(300);
    const lines = proxied.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const client = (id) => lines.find((l) => l.id === id)?.client;
    assert.equal(client('xff-two-headers'), '203.0.113.9', 'the last header is the nearest hop');
    assert.equal(client('xff-spoofed-left'), '198.51.100.2', 'what the client wrote on the left is not believed');
    assert.equal(client('xff-all-trusted'), '10.0.0.5', 'all proxies: the leftmost one');
  } finally {
    assert.equal(await proxied.stop(), 0);
  }
});

test('text logs quote and escape what clients send, and every line of a request carries its id', async () => {
  const text = await startServer({ env: { MUSICGRAPH_LOG_FORMAT: 'text' } });
  try {
    const forged = 'mallory\n2026-01-01T00:00:00.000Z info  login succeeded user=admin';
    const res = await fetch(`${text.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'forge-attempt-1' },
      body: JSON.stringify({ username: forged, password: 'not-the-password' }),
    });
    assert.equal(res.status, 401, 'an unknown user is refused');
    await sleep(300);
    const lines = text.logs().split('\n');
    assert.ok(!lines.some((l) => l.startsWith('2026-01-01T00:00:00.000Z')), 'a username started a log line of its own');
    const mine = lines.filter((l) => l.includes('forge-attempt-1'));
    assert.ok(mine.length >= 2, `the request's lines (login failure and access log) carry its id:\n${mine.join('\n')}`);
    const failure = lines.find((l) => l.includes('login failed'));
    {
      assert.ok(failure, 'the failed login is logged');
      assert.match(failure, /id=forge-attempt-1/);
      assert.match(failure, /user="mallory\\n2026/, 'the username is quoted with its newline escaped');
    }
  } finally {
    assert.equal(await text.stop(), 0);
  }
});
