// A new server from nothing (issue 19): deploy/cloud-init/musicgraph.yaml and deploy/provision.
//
//  - the cloud-init user data passes `cloud-init schema`, and the provision script it carries is
//    deploy/provision byte for byte (deploy/cloud-init/render writes it);
//  - deploy/provision runs as root in a fresh Debian 12 root filesystem (tests/fresh/rootfs: the one
//    `make test-fresh` uses, cached), installing a release of the commit under test — the release
//    binary with deploy/, signed with a throwaway minisign key, published into a directory store.
//    A chroot has no systemd: the script enables the units without starting them, and the test starts
//    the installed binary itself the way musicgraph.service would (its user, its Environment= lines,
//    the secret key as a credential), then asks /readyz. A second run changes nothing. A tampered
//    tarball or another key stops it with a clear message, before any user, unit or binary exists.
//    Then the same server is provisioned again from an S3 store (s3rver, checking every SigV4 signature).
//
// Run (as root): MUSICGRAPH_RELEASE_BIN=build/musicgraph node --test tests/e2e/provision.test.mjs
// (MUSICGRAPH_FRESH_KEEP=1 keeps the root filesystem afterwards, to look at.)
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/server.mjs';
import { MINUTE, git, have, newKey, ok, removeTemps, run, runAsync, tempDir } from '../lib/release.mjs';
import { startS3 } from '../lib/s3rver.mjs';
import { NGINX, startHttpsStore } from '../lib/httpsstore.mjs';
import { packRelease } from '../lib/deploy.mjs';
import { sleep } from '../lib/wait.mjs';

const releaseBin = process.env.MUSICGRAPH_RELEASE_BIN || join(repoRoot, 'build', 'musicgraph');
const cacheTar = join(process.env.MUSICGRAPH_FRESH_CACHE || '/var/cache/musicgraph-fresh', 'bookworm-minbase.tar');
const userData = join(repoRoot, 'deploy/cloud-init/musicgraph.yaml');

after(removeTemps);

const chrootSkip =
  process.getuid() !== 0 ? 'needs root (chroot and mounts)'
  // make test-fresh runs the suite in a chroot: a second root filesystem is not built inside it
  // (it would be debootstrapped there from nothing); the host's make test runs these.
  : process.env.MUSICGRAPH_CHROOT ? "inside make test-fresh's chroot (the host's make test provisions a root filesystem)"
  : !have('chroot') ? 'chroot is not installed'
  : !have('minisign') ? 'minisign is not installed (scripts/deps --test)'
  : !existsSync(releaseBin) ? `no release binary at ${releaseBin} (ninja -C build musicgraph)`
  : !existsSync(cacheTar) && !have('debootstrap') && !have('apt-get') ? 'no cached Debian 12 root filesystem and no way to build one'
  : false;

describe('cloud-init user data', () => {
  test('passes cloud-init schema', { skip: have('cloud-init') ? false : 'cloud-init is not installed (scripts/deps --test)' }, () => {
    const r = run('cloud-init', ['schema', '--config-file', userData]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Valid cloud-config/);
  });

  test('carries deploy/provision unchanged, and the variables come first', () => {
    const r = run('sh', [join(repoRoot, 'deploy/cloud-init/render'), '--check']);
    assert.equal(r.status, 0, `deploy/cloud-init/render --check: ${r.stdout}${r.stderr}`);
    const text = readFileSync(userData, 'utf8');
    assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init reads user data as cloud-config only after #cloud-config');
    const vars = text.indexOf('- path: /etc/musicgraph/provision.env');
    assert.ok(vars > 0 && vars < text.indexOf('- path: /usr/local/sbin/musicgraph-provision'), 'the variables are the first file');
    for (const v of ['MG_ENV', 'MG_CHANNEL', 'MG_DOMAIN', 'MG_RELEASE_STORE', 'MG_RELEASE_PUBLIC_KEY', 'MG_SSH_CIDR'])
      assert.match(text.slice(0, text.indexOf('- path: /usr/local/sbin/musicgraph-provision')), new RegExp(`\\b${v}=`), v);
    assert.doesNotMatch(text, /[$%]\{/, 'no templatefile() placeholder syntax: OpenTofu/Terraform can pass the file through templatefile()');
  });

  test('the OpenTofu/Terraform template of docs/operations.md, filled in, passes cloud-init schema', { skip: have('cloud-init') ? false : 'cloud-init is not installed (scripts/deps --test)' }, () => {
    const docs = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');
    const sed = docs.split('\n').find((l) => l.startsWith('sed -E ') && l.includes('musicgraph.yaml.tftpl'));
    assert.ok(sed, 'docs/operations.md shows the sed line that makes the template');
    const dir = tempDir('musicgraph-tftpl-');
    ok('sh', ['-c', sed.replace('deploy/cloud-init/musicgraph.yaml', userData)], { cwd: dir });
    const template = readFileSync(join(dir, 'musicgraph.yaml.tftpl'), 'utf8');
    const names = [...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    assert.ok(names.includes('MG_RELEASE_PUBLIC_KEY') && names.includes('MG_SSH_CIDR'), names.join(' '));
    // What templatefile() does with the map of the example: every placeholder replaced.
    const hcl = docs.slice(docs.indexOf('user_data = templatefile('));
    for (const n of names) assert.match(hcl.slice(0, hcl.indexOf('})')), new RegExp(`\\b${n}\\s*=`), `the example passes ${n}`);
    writeFileSync(join(dir, 'user-data.yaml'), template.replace(/\$\{(\w+)\}/g, (_, n) => (n === 'MG_SSH_CIDR' ? '10.0.0.0/8, 192.0.2.1/32' : `value-of-${n}`)));
    const r = run('cloud-init', ['schema', '--config-file', join(dir, 'user-data.yaml')]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(readFileSync(join(dir, 'user-data.yaml'), 'utf8'), /^ {6}MG_SSH_CIDR='10\.0\.0\.0\/8, 192\.0\.2\.1\/32'$/m);
  });

  test('deploy/provision and deploy/cloud-init/render pass shellcheck', { skip: have('shellcheck') ? false : 'shellcheck is not installed' }, () => {
    ok('shellcheck', ['-s', 'sh', join(repoRoot, 'deploy/provision'), join(repoRoot, 'deploy/cloud-init/render')]);
  });
});

// The whole suite: building the root filesystem the first time on a machine takes minutes.
describe('deploy/provision in a fresh Debian 12', { timeout: 25 * MINUTE }, () => {
  let root, store, keys, dist, mounts = [], server, basePackages;
  const packages = () => new Set(ok('chroot', [root, 'dpkg-query', '-W', '-f', '${Package}\n']).trim().split('\n'));
  // The version the binary reports: the deploy agent checks that the release runs as the version it is.
  const version = chrootSkip ? '' : run(releaseBin, ['--version']).stdout.split(' ')[1];
  const env = {
    MG_ENV: 'production',
    MG_CHANNEL: 'dev',
    MG_RELEASE_STORE: '/srv/releases',
    MG_SSH_CIDR: '192.0.2.0/24, 2001:db8::/32',
    // Secrets given as variables (unused by a directory store, but written and handed to the units).
    MG_S3_ACCESS_KEY_ID: 'provision-test-key-id',
    MG_S3_SECRET_ACCESS_KEY: 'provision-test-secret',
  };

  // Runs a command in the chroot (a login-like environment), to completion.
  const chrootArgs = (script) =>
    [root, '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8',
      ...['http_proxy', 'https_proxy', 'no_proxy'].filter((v) => process.env[v]).map((v) => `${v}=${process.env[v]}`), '/bin/sh', '-c', script];
  const inRoot = (script, opts = {}) => run('chroot', chrootArgs(script), { timeout: 8 * MINUTE, ...opts });
  // deploy/provision with these variables, as cloud-init runs it (a file of NAME=value lines).
  const provisionScript = (vars) => {
    writeFileSync(join(root, 'root/provision.env'), Object.entries(vars).map(([k, v]) => `${k}='${v}'\n`).join(''));
    copyFileSync(join(repoRoot, 'deploy/provision'), join(root, 'root/provision'));
    return 'sh /root/provision /root/provision.env';
  };
  const provision = (vars) => inRoot(provisionScript(vars));
  const publicKey = (name) => readFileSync(join(keys, `${name}.pub`), 'utf8').trim().split('\n').pop();
  const mount = (...args) => {
    ok('mount', args);
    mounts.unshift(args[args.length - 1]);
  };

  before(() => {
    if (chrootSkip) return;
    keys = tempDir('musicgraph-provision-keys-');
    newKey(keys, 'release');
    newKey(keys, 'other');
    dist = packRelease(releaseBin, version, git(repoRoot, 'rev-parse', 'HEAD'), join(keys, 'release.key'), { deploy: true });
    // Not a tempDir: removeTemps must never delete through a mount that is still there (/dev).
    root = join(mkdtempSync(join(tmpdir(), 'musicgraph-provision-')), 'root');
    mkdirSync(root);
    const started = Date.now();
    ok(join(repoRoot, 'tests/fresh/rootfs'), [root], { timeout: 15 * MINUTE });
    console.log(`# fresh root filesystem ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    mount('-t', 'proc', 'proc', join(root, 'proc'));
    mount('--bind', '/dev', join(root, 'dev'));
    // Downloaded packages are kept between runs beside the cached root filesystem ("packages cached").
    const debs = join(cacheTar, '..', 'apt-archives');
    mkdirSync(join(debs, 'partial'), { recursive: true });
    mount('--bind', debs, join(root, 'var/cache/apt/archives'));
    // As in tests/fresh/run: packages installed in the chroot never start daemons on the host's network.
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    basePackages = packages();
    store = join(root, 'srv/releases');
    mkdirSync(store, { recursive: true });
    ok(releaseBin, ['release', 'publish', dist, '--to', store, '--public-key', join(keys, 'release.pub')]);
    ok(releaseBin, ['release', 'promote', version, 'dev', '--to', store]);
    env.MG_RELEASE_PUBLIC_KEY = publicKey('release');
  }, { timeout: 20 * MINUTE });

  after(async () => {
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    // Whatever still runs in the chroot (a provision cut short by its timeout) was started here: end it.
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let where = '';
      try {
        where = readlinkSync(`/proc/${pid}/root`);
      } catch {}
      if (root && where === root) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
    }
    for (const m of mounts) run('umount', ['-l', m]);
    if (process.env.MUSICGRAPH_FRESH_KEEP === '1') console.log(`# kept ${root}`);
    else if (root && !mounts.some((m) => readFileSync('/proc/mounts', 'utf8').includes(` ${m} `))) rmSync(join(root, '..'), { recursive: true, force: true });
  });

  // What provisioning must not have left behind after a refusal.
  const assertNothingInstalled = () => {
    for (const p of ['usr/local/bin/musicgraph', 'opt/musicgraph/current', 'etc/systemd/system/musicgraph.service', 'etc/musicgraph/musicgraph.conf', 'etc/musicgraph/secret_key'])
      assert.equal(existsSync(join(root, p)), false, `/${p} exists after a refused release`);
    assert.doesNotMatch(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^musicgraph:/m, 'no user created');
  };

  test('a release signed by another key or a tampered tarball stops it before anything is installed', { skip: chrootSkip, timeout: 10 * MINUTE }, () => {
    const other = provision({ ...env, MG_RELEASE_PUBLIC_KEY: publicKey('other') });
    assert.notEqual(other.status, 0, other.stdout);
    assert.ok(other.stderr.includes(`release ${version}: the signature of SHA256SUMS does not verify with MG_RELEASE_PUBLIC_KEY`), other.stderr);
    assert.match(other.stderr, /nothing installed/);
    assertNothingInstalled();

    const tampered = join(root, 'srv/tampered');
    cpSync(store, tampered, { recursive: true });
    const tarball = join(tampered, 'releases', version, `musicgraph-${version}-linux-amd64.tar.gz`);
    const bytes = readFileSync(tarball);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(tarball, bytes);
    const t = provision({ ...env, MG_RELEASE_STORE: '/srv/tampered' });
    assert.notEqual(t.status, 0, t.stdout);
    assert.ok(t.stderr.includes(`release ${version}: musicgraph-${version}-linux-amd64.tar.gz does not match its SHA-256 in the signed SHA256SUMS`), t.stderr);
    assertNothingInstalled();
  });

  let firstRun;
  test('installs the user, directories, configuration, units, firewall and the checked binary', { skip: chrootSkip, timeout: 10 * MINUTE }, () => {
    const started = Date.now();
    firstRun = provision(env);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    assert.equal(firstRun.status, 0, `provision failed:\n${firstRun.stdout}\n${firstRun.stderr}`);
    const added = [...packages()].filter((p) => !basePackages.has(p)).sort();
    console.log(`# provision: ${seconds} s (its packages downloaded before, but for minisign installed by the refused runs); it added ${added.length} packages: ${added.join(' ')}`);
    assert.match(firstRun.stdout, /systemd is not running here: units enabled, not started/);

    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^musicgraph:x:(\d+):(\d+):[^:]*:([^:]*):([^:\n]*)$/m);
    assert.ok(passwd, 'the user musicgraph exists');
    assert.ok(Number(passwd[1]) < 1000, 'a system user');
    assert.equal(passwd[4], '/usr/sbin/nologin');
    const mode = (p) => (statSync(join(root, p)).mode & 0o7777).toString(8);
    const owner = (p) => `${statSync(join(root, p)).uid}`;
    assert.equal(mode('var/lib/musicgraph'), '750');
    assert.equal(owner('var/lib/musicgraph'), passwd[1]);
    assert.equal(mode('etc/musicgraph/secret_key'), '600');
    assert.equal(owner('etc/musicgraph/secret_key'), '0');
    assert.ok(readFileSync(join(root, 'etc/musicgraph/secret_key'), 'utf8').trim().length >= 32);
    const conf = readFileSync(join(root, 'etc/musicgraph/musicgraph.conf'), 'utf8');
    assert.match(conf, /^MUSICGRAPH_DEPLOY_STORE=\/srv\/releases$/m);
    assert.match(conf, /^MUSICGRAPH_DEPLOY_CHANNEL=dev$/m);
    assert.match(conf, /^MUSICGRAPH_RELEASE_PUBLIC_KEY=\/etc\/musicgraph\/musicgraph-release.pub$/m);
    assert.equal(readFileSync(join(root, 'etc/musicgraph/musicgraph-release.pub'), 'utf8').trim().split('\n').pop(), publicKey('release'));
    for (const s of ['s3_access_key_id', 's3_secret_access_key']) {
      assert.equal(mode(`etc/musicgraph/${s}`), '600', s);
      assert.equal(owner(`etc/musicgraph/${s}`), '0', s);
    }
    assert.match(readFileSync(join(root, 'etc/musicgraph/s3_secret_access_key'), 'utf8'), /^provision-test-secret$/m);
    assert.doesNotMatch(conf, /provision-test|_FILE=/, 'no secret and no _FILE setting in musicgraph.conf (it would refuse an unknown setting)');
    const backupDropIn = readFileSync(join(root, 'etc/systemd/system/musicgraph-backup.service.d/provision.conf'), 'utf8');
    assert.match(backupDropIn, /^LoadCredential=s3_secret_access_key:\/etc\/musicgraph\/s3_secret_access_key$/m);
    assert.match(backupDropIn, /^Environment=MUSICGRAPH_S3_SECRET_ACCESS_KEY_FILE=%d\/s3_secret_access_key$/m);
    assert.match(readFileSync(join(root, 'etc/systemd/system/musicgraph-deploy.service.d/provision.conf'), 'utf8'),
      /^Environment=MUSICGRAPH_S3_ACCESS_KEY_ID_FILE=\/etc\/musicgraph\/s3_access_key_id$/m);

    // The binary is the signed release's, installed the deploy agent's way.
    assert.equal(readlinkSync(join(root, 'usr/local/bin/musicgraph')), '/opt/musicgraph/current/bin/musicgraph');
    assert.equal(readlinkSync(join(root, 'opt/musicgraph/current')), `releases/${version}`);
    assert.ok(readFileSync(join(root, 'opt/musicgraph/current/bin/musicgraph')).equals(readFileSync(releaseBin)));
    assert.match(readFileSync(join(root, 'opt/musicgraph/history.jsonl'), 'utf8'), /"result":\s*"installed"/);

    const units = ['musicgraph.service', 'musicgraph.socket', 'musicgraph-backup.service', 'musicgraph-backup.timer', 'musicgraph-deploy.service', 'musicgraph-deploy.timer'];
    for (const u of units)
      assert.ok(readFileSync(join(root, 'etc/systemd/system', u)).equals(readFileSync(join(repoRoot, 'deploy/systemd', u))), u);
    for (const link of ['sockets.target.wants/musicgraph.socket', 'multi-user.target.wants/musicgraph.service', 'timers.target.wants/musicgraph-backup.timer', 'timers.target.wants/musicgraph-deploy.timer', 'sysinit.target.wants/nftables.service'])
      assert.ok(linkExists(join(root, 'etc/systemd/system', link)), `${link} (enabled)`);
    assert.match(readFileSync(join(root, 'etc/systemd/system/musicgraph.socket.d/provision.conf'), 'utf8'), /^ListenStream=80$/m);
    const verify = inRoot(`systemd-analyze verify ${units.map((u) => `/etc/systemd/system/${u}`).join(' ')}`);
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', `systemd-analyze verify warned:\n${verify.stderr}`);

    const nft = readFileSync(join(root, 'etc/nftables.conf'), 'utf8');
    assert.match(nft, /policy drop;/);
    assert.match(nft, /tcp dport \{ 80, 443 \} accept/);
    assert.match(nft, /ip saddr 192\.0\.2\.0\/24 tcp dport 22 accept/);
    assert.match(nft, /ip6 saddr 2001:db8::\/32 tcp dport 22 accept/);
    const check = inRoot('nft -c -f /etc/nftables.conf');
    assert.equal(check.status, 0, check.stderr);
    assert.match(readFileSync(join(root, 'etc/ssh/sshd_config.d/10-musicgraph.conf'), 'utf8'), /^PermitRootLogin no$/m);
    assert.match(readFileSync(join(root, 'etc/apt/apt.conf.d/20auto-upgrades'), 'utf8'), /Unattended-Upgrade "1"/);
    assert.ok(linkExists(join(root, 'etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service')), 'time sync enabled');
  });

  test('the server started as musicgraph.service would start it answers /readyz', { skip: chrootSkip, timeout: 3 * MINUTE }, async () => {
    assert.equal(firstRun?.status, 0, 'provisioned');
    // The unit's Environment= lines (its own, then the drop-in's), %d being its credentials directory.
    const creds = '/run/credentials/musicgraph.service';
    const unitEnv = ['etc/systemd/system/musicgraph.service', 'etc/systemd/system/musicgraph.service.d/provision.conf']
      .flatMap((f) => readFileSync(join(root, f), 'utf8').split('\n'))
      .filter((l) => l.startsWith('Environment='))
      .map((l) => l.slice('Environment='.length).replace('%d', creds));
    // LoadCredential=secret_key:/etc/musicgraph/secret_key, and the state directory systemd would pass.
    mkdirSync(join(root, creds), { recursive: true });
    copyFileSync(join(root, 'etc/musicgraph/secret_key'), join(root, creds, 'secret_key'));
    ok('chroot', [root, 'chown', '-R', 'musicgraph:', creds]);
    const port = await freePort();
    const child = spawn('chroot', [root, 'setpriv', '--reuid=musicgraph', '--regid=musicgraph', '--init-groups',
      '/usr/bin/env', '-i', ...unitEnv, 'STATE_DIRECTORY=/var/lib/musicgraph', `MUSICGRAPH_LISTEN=127.0.0.1:${port}`,
      '/usr/local/bin/musicgraph', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    server = { child, exited: new Promise((r) => child.on('exit', r)) };
    let status = 0;
    for (let i = 0; i < 240 && status !== 200 && child.exitCode === null; i++) {
      status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
      if (status !== 200) await sleep(250);
    }
    assert.equal(status, 200, `/readyz did not answer 200:\n${log}`);
    assert.match(log, /"env":\s*"production"|production/, 'runs in production, as the drop-in says');
    child.kill('SIGTERM');
    await server.exited;
    server = null;
    assert.ok(existsSync(join(root, 'var/lib/musicgraph/musicgraph.db')), 'the database is in the state directory');
  });

  test('a second run changes nothing', { skip: chrootSkip, timeout: 5 * MINUTE }, () => {
    assert.equal(firstRun?.status, 0, 'provisioned');
    // Every file, link and directory the script touches: path, type, mode, owner, target, checksum.
    const listing = () =>
      ok('chroot', [root, 'sh', '-c', `find /etc /opt /usr/local /var/lib/musicgraph /var/lib/dpkg/status -xdev -printf '%p %y %m %u:%g %l\\n' | sort;
        find /etc /opt /usr/local /var/lib/musicgraph -xdev -type f -print0 | sort -z | xargs -0 sha256sum`], { maxBuffer: 256 << 20 });
    const before = listing();
    const second = provision(env);
    assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
    const after = listing();
    const seen = new Set(before.split("\n"));
    const differ = after.split("\n").filter((l) => !seen.has(l));
    assert.deepEqual(differ, [], 'the second run changed these');
    assert.doesNotMatch(second.stdout, /wrote|installing|generated|created|linked|installed release/);
  });

  test('from an S3 store: the script fetches with signed requests, the agent reads with the key files', { skip: chrootSkip, timeout: 5 * MINUTE }, async () => {
    assert.equal(firstRun?.status, 0, 'provisioned');
    const s3 = await startS3({ buckets: ['releases'] });
    try {
      const s3store = 's3://releases/musicgraph';
      for (const args of [['publish', dist, '--to', s3store, '--public-key', join(keys, 'release.pub')], ['promote', version, 'dev', '--to', s3store]]) {
        const r = await runAsync(releaseBin, ['release', ...args], { env: s3.env });
        assert.equal(r.status, 0, r.stderr);
      }
      const published = s3.requests.length;
      // The same server now follows the S3 store (this process answers for s3rver: run without blocking).
      const r = await runAsync('chroot', chrootArgs(provisionScript({
        ...env,
        MG_RELEASE_STORE: s3store,
        MG_S3_ENDPOINT: s3.endpoint,
        MG_S3_REGION: s3.env.MUSICGRAPH_S3_REGION,
        MG_S3_ACCESS_KEY_ID: s3.env.MUSICGRAPH_S3_ACCESS_KEY_ID,
        MG_S3_SECRET_ACCESS_KEY: s3.env.MUSICGRAPH_S3_SECRET_ACCESS_KEY,
      })));
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /signature by MG_RELEASE_PUBLIC_KEY and SHA-256 checked/);
      const seen = s3.requests.slice(published);
      assert.deepEqual(seen.filter((q) => q.status !== 200), [], 'every request was signed and answered');
      // The script's four downloads, then the agent's look at the channel (it finds its version installed).
      const got = seen.map((q) => q.url.split('?')[0]);
      for (const name of ['channels/dev', `releases/${version}/SHA256SUMS`, `releases/${version}/SHA256SUMS.minisig`, `releases/${version}/musicgraph-${version}-linux-amd64.tar.gz`])
        assert.ok(got.includes(`/releases/musicgraph/${name}`), `${name} fetched: ${got.join(' ')}`);
      assert.ok(got.filter((u) => u === '/releases/musicgraph/channels/dev').length >= 2, `the agent read the channel too: ${got.join(' ')}`);
      assert.match(readFileSync(join(root, 'etc/musicgraph/musicgraph.conf'), 'utf8'), /^MUSICGRAPH_DEPLOY_STORE=s3:\/\/releases\/musicgraph$/m);
      assert.equal(readFileSync(join(root, 'etc/musicgraph/s3_access_key_id'), 'utf8').trim(), s3.env.MUSICGRAPH_S3_ACCESS_KEY_ID);
    } finally {
      await s3.stop();
    }
  });

  test('from an HTTPS store with a private CA: the script and the agent check the certificate with it', { skip: chrootSkip || (!NGINX && 'nginx is not installed (scripts/deps --test)'), timeout: 5 * MINUTE }, async () => {
    assert.equal(firstRun?.status, 0, 'provisioned');
    const hs = await startHttpsStore({ user: 'publisher', password: 'provision-store-pass-7Qx' });
    try {
      const storeEnv = { MUSICGRAPH_RELEASE_STORE_CA_FILE: hs.caFile, MUSICGRAPH_RELEASE_STORE_AUTH_FILE: hs.authFile };
      for (const args of [['publish', dist, '--to', hs.url, '--public-key', join(keys, 'release.pub')], ['promote', version, 'dev', '--to', hs.url]]) {
        const r = await runAsync(releaseBin, ['release', ...args], { env: storeEnv });
        assert.equal(r.status, 0, r.stderr);
      }
      const vars = { ...env, MG_RELEASE_STORE: hs.url };
      // Without the store's CA, the download is refused before anything is installed.
      let r = await runAsync('chroot', chrootArgs(provisionScript(vars)));
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /cannot read channels\/dev in https:\/\/127\.0\.0\.1:\d+\/musicgraph\//);
      copyFileSync(hs.caFile, join(root, 'root/store-ca.pem'));
      const logged = hs.accessLog().length;
      r = await runAsync('chroot', chrootArgs(provisionScript({ ...vars, MG_RELEASE_STORE_CA_FILE: '/root/store-ca.pem' })));
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /signature by MG_RELEASE_PUBLIC_KEY and SHA-256 checked/);
      const got = hs.accessLog().slice(logged);
      for (const name of ['channels/dev', `releases/${version}/SHA256SUMS`, `releases/${version}/SHA256SUMS.minisig`, `releases/${version}/musicgraph-${version}-linux-amd64.tar.gz`])
        assert.ok(got.includes(`GET /musicgraph/${name} 200`), `${name} fetched: ${got.join(' | ')}`);
      assert.ok(got.filter((l) => l === 'GET /musicgraph/channels/dev 200').length >= 2, `the agent read the channel too: ${got.join(' | ')}`);
      const conf = readFileSync(join(root, 'etc/musicgraph/musicgraph.conf'), 'utf8');
      assert.match(conf, /^MUSICGRAPH_DEPLOY_STORE=https:\/\/127\.0\.0\.1:\d+\/musicgraph\/$/m);
      assert.match(conf, /^MUSICGRAPH_RELEASE_STORE_CA_FILE=\/etc\/musicgraph\/release-store-ca\.pem$/m);
      assert.equal(readFileSync(join(root, 'etc/musicgraph/release-store-ca.pem'), 'utf8'), readFileSync(hs.caFile, 'utf8'));
    } finally {
      await hs.stop();
    }
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Whether a link is there (its target, absolute inside the chroot, is not a path of this machine).
function linkExists(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
