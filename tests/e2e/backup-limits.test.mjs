// Restores that cannot brick the server (issue 18): a backup without an
// active admin, and backups past the configurable limits (archive size,
// decompressed size, rows per table, text length) are refused before
// anything is written, each naming the setting that raises the limit; a
// gzip bomb is refused while it streams, before the process grows; 100,000
// accounts are checked (sorted, not compared pairwise) and verify.
// Run: node --test tests/e2e/backup-limits.test.mjs
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { binary } from '../lib/server.mjs';
import {
  cleanEnv, cli, exportOf, ok, readBackup, refused, removeTempDirs, seededState, sha256, takeBackup, tempDir, writeBackup,
} from '../lib/backup.mjs';

const TEST_TIMEOUT = 300_000;
after(removeTempDirs);

// Restore and verify both refuse file, saying pattern; the data stays as it was.
async function refusedBoth(state, file, pattern, env) {
  const before = await exportOf(state);
  for (const cmd of ['restore', 'verify']) {
    // Crafted files are unsigned: --insecure-unsigned lets them reach the check each is about.
    const r = await cli([cmd, file, '--insecure-unsigned', '--state-dir', state], env);
    assert.equal(r.code, 1, `${cmd} should fail: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^musicgraph ${cmd}: `));
    assert.match(r.stderr, pattern);
  }
  assert.equal((await exportOf(state)).payloadText, before.payloadText, 'the database is unchanged');
}

// A seeded state with an admin and a curator.
async function stateWithUsers() {
  const state = await seededState();
  await ok(['user', 'create', 'boss', '--email', 'boss@example.org', '--admin', '--state-dir', state]);
  await ok(['user', 'create', 'curator', '--email', 'curator@example.org', '--state-dir', state]);
  return state;
}

test('a backup without an active admin is refused by restore and verify, naming the reason', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithUsers();
  const { manifest, payload } = readBackup(await takeBackup(state));
  assert.ok(payload.users.some((u) => u.is_admin), 'the backup holds an admin');
  const work = tempDir();
  const demoted = join(work, 'demoted.json.gz');
  writeBackup(demoted, manifest, JSON.stringify({ ...payload, users: payload.users.map((u) => ({ ...u, is_admin: false })) }));
  await refusedBoth(state, demoted, /no active admin/);
  const disabled = join(work, 'disabled.json.gz');
  writeBackup(disabled, manifest, JSON.stringify({ ...payload, users: payload.users.map((u) => ({ ...u, disabled: u.is_admin || u.disabled })) }));
  await refusedBoth(state, disabled, /no active admin/);
});

test('each limit refuses a backup past it with the setting that raises it; within it the backup restores', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithUsers();
  const file = await takeBackup(state);
  const { manifest } = readBackup(file);
  const size = statSync(file).size;
  const cases = [
    [{ MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES: String(size - 1) }, /larger than the limit of \d+ \(MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES raises it\)/],
    [{ MUSICGRAPH_BACKUP_MAX_DOCUMENT_BYTES: '100000' }, /decompresses to more than 100000 bytes.*MUSICGRAPH_BACKUP_MAX_DOCUMENT_BYTES/],
    [{ MUSICGRAPH_BACKUP_MAX_GENRES: String(manifest.counts.genres - 1) }, new RegExp(`holds ${manifest.counts.genres} genres, more than the limit.*MUSICGRAPH_BACKUP_MAX_GENRES`)],
    [{ MUSICGRAPH_BACKUP_MAX_BANDS: '10' }, /bands, more than the limit of 10 \(MUSICGRAPH_BACKUP_MAX_BANDS/],
    [{ MUSICGRAPH_BACKUP_MAX_USERS: '1' }, /holds 2 users, more than the limit of 1 \(MUSICGRAPH_BACKUP_MAX_USERS/],
    [{ MUSICGRAPH_BACKUP_MAX_TEXT_BYTES: '20' }, /payload\.dataset\.genres\[\d+\]\.\w+ is a text of \d+ bytes, longer than the limit of 20 \(MUSICGRAPH_BACKUP_MAX_TEXT_BYTES/],
    [{ MUSICGRAPH_BACKUP_MAX_GENRES: 'lots' }, /MUSICGRAPH_BACKUP_MAX_GENRES must be a whole number of at least 1, not 'lots'/],
  ];
  for (const [env, pattern] of cases) await refusedBoth(state, file, pattern, env);
  // Exactly at every limit: accepted.
  await ok(['restore', file, '--state-dir', state], {
    MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES: String(size),
    MUSICGRAPH_BACKUP_MAX_GENRES: String(manifest.counts.genres),
    MUSICGRAPH_BACKUP_MAX_BANDS: String(manifest.counts.bands),
    MUSICGRAPH_BACKUP_MAX_USERS: String(manifest.counts.users),
  });
});

test('the audit log has its limits too: entries and the length of each text', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithUsers();
  const { manifest, payload } = readBackup(await takeBackup(state));
  const entry = (id, after) => ({ id, at: '2026-01-01T00:00:00Z', actor: 'boss', action: 'update', entity_type: 'genre', entity_id: payload.dataset.genres[0].id, before_json: null, after_json: after });
  const work = tempDir();
  const long = join(work, 'long-audit.json.gz');
  writeBackup(long, manifest, JSON.stringify({ ...payload, audit_log: [entry(1, 'x'.repeat(70000))] }));
  await refusedBoth(state, long, /payload\.audit_log\[0\]\.after_json is a text of 70000 bytes, longer than the limit of 65536/);
  const two = join(work, 'two-audit.json.gz');
  writeBackup(two, manifest, JSON.stringify({ ...payload, audit_log: [entry(1, '{}'), entry(2, '{}')] }));
  await refusedBoth(state, two, /holds 2 audit entries, more than the limit of 1 \(MUSICGRAPH_BACKUP_MAX_AUDIT_ENTRIES/, { MUSICGRAPH_BACKUP_MAX_AUDIT_ENTRIES: '1' });
});

// A document that starts like a backup and then inflates to 1.1 GiB of
// spaces: about a megabyte on disk.
async function writeBomb(file, manifest, signature) {
  const gz = createGzip({ level: 9 });
  const out = createWriteStream(file);
  gz.pipe(out);
  const m = { ...manifest, payload_sha256: sha256('') };
  gz.write(`{"manifest":${JSON.stringify(m)},"signature":${JSON.stringify(signature)},\n"payload":{"dataset":{"genres":[],"bands":[]},"users":[],"audit_log":[`);
  const spaces = Buffer.alloc(1 << 20, 0x20);
  for (let i = 0; i < 1126; i++) if (!gz.write(spaces)) await once(gz, 'drain');
  gz.end(']}}\n');
  await once(out, 'finish');
}

// Peak resident memory of one run, in KiB (GNU time).
function peakKiB(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK %M', binary, ...args], { env: cleanEnv(env) });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const m = /PEAK (\d+)/.exec(stderr);
      assert.ok(m, `no peak from GNU time: ${stderr}`);
      resolve({ code, kib: Number(m[1]), stderr });
    });
  });
}

test('a 1.1 GiB gzip bomb is refused while it streams, before the process grows by 64 MB', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const { manifest, signature } = readBackup(await takeBackup(state));
  const bomb = join(tempDir(), 'bomb.json.gz');
  await writeBomb(bomb, manifest, signature); // it looks signed: only its size gives it away
  assert.ok(statSync(bomb).size < 4 << 20, 'the bomb is small on disk');
  // The baseline: the same command on a small damaged file, refused at once.
  const small = join(tempDir(), 'small.json.gz');
  writeBackup(small, { ...manifest, payload_sha256: sha256('other') }, '{}', { fixSum: false });
  const base = await peakKiB(['verify', small, '--state-dir', state]);
  assert.equal(base.code, 1, base.stderr);
  for (const cmd of ['verify', 'restore']) {
    const r = await peakKiB([cmd, bomb, '--insecure-unsigned', '--state-dir', state]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /decompresses to more than 1073741824 bytes/);
    const grown = r.kib - base.kib;
    assert.ok(grown < 64 * 1024, `${cmd} grew by ${grown} KiB past the baseline of ${base.kib} KiB`);
  }
});

// 100,000 accounts: the checks sort instead of comparing every pair.
function manyUsers(payload, n) {
  const admin = payload.users.find((u) => u.is_admin);
  const users = [admin];
  for (let i = 1; i < n; i++) {
    users.push({ id: admin.id + i, username: `user${i}`, email: `user${i}@example.org`, password_hash: admin.password_hash, is_admin: false, disabled: false, created_at: admin.created_at, last_login_at: null });
  }
  return users;
}

// The payload with other users, every other byte as the program wrote it
// (verify compares what it reads back byte for byte).
function withUsers(payloadText, users) {
  const at = payloadText.indexOf(',"users":[');
  const end = payloadText.indexOf('],"audit_log":', at);
  assert.ok(at > 0 && end > at, 'users in the payload');
  return `${payloadText.slice(0, at)},"users":${JSON.stringify(users)}${payloadText.slice(end + 1)}`;
}

test('100,000 accounts verify; a duplicate among them is named', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithUsers();
  const { manifest, payload, payloadText } = readBackup(await takeBackup(state));
  const users = manyUsers(payload, 100000);
  const work = tempDir();
  const big = join(work, 'many-users.json.gz');
  writeBackup(big, manifest, withUsers(payloadText, users));
  const v = await ok(['verify', big, '--insecure-unsigned', '--state-dir', state]);
  assert.match(v.stdout, /OK, it restores .*100000 users/);
  const dup = join(work, 'duplicate.json.gz');
  users[99999] = { ...users[99999], email: 'USER17@example.org' };
  writeBackup(dup, manifest, withUsers(payloadText, users));
  await refused(['verify', dup, '--insecure-unsigned', '--state-dir', state], /breaks 1 rule/);
  const r = await cli(['verify', dup, '--insecure-unsigned', '--state-dir', state]);
  assert.match(r.stderr, /user user99999: email: is used by another user/);
});
