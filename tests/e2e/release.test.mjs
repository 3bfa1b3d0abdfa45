// Releases (issue 14): `make dist` built twice from a clone of the commit and compared byte for
// byte, what the tarball holds, the minisign signature (checked by minisign and by the binary) and
// tampering with it, and publishing into a directory and an S3 store (s3rver on loopback). Two
// builds: the file's watchdog budget (tests/run) is spent here; the rest of the release tests are in
// release-tools.test.mjs and release-image.test.mjs.
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, repoRoot } from '../lib/server.mjs';
import { startS3 } from '../lib/s3rver.mjs';
import { MINUTE, cloneHead, git, makeDist, newKey, ok, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';

after(removeTemps);

// ---------------------------------------------------------------- make dist

describe('make dist', () => {
  const VERSION = '1.4.0';
  let clone, distA, distB, keys, head;

  before(() => {
    clone = cloneHead();
    head = git(clone, 'rev-parse', 'HEAD');
    git(clone, 'tag', `v${VERSION}`);
    keys = tempDir('musicgraph-keys-');
    newKey(keys, 'release');
    newKey(keys, 'other');
    distA = makeDist(clone, join(keys, 'release.key'));
    distB = makeDist(clone, join(keys, 'release.key'));
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

});
