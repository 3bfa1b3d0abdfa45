// The container image (issue 14), built FROM scratch from the release tarball with buildah, run
// with podman, pushed with every tag to Debian's docker-registry on loopback, pulled back and run
// again; then the clean-up of old images. Its own file, so that its `make dist` and image builds
// get a watchdog budget of their own (tests/run).
//
// These tests need root, buildah, podman, skopeo and docker-registry, and buildah and podman
// working (in a chroot without container storage they do not): otherwise each is skipped by name
// (counted as skipped, never as passed).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib/server.mjs';
import { MINUTE, cloneHead, git, makeDist, newKey, ok, removeTemps, run, tempDir } from '../lib/release.mjs';
import { imageSkipReason, inChroot, startRegistry } from '../lib/container.mjs';

after(removeTemps);
const skipImage = imageSkipReason();
const imageTest = (name, options, fn) => test(name, { ...options, skip: skipImage }, fn);
// In a chroot, `podman exec` cannot start a process in a container (tests/lib/container.mjs).
const execSkip = skipImage || (inChroot() && 'podman exec cannot start a process in a container from inside a chroot');

describe('the image', () => {
  const VERSION = '1.4.0';
  const names = () => [`musicgraph-${VERSION}-linux-amd64.tar.gz`, `musicgraph-${VERSION}-src.tar.gz`];
  let clone, dist, head;
  const containers = [];
  let registry, repo;
  const podman = (args, opts) => ok('podman', ['--runtime', 'runc', ...args], opts);
  const runContainer = async (image) => {
    const port = await freePort();
    const name = `musicgraph-release-test-${process.pid}-${containers.length}`;
    containers.push(name);
    podman(['run', '-d', '--name', name, '--network', 'host', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096',
      '-e', `MUSICGRAPH_LISTEN=127.0.0.1:${port}`, '-e', `MUSICGRAPH_SECRET_KEY=${'k7'.repeat(16)}-release-test-secret`, image]);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 150; i++) {
      const res = await fetch(`${url}/healthz`).catch(() => null);
      if (res?.ok) return { name, url, health: await res.json() };
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${image} did not answer /healthz:\n${run('podman', ['logs', name]).stderr}`);
  };

  before(async () => {
    if (skipImage) return;
    clone = cloneHead();
    head = git(clone, 'rev-parse', 'HEAD');
    git(clone, 'tag', `v${VERSION}`);
    const keys = tempDir('musicgraph-keys-');
    newKey(keys, 'release');
    dist = makeDist(clone, join(keys, 'release.key'));
    registry = await startRegistry();
    repo = registry.repo;
    const started = Date.now();
    ok(join(clone, 'scripts/image'), ['build', join(dist, names()[0])]);
    console.log(`# make image: ${((Date.now() - started) / 1000).toFixed(1)} s, ${ok('podman', ['image', 'inspect', '--format', '{{.Size}}', `musicgraph:${VERSION}`]).trim()} bytes`);
  }, { timeout: 5 * MINUTE });

  after(() => {
    if (skipImage) return;
    for (const name of containers) run('podman', ['rm', '-f', '-v', '-t', '2', name]); // -v: the anonymous state volume too
    registry?.stop();
    for (const tag of ['1.4.0', '1.4.1', '1.5.0-rc.1', '1.4.0-1-gaaaaaaaaaaaa', '1.4.0-2-gbbbbbbbbbbbb', `sha-${head?.slice(0, 12)}`])
      run('podman', ['rmi', '-f', `musicgraph:${tag}`]);
  });

  imageTest('FROM scratch, from the tarball: non-root, a volume for state, health check, labels', { timeout: MINUTE }, () => {
    const cfg = JSON.parse(ok('podman', ['image', 'inspect', `musicgraph:${VERSION}`]))[0];
    assert.equal(cfg.Config.User, '10001:10001');
    assert.deepEqual(Object.keys(cfg.Config.Volumes), ['/var/lib/musicgraph']);
    assert.deepEqual(cfg.Config.Entrypoint, ['/usr/local/bin/musicgraph']);
    assert.deepEqual(cfg.Config.Cmd, ['serve']);
    assert.deepEqual((cfg.Healthcheck || cfg.HealthCheck || cfg.Config.Healthcheck)?.Test, ['CMD', '/usr/local/bin/musicgraph', 'healthcheck']);
    assert.equal(cfg.Config.Labels['org.opencontainers.image.version'], VERSION);
    assert.equal(cfg.Config.Labels['org.opencontainers.image.revision'], head.slice(0, 12));
    assert.equal(cfg.RootFS.Layers.length, 1, 'one layer: no base image');
    // The binary in the image is the one in the tarball, byte for byte.
    const dir = tempDir('musicgraph-unpacked-');
    ok('tar', ['-xzf', join(dist, names()[0]), '-C', dir]);
    const ctr = ok('buildah', ['from', '--quiet', `musicgraph:${VERSION}`]).trim();
    try {
      const mnt = ok('buildah', ['mount', ctr]).trim();
      assert.ok(readFileSync(join(mnt, 'usr/local/bin/musicgraph')).equals(readFileSync(join(dir, `musicgraph-${VERSION}-linux-amd64/bin/musicgraph`))));
      assert.ok(!existsSync(join(mnt, 'bin/sh')), 'no shell');
      assert.match(readFileSync(join(mnt, 'etc/passwd'), 'utf8'), /^musicgraph:x:10001:10001:/m);
    } finally {
      run('buildah', ['rm', ctr]);
    }
    // The same tarball gives the same file system layer again (the image's configuration also names the
    // random id of buildah's build container, so image ids differ).
    const layer = () => JSON.parse(ok('podman', ['image', 'inspect', `musicgraph:${VERSION}`]))[0].RootFS.Layers[0];
    const first = layer();
    ok(join(clone, 'scripts/image'), ['build', join(dist, names()[0])]);
    assert.equal(layer(), first, 'the same layer from the same tarball');
  });

  let running;
  imageTest('runs with podman: /healthz reports the version, /readyz answers, state on a volume', { timeout: 2 * MINUTE }, async () => {
    running = await runContainer(`musicgraph:${VERSION}`);
    assert.deepEqual(running.health, { status: 'ok', version: VERSION });
    const ready = await fetch(`${running.url}/readyz`);
    assert.equal(ready.status, 200);
    const mounts = JSON.parse(ok('podman', ['inspect', running.name]))[0].Mounts;
    assert.ok(mounts.some((m) => m.Destination === '/var/lib/musicgraph' && m.Type === 'volume'), JSON.stringify(mounts));
  });

  test('inside the running container: the health check passes, a 404 is not healthy, version and backup', { timeout: 2 * MINUTE, skip: execSkip }, () => {
    assert.ok(running, 'the container of the previous test runs');
    ok('podman', ['healthcheck', 'run', running.name]);
    assert.match(podman(['exec', running.name, '/usr/local/bin/musicgraph', 'version']), new RegExp(`^musicgraph ${VERSION} `));
    const missing = run('podman', ['exec', running.name, '/usr/local/bin/musicgraph', 'healthcheck', '--url', `${running.url}/nope`]);
    assert.equal(missing.status, 1, 'a 404 is not healthy');
    assert.equal(podman(['exec', running.name, '/usr/local/bin/musicgraph', 'backup', '--tag', 'in-container']).includes('in-container'), true);
  });

  imageTest('pushed to the registry with every tag, pulled back and run', { timeout: 3 * MINUTE }, async () => {
    const env = { REGISTRY_TLS_VERIFY: 'false' };
    const image = join(clone, 'scripts/image');
    ok(image, ['push', repo, VERSION], { env });
    ok(image, ['promote', repo, VERSION, 'dev'], { env });
    ok(image, ['promote', repo, VERSION, 'production'], { env });
    const tags = JSON.parse(ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`])).Tags.sort();
    assert.deepEqual(tags, [VERSION, 'dev', 'latest', 'production', `sha-${head.slice(0, 12)}`].sort());
    const digest = (tag) => ok('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${repo}:${tag}`]).trim();
    for (const tag of tags) assert.equal(digest(tag), digest(VERSION), `${tag} is the same image`);
    podman(['pull', '--quiet', '--tls-verify=false', `${repo}:production`]);
    const c = await runContainer(`${repo}:production`);
    assert.deepEqual(c.health, { status: 'ok', version: VERSION });
    run('podman', ['rm', '-f', '-v', '-t', '2', c.name]);
    run('podman', ['rmi', '-f', `${repo}:production`]);
  });

  imageTest('clean-up keeps the newest N per channel and whatever a channel points at', { timeout: 3 * MINUTE }, () => {
    const env = { REGISTRY_TLS_VERIFY: 'false' };
    // More versions: copies of the image with their own labels (so their own digests).
    const revisions = { '1.4.1': '141141141141', '1.5.0-rc.1': '150150150150', '1.4.0-1-gaaaaaaaaaaaa': 'aaaaaaaaaaaa', '1.4.0-2-gbbbbbbbbbbbb': 'bbbbbbbbbbbb' };
    for (const [v, revision] of Object.entries(revisions)) {
      const ctr = ok('buildah', ['from', '--quiet', `musicgraph:${VERSION}`]).trim();
      ok('buildah', ['config', '--label', `org.opencontainers.image.version=${v}`, '--label', `org.opencontainers.image.revision=${revision}`, ctr]);
      ok('buildah', ['commit', '--quiet', '--rm', '--format', 'docker', ctr, `musicgraph:${v}`]);
      ok(join(clone, 'scripts/image'), ['push', repo, v], { env });
    }
    ok(join(clone, 'scripts/image'), ['promote', repo, '1.4.0-1-gaaaaaaaaaaaa', 'dev'], { env });
    ok(join(clone, 'scripts/image'), ['promote', repo, '1.4.1', 'staging'], { env });
    const list = () => JSON.parse(ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`])).Tags.sort();
    const prune = (...args) => ok(join(clone, 'scripts/image'), ['prune', repo, '--keep', '1', ...args], { env });
    const before = list();
    // release channel: 1.5.0-rc.1 is the newest; 1.4.1 (staging) and 1.4.0 (production, latest) are pointed at.
    // dev channel: 1.4.0-2-g… is the newest; 1.4.0-1-g… is what dev points at. Nothing is deleted…
    assert.doesNotMatch(prune(), /delete/);
    assert.deepEqual(list(), before);
    // …until the channels move on: production to 1.4.1, dev to the newest dev build.
    ok(join(clone, 'scripts/image'), ['promote', repo, '1.4.1', 'production'], { env });
    ok(join(clone, 'scripts/image'), ['promote', repo, '1.4.0-2-gbbbbbbbbbbbb', 'dev'], { env });
    const dry = prune('--dry-run');
    assert.deepEqual(list(), before, '--dry-run deletes nothing');
    assert.deepEqual(dry.split('\n').filter((l) => l.startsWith('would delete')).map((l) => l.replace(/ \(sha256:\w+\)$/, '')).sort(), [
      `would delete ${repo}:1.4.0, sha-${head.slice(0, 12)}`, `would delete ${repo}:1.4.0-1-gaaaaaaaaaaaa, sha-aaaaaaaaaaaa`].sort());
    console.log(prune().replace(/^/gm, '# '));
    assert.deepEqual(list(), ['1.4.0-2-gbbbbbbbbbbbb', '1.4.1', '1.5.0-rc.1', 'dev', 'latest', 'production', 'sha-141141141141', 'sha-150150150150', 'sha-bbbbbbbbbbbb', 'staging'].sort());
    // The kept ones still pull.
    ok('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:1.5.0-rc.1`]);
  });
});
