// The deploy agent's container mode (issue 15): `musicgraph deploy run` with MUSICGRAPH_DEPLOY_CONTAINER
// replaces a podman container by one of the channel's image, health-gates it and rolls back. Releases of
// the commit under test are built once (tests/lib/deploy.mjs), published signed into a directory store,
// made into images with scripts/image (FROM scratch, from the tarball) and pushed to Debian's
// docker-registry on loopback; the agent pulls them from there. A probe asks the server every 20 ms
// through each deploy: its failures and longest gap are the downtime, printed, never asserted
// (docs/operations.md states the figures).
//
// Its own file, so that its builds get a watchdog budget of their own (tests/run). It needs root,
// buildah, podman, skopeo and docker-registry working; otherwise each test is skipped by name. It uses
// no `podman exec` (the agent runs one-off commands in sibling containers), so it also runs in a chroot.
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { binary, freePort, repoRoot } from '../lib/server.mjs';
import { buildReleases } from '../lib/deploy.mjs';
import { imageSkipReason, startRegistry } from '../lib/container.mjs';
import { MINUTE, ok, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';
import { sleep } from '../lib/wait.mjs';

after(removeTemps);

const bin = resolve(binary);
const skip = imageSkipReason();
const podman = (args) => ok('podman', ['--runtime', 'runc', ...args]);
const inspect = (name) => JSON.parse(ok('podman', ['container', 'inspect', name]))[0];

// Asks url every 20 ms until stop(): { ok, failed, longestGapMs } where the gap is the longest time
// between two answered requests.
function probe(url) {
  let stopping = false;
  const seen = { ok: 0, failed: 0, longestGapMs: 0 };
  let lastOk = Date.now();
  const done = (async () => {
    while (!stopping) {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      if (res?.ok) {
        await res.arrayBuffer();
        seen.ok++;
        seen.longestGapMs = Math.max(seen.longestGapMs, Date.now() - lastOk);
        lastOk = Date.now();
      } else {
        seen.failed++;
      }
      await sleep(20);
    }
    return seen;
  })();
  return { stop: () => ((stopping = true), done) };
}

describe('deploy agent, container mode', () => {
  // Versions of their own (the image store is shared with other runs on this machine).
  const tag = `c${process.pid}`;
  const [V1, V2, V3, V4, V5, V6] = ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0', '6.0.0'].map((v) => `${v}-${tag}`);
  const all = [V1, V2, V3, V4, V5, V6];
  const NAME = `musicgraph-deploy-test-${process.pid}`;
  let rel, store, root, registry, repo, url, env, volume;

  before(async () => {
    if (skip) return;
    rel = buildReleases([
      { version: V1 },
      { version: V2 },
      // A good release whose image the registry will replace by another binary.
      { version: V4 },
      { version: V5 },
      // A migration that works, and a release whose search route is gone: the smoke checks fail.
      { version: V6, migration: 'CREATE TABLE deploy_probe (id INTEGER PRIMARY KEY, note TEXT);\n', breakRoute: '/api/v1/search' },
      // A server that refuses to start: its migration fails (the table exists).
      { version: V3, migration: 'CREATE TABLE genres (id TEXT);\n' },
    ]);
    store = tempDir('musicgraph-store-');
    for (const v of all)
      ok(bin, ['release', 'publish', rel.dists[v], '--to', store, '--public-key', rel.publicKey]);
    registry = await startRegistry();
    repo = registry.repo;
    const image = join(repoRoot, 'scripts/image');
    const pushEnv = { env: { REGISTRY_TLS_VERIFY: 'false' } };
    for (const v of [V1, V2, V3, V5, V6]) {
      const started = Date.now();
      ok(image, ['build', join(rel.dists[v], `musicgraph-${v}-linux-amd64.tar.gz`)]);
      console.log(`# image ${v}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      ok(image, ['push', repo, v], pushEnv);
    }
    // V4's image: V2's binary under V4's version label, as a registry that was tampered with would serve.
    const ctr = ok('buildah', ['from', '--quiet', `musicgraph:${V2}`]).trim();
    ok('buildah', ['config', '--label', `org.opencontainers.image.version=${V4}`, ctr]);
    ok('buildah', ['commit', '--quiet', '--rm', '--format', 'docker', ctr, `musicgraph:${V4}`]);
    ok('buildah', ['push', '--quiet', '--tls-verify=false', `musicgraph:${V4}`, `docker://${repo}:${V4}`]);
    // Only the registry has them now: the agent must pull. (By id: scripts/image also tagged each
    // sha-COMMIT.)
    for (const v of all) run('podman', ['rmi', '-f', ok('podman', ['image', 'inspect', '--format', '{{.Id}}', `musicgraph:${v}`]).trim()]);
    const conf = join(tempDir('musicgraph-registries-'), 'registries.conf');
    writeFileSync(conf, `[[registry]]\nlocation = "127.0.0.1:${registry.port}"\ninsecure = true\n`);
    root = tempDir('musicgraph-root-');
    chmodSync(root, 0o755);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      ASAN_OPTIONS: 'detect_leaks=0',
      CONTAINERS_REGISTRIES_CONF: conf,
      MUSICGRAPH_DEPLOY_ROOT: root,
      MUSICGRAPH_DEPLOY_STORE: store,
      MUSICGRAPH_DEPLOY_CHANNEL: 'dev',
      MUSICGRAPH_DEPLOY_CONTAINER: NAME,
      MUSICGRAPH_DEPLOY_URL: url,
      MUSICGRAPH_RELEASE_PUBLIC_KEY: rel.publicKey,
      MUSICGRAPH_STATE_DIR: tempDir('musicgraph-agent-state-'),
      MUSICGRAPH_DEPLOY_READY_TIMEOUT: '60',
      MUSICGRAPH_DEPLOY_KEEP: '2',
    };
    // The operator's container: its options (host network, ulimits, stop timeout, environment, the
    // image's anonymous state volume) are what every successor must keep. ROOT is mounted where the
    // server looks for the last deploy (MUSICGRAPH_DEPLOY_ROOT, /opt/musicgraph), for /metrics.
    ok('podman', ['pull', '--quiet', `${repo}:${V1}`], { env });
    podman(['run', '-d', '--name', NAME, '--network', 'host', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096',
      '--stop-timeout', '7', '-v', `${root}:/opt/musicgraph:ro`, '-e', `MUSICGRAPH_LISTEN=127.0.0.1:${port}`, '-e', 'MUSICGRAPH_SHUTDOWN_TIMEOUT=3',
      '-e', `MUSICGRAPH_SECRET_KEY=${'k7'.repeat(16)}-deploy-container-secret`, `${repo}:${V1}`]);
    volume = inspect(NAME).Mounts.find((m) => m.Destination === '/var/lib/musicgraph').Name;
    for (let i = 0; i < 300; i++) {
      const ready = await fetch(`${url}/readyz`).then((r) => (r.ok ? r.json() : null), () => null);
      if (ready?.version === V1) return;
      await sleep(200);
    }
    throw new Error(`${V1} did not become ready:\n${run('podman', ['logs', NAME]).stderr}`);
  }, { timeout: 20 * MINUTE });

  after(() => {
    if (skip) return;
    registry?.stop();
    const names = run('podman', ['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => n === NAME || n.startsWith(`${NAME}-`));
    for (const n of names) run('podman', ['rm', '-f', '-t', '2', n]);
    if (volume) run('podman', ['volume', 'rm', '-f', volume]);
    for (const v of all) run('podman', ['rmi', '-f', `${repo}:${v}`, `musicgraph:${v}`]);
  });

  const agent = (args, extra = {}) => runAsync(bin, ['deploy', ...args], { env: { ...env, ...extra } });
  const promote = (v) => ok(bin, ['release', 'promote', v, 'dev', '--to', store], { env });
  const history = () => readFileSync(join(root, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const serving = async () => (await fetch(`${url}/readyz`)).json();

  test('refused with one clear line: a bad version in the channel, a bad or missing container, no podman', { skip, timeout: 3 * MINUTE }, async () => {
    promote(V1);
    writeFileSync(join(store, 'channels/dev'), '../../etc/passwd\n');
    let r = await agent(['run']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /channels\/dev does not name a version/);
    promote(V1);
    r = await agent(['run'], { MUSICGRAPH_DEPLOY_CONTAINER: `${NAME}-missing` });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`there is no container '${NAME}-missing'`));
    r = await agent(['run'], { MUSICGRAPH_DEPLOY_CONTAINER: '../etc' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /'\.\.\/etc' is not a container name/);
    r = await agent(['run'], { PATH: '/nonexistent' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /podman is not installed/);
    r = await agent(['run']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /nothing to do/);
    assert.equal((await serving()).version, V1);
  });

  test('v1 -> v2: pulled, its binary checked against the signed tarball, swapped; served, recorded; downtime measured', { skip, timeout: 5 * MINUTE }, async () => {
    promote(V2);
    const p = probe(`${url}/api/v1/genres/rock`);
    await sleep(500);
    const r = await agent(['run']);
    await sleep(500);
    const seen = await p.stop();
    console.log(`# container deploy ${V1} -> ${V2}: ${seen.failed} failed requests of ${seen.ok + seen.failed}, longest gap ${seen.longestGapMs} ms`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /deploy verify: .* byte for byte/);
    assert.match(r.stderr, new RegExp(`deploy backup: .*pre-deploy-${V1}-${V2}`));
    assert.equal((await serving()).version, V2);
    const now = inspect(NAME);
    assert.equal(now.ImageName, `${repo}:${V2}`);
    // The operator's options survived the swap, and the state volume is the same one.
    assert.equal(now.HostConfig.NetworkMode, 'host');
    assert.deepEqual(now.HostConfig.Ulimits.find((u) => u.Name === 'RLIMIT_NOFILE'), { Name: 'RLIMIT_NOFILE', Soft: 4096, Hard: 4096 });
    assert.equal(now.Config.StopTimeout, 7);
    assert.equal(now.Mounts.find((m) => m.Destination === '/var/lib/musicgraph').Name, volume);
    // The predecessor is kept, stopped, for a rollback.
    assert.equal(inspect(`${NAME}-${V1}`).State.Running, false);
    const last = history().pop();
    assert.deepEqual([last.from, last.version, last.result], [V1, V2, 'healthy']);
    console.log(`# ${last.steps.filter((s) => s.step === 'ready').pop().detail}; the whole deploy ${last.duration_ms} ms`);
    assert.ok(last.checks.filter((c) => c.check === 'smoke').every((c) => c.ok));
    assert.equal(JSON.parse(readFileSync(join(store, `deployed/dev/${V2}`), 'utf8')).result, 'healthy');
    const status = await agent(['status']);
    assert.match(status.stdout, new RegExp(`current:  ${V2} \\(container ${NAME}, image ${repo}:${V2}\\)`));
  });

  test('v3 cannot start: rolled back to v2 automatically, the old container serving again, the failure recorded', { skip, timeout: 5 * MINUTE }, async () => {
    promote(V3);
    const p = probe(`${url}/api/v1/genres/rock`);
    await sleep(500);
    const r = await agent(['run']);
    await sleep(500);
    const seen = await p.stop();
    console.log(`# container deploy ${V2} -> ${V3}, rolled back: ${seen.failed} failed requests of ${seen.ok + seen.failed}, longest gap ${seen.longestGapMs} ms`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${V3.replace(/\./g, '\\.')} did not start: container ${NAME} exited`));
    assert.equal((await serving()).version, V2);
    assert.equal(inspect(NAME).ImageName, `${repo}:${V2}`);
    assert.equal(run('podman', ['container', 'exists', `${NAME}-${V3}`]).status, 1, 'the failed container is removed');
    const last = history().pop();
    assert.deepEqual([last.version, last.result], [V3, 'rolled_back']);
    console.log(`# ${last.steps.filter((s) => s.step === 'ready').pop().detail}; the whole deploy and rollback ${last.duration_ms} ms`);
    assert.equal(JSON.parse(readFileSync(join(store, `deployed/dev/${V3}`), 'utf8')).result, 'rolled_back');
    // The server that serves again exports the outcome (a worker refreshes it: ask until it shows).
    const shown = new RegExp(`musicgraph_deploy_last_info\\{from="${V2}",to="${V3}",result="rolled_back"\\} 1`);
    let metrics = '';
    for (let i = 0; i < 60 && !shown.test(metrics); i++) {
      if (i) await sleep(500);
      metrics = await (await fetch(`${url}/metrics`)).text();
    }
    assert.match(metrics, shown);
    assert.match(metrics, /^musicgraph_deploy_last_success 0$/m);
  });

  test('an image whose binary is not the signed release\'s is refused; the running container is untouched', { skip, timeout: 5 * MINUTE }, async () => {
    promote(V4);
    const before = inspect(NAME).Id;
    const p = probe(`${url}/api/v1/genres/rock`);
    const r = await agent(['run']);
    const seen = await p.stop();
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is not the signed release: its \/usr\/local\/bin\/musicgraph has SHA-256/);
    assert.equal(inspect(NAME).Id, before, 'the same container serves');
    assert.equal(seen.failed, 0, 'nothing was stopped');
    assert.equal((await serving()).version, V2);
    assert.deepEqual([history().pop().result], ['refused']);
    assert.equal(JSON.parse(readFileSync(join(store, `deployed/dev/${V4}`), 'utf8')).result, 'refused');
  });

  test('rollback by hand goes back to the kept v1 container; history and status show it', { skip, timeout: 5 * MINUTE }, async () => {
    const r = await agent(['rollback']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await serving()).version, V1);
    assert.equal(inspect(NAME).ImageName, `${repo}:${V1}`);
    assert.equal(inspect(`${NAME}-${V2}`).State.Running, false, 'v2 is kept in turn');
    const h = await agent(['history']);
    assert.match(h.stdout, new RegExp(`rollback +${V2.replace(/\./g, '\\.')} +${V1.replace(/\./g, '\\.')} +rolled_back`));
  });

  test('keeps MUSICGRAPH_DEPLOY_KEEP containers: the serving one and the previous one; older ones go with their images', { skip, timeout: 5 * MINUTE }, async () => {
    promote(V5);
    const r = await agent(['run']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await serving()).version, V5);
    assert.match(r.stderr, new RegExp(`removed containers ${NAME}-${V2.replace(/\./g, '\\.')} and their images`));
    const left = run('podman', ['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => n.startsWith(NAME)).sort();
    assert.deepEqual(left, [NAME, `${NAME}-${V1}`].sort(), 'KEEP=2: the serving and the previous container');
    assert.equal(run('podman', ['image', 'exists', `${repo}:${V2}`]).status, 1, 'the image of the removed container is gone');
  });
  test('v6 migrates and fails its smoke checks: the pre-deploy backup is restored in the volume, v5 serves again', { skip, timeout: 5 * MINUTE }, async () => {
    promote(V6);
    const r = await agent(['run']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /smoke check GET \/api\/v1\/search\?q=rock answered 404/);
    assert.match(r.stderr, new RegExp(`${V6.replace(/\./g, '\\.')} migrated the schema: restoring the pre-deploy backup`));
    assert.match(r.stderr, /deploy restore: .* restored with .*'s schema/);
    const ready = await serving();
    assert.equal(ready.version, V5);
    assert.equal(ready.checks.migrations, 'ok', 'v5 knows every migration in the database');
    assert.equal(inspect(NAME).ImageName, `${repo}:${V5}`);
    const last = history().pop();
    assert.deepEqual([last.version, last.result], [V6, 'rolled_back']);
    // Both backups are on the state volume: the one restored, and the data as it was before the restore.
    const backups = run('ls', [join(inspect(NAME).Mounts.find((m) => m.Destination === '/var/lib/musicgraph').Source, 'backups')]).stdout;
    assert.match(backups, new RegExp(`pre-deploy-${V5.replace(/\./g, '\\.')}-${V6.replace(/\./g, '\\.')}`));
    assert.match(backups, new RegExp(`pre-rollback-${V6.replace(/\./g, '\\.')}-${V5.replace(/\./g, '\\.')}`));
  });
});
