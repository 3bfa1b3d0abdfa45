// The deploy agent (issue 15): `musicgraph deploy` following a channel of a release store, with real
// servers on loopback. Releases of the commit under test are built once (tests/lib/deploy.mjs), signed
// with a throwaway minisign key and published into a store with `musicgraph release publish`; one
// installation (ROOT/releases, ROOT/current) runs a server from ROOT/current/bin/musicgraph with a pid
// file, and the agent (the binary under test) moves it from version to version while wrk keeps asking.
//
// Run: MUSICGRAPH_BIN=build/musicgraph node --test tests/e2e/deploy-agent.test.mjs
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { binary, startServer } from '../lib/server.mjs';
import { buildReleases } from '../lib/deploy.mjs';
import { MINUTE, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';

after(removeTemps);

const bin = resolve(binary);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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

describe('deploy agent, directory store', () => {
  let rel, store, root, state, server, env;
  const V = ['1.0.0', '2.0.0'];

  before(() => {
    rel = buildReleases([{ version: '1.0.0' }, { version: '2.0.0' }]);
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
  const agent = (...args) => runAsync(bin, ['deploy', ...args], { env: { ...env, MUSICGRAPH_DEPLOY_URL: server ? server.url : '' } });
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
});
