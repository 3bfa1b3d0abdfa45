// The deploy agent (issue 15): `musicgraph deploy` following a channel of a release store, with real
// servers on loopback. Releases of the commit under test are built once (tests/lib/deploy.mjs), signed
// with a throwaway minisign key and published into a store with `musicgraph release publish`; one
// installation (ROOT/releases, ROOT/current) runs a server from ROOT/current/bin/musicgraph with a pid
// file, and the agent (the binary under test) moves it from version to version while wrk keeps asking.
//
// Run: MUSICGRAPH_BIN=build/musicgraph node --test tests/e2e/deploy-agent.test.mjs
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { binary, startServer } from '../lib/server.mjs';
import { startS3 } from '../lib/s3rver.mjs';
import { NGINX, startHttpsStore } from '../lib/httpsstore.mjs';
import { buildReleases } from '../lib/deploy.mjs';
import { MINUTE, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';
import { sleep } from '../lib/wait.mjs';

after(removeTemps);

const bin = resolve(binary);
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.status === 1; // wrk --version exits 1 after printing its version
  }
})();

// wrk in slices of two seconds until stop() is called: { requests, errors, non2xx, raw }.
function loadUntilStopped(url) {
  let stopping = false;
  const total = { requests: 0, errors: 0, non2xx: 0, raw: '' };
  const slice = () =>
    new Promise((ok) => {
      const child = spawn('wrk', ['-t2', '-c16', '-d2s', url]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', () => {
        total.requests += Number((out.match(/(\d+) requests in/) || [])[1] || 0);
        const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
        total.errors += sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
        total.non2xx += Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] || 0);
        total.raw += out;
        ok();
      });
    });
  const done = (async () => {
    while (!stopping) await slice();
    return total;
  })();
  return { stop: () => ((stopping = true), done) };
}

const json = async (url) => (await fetch(url)).json();

// 1.0.0 and 2.0.0 of the commit under test for the S3 and HTTPS stores' tests: built once, when first asked.
let oneTwo;
const releasesOneTwo = () => (oneTwo ??= buildReleases([{ version: '1.0.0' }, { version: '2.0.0' }]));

// Stops the server a test started, or the successor it handed over to (SIGUSR2), by its pid file.
async function stopDeployed(server) {
  try {
    process.kill(Number(readFileSync(join(server ? server.stateDir : '/nonexistent', 'musicgraph.pid'), 'utf8')), 'SIGTERM');
  } catch {}
  if (server) await server.stop({ keepState: true });
}

describe('deploy agent, directory store', () => {
  let rel, store, root, state, server, env;
  const V = ['1.0.0', '2.0.0', '3.0.0', '4.0.0'];
  const ADMIN_PASSWORD = 'deploy-agent-admin-pw';

  before(() => {
    rel = buildReleases([
      { version: '1.0.0' },
      { version: '2.0.0' },
      // A server that refuses to start: its migration fails (the table exists).
      { version: '3.0.0', migration: 'CREATE TABLE genres (id TEXT);\n' },
      // A migration that works, and a release whose search route is gone: the smoke checks fail.
      { version: '4.0.0', migration: 'CREATE TABLE deploy_probe (id INTEGER PRIMARY KEY, note TEXT);\n', breakRoute: '/api/v1/search' },
      // v4's migration with every route back: a good release that migrates.
      { version: '5.0.0' },
    ]);
    store = tempDir('musicgraph-store-');
    for (const v of V) {
      const r = run(bin, ['release', 'publish', rel.dists[v], '--to', store, '--public-key', rel.publicKey]);
      assert.equal(r.status, 0, r.stderr);
    }
    root = tempDir('musicgraph-root-');
    state = tempDir('musicgraph-state-');
    env = {
      ASAN_OPTIONS: 'detect_leaks=0',
      MUSICGRAPH_DEPLOY_ROOT: root,
      MUSICGRAPH_DEPLOY_STORE: store,
      MUSICGRAPH_DEPLOY_CHANNEL: 'dev',
      MUSICGRAPH_RELEASE_PUBLIC_KEY: rel.publicKey,
      MUSICGRAPH_PID_FILE: join(state, 'musicgraph.pid'),
      MUSICGRAPH_STATE_DIR: state,
      MUSICGRAPH_DEPLOY_READY_TIMEOUT: '90',
      MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      MUSICGRAPH_DEPLOY_KEEP: '3',
    };
  }, { timeout: 12 * MINUTE });

  after(async () => {
    // The server now running may be a successor of the one started (SIGUSR2): stop it by its pid file.
    try {
      process.kill(Number(readFileSync(env.MUSICGRAPH_PID_FILE, 'utf8')), 'SIGTERM');
    } catch {}
    if (server) await server.stop({ keepState: true });
  });

  const promote = (v, channel = 'dev') => {
    const r = run(bin, ['release', 'promote', v, channel, '--to', store], { env });
    assert.equal(r.status, 0, r.stderr);
  };
  const agent = (args, more = {}) => runAsync(bin, ['deploy', ...[args].flat()], { env: { ...env, MUSICGRAPH_DEPLOY_URL: server ? server.url : '', ...more } });
  const history = () => readFileSync(join(root, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  test('a first run installs the channel\'s version; the server runs from ROOT/current', { timeout: 3 * MINUTE }, async () => {
    promote('1.0.0');
    const r = await agent('run');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(readlinkSync(join(root, 'current')), 'releases/1.0.0');
    assert.ok(existsSync(join(root, 'releases/1.0.0/bin/musicgraph')));
    server = await startServer({ binary: join(root, 'current/bin/musicgraph'), stateDir: state, env, timeoutMs: 120000 });
    const ready = await json(`${server.url}/readyz`);
    assert.equal(ready.version, '1.0.0');
    assert.equal(Number(readFileSync(env.MUSICGRAPH_PID_FILE, 'utf8')), server.pid);
  });

  test('v1 -> v2 under load: zero failed requests, history and the store record it', { timeout: 5 * MINUTE, skip: !hasWrk && 'wrk not installed' }, async () => {
    promote('2.0.0');
    const load = loadUntilStopped(`${server.url}/api/v1/genres/rock`);
    await sleep(1000);
    const r = await agent('run');
    await sleep(1000);
    const result = await load.stop();
    console.log(`# v1 -> v2: ${result.requests} requests, ${result.errors} socket errors, ${result.non2xx} non-2xx`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /deploy backup: .*pre-deploy-1\.0\.0-2\.0\.0/);
    assert.match(r.stderr, /deploy hand-over: SIGUSR2 to process/);
    const ready = await json(`${server.url}/readyz`);
    assert.equal(ready.version, '2.0.0');
    assert.equal(readlinkSync(join(root, 'current')), 'releases/2.0.0');
    assert.ok(result.requests > 500, `wrk made requests:\n${result.raw}`);
    assert.equal(result.errors, 0, `no socket errors:\n${result.raw}`);
    assert.equal(result.non2xx, 0, `no failed responses:\n${result.raw}`);
    const h = history();
    assert.deepEqual(h.map((e) => [e.from, e.version, e.result]), [['', '1.0.0', 'installed'], ['1.0.0', '2.0.0', 'healthy']]);
    assert.ok(h[1].checks.filter((c) => c.check === 'smoke').every((c) => c.ok && c.status === 200));
    const recorded = JSON.parse(readFileSync(join(store, 'deployed/dev/2.0.0'), 'utf8'));
    assert.equal(recorded.result, 'healthy');
    assert.equal(recorded.from, '1.0.0');
    // Nothing to do the second time.
    const again = await agent('run');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /nothing to do/);
    assert.equal(history().length, 2);
  });

  // /metrics reads the deploy record from a cache a worker refreshes: ask until it shows.
  async function metricsShowing(pattern) {
    let text = '';
    for (let i = 0; i < 60; i++) {
      text = await (await fetch(`${server.url}/metrics`)).text();
      if (pattern.test(text)) return text;
      await sleep(500);
    }
    assert.match(text, pattern);
  }

  test('v3 cannot become ready: rolled back to v2 with zero failed requests, recorded in the store and /metrics', { timeout: 5 * MINUTE, skip: !hasWrk && 'wrk not installed' }, async () => {
    promote('3.0.0');
    const load = loadUntilStopped(`${server.url}/api/v1/genres/rock`);
    await sleep(1000);
    const r = await agent('run');
    await sleep(1000);
    const result = await load.stop();
    console.log(`# v3 rolled back: ${result.requests} requests, ${result.errors} socket errors, ${result.non2xx} non-2xx`);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /3\.0\.0 did not start/);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    assert.equal(readlinkSync(join(root, 'current')), 'releases/2.0.0');
    assert.equal(result.errors, 0, `no socket errors:\n${result.raw}`);
    assert.equal(result.non2xx, 0, `no failed responses:\n${result.raw}`);
    const last = history().pop();
    assert.equal(last.result, 'rolled_back');
    assert.equal(last.version, '3.0.0');
    assert.match(last.message, /did not start/);
    assert.equal(JSON.parse(readFileSync(join(store, 'deployed/dev/3.0.0'), 'utf8')).result, 'rolled_back');
    const metrics = await metricsShowing(/musicgraph_deploy_last_info\{from="2\.0\.0",to="3\.0\.0",result="rolled_back"\} 1/);
    assert.match(metrics, /^musicgraph_deploy_last_success 0$/m);
    assert.match(metrics, /^musicgraph_deploy_current_info\{version="2\.0\.0"\} 1$/m);
    // The timer's next run does not try it again.
    const again = await agent('run');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /rolled back on this server before/);
  });

  test('v4 migrates and fails its smoke checks: the pre-deploy backup is restored, the lost writes are named', { timeout: 5 * MINUTE }, async () => {
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const session = { cookie: login.headers.get('set-cookie').split(';')[0], csrf: (await login.json()).csrf_token };
    // A curator keeps adding genres through the deploy; each answer is kept.
    const acknowledged = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        const id = `deploy-probe-${n}`;
        try {
          const res = await fetch(`${server.url}/api/v1/genres`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf },
            body: JSON.stringify({ id, name: `Deploy probe ${n}`, type: 'root' }),
          });
          await res.arrayBuffer();
          if (res.status === 201) acknowledged.push(id);
        } catch {}
        await sleep(150);
      }
    })();
    await sleep(600);
    promote('4.0.0');
    const r = await agent('run');
    writing = false;
    await writer;
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /4\.0\.0 migrated the schema: restoring the pre-deploy backup/);
    assert.match(r.stderr, /smoke check GET \/api\/v1\/search\?q=rock answered 404/);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    // The schema is v2's again: v2 finds nothing it does not know.
    const status = run(join(root, 'releases/2.0.0/bin/musicgraph'), ['migrate', '--status'], { env });
    assert.equal(status.status, 0, status.stdout + status.stderr);
    assert.doesNotMatch(status.stdout, /deploy_probe/);
    // The data is exactly the pre-deploy backup's.
    const backups = readdirSync(join(state, 'backups'));
    const pre = backups.find((f) => f.includes('pre-deploy-2.0.0-4.0.0'));
    assert.ok(pre, backups.join(' '));
    assert.ok(backups.some((f) => f.includes('pre-rollback-4.0.0-2.0.0')), 'what was discarded is kept in a backup');
    const before = JSON.parse(gunzipSync(readFileSync(join(state, 'backups', pre))).toString()).payload;
    const exported = run(bin, ['export', '-'], { env });
    assert.equal(exported.status, 0, exported.stderr);
    const now = JSON.parse(exported.stdout).payload;
    // Writes made on 2.0.0 after the restore (the curator's session survives it) are the only difference.
    const old = new Set(before.dataset.genres.map((g) => g.id));
    const after = (id) => acknowledged.includes(id) && !old.has(id);
    const since = {
      ...now,
      dataset: { ...now.dataset, genres: now.dataset.genres.filter((g) => !after(g.id)) },
      audit_log: now.audit_log.filter((e) => !after(e.entity_id)),
    };
    assert.deepEqual(since, before);
    // Every acknowledged write is in the database or named as lost; the lost ones are not in it.
    const last = history().pop();
    assert.equal(last.result, 'rolled_back');
    const lost = last.lost_writes.map((w) => w.id);
    console.log(`# v4 rolled back: ${acknowledged.length} writes acknowledged, ${lost.length} lost and named`);
    assert.ok(lost.length > 0, 'writes were made after the pre-deploy backup');
    const inDb = new Set(now.dataset.genres.map((g) => g.id));
    for (const id of acknowledged) assert.ok(inDb.has(id) !== lost.includes(id), `${id}: in the database or lost, not both`);
    for (const w of last.lost_writes) assert.deepEqual([w.action, w.type, w.actor], ['create', 'genre', 'admin']);
    assert.match(last.message, new RegExp(`${lost.length} write\\(s\\) made since the pre-deploy backup were lost`));
    assert.equal(JSON.parse(readFileSync(join(store, 'deployed/dev/4.0.0'), 'utf8')).result, 'rolled_back');
  });

  // Puts releases/5.0.0 into the store with one change (none: as built), points dev at it, runs the
  // agent (with more settings); returns its result after checking that the running version and the
  // installation are untouched.
  async function refused(change, pattern, more) {
    const dir = join(store, 'releases/5.0.0');
    rmSync(dir, { recursive: true, force: true });
    cpSync(rel.dists['5.0.0'], dir, { recursive: true });
    change(dir);
    promote('5.0.0');
    const releasesBefore = readdirSync(join(root, 'releases')).sort();
    const r = await agent('run', more);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    assert.equal(readlinkSync(join(root, 'current')), 'releases/2.0.0');
    assert.deepEqual(readdirSync(join(root, 'releases')).sort(), releasesBefore, 'nothing unpacked, nothing left behind');
    assert.deepEqual(readdirSync(root).filter((f) => f.startsWith('.incoming') || f.startsWith('.rollback')), []);
    const last = history().pop();
    assert.deepEqual([last.version, last.result], ['5.0.0', 'refused']);
    assert.equal(JSON.parse(readFileSync(join(store, 'deployed/dev/5.0.0'), 'utf8')).result, 'refused');
    return r;
  }
  const tarball = (dir) => join(dir, 'musicgraph-5.0.0-linux-amd64.tar.gz');

  test('a tampered tarball, a wrong signature, a truncated download are refused; the running version is untouched', { timeout: 5 * MINUTE }, async () => {
    await refused((d) => {
      const b = readFileSync(tarball(d));
      b[b.length >> 1] ^= 1;
      writeFileSync(tarball(d), b);
    }, /the file was changed/);
    await refused((d) => {
      const r = spawnSync('minisign', ['-S', '-s', join(rel.keys, 'other.key'), '-m', join(d, 'SHA256SUMS'), '-x', join(d, 'SHA256SUMS.minisig'), '-t', 'musicgraph 5.0.0 commit x']);
      assert.equal(r.status, 0, String(r.stderr));
    }, /another key/);
    await refused((d) => truncateSync(tarball(d), statSync(tarball(d)).size >> 1), /the file was changed/);
    await refused((d) => rmSync(join(d, 'SHA256SUMS.minisig')), /SHA256SUMS\.minisig is not in the store/);
    // A release signed for another version than the channel names.
    await refused((d) => {
      for (const f of readdirSync(d)) rmSync(join(d, f));
      cpSync(rel.dists['2.0.0'], d, { recursive: true });
    }, /SHA256SUMS does not name musicgraph-5\.0\.0-linux-amd64\.tar\.gz|not in the store/);
    // A store cannot fill the disk: a file over the limit is refused and not kept (nor is a limit
    // that is not a number).
    const size = statSync(tarball(rel.dists['5.0.0'])).size;
    await refused(() => {}, new RegExp(`musicgraph-5\\.0\\.0-linux-amd64\\.tar\\.gz: larger than expected \\(over ${size - 1} bytes\\)`), { MUSICGRAPH_DEPLOY_MAX_DOWNLOAD: String(size - 1) });
    await refused(() => {}, /MUSICGRAPH_DEPLOY_MAX_DOWNLOAD is 1G: it must be a number of bytes above 0/, { MUSICGRAPH_DEPLOY_MAX_DOWNLOAD: '1G' });
  });

  test('a full disk while unpacking is refused and leaves nothing behind', { timeout: 5 * MINUTE }, async (t) => {
    // ROOT/releases on a tmpfs with room for what is there and a little more; the download lands
    // beside it, in ROOT, so only the unpacking runs out of space.
    const releases = join(root, 'releases');
    const mnt = tempDir('musicgraph-tmpfs-');
    const used = Number(spawnSync('du', ['-sb', releases], { encoding: 'utf8' }).stdout.split(/\s/)[0]);
    const size = Math.ceil((used + (1 << 20)) / 4096) * 4096;
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]).status !== 0) return t.skip('cannot mount a tmpfs here (not root?)');
    try {
      cpSync(releases, mnt, { recursive: true, verbatimSymlinks: true });
      assert.equal(spawnSync('mount', ['--bind', mnt, releases]).status, 0);
      try {
        await refused(() => {}, /cannot unpack .* \(the disk is full\)/);
      } finally {
        spawnSync('umount', ['-l', releases]);
      }
    } finally {
      spawnSync('umount', ['-l', mnt]);
    }
  });

  test('promotion to production: refused for a version never healthy on dev, accepted after', { timeout: 5 * MINUTE }, async () => {
    const promoteProd = (v) => run(bin, ['release', 'promote', v, 'production', '--to', store], { env });
    let r = promoteProd('5.0.0');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /5\.0\.0 has not been deployed healthy on dev or staging \(dev: refused\)/);
    r = promoteProd('4.0.0');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dev: rolled_back/);
    assert.equal(promoteProd('9.9.9').status, 1);
    assert.ok(!existsSync(join(store, 'channels/production')), 'production was never moved');
    // Deployed healthy on dev (the restored release, which migrates the schema), then accepted.
    const d = join(store, 'releases/5.0.0');
    rmSync(d, { recursive: true, force: true });
    cpSync(rel.dists['5.0.0'], d, { recursive: true });
    promote('5.0.0');
    const deployed = await agent('run');
    assert.equal(deployed.status, 0, deployed.stderr);
    assert.match(deployed.stderr, /it will migrate the schema/);
    assert.equal((await json(`${server.url}/readyz`)).version, '5.0.0');
    r = promoteProd('5.0.0');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(store, 'channels/production'), 'utf8'), '5.0.0\n');
    assert.equal(promoteProd('2.0.0').status, 0, 'a version healthy on dev goes to production');
  });

  test('keeps the newest releases and the previous one; status, history and rollback by hand (across a migration)', { timeout: 5 * MINUTE }, async () => {
    // KEEP=3 after 5.0.0: the three newest unpacked and 2.0.0, which it came from.
    assert.deepEqual(readdirSync(join(root, 'releases')).sort(), ['2.0.0', '3.0.0', '4.0.0', '5.0.0']);
    const status = await agent('status');
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^current: +5\.0\.0 /m);
    assert.match(status.stdout, /^running: +5\.0\.0 \(.*\/readyz: 200\)/m);
    assert.match(status.stdout, /^channel: +dev -> 5\.0\.0 /m);
    assert.match(status.stdout, /^last: .* deploy +2\.0\.0 +5\.0\.0 +healthy /m);
    const h = await agent('history');
    assert.equal(h.status, 0);
    const rows = h.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(1, 5));
    assert.deepEqual(rows, [
      ['deploy', '-', '1.0.0', 'installed'], ['deploy', '1.0.0', '2.0.0', 'healthy'], ['deploy', '2.0.0', '3.0.0', 'rolled_back'],
      ['deploy', '2.0.0', '4.0.0', 'rolled_back'], ['deploy', '2.0.0', '5.0.0', 'refused'], ['deploy', '2.0.0', '5.0.0', 'refused'],
      ['deploy', '2.0.0', '5.0.0', 'refused'], ['deploy', '2.0.0', '5.0.0', 'refused'], ['deploy', '2.0.0', '5.0.0', 'refused'],
      ['deploy', '2.0.0', '5.0.0', 'refused'], ['deploy', '2.0.0', '5.0.0', 'refused'], ['deploy', '2.0.0', '5.0.0', 'refused'],
      ['deploy', '2.0.0', '5.0.0', 'healthy'],
    ]);
    // Back to where 5.0.0 came from: 5.0.0 migrated, so its pre-deploy backup is restored under 2.0.0's schema.
    const r = await agent('rollback');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /pre-deploy-2\.0\.0-5\.0\.0.* restored with 2\.0\.0's schema/);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    assert.equal(readlinkSync(join(root, 'current')), 'releases/2.0.0');
    const last = history().pop();
    assert.deepEqual([last.kind, last.from, last.version, last.result], ['rollback', '5.0.0', '2.0.0', 'rolled_back']);
    const metrics = await metricsShowing(/musicgraph_deploy_last_info\{from="5\.0\.0",to="2\.0\.0",result="rolled_back"\} 1/);
    assert.match(metrics, /^musicgraph_deploy_last_timestamp_seconds \d+$/m);
    const bad = await agent(['rollback', '7.0.0']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /7\.0\.0 is not unpacked/);
  });
});

describe('deploy agent, S3 store (s3rver)', () => {
  test('installs and deploys from s3://, records the outcome there', { timeout: 10 * MINUTE }, async () => {
    const s3 = await startS3({ buckets: ['releases'] });
    let server;
    try {
      const rel = releasesOneTwo();
      const store = 's3://releases/musicgraph';
      const root = tempDir('musicgraph-root-');
      const state = tempDir('musicgraph-state-');
      const env = {
        ...s3.env,
        ASAN_OPTIONS: 'detect_leaks=0',
        MUSICGRAPH_DEPLOY_ROOT: root,
        MUSICGRAPH_DEPLOY_STORE: store,
        MUSICGRAPH_DEPLOY_CHANNEL: 'staging',
        MUSICGRAPH_RELEASE_PUBLIC_KEY: rel.publicKey,
        MUSICGRAPH_PID_FILE: join(state, 'musicgraph.pid'),
        MUSICGRAPH_STATE_DIR: state,
      };
      for (const v of ['1.0.0', '2.0.0']) {
        const p = await runAsync(bin, ['release', 'publish', rel.dists[v], '--to', store], { env });
        assert.equal(p.status, 0, p.stderr);
      }
      const promote = async (v) => assert.equal((await runAsync(bin, ['release', 'promote', v, 'staging', '--to', store], { env })).status, 0);
      await promote('1.0.0');
      // Over the download limit: refused, nothing kept.
      let r = await runAsync(bin, ['deploy', 'run'], { env: { ...env, MUSICGRAPH_DEPLOY_MAX_DOWNLOAD: '4096' } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /S3 GET s3:\/\/releases\/musicgraph\/releases\/1\.0\.0\/musicgraph-1\.0\.0-linux-amd64\.tar\.gz: larger than expected \(over 4096 bytes\)/);
      assert.deepEqual(readdirSync(root).filter((f) => f.startsWith('.incoming') || f === 'current'), []);
      r = await runAsync(bin, ['deploy', 'run'], { env });
      assert.equal(r.status, 0, r.stderr);
      server = await startServer({ binary: join(root, 'current/bin/musicgraph'), stateDir: state, env, timeoutMs: 120000 });
      await promote('2.0.0');
      r = await runAsync(bin, ['deploy', 'run'], { env: { ...env, MUSICGRAPH_DEPLOY_URL: server.url } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
      const record = JSON.parse(readFileSync(join(s3.dir, 'releases/musicgraph/deployed/staging/2.0.0._S3rver_object'), 'utf8'));
      assert.deepEqual([record.env, record.from, record.version, record.result], ['staging', '1.0.0', '2.0.0', 'healthy']);
      // staging counts for production.
      const prod = await runAsync(bin, ['release', 'promote', '2.0.0', 'production', '--to', store], { env });
      assert.equal(prod.status, 0, prod.stderr);
    } finally {
      await stopDeployed(server);
      await s3.stop();
    }
  });
});

// nginx with WebDAV PUT and Basic auth on writes, TLS from a throwaway CA (tests/lib/httpsstore.mjs).
describe('deploy agent, HTTPS store (nginx)', () => {
  const skip = !NGINX && 'nginx not installed';
  const PASSWORD = 'store-password-3f9Kq';
  let hs, rel, store, root, state, env, server;

  before(async () => {
    if (skip) return;
    rel = releasesOneTwo();
    hs = await startHttpsStore({ user: 'publisher', password: PASSWORD });
    store = hs.url;
    root = tempDir('musicgraph-root-');
    state = tempDir('musicgraph-state-');
    env = {
      ASAN_OPTIONS: 'detect_leaks=0',
      MUSICGRAPH_RELEASE_STORE_CA_FILE: hs.caFile,
      MUSICGRAPH_RELEASE_STORE_AUTH_FILE: hs.authFile,
      MUSICGRAPH_DEPLOY_ROOT: root,
      MUSICGRAPH_DEPLOY_STORE: store,
      MUSICGRAPH_DEPLOY_CHANNEL: 'dev',
      MUSICGRAPH_RELEASE_PUBLIC_KEY: rel.publicKey,
      MUSICGRAPH_PID_FILE: join(state, 'musicgraph.pid'),
      MUSICGRAPH_STATE_DIR: state,
    };
  }, { timeout: 12 * MINUTE });

  after(async () => {
    await stopDeployed(server);
    if (hs) await hs.stop();
  });

  const cli = (args, more = {}) => runAsync(bin, args, { env: { ...env, ...(server ? { MUSICGRAPH_DEPLOY_URL: server.url } : {}), ...more } });
  const promote = (v, channel, more) => cli(['release', 'promote', v, channel, '--to', store], more);
  const tarball = (v) => join(hs.root, `releases/${v}/musicgraph-${v}-linux-amd64.tar.gz`);

  test('publish puts the release over PUT with the credentials, and never replaces a published version', { skip, timeout: 3 * MINUTE }, async () => {
    for (const v of ['1.0.0', '2.0.0']) {
      const r = await cli(['release', 'publish', rel.dists[v], '--to', store]);
      assert.equal(r.status, 0, r.stderr);
      for (const f of readdirSync(rel.dists[v]))
        assert.deepEqual(readFileSync(join(hs.root, 'releases', v, f)), readFileSync(join(rel.dists[v], f)), `releases/${v}/${f} arrived whole`);
    }
    const puts = hs.accessLog().filter((l) => l.startsWith('PUT '));
    assert.deepEqual(puts.slice(-3), ['PUT /musicgraph/releases/2.0.0/musicgraph-2.0.0-linux-amd64.tar.gz 201',
      'PUT /musicgraph/releases/2.0.0/SHA256SUMS.minisig 201', 'PUT /musicgraph/releases/2.0.0/SHA256SUMS 201'], 'SHA256SUMS last');
    const again = await cli(['release', 'publish', rel.dists['1.0.0'], '--to', store]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /1\.0\.0 is already published in https:\/\/127\.0\.0\.1:\d+\/musicgraph\/ \(musicgraph-1\.0\.0-linux-amd64\.tar\.gz exists\); a published version is never replaced/);
    assert.equal(hs.accessLog().filter((l) => l.startsWith('PUT ')).length, puts.length, 'nothing was sent');
  });

  test('the agent installs and deploys from https://, records deployed/dev/VERSION over PUT; production is gated', { skip, timeout: 5 * MINUTE }, async () => {
    let r = await promote('1.0.0', 'dev');
    assert.equal(r.status, 0, r.stderr);
    r = await cli(['deploy', 'run']);
    assert.equal(r.status, 0, r.stderr);
    server = await startServer({ binary: join(root, 'current/bin/musicgraph'), stateDir: state, env, timeoutMs: 120000 });
    r = await promote('2.0.0', 'production');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /2\.0\.0 has not been deployed healthy on dev or staging/);
    assert.equal((await promote('2.0.0', 'dev')).status, 0);
    r = await cli(['deploy', 'run']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    const record = JSON.parse(readFileSync(join(hs.root, 'deployed/dev/2.0.0'), 'utf8'));
    assert.deepEqual([record.env, record.from, record.version, record.result], ['dev', '1.0.0', '2.0.0', 'healthy']);
    assert.ok(hs.accessLog().includes('PUT /musicgraph/deployed/dev/2.0.0 201'), hs.accessLog().join('\n'));
    r = await promote('2.0.0', 'production');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(hs.root, 'channels/production'), 'utf8'), '2.0.0\n');
  });

  test('refused: an unknown CA, plain http://, credentials in the URL, a redirect to http://; a missing channel is named', { skip, timeout: 3 * MINUTE }, async () => {
    const status = (more, args = ['deploy', 'run']) => cli(args, more);
    for (const ca of [hs.otherCaFile, '']) {
      const r = await status({ MUSICGRAPH_RELEASE_STORE_CA_FILE: ca });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot read https:\/\/127\.0\.0\.1:\d+\/musicgraph\/channels\/dev: HTTPS GET .*: the server's certificate is refused: SSL certificate problem: unable to get local issuer certificate/);
    }
    let r = await status({ MUSICGRAPH_DEPLOY_STORE: store.replace('https:', 'http:') });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a release store is reached over https:\/\/ only/);
    r = await status({ MUSICGRAPH_DEPLOY_STORE: store.replace('https://', `https://publisher:${PASSWORD}@`) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the release store URL holds credentials: give them in MUSICGRAPH_RELEASE_STORE_AUTH_FILE instead/);
    assert.ok(!r.stderr.includes(PASSWORD), r.stderr);
    r = await status({ MUSICGRAPH_DEPLOY_STORE: `https://127.0.0.1:${hs.port}/moved/` });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /HTTP 302, a redirect to a URL that is not https:\/\/: refused/);
    r = await status({ MUSICGRAPH_DEPLOY_CHANNEL: 'staging' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read https:\/\/127\.0\.0\.1:\d+\/musicgraph\/channels\/staging: it does not exist/);
    // A channel is a line: a store that serves more is refused at the limit, not read whole.
    writeFileSync(join(hs.root, 'channels/staging'), '2.0.0\n'.padEnd(4096, '#'));
    r = await status({ MUSICGRAPH_DEPLOY_CHANNEL: 'staging' });
    rmSync(join(hs.root, 'channels/staging'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /channels\/staging: larger than expected \(over 1024 bytes\)/);
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0', 'the running version is untouched');
  });

  test('wrong or missing credentials: writes refused with 401, the password never shown', { skip, timeout: 3 * MINUTE }, async () => {
    const wrong = join(tempDir('musicgraph-auth-'), 'auth');
    const WRONG = 'not-the-password-7Hx2';
    writeFileSync(wrong, `publisher:${WRONG}\n`);
    let r = await promote('1.0.0', 'staging', { MUSICGRAPH_RELEASE_STORE_AUTH_FILE: wrong });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /HTTPS PUT https:\/\/127\.0\.0\.1:\d+\/musicgraph\/channels\/staging: HTTP 401 \(the store refused the credentials in MUSICGRAPH_RELEASE_STORE_AUTH_FILE\)/);
    assert.ok(!(r.stdout + r.stderr).includes(WRONG), r.stderr);
    r = await promote('1.0.0', 'staging', { MUSICGRAPH_RELEASE_STORE_AUTH_FILE: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /HTTP 401 \(the store wants credentials: MUSICGRAPH_RELEASE_STORE_AUTH_FILE\)/);
    // A file without USER: is refused without showing what it holds.
    writeFileSync(wrong, `${WRONG}\n`);
    r = await promote('1.0.0', 'staging', { MUSICGRAPH_RELEASE_STORE_AUTH_FILE: wrong });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the first line must be USER:PASSWORD/);
    assert.ok(!r.stderr.includes(WRONG), r.stderr);
    assert.ok(!existsSync(join(hs.root, 'channels/staging')), 'staging was never written');
    // Reads need no credentials on this store: the agent still reads its channel without them.
    const status = await cli(['deploy', 'status'], { MUSICGRAPH_RELEASE_STORE_AUTH_FILE: '' });
    assert.match(status.stdout, /^channel: +dev -> 2\.0\.0 /m);
  });

  test('a tampered or truncated tarball served by the store is refused by its signed checksum', { skip, timeout: 3 * MINUTE }, async () => {
    const good = readFileSync(tarball('1.0.0'));
    assert.equal((await promote('1.0.0', 'dev')).status, 0);
    try {
      for (const change of [(b) => ((b[b.length >> 1] ^= 1), b), (b) => b.subarray(0, b.length >> 1)]) {
        writeFileSync(tarball('1.0.0'), change(Buffer.from(good)));
        const r = await cli(['deploy', 'run']);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /musicgraph-1\.0\.0-linux-amd64\.tar\.gz: SHA-256 [0-9a-f]{64}, but SHA256SUMS says [0-9a-f]{64}: the file was changed/);
        assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
        assert.equal(readlinkSync(join(root, 'current')), 'releases/2.0.0');
        assert.equal(JSON.parse(readFileSync(join(hs.root, 'deployed/dev/1.0.0'), 'utf8')).result, 'refused');
      }
    } finally {
      writeFileSync(tarball('1.0.0'), good);
    }
    // Over the download limit: refused from the size the server announces, nothing kept.
    const r = await cli(['deploy', 'run'], { MUSICGRAPH_DEPLOY_MAX_DOWNLOAD: String(good.length - 1) });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`HTTPS GET \\S+/releases/1\\.0\\.0/musicgraph-1\\.0\\.0-linux-amd64\\.tar\\.gz: larger than expected \\(over ${good.length - 1} bytes\\)`));
    assert.equal((await json(`${server.url}/readyz`)).version, '2.0.0');
    assert.deepEqual(readdirSync(root).filter((f) => f.startsWith('.incoming')), []);
  });
});
