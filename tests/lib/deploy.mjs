// Releases for the deploy agent's tests and benchmark (tests/e2e/deploy-agent.test.mjs, bench/deploy.mjs).
//
// `make dist` builds a whole clone from scratch for one version; the agent's tests need several
// versions of the commit under test, some with a defect. So one clone is configured once and each
// version is a commit and a tag on top of the one before (an extra migration, a broken migration or a
// removed route where a test needs one), rebuilt incrementally (the version header and what includes
// it), then packed the way scripts/dist packs it: musicgraph-VERSION-linux-amd64.tar.gz with
// bin/musicgraph and VERSION under one top directory, SHA256SUMS, and a minisign signature whose
// trusted comment names the version and commit.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloneHead, git, newKey, ok, tempDir } from './release.mjs';
import { repoRoot } from './server.mjs';

// What a version changes in the source, on top of the previous version.
//   { version: '3.0.0', migration: 'SQL' }   a new migration (the next number) with that SQL
//   { version: '4.0.0', migration: 'SQL', breakRoute: '/api/v1/search' }   also that route answers 404
//                                                                           (in that version only)
export function buildReleases(specs, { buildtype = 'plain' } = {}) {
  const clone = cloneHead();
  const keys = tempDir('musicgraph-deploy-keys-');
  newKey(keys, 'release');
  newKey(keys, 'other');
  const build = join(tempDir('musicgraph-deploy-build-'), 'build');
  ok('meson', ['setup', build, clone, '-Dtests=false', `--buildtype=${buildtype}`]);
  const dists = {};
  const migrationsDir = join(clone, 'src/store/migrations/sqlite');
  let added = null; // the migration file this series added, replaced by the next one that adds one
  for (const spec of specs) {
    if (spec.migration) {
      if (!added) {
        const last = readdirSync(migrationsDir).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort().pop();
        added = `${String(Number(last.slice(0, 4)) + 1).padStart(4, '0')}_deploy_probe.sql`;
        const meson = readFileSync(join(clone, 'meson.build'), 'utf8');
        const edited = meson.replace(/(migrations = files\([^)]*?)\)/, `$1, 'src/store/migrations/sqlite/${added}')`);
        assert.notEqual(edited, meson, 'meson.build lists the migrations in migrations = files(...)');
        writeFileSync(join(clone, 'meson.build'), edited);
      }
      writeFileSync(join(migrationsDir, added), spec.migration);
      git(clone, 'add', join('src/store/migrations/sqlite', added), 'meson.build');
    }
    const routes = join(clone, 'src/api/read.c');
    const routesBefore = readFileSync(routes, 'utf8');
    if (spec.breakRoute) {
      const file = routes;
      const source = routesBefore;
      const edited = source.replace(`"GET", "${spec.breakRoute}",`, `"GET", "${spec.breakRoute}-removed",`);
      assert.notEqual(edited, source, `src/api/read.c routes ${spec.breakRoute}`);
      writeFileSync(file, edited);
      git(clone, 'add', 'src/api/read.c');
    }
    git(clone, 'commit', '--quiet', '--allow-empty', '-m', `release ${spec.version}`);
    git(clone, 'tag', `v${spec.version}`);
    ok('ninja', ['-C', build, 'musicgraph']);
    dists[spec.version] = pack(build, clone, spec.version, join(keys, 'release.key'));
    if (spec.breakRoute) {
      writeFileSync(routes, routesBefore);
      git(clone, 'add', 'src/api/read.c');
    }
  }
  return { keys, publicKey: join(keys, 'release.pub'), dists };
}

function pack(build, clone, version, key) {
  return packRelease(join(build, 'musicgraph'), version, git(clone, 'rev-parse', 'HEAD'), key, { epoch: git(clone, 'log', '-1', '--format=%ct') });
}

// A release of version made of binary, signed with key (its trusted comment names version and commit),
// as scripts/dist packs one; with deploy, the tarball also carries the repository's deploy/ directory.
export function packRelease(binary, version, commit, key, { deploy = false, epoch = Math.floor(Date.now() / 1000) } = {}) {
  const out = join(tempDir('musicgraph-deploy-dist-'), 'dist');
  const work = tempDir('musicgraph-deploy-stage-');
  const top = `musicgraph-${version}-linux-amd64`;
  mkdirSync(join(work, top, 'bin'), { recursive: true });
  copyFileSync(binary, join(work, top, 'bin/musicgraph'));
  chmodSync(join(work, top, 'bin/musicgraph'), 0o755);
  writeFileSync(join(work, top, 'VERSION'), `${version} ${commit} ${epoch}\n`);
  if (deploy) cpSync(join(repoRoot, 'deploy'), join(work, top, 'deploy'), { recursive: true });
  mkdirSync(out, { recursive: true });
  const tarball = `${top}.tar.gz`;
  ok('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', work, '-czf', join(out, tarball), top]);
  ok('sh', ['-c', `sha256sum ${tarball} > SHA256SUMS`], { cwd: out });
  ok('minisign', ['-S', '-s', key, '-m', join(out, 'SHA256SUMS'), '-x', join(out, 'SHA256SUMS.minisig'),
    '-c', 'musicgraph release signature', '-t', `musicgraph ${version} commit ${commit.slice(0, 12)}`]);
  return out;
}
