// Backups nobody can forge (issue 18): every backup's manifest — which
// carries the payload's SHA-256 — is signed with the installation's Ed25519
// key; restore and verify accept only a signature by a trusted key. A
// forger who adds an admin account and fixes the checksum is refused; an
// unsigned file (one from before signatures, or one whose signature was cut
// off) restores only with --insecure-unsigned, which says what it skipped;
// key rotation keeps old backups restorable; another installation's
// backups restore once its key is trusted; import takes accounts with a
// password only from a file signed by a trusted key.
// Run: node --test tests/e2e/backup-sign.test.mjs
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseFor, onPostgres, startServer } from '../lib/server.mjs';
import { sleep } from '../lib/wait.mjs';
import { cli, exportOf, ok, readBackup, refused, removeTempDirs, seededState, takeBackup, tempDir, writeBackup } from '../lib/backup.mjs';

const TEST_TIMEOUT = 180_000;
after(removeTempDirs);

async function stateWithAdmin() {
  const state = await seededState();
  await ok(['user', 'create', 'boss', '--email', 'boss@example.org', '--admin', '--state-dir', state]);
  return state;
}

// The payload with one more user: an admin the forger can log in as.
function plantAdmin(payload) {
  const boss = payload.users.find((u) => u.is_admin);
  const planted = { ...boss, id: boss.id + 1000, username: 'mallory', email: 'mallory@example.org' };
  return JSON.stringify({ ...payload, users: [...payload.users, planted] });
}

test('a forged backup (an admin added, the checksum fixed) is refused; so is one with its signature cut off', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithAdmin();
  const { manifest, signature, payload } = readBackup(await takeBackup(state));
  assert.ok(signature, 'backups are signed');
  const before = await exportOf(state);
  const work = tempDir();
  const forged = join(work, 'forged.json.gz');
  writeBackup(forged, manifest, plantAdmin(payload), { signature });
  for (const cmd of ['verify', 'restore']) {
    await refused([cmd, forged, '--state-dir', state], /signature does not match its manifest \(signed, it says, by ed25519:/);
    // --insecure-unsigned is about unsigned files: a bad signature stays refused.
    await refused([cmd, forged, '--insecure-unsigned', '--state-dir', state], /signature does not match/);
  }
  const stripped = join(work, 'stripped.json.gz');
  writeBackup(stripped, manifest, plantAdmin(payload));
  for (const cmd of ['verify', 'restore']) await refused([cmd, stripped, '--state-dir', state], /is not signed .*--insecure-unsigned/);
  assert.equal((await exportOf(state)).payloadText, before.payloadText, 'nothing was restored');
  assert.ok(!(await exportOf(state)).payload.users.some((u) => u.username === 'mallory'));
});

test('an unsigned backup (as made before signatures) restores with --insecure-unsigned, which says what it skipped', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithAdmin();
  const { manifest, payloadText } = readBackup(await takeBackup(state));
  const old = join(tempDir(), 'musicgraph-20260101T000000Z.json.gz');
  writeBackup(old, manifest, payloadText); // format 1, no signing key: what backups were
  assert.equal(readBackup(old).manifest.format_version, 1);
  const r = await ok(['restore', old, '--insecure-unsigned', '--state-dir', state]);
  assert.match(r.stderr, /warning: .* is not signed; --insecure-unsigned skipped the signature check.*checksum, limits and every data rule were checked/);
  const v = await ok(['verify', old, '--insecure-unsigned', '--state-dir', state]);
  assert.match(v.stdout, /OK, it restores/);
  assert.match(v.stderr, /skipped the signature check/);
});

test('key rotation: new backups carry the new key, old ones still verify and restore', { timeout: TEST_TIMEOUT }, async () => {
  const state = await stateWithAdmin();
  const first = await takeBackup(state);
  const shown = (await ok(['backup-key', 'show', '--state-dir', state])).stdout;
  const oldKey = readBackup(first).manifest.signing_key;
  assert.ok(shown.startsWith(`${oldKey} this installation's signing key`), shown);
  assert.equal(statSync(join(state, 'backup-signing.key')).mode & 0o777, 0o600);
  assert.ok(!readFileSync(first).includes(readFileSync(join(state, 'backup-signing.key'))), 'the key is not in the backup');
  const rotated = (await ok(['backup-key', 'rotate', '--state-dir', state])).stdout;
  assert.match(rotated, new RegExp(`stays trusted`));
  await sleep(1100); // backup names have a one-second resolution
  const second = await takeBackup(state);
  const newKey = readBackup(second).manifest.signing_key;
  assert.notEqual(newKey, oldKey);
  const list = (await ok(['backup-key', 'show', '--state-dir', state])).stdout;
  assert.ok(list.startsWith(newKey) && list.includes(oldKey), list);
  await ok(['verify', first, '--state-dir', state]);
  await ok(['restore', first, '--state-dir', state]);
  await ok(['verify', second, '--state-dir', state]);
});

test('a backup signed by another installation is refused until its key is trusted', { timeout: TEST_TIMEOUT }, async () => {
  const other = await stateWithAdmin();
  const mine = await stateWithAdmin();
  const theirs = await takeBackup(other);
  const key = readBackup(theirs).manifest.signing_key;
  await refused(['verify', theirs, '--state-dir', mine], new RegExp(`signed by ${key.replace(/[+/]/g, '\\$&')}, a key this installation does not trust`));
  const pub = join(tempDir(), 'other.pub');
  writeFileSync(pub, (await ok(['backup-key', 'show', '--state-dir', other])).stdout);
  await refused(['backup-key', 'trust', join(tempDir(), 'missing.pub'), '--state-dir', mine], /cannot open/);
  const junk = join(tempDir(), 'junk.pub');
  writeFileSync(junk, 'ed25519:not-a-key\n');
  await refused(['backup-key', 'trust', junk, '--state-dir', mine], /holds no key/);
  assert.match((await ok(['backup-key', 'trust', pub, '--state-dir', mine])).stdout, /trusted 1 new key/);
  assert.match((await ok(['backup-key', 'trust', pub, '--state-dir', mine])).stdout, /trusted 0 new keys/);
  await ok(['verify', theirs, '--state-dir', mine]);
  const r = await cli(['backup-key', 'nonsense', '--state-dir', mine]);
  assert.equal(r.code, 2);
});

// import loads another installation's export (a staging copy): the map is
// checked by every rule whoever wrote it, but an account that can log in is
// taken only from a file signed by a trusted key — else a forged file could
// add an admin whose password its author knows.
test('import takes accounts with a password only from a file signed by a trusted key', { timeout: TEST_TIMEOUT }, async () => {
  const source = await seededState();
  const created = await ok(['user', 'create', 'boss', '--email', 'boss@example.org', '--admin', '--state-dir', source]);
  const bossPassword = created.stdout.match(/password \(shown once\): (\S+)/)[1];
  const exported = join(tempDir(), 'export.json.gz');
  await ok(['export', exported, '--state-dir', source]);
  const { manifest, signature, payload } = readBackup(exported);
  assert.ok(signature && manifest.signing_key, 'exports are signed');
  const usernames = async (state) => (await exportOf(state)).payload.users.map((u) => u.username).sort();

  // The forger's file: an admin "mallory" with boss's hash, the signature cut off.
  const forged = join(tempDir(), 'forged.json.gz');
  writeBackup(forged, manifest, plantAdmin(payload));
  const target = tempDir();
  const r = await ok(['import', forged, '--state-dir', target]);
  assert.match(r.stdout, /0 users added/);
  assert.match(r.stderr, /2 accounts with a password were not added \(boss, mallory\): it is not signed\. .*--insecure-unsigned/);
  assert.deepEqual(await usernames(target), [], 'no account came from the file');
  assert.equal((await exportOf(target)).payload.dataset.genres.length, payload.dataset.genres.length, 'the map was imported');

  // Said explicitly, the accounts come too (and the planted admin logs in).
  const insecure = tempDir();
  const taken = await ok(['import', forged, '--insecure-unsigned', '--state-dir', insecure]);
  assert.match(taken.stdout, /2 users added/);
  assert.match(taken.stderr, /warning: .* is not signed; --insecure-unsigned took its accounts/);
  const srv = await startServer({ stateDir: insecure, seed: false });
  try {
    const login = await fetch(`${srv.url}/api/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mallory', password: bossPassword }),
    });
    assert.equal(login.status, 200, 'what the default refuses: the forger logs in as an admin');
  } finally {
    await srv.stop();
  }

  // The genuine export, on another installation: accounts wait for its key to be trusted.
  const other = tempDir();
  const first = await ok(['import', exported, '--state-dir', other]);
  assert.match(first.stderr, new RegExp(`1 account with a password was not added \\(boss\\): it is signed by ${manifest.signing_key.replace(/[+/]/g, '\\$&')}, a key this installation does not trust.*once the key is trusted, import the file again`));
  const pub = join(tempDir(), 'source.pub');
  writeFileSync(pub, (await ok(['backup-key', 'show', '--state-dir', source])).stdout);
  await ok(['backup-key', 'trust', pub, '--state-dir', other]);
  const second = await ok(['import', exported, '--merge', '--state-dir', other]);
  assert.match(second.stdout, /1 user added/);
  assert.equal(second.stderr, '');
  assert.deepEqual(await usernames(other), ['boss']);

  // On the installation that signed it, the forged file keeping the signature is refused whole.
  const tampered = join(tempDir(), 'tampered.json.gz');
  writeBackup(tampered, manifest, plantAdmin(payload), { signature });
  await refused(['import', tampered, '--replace', '--state-dir', source], /signature does not match its manifest/);
  assert.deepEqual(await usernames(source), ['boss']);
});

// Instances on one database each have their own state directory (and
// signing key); every signing key records its public half in the
// database, so each trusts what the others signed — a backup never can.
test('a signing key is recorded in the database: another state directory on it trusts its backups', { timeout: TEST_TIMEOUT }, async () => {
  const first = await stateWithAdmin();
  const file = await takeBackup(first);
  const { manifest, payloadText } = readBackup(file);
  assert.ok(!payloadText.includes(manifest.signing_key.slice(8)), 'the key is not inside the backup');
  // The database of a state directory: its SQLite file, or its PostgreSQL database (tests/run's second pass).
  const urlOf = async (state) => (onPostgres ? databaseFor(state) : `sqlite://${join(state, 'musicgraph.db')}`);
  const db = ['--database-url', await urlOf(first)];
  const second = tempDir();
  const shown = (await ok(['backup-key', 'show', '--state-dir', second, ...db])).stdout;
  assert.ok(shown.includes(`${manifest.signing_key} signs on `), shown);
  assert.match((await ok(['verify', file, '--state-dir', second, ...db])).stdout, /OK, it restores/);
  // The same state directory on another database trusts only its own keys.
  const elsewhere = await seededState();
  await refused(['verify', file, '--state-dir', second, '--database-url', await urlOf(elsewhere)], /a key this installation does not trust/);
});
