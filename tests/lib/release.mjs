// Helpers of the release tests (tests/e2e/release*.test.mjs): commands run to completion, clones of
// the commit under test, throwaway signing keys and `make dist` into a directory of its own.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';

export const MINUTE = 60_000;

const temps = [];
export const tempDir = (prefix) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
// For after(): removes every directory tempDir made.
export const removeTemps = () => temps.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));

// Every command has a deadline (5 minutes unless told), so a hung tool fails its test instead of the file.
export const run = (cmd, args, opts = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 5 * MINUTE, killSignal: 'SIGKILL', ...opts, env: { ...process.env, ...(opts.env || {}) } });
export const ok = (cmd, args, opts) => {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};
// The same without blocking the event loop: for commands that talk to a server running in this process.
export const runAsync = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...(opts.env || {}) } });
    let stdout = '';
    let stderr = '';
    // Decoded as one stream: a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
export const have = (cmd) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const git = (dir, ...args) => ok('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args]).trim();

// A clone of the commit under test (what `make dist` builds), with node_modules borrowed.
export function cloneHead() {
  const dir = join(tempDir('musicgraph-release-'), 'musicgraph');
  ok('git', ['clone', '--quiet', '--shared', '--no-checkout', repoRoot, dir]);
  git(dir, 'checkout', '--quiet', '--detach', git(repoRoot, 'rev-parse', 'HEAD'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

// A minisign key pair NAME.pub / NAME.key in dir, without a password.
export function newKey(dir, name) {
  ok('minisign', ['-G', '-W', '-p', join(dir, `${name}.pub`), '-s', join(dir, `${name}.key`)]);
}

// `make dist` of clone into a new directory, signed with key; logs the time; returns the directory.
export function makeDist(clone, key) {
  const out = join(tempDir('musicgraph-dist-'), 'dist');
  const started = Date.now();
  ok('make', ['-C', clone, 'dist'], { env: { DIST_DIR: out, MINISIGN_SECRET_KEY: key } });
  console.log(`# make dist: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}
