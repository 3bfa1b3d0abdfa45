// The deployment files and the operator/API documentation, checked against
// the program so that they cannot drift from it (issue 6):
//
//  - deploy/systemd: `systemd-analyze verify` passes, the sandboxing is there,
//    the exposure score is the one docs/operations.md states; installed the
//    way the guide says, the unit's environment, credential and socket
//    activation start a production server;
//  - deploy/container, deploy/compose: valid YAML, the same variables, values
//    and port as the unit, every variable a real setting, runtime packages
//    that carry every library the binary links;
//  - deploy/nginx: `nginx -t` passes, and a real nginx with it in front of a
//    real server forwards scheme, client address and request id, and keeps
//    musicgraph's own compression;
//  - docs/configuration.md is exactly `musicgraph doctor --settings-markdown`;
//  - docs/operations.md and README.md: every `musicgraph …` command is a real
//    subcommand with real flags, the curl checks pass, the unit snippets
//    verify, the metric list is what /metrics exposes, and the operator
//    commands do what the guide says on a scratch installation;
//  - docs/api/openapi.yaml: every route in src/api/*.c and src/server/*.c is documented and every
//    documented route answers (with a documented status) on a running server.
//
// Run: MUSICGRAPH_BIN=build/musicgraph node --test tests/e2e/deploy.test.mjs
import { test, describe, before, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { binary, freePort, repoRoot, startServer } from '../lib/server.mjs';
import { sleep, waitFor } from '../lib/wait.mjs';
import { NGINX, exampleSite } from '../lib/nginx.mjs';

const bin = resolve(binary);
const holder = join(dirname(bin), 'socket_holder');
const read = (rel) => readFileSync(join(repoRoot, rel), 'utf8');
const FAST_STOP = ['--shutdown-timeout', '1'];
const ADMIN_PASSWORD = 'deploy-test-admin-pw';

const dirs = [];
function tempDir(prefix = 'musicgraph-deploy-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The environment of a command: the developer's musicgraph settings and
// systemd's variables must not leak into what is being tested.
function cleanEnv(extra = {}) {
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' };
  for (const k of Object.keys(env))
    if (k.startsWith('MUSICGRAPH_') || ['DATABASE_URL', 'STATE_DIRECTORY', 'LISTEN_FDS', 'LISTEN_PID', 'NOTIFY_SOCKET', 'CREDENTIALS_DIRECTORY'].includes(k))
      delete env[k];
  return { ...env, ...extra };
}

// Runs a program to completion: { status, stdout, stderr }.
function run(cmd, args, { env = {}, cwd = repoRoot, input } = {}) {
  const r = spawnSync(cmd, args, { env: cleanEnv(env), cwd, input, encoding: 'utf8', timeout: 120000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const mg = (args, opts) => run(bin, args, opts);

const helpCache = new Map();
function help(sub) {
  if (!helpCache.has(sub)) {
    const r = mg(sub ? [sub, '--help'] : ['--help']);
    assert.equal(r.status, 0, `musicgraph ${sub || ''} --help: ${r.stderr}`);
    helpCache.set(sub, r.stdout);
  }
  return helpCache.get(sub);
}
function subcommands() {
  const text = help('');
  const list = text.slice(text.indexOf('Commands:')).split('\n').slice(1);
  const names = [];
  for (const line of list) {
    const m = line.match(/^ {2}([a-z][a-z-]*)\s{2,}\S/);
    if (m) names.push(m[1]);
    else if (names.length) break;
  }
  return names;
}
const settingsMarkdown = () => mg(['doctor', '--settings-markdown']).stdout;

// ---- unit files ----

// [section, key, value] for every setting line of a unit file.
function parseUnit(text) {
  const out = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = line.match(/^\[(.+)\]$/);
    if (s) {
      section = s[1];
      continue;
    }
    const eq = line.indexOf('=');
    out.push([section, line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}
const unitValues = (unit, key) => unit.filter(([, k]) => k === key).map(([, , v]) => v);
function unitEnv(unit) {
  const env = {};
  for (const v of unitValues(unit, 'Environment')) {
    const eq = v.indexOf('=');
    env[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return env;
}
const service = parseUnit(read('deploy/systemd/musicgraph.service'));
const socket = parseUnit(read('deploy/systemd/musicgraph.socket'));

// Copies unit texts into a directory with ExecStart pointing at this build
// (systemd-analyze verify needs the program to exist) and verifies them; a
// template (musicgraph@.service) is verified as an instance of it (@8081:
// systemd's own placeholder instance is no port).
function verifyUnits(units) {
  const dir = tempDir('musicgraph-units-');
  const paths = [];
  for (const [name, text] of Object.entries(units)) {
    const p = join(dir, name);
    writeFileSync(p, text.replace(/^(Exec\w+=)\/usr\/local\/bin\/musicgraph\b/gm, `$1${bin}`));
    paths.push(p.replace(/@\./, '@8081.'));
  }
  return { dir, paths, result: run('systemd-analyze', ['verify', ...paths]) };
}

describe('systemd units', () => {
  test('systemd-analyze verify passes for every unit in deploy/systemd, and their commands are real', () => {
    const names = readdirSync(join(repoRoot, 'deploy/systemd')).filter((f) => /\.(service|socket|timer)$/.test(f));
    for (const n of ['musicgraph.service', 'musicgraph.socket']) assert.ok(names.includes(n), n);
    const units = Object.fromEntries(names.map((n) => [n, read(`deploy/systemd/${n}`)]));
    const { result } = verifyUnits(units);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', `systemd-analyze verify warned:\n${result.stderr}`);
    const subs = subcommands();
    for (const [n, text] of Object.entries(units))
      for (const v of unitValues(parseUnit(text), 'ExecStart'))
        for (const cmd of musicgraphCommands(v)) checkCommand(cmd, subs, `deploy/systemd/${n}`);
  });

  test('the service is socket-activated, notify-ready, reloadable and stops gracefully', () => {
    const one = (key) => {
      const v = unitValues(service, key);
      assert.equal(v.length, 1, `${key}= should appear once in musicgraph.service, found ${v.length}`);
      return v[0];
    };
    assert.equal(one('Type'), 'notify');
    assert.match(one('ExecStart'), /^\/usr\/local\/bin\/musicgraph serve$/);
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('Requires'), 'musicgraph.socket');
    const env = unitEnv(service);
    assert.equal(env.MUSICGRAPH_ENV, 'production');
    assert.equal(env.MUSICGRAPH_LOG_FORMAT, 'json');
    assert.equal(env.MUSICGRAPH_CONFIG, '/etc/musicgraph/musicgraph.conf');
    assert.equal(env.MUSICGRAPH_SECRET_KEY_FILE, '%d/secret_key');
    assert.deepEqual(unitValues(service, 'LoadCredential'), ['secret_key:/etc/musicgraph/secret_key']);
    assert.ok(!('MUSICGRAPH_SECRET_KEY' in env), 'a secret must never be in Environment=');
    assert.ok(!('MUSICGRAPH_LISTEN' in env), 'the socket unit, not MUSICGRAPH_LISTEN, decides the address');
    // SIGTERM drains for MUSICGRAPH_SHUTDOWN_TIMEOUT; systemd must wait longer before SIGKILL.
    const drain = Number(env.MUSICGRAPH_SHUTDOWN_TIMEOUT);
    assert.ok(drain > 0, 'the unit states the shutdown timeout it relies on');
    assert.ok(Number(one('TimeoutStopSec')) > drain, 'TimeoutStopSec must exceed MUSICGRAPH_SHUTDOWN_TIMEOUT');
    const listen = unitValues(socket, 'ListenStream');
    assert.deepEqual(listen, ['127.0.0.1:8080'], 'musicgraph takes exactly one socket, on loopback by default');
  });

  test('the service runs as a dynamic user with its state in StateDirectory and the sandboxing that applies', () => {
    const want = {
      DynamicUser: 'yes', StateDirectory: 'musicgraph', UMask: '0077', NoNewPrivileges: 'yes', CapabilityBoundingSet: '',
      ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes', ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes', ProtectKernelLogs: 'yes', ProtectControlGroups: 'yes', ProtectClock: 'yes',
      ProtectHostname: 'yes', RestrictNamespaces: 'yes', RestrictRealtime: 'yes', RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes', MemoryDenyWriteExecute: 'yes', SystemCallArchitectures: 'native',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    };
    for (const [key, value] of Object.entries(want))
      assert.deepEqual(unitValues(service, key), [value], `musicgraph.service should say ${key}=${value}`);
    assert.ok(unitValues(service, 'SystemCallFilter').includes('@system-service'));
  });

  test('musicgraph@.service is musicgraph.service on PostgreSQL with its own socket and state directory, nothing else', () => {
    const template = parseUnit(read('deploy/systemd/musicgraph@.service'));
    const line = ([section, key, value]) => `[${section}] ${key}=${value}`;
    const ours = new Set(template.map(line)), theirs = new Set(service.map(line));
    const onlyTemplate = [...ours].filter((l) => !theirs.has(l)).sort();
    const onlyService = [...theirs].filter((l) => !ours.has(l)).sort();
    assert.deepEqual(onlyTemplate, [
      '[Install] Also=musicgraph@%i.socket',
      '[Service] Environment=MUSICGRAPH_DATABASE_URL_FILE=%d/database_url',
      '[Service] LoadCredential=database_url:/etc/musicgraph/database-url',
      '[Service] StateDirectory=musicgraph-%i',
      '[Unit] After=network-online.target musicgraph@%i.socket',
      '[Unit] Description=musicgraph: the map of music genres and bands (instance on port %i)',
      '[Unit] Requires=musicgraph@%i.socket',
      '[Unit] Wants=network-online.target',
    ]);
    assert.deepEqual(onlyService, [
      '[Install] Also=musicgraph.socket',
      '[Service] PrivateNetwork=yes',
      '[Service] StateDirectory=musicgraph',
      '[Unit] After=network.target musicgraph.socket',
      '[Unit] Description=musicgraph: the map of music genres and bands',
      '[Unit] Requires=musicgraph.socket',
    ]);
    const templateSocket = parseUnit(read('deploy/systemd/musicgraph@.socket')).filter(([s]) => s === 'Socket');
    assert.deepEqual(templateSocket.map(line), socket.filter(([s]) => s === 'Socket').map(line).map((l) => l.replace('127.0.0.1:8080', '127.0.0.1:%i')));
    // The second upstream server of the nginx example is the template's second instance.
    assert.match(read('deploy/nginx/musicgraph.conf'), /^ *#server 127\.0\.0\.1:8081 /m);
  });

  test('systemd-analyze security rates the service as docs/operations.md says', () => {
    const { paths } = verifyUnits({ 'musicgraph.service': read('deploy/systemd/musicgraph.service') });
    const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', paths[0]]);
    const m = r.stdout.match(/Overall exposure level for musicgraph\.service: (\d+\.\d+) (\w+)/);
    assert.ok(m, `no exposure level in:\n${r.stdout}\n${r.stderr}`);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} ${m[2]}: the sandboxing got weaker`);
    const stated = read('docs/operations.md').match(/rates it about (\d+\.\d+)/);
    assert.ok(stated, 'docs/operations.md states the exposure score');
    assert.equal(stated[1], m[1], 'docs/operations.md states a different exposure score');
  });
});

// ---- container and compose ----

function containerfile() {
  const text = read('deploy/container/Containerfile').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  for (const l of lines) {
    const [instr, ...rest] = l.split(/\s+/);
    if (instr === 'FROM') stages.push({ from: rest.join(' '), lines: [] });
    else stages.at(-1).lines.push([instr, rest.join(' ')]);
  }
  const runtime = stages.at(-1);
  const env = {};
  for (const [instr, args] of runtime.lines.filter(([i]) => i === 'ENV'))
    for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]] = m[2];
  const get = (instr) => runtime.lines.filter(([i]) => i === instr).map(([, a]) => a);
  return { stages, runtime, env, get };
}
const composeDev = () => parseYaml(read('deploy/compose/compose.dev.yml'));
const composeProd = () => parseYaml(read('deploy/compose/compose.prod.yml'));

// Is NAME a setting the program knows (the table, a secret's _FILE form, or MUSICGRAPH_CONFIG)?
function knownVariable(name, markdown) {
  if (markdown.includes(`\`${name}\``)) return true;
  const base = name.replace(/_FILE$/, '');
  if (base !== name) {
    const row = markdown.split('\n').find((l) => l.startsWith(`| \`${base}\` `));
    return Boolean(row && row.includes('`_FILE` too'));
  }
  return false;
}

describe('container and compose files', () => {
  test('compose files and openapi.yaml parse as YAML', () => {
    for (const f of ['deploy/compose/compose.dev.yml', 'deploy/compose/compose.prod.yml', 'docs/api/openapi.yaml']) {
      const doc = parseYaml(read(f));
      assert.equal(typeof doc, 'object', f);
    }
    // Both run the image `make dist image` builds from the release tarball, chosen by tag: never a
    // default, so a restart cannot silently change the version.
    for (const c of [composeDev(), composeProd()]) {
      assert.equal(c.services.app.build, undefined, 'no build from source: the image comes from the tarball');
      assert.match(c.services.app.image, /^\$\{MUSICGRAPH_IMAGE:\?[^}]+\}$/);
    }
  });

  test('the Containerfile: FROM scratch with the tarball\'s files, non-root, state on a volume, healthcheck, SIGTERM', () => {
    const c = containerfile();
    assert.deepEqual(c.stages.map((s) => s.from), ['scratch']);
    assert.deepEqual(c.get('ADD'), ['rootfs.tar /', 'state.tar /'], 'the two tarballs scripts/image makes');
    assert.match(read('scripts/image'), /rootfs\.tar/);
    assert.match(read('scripts/image'), /state\.tar/);
    const user = c.get('USER');
    assert.equal(user.length, 1);
    assert.doesNotMatch(user[0], /^(root|0)(:|$)/, 'runs as non-root');
    assert.deepEqual(c.get('VOLUME'), [c.env.MUSICGRAPH_STATE_DIR], 'the state directory is the volume');
    assert.deepEqual(c.get('STOPSIGNAL'), ['SIGTERM']);
    assert.match(c.get('HEALTHCHECK')[0], /CMD \["\/usr\/local\/bin\/musicgraph", "healthcheck"\]/);
    assert.match(c.get('ENTRYPOINT')[0], /\/usr\/local\/bin\/musicgraph/);
    assert.match(c.get('CMD')[0], /serve/);
  });

  test('unit, Containerfile and compose files name the same variables, values and port', () => {
    const md = settingsMarkdown();
    const unit = unitEnv(service);
    const image = containerfile().env;
    const prodApp = composeProd().services.app;
    const devApp = composeDev().services.app;
    const prod = prodApp.environment;
    const dev = devApp.environment;
    for (const [where, env] of [['musicgraph.service', unit], ['Containerfile', image], ['compose.prod.yml', prod], ['compose.dev.yml', dev]])
      for (const name of Object.keys(env).filter((n) => n.startsWith('MUSICGRAPH_')))
        assert.ok(knownVariable(name, md), `${where} sets ${name}, which is not in musicgraph doctor --settings-markdown`);

    // Production parity: what the unit sets, the container sets (image + compose), and the other way
    // round — except what each platform provides its own way (systemd: the config file, STATE_DIRECTORY
    // and the socket; containers: configuration by environment, a state path and a listening address).
    const systemdOnly = new Set(['MUSICGRAPH_CONFIG']);
    // The production compose file also brings its database (PostgreSQL beside the app); a systemd
    // server names one in its config file, or stays on SQLite.
    const containerOnly = new Set(['MUSICGRAPH_STATE_DIR', 'MUSICGRAPH_LISTEN', 'MUSICGRAPH_DATABASE_URL_FILE']);
    const container = { ...image, ...prod };
    const a = Object.keys(unit).filter((n) => !systemdOnly.has(n)).sort();
    const b = Object.keys(container).filter((n) => !containerOnly.has(n)).sort();
    assert.deepEqual(b, a, 'the production container and the systemd unit set different variables');
    for (const n of ['MUSICGRAPH_ENV', 'MUSICGRAPH_LOG_FORMAT', 'MUSICGRAPH_SHUTDOWN_TIMEOUT'])
      assert.equal(String(container[n]), unit[n], `${n} differs between the container and the unit`);
    assert.equal(String(image.MUSICGRAPH_ENV), 'production', 'the image defaults to production');
    assert.equal(dev.MUSICGRAPH_ENV, 'development');

    // The secret: a file in both, never the value.
    for (const env of [unit, image, prod, dev]) assert.ok(!('MUSICGRAPH_SECRET_KEY' in env));
    const secretPath = prod.MUSICGRAPH_SECRET_KEY_FILE;
    const secretName = secretPath.replace('/run/secrets/', '');
    assert.ok(prodApp.secrets.includes(secretName), 'the app is given the secret it reads');
    assert.ok(composeProd().secrets[secretName].file, 'the secret comes from a file');

    // One port: socket unit, image, compose and healthchecks.
    const port = unitValues(socket, 'ListenStream')[0].split(':').pop();
    assert.equal(image.MUSICGRAPH_LISTEN.split(':').pop(), port);
    assert.deepEqual(containerfile().get('EXPOSE'), [port]);
    for (const [where, app] of [['prod', prodApp], ['dev', devApp]]) {
      assert.equal(String(app.environment.MUSICGRAPH_LISTEN).split(':').pop(), port, `${where} MUSICGRAPH_LISTEN`);
      assert.ok(app.ports.every((p) => String(p).split(':').pop() === port), `${where} ports: ${app.ports}`);
      assert.deepEqual(app.healthcheck.test, ['CMD', '/usr/local/bin/musicgraph', 'healthcheck'], `${where} healthcheck`);
      assert.equal(app.environment.MUSICGRAPH_STATE_DIR, image.MUSICGRAPH_STATE_DIR, `${where} state dir`);
      assert.ok(app.volumes.some((v) => v.endsWith(`:${image.MUSICGRAPH_STATE_DIR}`)), `${where}: the state directory is a volume`);
      assert.equal(app.stop_signal, 'SIGTERM');
      assert.ok(parseInt(app.stop_grace_period, 10) > Number(unit.MUSICGRAPH_SHUTDOWN_TIMEOUT), `${where} stop_grace_period`);
    }
    assert.match(read('deploy/nginx/musicgraph.conf'), new RegExp(`server 127\\.0\\.0\\.1:${port}\\b`));
    assert.ok(prodApp.restart, 'a restart policy');
    // Both run on PostgreSQL 15, started before the app and healthy first; production's URL, which
    // holds the password, is a secret file, and its database is not published.
    const prodDb = composeProd().services.db, devDb = composeDev().services.postgres;
    for (const db of [prodDb, devDb]) {
      assert.match(db.image, /^postgres:15\b/);
      assert.equal(db.profiles, undefined, 'always started');
      assert.match(db.healthcheck.test.join(' '), /pg_isready/);
    }
    assert.deepEqual(prodApp.depends_on, { db: { condition: 'service_healthy' } });
    assert.deepEqual(devApp.depends_on, { postgres: { condition: 'service_healthy' } });
    assert.match(dev.MUSICGRAPH_DATABASE_URL, /^postgresql:\/\/musicgraph:[^@]+@postgres:5432\/musicgraph$/);
    const urlSecret = prod.MUSICGRAPH_DATABASE_URL_FILE.replace('/run/secrets/', '');
    assert.ok(prodApp.secrets.includes(urlSecret) && composeProd().secrets[urlSecret].file, 'the URL is a secret file');
    assert.ok(!('MUSICGRAPH_DATABASE_URL' in prod), 'no password in the environment');
    assert.equal(prodDb.ports, undefined, 'the database is reachable on the compose network only');
    assert.match(prodDb.environment.POSTGRES_PASSWORD_FILE, /^\/run\/secrets\//);
  });
});

// ---- nginx ----

describe('nginx', () => {
  test('nginx -t accepts deploy/nginx/musicgraph.conf', () => {
    const site = exampleSite();
    const r = run(NGINX, ['-t', '-p', site.prefix, '-c', site.conf]);
    rmSync(site.prefix, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /test is successful/);
    assert.match(read('deploy/nginx/musicgraph.conf'), /MUSICGRAPH_TRUSTED_PROXIES=127\.0\.0\.1/);
  });

  test('behind the example nginx: HTTPS redirect, forwarded scheme and client, one request id, our gzip', async () => {
    const server = await startServer({
      args: FAST_STOP,
      env: { MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1', MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    const [p80, p443] = [await freePort(), await freePort()];
    const site = exampleSite({ port80: p80, port443: p443, upstreams: [server.port] });
    const nginx = await site.start();
    try {
      const redirect = await fetch(`http://127.0.0.1:${p80}/genres/rock?x=1`, { redirect: 'manual' });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get('location'), 'https://127.0.0.1/genres/rock?x=1');

      const doc = await site.https('/api/v1/genres/rock', { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(doc.status, 200);
      assert.equal(doc.headers['content-encoding'], 'gzip', 'musicgraph compresses; nginx passes it through');
      assert.equal(JSON.parse(gunzipSync(doc.body)).id, 'rock');
      assert.match(doc.headers['x-request-id'], /^[0-9a-f]{32}$/, "nginx's $request_id is the request's id");
      await waitFor("the same id in musicgraph's log", async () => server.logs().includes(`id=${doc.headers['x-request-id']} `));

      // X-Forwarded-Proto from a trusted proxy: the session cookie is Secure (development mode).
      const login = await site.https('/api/v1/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      assert.equal(login.status, 200, login.body.toString());
      assert.match(login.headers['set-cookie'][0], /; Secure/);
      const direct = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      assert.doesNotMatch(direct.headers.get('set-cookie'), /Secure/, 'plain HTTP without the proxy: not Secure');
      // The browser's Origin (port included) is this site's through the proxy; another site's is refused.
      const form = (origin) =>
        site.https('/login', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
          body: `username=admin&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
        });
      assert.equal((await form(`https://127.0.0.1:${p443}`)).status, 303, 'same origin through nginx');
      assert.equal((await form('https://evil.example')).status, 403, 'another origin');
      // /metrics is not for the public: nginx hides it; musicgraph itself still answers.
      assert.equal((await site.https('/metrics')).status, 404);
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200);

      // X-Forwarded-For: the client is the rightmost address that is not a trusted proxy.
      const xff = await site.https('/api/v1/search?q=pan', { headers: { 'x-forwarded-for': '203.0.113.7' } });
      assert.equal(xff.status, 200);
      const xffId = xff.headers['x-request-id'];
      const line = await waitFor('the request in the log', async () => server.logs().split('\n').find((l) => l.includes(`id=${xffId} `)));
      assert.match(line, /client=203\.0\.113\.7\b/);
    } finally {
      await nginx.stop();
      await server.stop();
    }
    assert.doesNotMatch(nginx.output(), /\[emerg\]/);
  });
});

// ---- docs/configuration.md ----

test('docs/configuration.md is exactly the output of musicgraph doctor --settings-markdown', () => {
  assert.equal(read('docs/configuration.md'), settingsMarkdown(),
    'regenerate it: musicgraph doctor --settings-markdown > docs/configuration.md');
});

// ---- the operations guide and the README ----

// Fenced blocks (with the <!-- test:NAME --> marker before them, if any) and inline code spans.
function markdownCode(md) {
  const blocks = [];
  const inline = [];
  const lines = md.split('\n');
  let marker = null;
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^```(\w*)/);
    if (fence) {
      const start = i + 1;
      while (++i < lines.length && !/^```\s*$/.test(lines[i]));
      blocks.push({ lang: fence[1], text: lines.slice(start, i).join('\n'), marker });
      marker = null;
      continue;
    }
    const m = lines[i].match(/^<!-- test:([\w-]+)/);
    if (m) marker = m[1];
    else if (lines[i].trim()) marker = null;
    for (const span of lines[i].matchAll(/`([^`]+)`/g)) inline.push(span[1]);
  }
  return { blocks, inline };
}

// Every musicgraph invocation in a piece of shell (or an ExecStart= line): { line, args }.
function musicgraphCommands(text) {
  const found = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (let line of joined.split('\n')) {
    line = line.replace(/^\s*Exec\w+=/, '').replace(/(^|\s)#.*$/, '').replace(/\\\|/g, '|');
    for (const segment of line.split(/&&|\|\||;|\||\$\(|\)/)) {
      const tokens = segment.trim().split(/\s+/).filter(Boolean);
      while (tokens.length && (['sudo', 'exec', 'time'].includes(tokens[0]) || /^[A-Z_][A-Z0-9_]*=/.test(tokens[0]))) tokens.shift();
      if (!tokens.length || !(tokens[0] === 'musicgraph' || tokens[0].endsWith('/musicgraph'))) continue;
      const args = [];
      for (const t of tokens.slice(1)) {
        if (/^\d?[<>]/.test(t)) break;
        args.push(t);
      }
      found.push({ line: segment.trim(), args });
    }
  }
  return found;
}

function checkCommand({ line, args }, subs, where) {
  if (!args.length || args[0] === '"$@"') return false; // the bare name, or the wrapper passing arguments on
  const sub = args[0];
  if (/^[A-Z]+$/.test(sub)) {
    // A placeholder (`musicgraph CMD --help`): only options every command takes.
    for (const a of args.slice(1).filter((x) => x.startsWith('--')))
      assert.ok(a === '--help' || help('').includes(a.split('=')[0]), `${where}: \`${line}\`: ${a} is not a common option`);
    return true;
  }
  if (sub.startsWith('-')) {
    assert.ok(['--help', '--version', '-h'].includes(sub), `${where}: \`${line}\`: unknown option ${sub}`);
    return true;
  }
  assert.ok(subs.includes(sub), `${where}: \`${line}\`: '${sub}' is not a musicgraph command (${subs.join(', ')})`);
  const text = help(sub);
  for (const raw of args.slice(1)) {
    const arg = raw.replace(/^[[(]+|[\]),.]+$/g, '');
    if (arg.startsWith('--')) {
      const flag = arg.split('=')[0];
      assert.match(text, new RegExp(`(^|[\\s\\[|])${flag}(?![\\w-])`), `${where}: \`${line}\`: ${flag} is not in musicgraph ${sub} --help`);
    }
  }
  if (sub === 'user') {
    const actions = [...text.matchAll(/musicgraph user (\w+)|\| (\w+) NAME/g)].map((m) => m[1] || m[2]);
    assert.ok(actions.includes(args[1]), `${where}: \`${line}\`: user ${args[1]} is not an action (${actions.join(', ')})`);
  }
  return true;
}

describe('the operations guide and the README', () => {
  const ops = read('docs/operations.md');

  test('every musicgraph command in docs/operations.md and README.md is a real command with real flags', () => {
    const subs = subcommands();
    assert.ok(subs.includes('serve') && subs.includes('doctor'), `commands: ${subs}`);
    let checked = 0;
    const used = new Set();
    for (const file of ['docs/operations.md', 'README.md']) {
      const { blocks, inline } = markdownCode(read(file));
      const texts = [...blocks.map((b) => b.text), ...inline];
      for (const t of texts)
        for (const cmd of musicgraphCommands(t))
          if (checkCommand(cmd, subs, file)) {
            checked++;
            used.add(cmd.args[0]);
          }
    }
    assert.ok(checked >= 30, `only ${checked} musicgraph commands found: is the extraction broken?`);
    for (const sub of ['doctor', 'migrate', 'user', 'backup', 'verify', 'backups', 'prune', 'restore', 'export', 'import'])
      assert.ok(used.has(sub), `docs/operations.md no longer shows musicgraph ${sub}`);
  });

  test('the metrics listed in the guide are exactly those /metrics exposes; the curl checks pass', async () => {
    // The deploy metrics appear on a server whose deploy root has a current link and a last deploy.
    const deployRoot = tempDir();
    mkdirSync(join(deployRoot, 'releases/1.0.0'), { recursive: true });
    symlinkSync('releases/1.0.0', join(deployRoot, 'current'));
    writeFileSync(join(deployRoot, 'last-deploy.json'), JSON.stringify({ version: '1.0.0', from: '0.9.0', result: 'healthy', ended: 1767225600, duration_ms: 4200 }));
    const server = await startServer({ args: FAST_STOP, env: { MUSICGRAPH_DEPLOY_ROOT: deployRoot } });
    try {
      // The backup metrics appear once there is a backup.
      const backup = mg(['backup', '--state-dir', server.stateDir]);
      assert.equal(backup.status, 0, backup.stderr);
      // /metrics shows what a worker read from the backup files a few seconds ago.
      const text = await waitFor('the backup in /metrics', async () => {
        const t = await (await fetch(`${server.url}/metrics`)).text();
        return t.includes('musicgraph_backup_last_verified') && t.includes('musicgraph_deploy_last_success') ? t : null;
      }, 60000);
      const exposed = [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
      const listed = [...ops.matchAll(/^\| `(musicgraph_\w+)` \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
      assert.deepEqual(listed, exposed, 'update the metrics table in docs/operations.md');

      // The request log line has the fields, in the order, that the guide shows.
      const example = ops.match(/^\S+Z info  request (.*)$/m);
      assert.ok(example, 'the guide shows a text request line');
      const keys = (l) => [...l.matchAll(/(\w+)=/g)].map((m) => m[1]).join(' ');
      const real = await waitFor('a request line', async () => server.logs().split('\n').find((l) => l.includes(' request ') && l.includes('route=/metrics')));
      assert.equal(keys(real.slice(real.indexOf(' request '))), keys(example[1]), 'update the log example in docs/operations.md');

      const { blocks, inline } = markdownCode(ops);
      const lines = [...blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.text.split('\n')), ...inline]
        .map((l) => l.trim())
        .filter((l) => l.startsWith('curl ') && l.includes('http://127.0.0.1:8080/'));
      assert.ok(lines.length >= 4, `curl lines: ${lines}`);
      for (const l of lines) {
        const r = run('bash', ['-o', 'pipefail', '-c', l.replaceAll('127.0.0.1:8080', `127.0.0.1:${server.port}`)]);
        assert.equal(r.status, 0, `\`${l}\` failed: ${r.stderr}`);
      }
    } finally {
      await server.stop();
    }
  });
});

// The guide's install steps, with /usr/local and /etc moved into a temporary
// root, then the installed unit's environment started the way systemd would.
describe('install on a VM, as the guide says', () => {
  let root;
  const ops = read('docs/operations.md');
  const blockMarked = (name) => {
    const b = markdownCode(ops).blocks.find((x) => x.marker === name);
    assert.ok(b, `docs/operations.md has a <!-- test:${name} --> block`);
    return b.text;
  };
  const relocate = (s) => s.replace(/(^|[\s=:"'])\/(usr\/local|etc)\//g, `$1${root}/$2/`);

  before(() => {
    root = tempDir('musicgraph-root-');
  });

  test('the install block runs and leaves binary, units, configuration and secret in place', () => {
    const script = relocate(blockMarked('install'))
      .split('\n')
      .filter((l) => !/^\s*systemctl\b/.test(l))
      .join('\n')
      .replace(/(^|\s)build\/musicgraph(\s)/g, `$1${bin}$2`);
    const r = run('bash', ['-euo', 'pipefail', '-c', script]);
    assert.equal(r.status, 0, `${r.stderr}\n--- script:\n${script}`);
    const mode = (p) => statSync(join(root, p)).mode & 0o777;
    assert.equal(mode('usr/local/bin/musicgraph'), 0o755);
    assert.equal(mode('etc/systemd/system/musicgraph.service'), 0o644);
    assert.equal(mode('etc/systemd/system/musicgraph.socket'), 0o644);
    assert.equal(mode('etc/musicgraph/musicgraph.conf'), 0o644, 'the configuration is readable by the dynamic user');
    assert.equal(mode('etc/musicgraph/secret_key'), 0o600, 'the secret is root-only (systemd hands it over)');
    assert.ok(existsSync(join(root, 'usr/local/share/doc/musicgraph/operations.md')));
    const conf = readFileSync(join(root, 'etc/musicgraph/musicgraph.conf'), 'utf8');
    assert.match(conf, /^MUSICGRAPH_TRUSTED_PROXIES=127\.0\.0\.1$/m);
    const { result } = verifyUnits({
      'musicgraph.service': readFileSync(join(root, 'etc/systemd/system/musicgraph.service'), 'utf8'),
      'musicgraph.socket': readFileSync(join(root, 'etc/systemd/system/musicgraph.socket'), 'utf8'),
    });
    assert.equal(result.status, 0, result.stderr);
  });

  test("the unit's environment, credential and socket start a production server; it restarts on the held socket", async (t) => {
    if (!existsSync(holder)) {
      t.skip(`${holder} is not built (ninja -C ${dirname(bin)} socket_holder)`);
      return;
    }
    const unit = parseUnit(readFileSync(join(root, 'etc/systemd/system/musicgraph.service'), 'utf8'));
    const creds = tempDir('musicgraph-creds-');
    const state = tempDir('musicgraph-state-');
    for (const c of unitValues(unit, 'LoadCredential')) {
      const [name, source] = c.split(':');
      copyFileSync(relocate(` ${source}`).trim(), join(creds, name));
    }
    const env = { STATE_DIRECTORY: state, CREDENTIALS_DIRECTORY: creds };
    for (const [k, v] of Object.entries(unitEnv(unit))) env[k] = relocate(v.replaceAll('%d', creds));
    const [program, ...args] = unitValues(unit, 'ExecStart')[0].split(/\s+/);
    assert.equal(program, '/usr/local/bin/musicgraph');
    const port = await freePort();
    const child = spawn(holder, [String(port), join(root, 'usr/local/bin/musicgraph'), ...args], {
      env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`the server (output so far:\n${out})`, async () => (await fetch(`${url}/readyz`)).status === 200, 30000);
      const jsonLines = out.split('\n').filter((l) => l.startsWith('{'));
      assert.ok(jsonLines.length > 0, `JSON log lines expected:\n${out}`);
      for (const l of jsonLines) JSON.parse(l);
      assert.ok(out.includes('LISTEN_FDS'), 'the socket came from the holder, as from musicgraph.socket');
      assert.ok(out.includes('production'), 'the unit runs production');
      assert.ok(existsSync(join(state, 'musicgraph.db')), 'the database is in $STATE_DIRECTORY');
      assert.ok(!existsSync(join(state, 'secret_key')), 'production generates no secret: it used the credential');
      const before = await (await fetch(`${url}/api/v1/genres/rock`)).json();

      // systemctl restart: the holder stops the server and starts it again on the same socket;
      // a request made in between waits in the queue instead of failing.
      child.kill('SIGHUP');
      const during = await fetch(`${url}/api/v1/genres/rock`);
      assert.equal(during.status, 200);
      assert.deepEqual(await during.json(), before);
      await waitFor('two starts', async () => (out.match(/^started \d+/gm) || []).length === 2);
      await waitFor('ready again', async () => (await fetch(`${url}/readyz`)).status === 200);

      // doctor with the same environment: configuration file, production, credential.
      const doc = mg(['doctor', '--json'], { env });
      const report = JSON.parse(doc.stdout);
      assert.equal(report.config.MUSICGRAPH_ENV, 'production');
      assert.equal(report.config.MUSICGRAPH_TRUSTED_PROXIES, '127.0.0.1', 'the configuration file was read');
      assert.equal(report.config.MUSICGRAPH_STATE_DIR, state);
      assert.equal(report.checks.find((c) => c.check === 'secret key').status, 'ok');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  test('the guide\'s shell function runs musicgraph as the service user, with the same configuration and secret', () => {
    // A stand-in for systemd-run: applies --setenv, the credential and the state directory as
    // systemd would (paths moved into the temporary root), records the options, runs the command.
    const fakebin = tempDir('musicgraph-fakebin-');
    const state = tempDir('musicgraph-state-');
    const credRoot = tempDir('musicgraph-run-credentials-');
    const record = join(fakebin, 'args');
    writeFileSync(join(fakebin, 'systemd-run'), `#!/bin/bash
printf '%s\\n' "$@" > ${record}
unit=
while [ $# -gt 0 ]; do
  case "$1" in
    --unit=*) unit=\${1#--unit=} ;;
    --setenv=*) kv=\${1#--setenv=}; v=\${kv#*=}; v=\${v//\\/run\\/credentials\\//${credRoot}/}; v=\${v//\\/etc\\//${root}/etc/}; export "\${kv%%=*}=$v" ;;
    --property=LoadCredential=*) c=\${1#--property=LoadCredential=}; mkdir -p "${credRoot}/$unit.service"; cp "${root}\${c#*:}" "${credRoot}/$unit.service/\${c%%:*}" ;;
    --property=StateDirectory=*) export STATE_DIRECTORY=${state} ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
prog=$1; shift
exec "${root}$prog" "$@"
`);
    chmodSync(join(fakebin, 'systemd-run'), 0o755);
    const fn = blockMarked('cli-wrapper');
    const sh = (cmd) => run('bash', ['-c', `${fn}\n${cmd}`], { env: { PATH: `${fakebin}:${process.env.PATH}` } });

    const version = sh('musicgraph version');
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^musicgraph \d/);
    const opts = readFileSync(record, 'utf8').split('\n');
    for (const o of ['--pipe', '--wait', '--property=DynamicUser=yes', '--property=User=musicgraph', '--property=StateDirectory=musicgraph'])
      assert.ok(opts.includes(o), `the function passes ${o}`);

    const doctor = sh('musicgraph doctor --json');
    const report = JSON.parse(doctor.stdout);
    assert.equal(report.config.MUSICGRAPH_ENV, 'production');
    assert.equal(report.config.MUSICGRAPH_STATE_DIR, state);
    assert.equal(report.config.MUSICGRAPH_TRUSTED_PROXIES, '127.0.0.1');
    assert.equal(report.checks.find((c) => c.check === 'secret key').status, 'ok', 'the credential path matches the unit name');

    const created = sh('musicgraph user create alice --email alice@example.org --admin');
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /created alice \(admin\); password \(shown once\): \S{10,}/);
    const bad = sh('musicgraph migrate --no-such-flag');
    assert.equal(bad.status, 2, 'the exit status comes through');
  });
});

// The operator's commands from the guide, on a scratch installation with a running server.
describe('operator commands do what the guide says', () => {
  test('doctor, migrate, backup, verify, backups, prune, export, import, user, restore — and the data rollback', async () => {
    const state = tempDir('musicgraph-ops-');
    const server = await startServer({ stateDir: state, args: FAST_STOP, env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    const op = (args) => mg([...args, '--state-dir', state]);
    const ok = (args) => {
      const r = op(args);
      assert.equal(r.status, 0, `musicgraph ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    let backup;
    try {
      const doctor = op(['doctor']);
      assert.ok(doctor.status <= 1, doctor.stdout);
      assert.match(doctor.stdout, /Effective configuration \(secrets redacted\)/);
      assert.match(ok(['migrate', '--status']), /applied/);

      assert.match(ok(['backup', '--tag', 'drill']), /backup written: /);
      backup = readdirSync(join(state, 'backups')).find((f) => f.endsWith('-drill.json.gz'));
      assert.ok(backup, 'the tagged backup is in STATE_DIR/backups');
      assert.match(ok(['verify', '--latest']), /OK/);
      assert.match(ok(['backups']), new RegExp(backup.replace(/\./g, '\\.')));
      assert.match(ok(['prune', '--dry-run']), /would remove/);
      const exported = join(state, 'staging.json.gz');
      ok(['export', '--anonymize', exported]);
      assert.match(ok(['import', exported, '--merge']), /imported/);

      const created = ok(['user', 'create', 'carol', '--email', 'carol@example.org', '--admin']);
      const password = created.match(/password \(shown once\): (\S+)/)[1];
      const login = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', password }),
      });
      assert.equal(login.status, 200, 'the account made on the command line logs in on the running server');
      assert.match(ok(['user', 'list']), /carol/);

      // A change after the backup; restore brings the running server back to the backup.
      const cookie = login.headers.get('set-cookie').split(';')[0];
      const { csrf_token: csrf } = await login.json();
      const add = await fetch(`${server.url}/api/v1/genres`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
        body: JSON.stringify({ name: 'Restore Drill Genre', type: 'root' }),
      });
      assert.equal(add.status, 201);
      ok(['restore', join(state, 'backups', backup)]);
      await waitFor('the running server to serve the restored data',
        async () => (await fetch(`${server.url}/api/v1/genres/restore-drill-genre`)).status === 404, 10000);
      // The restore brought back the accounts of the backup; the first admin is one of them.
      assert.match(ok(['user', 'passwd', 'admin']), /new password for admin \(shown once\)/);
    } finally {
      assert.equal(await server.stop({ keepState: true }), 0, 'SIGTERM: a clean exit');
    }

    // Roll back the data: database aside, restore the backup into a fresh one, start again.
    const genres = JSON.parse(zcat(join(state, 'backups', backup))).manifest.counts.genres;
    renameSync(join(state, 'musicgraph.db'), join(state, 'musicgraph.db.newer'));
    for (const f of ['musicgraph.db-wal', 'musicgraph.db-shm'])
      if (existsSync(join(state, f))) renameSync(join(state, f), join(state, `${f}.newer`));
    assert.match(ok(['restore', join(state, 'backups', backup)]), /restored/);
    const again = await startServer({ stateDir: state, args: [...FAST_STOP, '--no-seed'] });
    try {
      assert.equal((await fetch(`${again.url}/readyz`)).status, 200);
      const list = await (await fetch(`${again.url}/api/v1/genres`)).json();
      assert.equal(list.count, genres, 'the map of the backup, not the one it replaced');
      assert.ok(list.count > 100, 'the restored map is served');
    } finally {
      await again.stop({ keepState: true });
    }
  });
});

function zcat(path) {
  return gunzipSync(readFileSync(path)).toString('utf8');
}

// ---- docs/api/openapi.yaml ----

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

// "METHOD /path" for every route the sources register: the handlers of
// src/api and the server's own status endpoints in src/server.
function sourceRoutes() {
  const routes = new Set();
  const files = ['src/api', 'src/server'].flatMap((d) =>
    readdirSync(join(repoRoot, d)).filter((x) => x.endsWith('.c')).map((x) => join(d, x)));
  for (const f of files) {
    const src = readFileSync(join(repoRoot, f), 'utf8');
    for (const m of src.matchAll(/http_route\(\s*\w+\s*,\s*"(\w+)"\s*,\s*(?:"([^"]+)"|(\w+)\[\w+\])/g)) {
      if (m[2]) {
        routes.add(`${m[1]} ${m[2]}`);
        continue;
      }
      const table = src.match(new RegExp(`${m[3]}\\[\\]\\s*=\\s*\\{([\\s\\S]*?)\\};`));
      assert.ok(table, `${f}: cannot find the table ${m[3]}[] of routes`);
      for (const p of table[1].matchAll(/"([^"]+)"/g)) routes.add(`${m[1]} ${p[1]}`);
    }
  }
  return routes;
}

describe('docs/api/openapi.yaml', () => {
  const spec = parseYaml(read('docs/api/openapi.yaml'));
  const operations = [];
  for (const [path, item] of Object.entries(spec.paths))
    for (const method of METHODS.filter((m) => item[m]))
      operations.push({ path, method, op: item[method], params: [...(item.parameters || []), ...(item[method].parameters || [])] });

  const resolveRef = (obj) => {
    let o = obj;
    while (o && o.$ref) {
      o = o.$ref.replace(/^#\//, '').split('/').reduce((a, k) => a?.[k], spec);
      assert.ok(o, `unresolved $ref ${obj.$ref}`);
    }
    return o;
  };
  // Required top-level keys of a schema (following $ref and allOf).
  const requiredKeys = (schema) => {
    const s = resolveRef(schema);
    return [...(s.required || []), ...(s.allOf || []).flatMap(requiredKeys)];
  };

  test('it is OpenAPI 3.1, every $ref resolves, path parameters are declared, operationIds are unique', () => {
    assert.match(spec.openapi, /^3\.1\./);
    const walk = (node) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (typeof node.$ref === 'string') resolveRef(node);
        Object.values(node).forEach(walk);
      }
    };
    walk(spec);
    const ids = new Set();
    for (const { path, method, op, params } of operations) {
      if (op.operationId) {
        assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
        ids.add(op.operationId);
      }
      const declared = params.map(resolveRef).filter((p) => p.in === 'path').map((p) => p.name);
      for (const [, name] of path.matchAll(/\{(\w+)\}/g))
        assert.ok(declared.includes(name), `${method.toUpperCase()} ${path}: path parameter ${name} is not declared`);
      assert.ok(Object.keys(op.responses || {}).length > 0, `${method} ${path} has no responses`);
      for (const code of Object.keys(op.responses)) assert.match(code, /^[1-5]\d\d$/, `${method} ${path}: ${code}`);
      for (const s of op.security || []) for (const name of Object.keys(s)) assert.ok(spec.components.securitySchemes[name], name);
    }
    assert.equal(spec.components.securitySchemes.sessionCookie.in, 'cookie');
    assert.equal(spec.components.securitySchemes.csrfToken.name, 'X-CSRF-Token');
    for (const f of ['field', 'message']) assert.ok(resolveRef({ $ref: '#/components/schemas/Problem' }).properties.errors.items.properties[f]);
  });

  test('every http_route in src/api and src/server is documented, and every documented route is registered', () => {
    const code = sourceRoutes();
    const documented = new Set(operations.map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    const missing = [...code].filter((r) => !documented.has(r));
    const extra = [...documented].filter((r) => !code.has(r));
    assert.ok(code.size >= 35, `only ${code.size} routes found in src/api and src/server: is the extraction broken?`);
    assert.deepEqual(missing, [], 'routes in src/api and src/server missing from docs/api/openapi.yaml');
    assert.deepEqual(extra, [], 'routes in docs/api/openapi.yaml that src/api and src/server do not register');
  });

  test('every documented route answers on a running server with a documented status and shape', async () => {
    const server = await startServer({ args: FAST_STOP, env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    try {
      const page = await (await fetch(`${server.url}/`)).text();
      const asset = page.match(/\/assets\/([^"'\s]+\.js)/)[1];
      const fill = (path) => path
        .replace(/^\/assets\/\{name\}/, `/assets/${asset}`)
        .replace(/(genres)\/\{id\}/, '$1/rock')
        .replace(/(bands)\/\{id\}/, '$1/pantera')
        .replace(/(users)\/\{id\}/, '$1/1');
      const queryValues = { q: 'pan', from: 'blues', to: 'death-metal' };
      const urlFor = ({ path, params }) => {
        const query = params.map(resolveRef).filter((p) => p.in === 'query' && p.required).map((p) => `${p.name}=${queryValues[p.name]}`);
        return `${server.url}${fill(path)}${query.length ? `?${query.join('&')}` : ''}`;
      };
      const call = async (o, headers = {}) => {
        const init = { method: o.method.toUpperCase(), redirect: 'manual', headers: { ...headers } };
        const media = o.op.requestBody && Object.keys(o.op.requestBody.content)[0];
        if (media === 'application/json') Object.assign(init, { body: '{}', headers: { ...init.headers, 'content-type': media } });
        if (media === 'application/x-www-form-urlencoded') Object.assign(init, { body: '', headers: { ...init.headers, 'content-type': media } });
        const res = await fetch(urlFor(o), init);
        const body = await res.text();
        return { res, body };
      };
      const checkShape = (o, res, body) => {
        const doc = o.op.responses[String(res.status)];
        const content = doc && resolveRef(doc).content;
        const schema = content?.['application/json']?.schema;
        if (!schema || !res.headers.get('content-type')?.startsWith('application/json')) return;
        const json = JSON.parse(body);
        for (const k of requiredKeys(schema)) assert.ok(k in json, `${o.method} ${o.path}: the ${res.status} body lacks "${k}"`);
      };

      // Anonymous: every route exists with its method (no router 404, no 405), with a documented status.
      for (const o of operations) {
        const { res, body } = await call(o);
        const where = `${o.method.toUpperCase()} ${urlFor(o)} → ${res.status}`;
        assert.notEqual(res.status, 405, `${where}: the method is not routed`);
        if (res.status === 404) assert.ok(!body.includes('"No such page."'), `${where}: no such route`);
        assert.ok(String(res.status) in o.op.responses, `${where}: status not documented (${Object.keys(o.op.responses)})\n${body.slice(0, 300)}`);
        checkShape(o, res, body);
      }

      // As an admin, the protected reads answer 200 with the documented shape.
      const login = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      assert.equal(login.status, 200);
      checkShape(operations.find((o) => o.path === '/api/v1/session' && o.method === 'post'), login, JSON.stringify(await login.json()));
      const cookie = login.headers.get('set-cookie').split(';')[0];
      for (const o of operations.filter((x) => x.method === 'get' && x.op.security?.length)) {
        const { res, body } = await call(o, { cookie });
        assert.equal(res.status, 200, `${o.method} ${o.path} as admin: ${body.slice(0, 200)}`);
        checkShape(o, res, body);
      }
    } finally {
      await server.stop();
    }
  });
});
