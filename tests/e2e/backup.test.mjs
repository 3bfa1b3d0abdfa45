// Black-box tests of data safety (issue 5): backup, restore, verify, prune,
// backups, export, import, offsite copies on S3, the pre-migration backup.
// Everything runs the real binary; the S3 server is s3rver on loopback
// behind a Signature V4 check (tests/lib/s3rver.mjs).
// With MUSICGRAPH_TEST_PG (tests/run's second pass) every state directory
// gets a PostgreSQL database of its own (tests/lib/server.mjs); what only
// SQLite has (its file on a full tmpfs) is skipped there, by name.
// Run: node --test tests/e2e/backup.test.mjs
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadFamilies } from '../../tools/dataset.mjs';
import { binary, databaseFor, onPostgres, repoRoot, startServer } from '../lib/server.mjs';
import { SECRET_KEY, checkSignature, signedS3, startS3 } from '../lib/s3rver.mjs';
import { sleep, waitFor } from '../lib/wait.mjs';
import {
  NAME_RE, backupsIn, cleanEnv, cli, countsOf, exportOf, ok, readBackup, refused, removeTempDirs, seededState, sha256, splitDocument, takeBackup, tempDir, writeBackup, writeTemp,
} from '../lib/backup.mjs';

const TEST_TIMEOUT = 120_000;
const ADMIN_PASSWORD = 'backup-test-admin-password';
const FAST_STOP = ['--shutdown-timeout', '1'];
const servers = [];
const mounts = [];

after(async () => {
  for (const s of servers) await s.stop().catch(() => {});
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  removeTempDirs();
});

const bundled = loadFamilies();
const INTERMEDIATE = bundled.genres.find((g) => g.type === 'intermediate').id;
const LEAF = bundled.genres.find((g) => g.type === 'leaf').id;

// Logs in as admin: { cookie, csrf }.
async function login(url) {
  const res = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `login: ${text}`);
  const body = JSON.parse(text);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  return { cookie, csrf: body.csrf_token };
}

async function api(url, auth, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', cookie: auth.cookie, 'x-csrf-token': auth.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

const leaf = (i) => ({ id: `wtest-${i}`, name: `Write Test ${i}`, type: 'leaf', parent: INTERMEDIATE, parents: [INTERMEDIATE] });
// Two band_genres rows written in the same transaction as the band row.
const bandOf = (i) => ({ id: `wband-${i}`, name: `Write Band ${i}`, primary_genre: `wtest-${i}`, genres: [`wtest-${i}`, LEAF] });

async function serve(state, extraEnv = {}) {
  const s = await startServer({
    stateDir: state,
    args: FAST_STOP,
    env: { ...cleanEnv(), MUSICGRAPH_ADMIN_PASSWORD: ADMIN_PASSWORD, ...extraEnv },
  });
  servers.push(s);
  return s;
}

// ---------------------------------------------------------------- the file

test('a backup is gzip-compressed JSON with a complete manifest, named to sort by time', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const before = Date.now();
  const file = await takeBackup(state, ['--tag', 'nightly']);
  assert.ok(file.startsWith(join(state, 'backups') + '/'), `default destination is STATE_DIR/backups: ${file}`);
  const names = readdirSync(join(state, 'backups'));
  assert.deepEqual(names, [file.split('/').pop()], 'one file, no temporary left behind');
  assert.match(names[0], /^musicgraph-\d{8}T\d{6}Z-nightly\.json\.gz$/);

  const raw = readFileSync(file);
  assert.equal(raw[0], 0x1f);
  assert.equal(raw[1], 0x8b);
  const doc = JSON.parse(gunzipSync(raw).toString('utf8')); // one JSON document
  const { manifest, payloadText, payload } = readBackup(file);
  assert.deepEqual(doc.manifest, manifest);
  assert.equal(manifest.format, 'musicgraph-backup');
  assert.equal(manifest.format_version, 2, 'signed');
  assert.match(manifest.signing_key, /^ed25519:[A-Za-z0-9+/]{43}=$/);
  assert.equal(manifest.tag, 'nightly');
  const version = (await ok(['version'])).stdout;
  assert.ok(version.includes(manifest.program_version), `${manifest.program_version} vs ${version}`);
  const status = (await ok(['migrate', '--status', '--state-dir', state])).stdout;
  const last = [...status.matchAll(/^(\d{4}_\w+)\s+applied/gm)].pop()[1];
  assert.equal(manifest.schema_version, last);
  const created = Date.parse(manifest.created_at);
  assert.match(manifest.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(created >= before - 2000 && created <= Date.now() + 1000, manifest.created_at);
  assert.deepEqual(manifest.counts, countsOf(payload));
  assert.equal(manifest.counts.genres, bundled.genres.length);
  assert.equal(manifest.counts.bands, bundled.bands.length);
  assert.equal(manifest.payload_sha256, sha256(payloadText));
  // The dataset inside is the portable format `seed --file` reads.
  const ds = tempDir();
  writeFileSync(join(ds, 'd.json'), JSON.stringify(payload.dataset));
  await ok(['seed', '--file', join(ds, 'd.json'), '--state-dir', join(ds, 'state')]);

  // zcat | jq, literally, when the tools are installed.
  if (spawnSync('sh', ['-c', 'command -v zcat && command -v jq']).status === 0) {
    const r = spawnSync('sh', ['-c', `zcat '${file}' | jq -r .manifest.format`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'musicgraph-backup');
  }

  // Names sort by time: a second backup sorts after the first.
  await sleep(1100);
  const second = await takeBackup(state);
  const sorted = backupsIn(join(state, 'backups'));
  assert.equal(sorted.at(-1), second.split('/').pop());
});

test('two backups in the same second get distinct names that still sort by time', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const files = [];
  for (let i = 0; i < 3; i++) files.push((await takeBackup(state, ['--tag', 'same'])).split('/').pop());
  assert.equal(new Set(files).size, 3, files.join(' '));
  for (const f of files) assert.match(f, NAME_RE);
  // "Z-same" < "Z.1-same" < "Z.2-same": ls order is creation order.
  assert.deepEqual(backupsIn(join(state, 'backups')), files);
});

test('backup refuses a tag with characters a file name should not carry', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const r = await cli(['backup', '--state-dir', state, '--tag', '../evil']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /tag/);
  assert.deepEqual(backupsIn(join(state, 'backups')), []);
  // A wrong --state-dir is said so, and nothing is created there.
  const nowhere = join(tempDir(), 'typo');
  // (On PostgreSQL the state directory's database is a new, empty one: no musicgraph schema.)
  const none = onPostgres ? /no musicgraph schema in PostgreSQL database "mgt_\w+"/ : /no database at .*typo/;
  await refused(['backup', '--state-dir', nowhere], none);
  await refused(['export', '--state-dir', nowhere], none);
  assert.ok(!existsSync(nowhere));
});

test('a backup restores onto a new machine: an empty state directory', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  await ok(['user', 'create', 'curator', '--email', 'c@example.org', '--admin', '--password-file', writeTemp('curator-password-1\n'), '--state-dir', state]);
  const file = await takeBackup(state);
  const fresh = join(tempDir(), 'new-machine');
  // The new machine trusts the old one's signing key first (docs/operations.md).
  await refused(['restore', file, '--state-dir', fresh], /signed by ed25519:\S+, a key this installation does not trust/);
  const pub = join(tempDir(), 'old-server.pub');
  writeFileSync(pub, (await ok(['backup-key', 'show', '--state-dir', state])).stdout);
  assert.match((await ok(['backup-key', 'trust', pub, '--state-dir', fresh])).stdout, /trusted 1 new key from/);
  const r = await ok(['restore', file, '--state-dir', fresh]);
  assert.match(r.stdout, new RegExp(`${bundled.genres.length} genres, ${bundled.bands.length} bands`));
  assert.equal((await exportOf(fresh)).payloadText, (await exportOf(state)).payloadText);
});

// ---------------------------------------------------------------- consistency under writes

test('a backup taken while the server writes restores to one instant, and the running server switches to it', { timeout: 5 * TEST_TIMEOUT }, async () => {
  const state = tempDir();
  const server = await serve(state);
  const auth = await login(server.url);
  // Each step is two committed writes: a leaf genre, then a band in it.
  let acked = 0;
  let started = 0;
  let stop = false;
  const errors = [];
  const writer = (async () => {
    for (let i = 1; !stop; i++) {
      started = i;
      const g = await api(server.url, auth, 'POST', '/api/v1/genres', leaf(i));
      const b = await api(server.url, auth, 'POST', '/api/v1/bands', bandOf(i));
      if (g.status !== 201 || b.status !== 201) {
        errors.push(`${i}: ${g.status} ${g.text} / ${b.status} ${b.text}`);
        return;
      }
      acked = i;
    }
  })();
  // Five backups, each started while a write request is outstanding (the
  // writer never pauses), each checked to be a picture of one instant.
  const taken = [];
  for (let n = 0; n < 5; n++) {
    const last = acked;
    // Each write waits for the rebuilt map (seconds in the sanitizer build on a busy machine).
    await waitFor('more writes', () => acked >= last + 2, 120000);
    const ackedBefore = acked;
    const inFlight = started > acked;
    const file = await takeBackup(state, ['--tag', `under-load-${n}`]);
    taken.push({ file, ackedBefore, inFlight, startedAfter: started });
  }
  stop = true;
  await writer;
  assert.deepEqual(errors, []);
  assert.ok(taken.every((t) => t.inFlight), 'every backup started while a write was outstanding');

  const num = (id, p) => Number(id.slice(p.length));
  for (const t of taken) {
    const { payload, manifest } = readBackup(t.file);
    const genres = payload.dataset.genres.filter((g) => g.id.startsWith('wtest-')).map((g) => num(g.id, 'wtest-')).sort((a, b) => a - b);
    const bands = payload.dataset.bands.filter((b) => b.id.startsWith('wband-')).map((b) => num(b.id, 'wband-')).sort((a, b) => a - b);
    const k = genres.length;
    t.k = k;
    // What a backup holds is a prefix of the writes: nothing torn.
    assert.deepEqual(genres, Array.from({ length: k }, (_, i) => i + 1), 'genres are a gap-free prefix');
    assert.ok(bands.length === k || bands.length === k - 1, `bands ${bands.length} vs genres ${k}`);
    assert.deepEqual(bands, Array.from({ length: bands.length }, (_, i) => i + 1), 'bands are a gap-free prefix');
    for (const b of payload.dataset.bands.filter((x) => x.id.startsWith('wband-')))
      assert.deepEqual(b.genres, [b.primary_genre, LEAF], `${b.id} has all the rows of its write`);
    assert.ok(k >= t.ackedBefore, `the backup misses acknowledged writes: ${k} < ${t.ackedBefore}`);
    assert.ok(k <= t.startedAfter, `the backup holds writes started after it ended: ${k} > ${t.startedAfter}`);
    // The audit log was read at the same instant: one create per row present.
    const created = payload.audit_log.filter((a) => a.action === 'create' && /^w(test|band)-/.test(a.entity_id)).map((a) => a.entity_id).sort();
    const present = [...genres.map((i) => `wtest-${i}`), ...bands.map((i) => `wband-${i}`)].sort();
    assert.deepEqual(created, present, 'audit entries match the rows');
    assert.ok(manifest.data_version > 0);
  }
  const { file, k } = taken[2];
  await ok(['verify', file, '--state-dir', state]);

  // Restore while the server runs: it serves the restored data, no restart.
  const pid = server.pid;
  const r = await ok(['restore', file, '--state-dir', state]);
  assert.match(r.stdout, /the data it replaced is in \S+pre-restore\.json\.gz/);
  await waitFor('the server to serve the restored map', async () =>
    (await fetch(`${server.url}/api/v1/genres/wtest-${k + 1}`)).status === 404 &&
    (await fetch(`${server.url}/api/v1/genres/wtest-${k}`)).status === 200);
  assert.equal(server.pid, pid);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  // The database now holds exactly the backup.
  assert.equal((await exportOf(state)).payloadText, readBackup(file).payloadText);
  // Sessions ended with the restore.
  assert.equal((await fetch(`${server.url}/api/v1/me`, { headers: { cookie: auth.cookie } })).status, 401);
  // The safety backup holds what was replaced: every write.
  const safety = backupsIn(join(state, 'backups')).find((n) => n.endsWith('-pre-restore.json.gz'));
  const replaced = readBackup(join(state, 'backups', safety)).payload;
  assert.equal(replaced.dataset.genres.filter((g) => g.id.startsWith('wtest-')).length, acked);
});

test('round trip: backup, change the data, restore gives back exactly the backed-up data', { timeout: TEST_TIMEOUT }, async () => {
  const state = tempDir();
  const server = await serve(state);
  let auth = await login(server.url);
  assert.equal((await api(server.url, auth, 'POST', '/api/v1/users', { username: 'curator', email: 'curator@example.org', password: 'curator-password-1' })).status, 201);
  assert.equal((await api(server.url, auth, 'POST', '/api/v1/genres', leaf(1))).status, 201);
  const original = await exportOf(state);
  const file = await takeBackup(state);

  // Change everything a backup holds: map, users, audit log.
  const victim = bundled.bands[0].id;
  assert.ok([200, 204].includes((await api(server.url, auth, 'DELETE', `/api/v1/bands/${victim}`)).status));
  assert.equal((await api(server.url, auth, 'POST', '/api/v1/genres', leaf(2))).status, 201);
  assert.equal((await api(server.url, auth, 'POST', '/api/v1/users', { username: 'intruder', email: 'intruder@example.org', password: 'intruder-password-1' })).status, 201);
  const changed = await exportOf(state);
  assert.notEqual(changed.payloadText, original.payloadText);

  await ok(['restore', file, '--state-dir', state]);
  const restored = await exportOf(state);
  assert.equal(restored.payloadText, original.payloadText, 'the full export after the restore equals the one before the changes');
  await waitFor('the band to be served again', async () => (await fetch(`${server.url}/api/v1/bands/${victim}`)).status === 200);
  // The accounts came back too: the curator can log in, the intruder cannot.
  auth = await login(server.url);
  const users = JSON.parse((await api(server.url, auth, 'GET', '/api/v1/users')).text);
  const names = (users.users || users).map((u) => u.username).sort();
  assert.deepEqual(names, ['admin', 'curator']);
});

// ---------------------------------------------------------------- damaged files

test('damaged or foreign files are refused, each with its own message, and nothing changes', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const good = await takeBackup(state);
  const work = tempDir();
  const { manifest, payloadText } = readBackup(good);
  const raw = readFileSync(good);
  const cases = [];
  const add = (name, pattern, write) => {
    const f = join(work, name);
    write(f);
    cases.push([name, f, pattern]);
  };
  add('truncated.json.gz', /truncated/, (f) => writeFileSync(f, raw.subarray(0, Math.floor(raw.length / 2))));
  add('flipped.json.gz', /corrupt|checksum/, (f) => {
    const b = Buffer.from(raw);
    b[Math.floor(b.length / 2)] ^= 0xff;
    writeFileSync(f, b);
  });
  add('wrong-checksum.json.gz', /checksum mismatch/, (f) =>
    writeBackup(f, { ...manifest, payload_sha256: sha256('something else') }, payloadText, { fixSum: false }));
  add('edited-payload.json.gz', /checksum mismatch/, (f) =>
    writeBackup(f, manifest, payloadText.replace(bundled.genres[0].name, 'Edited'), { fixSum: false }));
  add('newer-format.json.gz', /newer musicgraph.*format 3/, (f) => writeBackup(f, { ...manifest, format_version: 3 }, payloadText, { fixSum: false }));
  add('newer-schema.json.gz', /newer musicgraph.*schema 9999_future/, (f) => writeBackup(f, { ...manifest, schema_version: '9999_future' }, payloadText, { fixSum: false }));
  add('other-format.json.gz', /not a musicgraph backup/, (f) => writeBackup(f, { ...manifest, format: 'something-else' }, payloadText, { fixSum: false }));
  add('empty.json.gz', /empty/, (f) => writeFileSync(f, ''));
  add('not-gzip.json.gz', /not a musicgraph backup.*neither gzip/, (f) => writeFileSync(f, 'PK\x03\x04 this is a zip, or anything else'));
  add('huge-manifest.json.gz', /manifest is larger than 64 KiB/, (f) =>
    writeBackup(f, { ...manifest, padding: 'x'.repeat(5 << 20) }, payloadText, { fixSum: false }));
  add('no-manifest.json.gz', /does not start with a manifest/, (f) => writeFileSync(f, gzipSync(JSON.stringify({ payload: {} }))));
  add('bad-counts.json.gz', /row counts/, (f) =>
    writeBackup(f, { ...manifest, counts: { ...manifest.counts, bands: manifest.counts.bands + 1 } }, payloadText, { fixSum: false }));
  // A rule broken in the very last row: checked before anything is written.
  add('rule-in-last-row.json.gz', /breaks 1 rule[\s\S]*band /, (f) => {
    const p = JSON.parse(payloadText);
    const lastBand = p.dataset.bands.at(-1);
    lastBand.primary_genre = INTERMEDIATE; // a band's primary genre must be a leaf
    lastBand.genres = [INTERMEDIATE, ...lastBand.genres]; // its other genres stay (it may define one)
    writeBackup(f, manifest, JSON.stringify(p));
  });

  const before = await exportOf(state);
  const backupsBefore = backupsIn(join(state, 'backups'));
  // Unsigned (crafted) files: --insecure-unsigned, so that each reaches the check it is about.
  for (const [name, file, pattern] of cases) {
    const r = await cli(['restore', file, '--insecure-unsigned', '--state-dir', state]);
    assert.equal(r.code, 1, `${name}: restore exited ${r.code}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, pattern, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /^musicgraph restore: /, name);
    const v = await cli(['verify', file, '--insecure-unsigned', '--state-dir', state]);
    assert.equal(v.code, 1, `${name}: verify exited ${v.code}`);
    assert.match(v.stderr, pattern, `${name} (verify): ${v.stderr}`);
  }
  assert.equal((await exportOf(state)).payloadText, before.payloadText, 'the database is unchanged');
  assert.deepEqual(backupsIn(join(state, 'backups')), backupsBefore, 'no safety backup was even needed');
  // The good file still restores and verifies.
  await ok(['verify', good, '--state-dir', state]);
});

test('a restore that fails half way through its transaction leaves the database unchanged', { timeout: TEST_TIMEOUT, skip: onPostgres && 'SQLite only: its database file on a full tmpfs' }, async (t) => {
  // The large synthetic map is written into a database on a tmpfs with room for
  // the bundled map and 1 MiB more: SQLite runs out of space in the middle of
  // the transaction.
  const work = tempDir();
  await ok(['seed', '--file', await bigDataset(), '--state-dir', join(work, 'big')]);
  const big = await takeBackup(join(work, 'big'));
  const small = await seededState();
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const files = readdirSync(small).filter((f) => f.startsWith('musicgraph.db'));
  const bytes = files.reduce((n, f) => n + statSync(join(small, f)).size, 0);
  if (!mountTmpfs(mnt, kib(bytes + (1 << 20)))) return t.skip('cannot mount a tmpfs here (not root?)');
  for (const f of files) copyFileSync(join(small, f), join(mnt, f));
  const before = await exportOf(mnt);
  const safetyDir = join(work, 'safety');
  const pub = join(work, 'big.pub');
  writeFileSync(pub, (await ok(['backup-key', 'show', '--state-dir', join(work, 'big')])).stdout);
  await ok(['backup-key', 'trust', pub, '--state-dir', mnt]);
  const r = await cli(['restore', big, '--state-dir', mnt], { MUSICGRAPH_BACKUP_DIR: safetyDir });
  assert.equal(r.code, 1, `restore should run out of space: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /full|space/i);
  assert.equal(backupsIn(safetyDir).length, 1, 'the safety backup was taken first');
  const afterExport = await exportOf(mnt);
  assert.equal(afterExport.payloadText, before.payloadText, 'the database holds exactly what it held');
  // And it is healthy: a fresh backup of it verifies.
  const again = await takeBackup(mnt, []);
  await ok(['verify', again, '--state-dir', mnt]);
});

// ---------------------------------------------------------------- full disk

// A tmpfs size option for at least n bytes, in whole pages.
const kib = (n) => `${Math.ceil(n / 4096) * 4}k`;

function mountTmpfs(dir, size) {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status !== 0) return false;
  mounts.unshift(dir);
  return true;
}

test('a full disk fails the backup cleanly: no partial file, older backups intact', { timeout: TEST_TIMEOUT }, async (t) => {
  const state = await seededState();
  const older = await takeBackup(state, ['--tag', 'older']);
  const mnt = join(tempDir(), 'mnt');
  mkdirSync(mnt);
  let readOnly = false;
  // Room for two backups and a quarter MiB more: the older one, and the one taken at the end.
  if (!mountTmpfs(mnt, kib(2 * statSync(older).size + 256 * 1024))) {
    // Fallback when mounting is not allowed: a directory that cannot be written.
    if (process.getuid?.() === 0) return t.skip('cannot mount a tmpfs and root ignores read-only directories');
    readOnly = true;
  }
  copyFileSync(older, join(mnt, older.split('/').pop()));
  const olderBytes = readFileSync(join(mnt, older.split('/').pop()));
  if (readOnly) spawnSync('chmod', ['0555', mnt]);
  else {
    // Leave about 40 KiB: far less than a compressed backup of the bundled map.
    const free = Number(spawnSync('df', ['-B1', '--output=avail', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 40 * 1024)));
  }
  const listing = readdirSync(mnt).sort();
  const first = await refused(['backup', '--state-dir', state, '--to', mnt], readOnly ? /Permission denied|cannot/ : /No space left on device/);
  assert.match(first, /nothing was written|cannot/);
  assert.deepEqual(readdirSync(mnt).sort(), listing, 'no partial or temporary file left');
  assert.deepEqual(readFileSync(join(mnt, older.split('/').pop())), olderBytes, 'the older backup is untouched');
  await ok(['verify', join(mnt, older.split('/').pop()), '--state-dir', state]);
  if (!readOnly) {
    // With the space back, the same command works.
    rmSync(join(mnt, 'filler'));
    await ok(['backup', '--state-dir', state, '--to', mnt]);
    assert.equal(backupsIn(mnt).length, 2);
  }
});

// ---------------------------------------------------------------- verify and listing

test('verify proves a backup restores, records it, and backups lists it; --latest picks the newest', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const a = await takeBackup(state, ['--tag', 'a']);
  await sleep(1100);
  const b = await takeBackup(state, ['--tag', 'b']);
  const v = await ok(['verify', '--latest', '--state-dir', state]);
  assert.match(v.stdout, new RegExp(`${b.split('/').pop()}: OK`));
  assert.match(v.stdout, new RegExp(`${bundled.genres.length} genres, ${bundled.bands.length} bands`));
  assert.ok(existsSync(`${b}.verified`));
  assert.ok(!existsSync(`${a}.verified`));
  // Damage a copy: verify fails, and the listing says so.
  const dir = join(state, 'backups');
  const bad = join(dir, 'musicgraph-20200101T000000Z-bad.json.gz');
  const raw = readFileSync(a);
  writeFileSync(bad, raw.subarray(0, raw.length - 100));
  await refused(['verify', bad, '--state-dir', state], /truncated/);
  const list = (await ok(['backups', '--state-dir', state])).stdout;
  const row = (name) => list.split('\n').find((l) => l.includes(name));
  assert.match(row(b.split('/').pop()), new RegExp(`\\bb\\s+${bundled.genres.length}\\s+${bundled.bands.length}\\s+0\\s+0\\s+yes `));
  assert.match(row(a.split('/').pop()), /\s+no\s+/);
  assert.match(row('-bad.json.gz'), /FAILED/);
  assert.match(list, /newest in .*-b\.json\.gz/);
  // The sidecar notices when the file changes after verification.
  const copy = readFileSync(b);
  writeFileSync(b, Buffer.concat([copy, Buffer.from('x')]));
  assert.match((await ok(['backups', '--state-dir', state])).stdout.split('\n').find((l) => l.includes(b.split('/').pop())), /changed/);
  await refused(['verify', '--latest', '--dir', tempDir()], /no backups/);
});

// ---------------------------------------------------------------- prune

// Restic-style GFS, written independently of the C code: each rule keeps the
// newest backup of each of its N most recent periods that have backups.
function gfs(entries, { daily, weekly, monthly }) {
  const sorted = [...entries].sort((x, y) => y.time - x.time); // newest first
  const keep = new Set([sorted[0].name]);
  for (const e of sorted) if (e.tag === 'keep' || e.tag.startsWith('keep-')) keep.add(e.name);
  const day = (t) => Math.floor(t / 86400000);
  const week = (t) => Math.floor((day(t) + 3) / 7); // ISO weeks start on Monday; 1970-01-01 was a Thursday
  const month = (t) => new Date(t).getUTCFullYear() * 12 + new Date(t).getUTCMonth();
  for (const [n, key] of [[daily, day], [weekly, week], [monthly, month]]) {
    let last = null;
    let taken = 0;
    for (const e of sorted) {
      if (taken >= n) break;
      const k = key(e.time);
      if (k === last) continue;
      last = k;
      taken++;
      keep.add(e.name);
    }
  }
  return keep;
}

function stamp(t) {
  return new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

// A minimal, valid backup document for synthetic histories.
function syntheticBackup(time, tag) {
  const payload = JSON.stringify({ dataset: { format: 'musicgraph-dataset', format_version: 1, genres: [], bands: [] }, users: [], audit_log: [] });
  const manifest = {
    format: 'musicgraph-backup', format_version: 1, kind: 'backup', program: 'musicgraph', program_version: 'test',
    schema_version: '', backend: 'sqlite', created_at: new Date(time).toISOString().replace(/\.\d+Z$/, 'Z'), tag,
    data_version: 0, anonymized: false, counts: countsOf(JSON.parse(payload)), payload_sha256: sha256(payload),
  };
  return gzipSync(`{"manifest":${JSON.stringify(manifest)},\n"payload":${payload}}\n`);
}

function history(days, end = Date.UTC(2026, 10, 24, 2, 30, 0)) {
  const entries = [];
  for (let i = 0; i < days; i++) {
    const time = end - i * 86400000;
    entries.push({ name: `musicgraph-${stamp(time)}-daily.json.gz`, time, tag: 'daily' });
  }
  // A backup tagged keep, long ago, on a day that also has a daily one.
  const old = end - 300 * 86400000 + 3600000;
  entries.push({ name: `musicgraph-${stamp(old)}-keep.json.gz`, time: old, tag: 'keep' });
  // Two backups in one second on the newest day (.1 sorts after the first).
  const dup = end + 3600000;
  entries.push({ name: `musicgraph-${stamp(dup)}-extra.json.gz`, time: dup, tag: 'extra' });
  entries.push({ name: `musicgraph-${stamp(dup).replace('Z', 'Z.1')}-extra.json.gz`, time: dup + 1, tag: 'extra' });
  return entries;
}

test('prune keeps exactly the GFS set of 400 daily backups, and --dry-run removes nothing', { timeout: TEST_TIMEOUT }, async () => {
  const state = tempDir();
  const dir = join(state, 'backups');
  mkdirSync(dir);
  const entries = history(400);
  for (const e of entries) {
    writeFileSync(join(dir, e.name), syntheticBackup(e.time, e.tag));
    writeFileSync(join(dir, `${e.name}.verified`), '{}');
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a backup: never touched');
  const expected = gfs(entries, { daily: 7, weekly: 4, monthly: 12 });
  // The .1 file is the newest of all; the keep-tagged one stays.
  assert.ok(expected.has(entries.at(-1).name) && expected.has(entries.at(-3).name));
  assert.ok(expected.size > 15 && expected.size < 30, `expected set size ${expected.size}`);

  const dry = await ok(['prune', '--dry-run', '--state-dir', state]);
  assert.equal(readdirSync(dir).filter((n) => NAME_RE.test(n)).length, entries.length, '--dry-run removed files');
  const wouldGo = [...dry.stdout.matchAll(/^would remove\s+\S*\/(musicgraph-\S+)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(wouldGo, entries.map((e) => e.name).filter((n) => !expected.has(n)).sort());

  const r = await ok(['prune', '--state-dir', state]);
  assert.match(r.stdout, new RegExp(`kept ${expected.size}, removed ${entries.length - expected.size}`));
  assert.deepEqual(backupsIn(dir), [...expected].sort());
  // Sidecars go with their backups; other files stay.
  const left = readdirSync(dir);
  for (const n of left.filter((x) => x.endsWith('.verified'))) assert.ok(expected.has(n.replace(/\.verified$/, '')), n);
  assert.ok(left.includes('notes.txt'));

  // Nothing to keep by rule: only the newest and the keep-tagged remain.
  await ok(['prune', '--daily', '0', '--weekly', '0', '--monthly', '0', dir]);
  assert.deepEqual(backupsIn(dir), [entries.at(-3).name, entries.at(-1).name].sort());

  const bad = await cli(['prune', '--daily', 'many', dir]);
  assert.equal(bad.code, 2);
});

test('prune with other numbers keeps their GFS set too', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const entries = history(400);
  for (const e of entries) writeFileSync(join(dir, e.name), syntheticBackup(e.time, e.tag));
  const policy = { daily: 3, weekly: 10, monthly: 24 };
  await ok(['prune', '--daily', '3', '--weekly', '10', '--monthly', '24', dir]);
  assert.deepEqual(backupsIn(dir), [...gfs(entries, policy)].sort());
});

// ---------------------------------------------------------------- S3

// The S3 tests are only as good as the server's signature check: it must
// agree with AWS's own worked example (S3 API reference, "Signature
// Calculations for the Authorization Header", GET Object).
test('the test S3 server checks Signature V4 exactly as AWS documents it', () => {
  const req = {
    method: 'GET',
    url: '/test.txt',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'x-amz-date': '20130524T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    },
  };
  const keys = { AKIAIOSFODNN7EXAMPLE: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  assert.equal(checkSignature(req, keys), null);
  assert.equal(checkSignature(req, { AKIAIOSFODNN7EXAMPLE: 'another-secret' })[1], 'SignatureDoesNotMatch');
  assert.equal(checkSignature({ ...req, url: '/test.txt?x=1' }, keys)[1], 'SignatureDoesNotMatch');
  assert.equal(checkSignature(req, {})[1], 'InvalidAccessKeyId');
});

async function s3Keys(s3, prefix) {
  const res = await signedS3(s3, 'GET', '/backups', `list-type=2&prefix=${encodeURIComponent(prefix)}`);
  assert.equal(res.status, 200);
  return [...(await res.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
}

test('offsite: upload, list, verify, download-restore and prune against an S3 server', { timeout: TEST_TIMEOUT }, async () => {
  const s3 = await startS3({ buckets: ['backups'] });
  try {
    const state = tempDir();
    const server = await serve(state);
    const auth = await login(server.url);
    assert.equal((await api(server.url, auth, 'POST', '/api/v1/genres', leaf(1))).status, 201);
    const original = await exportOf(state);

    // Upload: the local file and the offsite object are the same bytes.
    const up = await ok(['backup', '--state-dir', state, '--to', 's3://backups/prod', '--tag', 'offsite'], s3.env);
    const local = /^backup written: (\S+) /m.exec(up.stdout)[1];
    const url = /^uploaded: (s3:\/\/\S+)$/m.exec(up.stdout)[1];
    const key = url.replace('s3://backups/', '');
    assert.equal(key, `prod/${local.split('/').pop()}`);
    const got = await signedS3(s3, 'GET', `/backups/${key}`);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), readFileSync(local));

    // MUSICGRAPH_BACKUP_OFFSITE uploads every backup.
    await sleep(1100);
    await ok(['backup', '--state-dir', state], { ...s3.env, MUSICGRAPH_BACKUP_OFFSITE: 's3://backups/prod' });
    assert.equal((await s3Keys(s3, 'prod/')).filter((k) => k.endsWith('.json.gz')).length, 2);

    // List (with counts from the sidecar), verify (downloads), list again.
    let list = (await ok(['backups', 's3://backups/prod', '--state-dir', state], s3.env)).stdout;
    const row = () => list.split('\n').find((l) => l.includes(key));
    assert.match(row(), new RegExp(`offsite\\s+${bundled.genres.length + 1}\\s+${bundled.bands.length}\\s+1\\s+1\\s+no\\s+${url}`));
    await ok(['verify', url, '--state-dir', state], s3.env);
    list = (await ok(['backups', '--state-dir', state], { ...s3.env, MUSICGRAPH_BACKUP_OFFSITE: 's3://backups/prod' })).stdout;
    assert.match(row(), /\byes\b/);
    assert.ok(list.includes(local), 'the default listing shows local and offsite backups');

    // Change, then restore from S3.
    assert.equal((await api(server.url, auth, 'POST', '/api/v1/genres', leaf(2))).status, 201);
    await ok(['restore', url, '--state-dir', state], s3.env);
    assert.equal((await exportOf(state)).payloadText, original.payloadText);

    // Prune an S3 prefix holding a synthetic history of 60 days.
    const entries = history(60);
    for (const e of entries) {
      const res = await signedS3(s3, 'PUT', `/backups/gfs/${e.name}`, '', syntheticBackup(e.time, e.tag));
      assert.equal(res.status, 200);
    }
    const policy = { daily: 5, weekly: 3, monthly: 2 };
    const dry = await ok(['prune', '--dry-run', '--daily', '5', '--weekly', '3', '--monthly', '2', 's3://backups/gfs'], s3.env);
    assert.equal((await s3Keys(s3, 'gfs/')).length, entries.length);
    assert.equal([...dry.stdout.matchAll(/^would remove/gm)].length, entries.length - gfs(entries, policy).size);
    await ok(['prune', '--daily', '5', '--weekly', '3', '--monthly', '2', 's3://backups/gfs'], s3.env);
    const left = (await s3Keys(s3, 'gfs/')).map((k) => k.replace('gfs/', '')).sort();
    assert.deepEqual(left, [...gfs(entries, policy)].sort());
    assert.equal((await s3Keys(s3, 'prod/')).filter((k) => k.endsWith('.json.gz')).length, 2, 'another prefix is untouched');
  } finally {
    await s3.stop();
  }
});

test('offsite: wrong credentials give a clear error, and the local backup is still made', { timeout: TEST_TIMEOUT }, async () => {
  const s3 = await startS3({ buckets: ['backups'] });
  try {
    const state = await seededState();
    const wrongSecret = { ...s3.env, MUSICGRAPH_S3_SECRET_ACCESS_KEY: 'not-the-secret' };
    const r = await cli(['backup', '--state-dir', state, '--to', 's3://backups/prod'], wrongSecret);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /local backup is complete, but the offsite copy failed: S3 PUT s3:\/\/backups\/prod\/musicgraph-\S+: HTTP 403 SignatureDoesNotMatch: .*check MUSICGRAPH_S3_ACCESS_KEY_ID, MUSICGRAPH_S3_SECRET_ACCESS_KEY/);
    assert.equal(backupsIn(join(state, 'backups')).length, 1);
    assert.ok(s3.requests.some((q) => q.status === 403), 'the server refused the signature');
    assert.deepEqual((await s3Keys(s3, 'prod/')), [], 'nothing was stored');

    await refused(['backups', 's3://backups/prod', '--state-dir', state], /InvalidAccessKeyId.*check MUSICGRAPH_S3_ACCESS_KEY_ID/, { ...s3.env, MUSICGRAPH_S3_ACCESS_KEY_ID: 'NOBODY' });
    await refused(['prune', 's3://backups/prod', '--state-dir', state], /SignatureDoesNotMatch/, wrongSecret);
    await refused(['restore', 's3://backups/prod/musicgraph-20260101T000000Z.json.gz', '--state-dir', state], /SignatureDoesNotMatch/, wrongSecret);
    await refused(['backups', 's3://backups/prod', '--state-dir', state], /MUSICGRAPH_S3_ACCESS_KEY_ID and MUSICGRAPH_S3_SECRET_ACCESS_KEY/, { MUSICGRAPH_S3_ENDPOINT: s3.endpoint });
    await refused(['restore', 's3://backups/prod/musicgraph-20260101T000000Z.json.gz', '--state-dir', state], /does not exist/, s3.env);
    await refused(['backups', 's3://nobucket/x', '--state-dir', state], /NoSuchBucket/, s3.env);
    // Secrets have a _FILE form.
    const secretFile = join(tempDir(), 'secret');
    writeFileSync(secretFile, `${SECRET_KEY}\n`);
    const { MUSICGRAPH_S3_SECRET_ACCESS_KEY: _unused, ...rest } = s3.env;
    await ok(['backups', 's3://backups/prod', '--state-dir', state], { ...rest, MUSICGRAPH_S3_SECRET_ACCESS_KEY_FILE: secretFile });
  } finally {
    await s3.stop();
  }
});

// ---------------------------------------------------------------- export / import

test('export --anonymize contains no real email or password hash, and imports elsewhere', { timeout: TEST_TIMEOUT }, async () => {
  const state = tempDir();
  const server = await serve(state);
  const auth = await login(server.url);
  for (const [u, e] of [['curator', 'Curator.Person@example.org'], ['editor', 'editor@private.example']])
    assert.equal((await api(server.url, auth, 'POST', '/api/v1/users', { username: u, email: e, password: `${u}-password-12` })).status, 201);
  assert.equal((await api(server.url, auth, 'POST', '/api/v1/genres', leaf(1))).status, 201);
  await server.stop({ keepState: true });

  const full = await exportOf(state);
  const secrets = full.payload.users.flatMap((u) => [u.email, u.password_hash]);
  assert.equal(secrets.length, 6);
  assert.ok(full.payload.audit_log.some((a) => a.actor === 'admin'));
  assert.ok(full.payloadText.includes('Curator.Person@example.org'));

  const file = join(tempDir(), 'staging.json.gz');
  await ok(['export', '--anonymize', file, '--state-dir', state]);
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  for (const s of secrets) {
    assert.ok(!text.includes(s), `the anonymized export contains ${s.slice(0, 12)}…`);
    assert.ok(!text.toLowerCase().includes(s.toLowerCase()), `the anonymized export contains ${s.slice(0, 12)}… (any case)`);
  }
  const anon = splitDocument(text);
  assert.equal(anon.manifest.anonymized, true);
  for (const u of anon.payload.users) assert.match(u.email, /^user-\d+@example\.invalid$/);
  assert.ok(anon.payload.audit_log.length > 0);
  for (const a of anon.payload.audit_log) assert.equal(a.actor, null);
  assert.deepEqual(anon.payload.dataset, full.payload.dataset, 'the map is the same');
  assert.ok(!/"sessions"|token_hash/.test(text), 'no sessions');

  // A staging copy: it imports, nobody can log in with the old passwords.
  const staging = tempDir();
  const imp = await ok(['import', file, '--state-dir', staging]);
  assert.match(imp.stdout, /3 users added/);
  const stage = await serve(staging);
  const res = await fetch(`${stage.url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'curator', password: 'curator-password-12' }),
  });
  assert.equal(res.status, 401);
  assert.equal((await fetch(`${stage.url}/api/v1/genres/wtest-1`)).status, 200);
});

test('import: --replace and --merge, every rule checked, all or nothing', { timeout: TEST_TIMEOUT }, async () => {
  const state = await seededState();
  const work = tempDir();
  const before = await exportOf(state);
  // A bare dataset document: one new leaf and a changed band.
  const changedBand = { ...bundled.bands[1], name: 'Renamed By Import' };
  const small = { format: 'musicgraph-dataset', format_version: 1, genres: [leaf(7)], bands: [changedBand] };
  writeFileSync(join(work, 'small.json'), JSON.stringify(small));
  await refused(['import', join(work, 'small.json'), '--state-dir', state], /already holds a map.*--replace.*--merge/);

  // A merge whose result breaks a rule changes nothing.
  const broken = { ...small, bands: [{ ...changedBand, primary_genre: 'no-such-genre', genres: ['no-such-genre'] }] };
  writeFileSync(join(work, 'broken.json'), JSON.stringify(broken));
  const msg = await cli(['import', join(work, 'broken.json'), '--merge', '--state-dir', state]);
  assert.equal(msg.code, 1);
  assert.match(msg.stderr, /nothing was imported.*breaks/);
  assert.match(msg.stderr, /no-such-genre/);
  assert.equal((await exportOf(state)).payloadText, before.payloadText);

  const merged = await ok(['import', join(work, 'small.json'), '--merge', '--state-dir', state]);
  assert.match(merged.stdout, new RegExp(`${bundled.genres.length + 1} genres and ${bundled.bands.length} bands`));
  const after = (await exportOf(state)).payload.dataset;
  assert.equal(after.genres.length, bundled.genres.length + 1);
  assert.equal(after.bands.find((b) => b.id === changedBand.id).name, 'Renamed By Import');

  // --replace: the map becomes exactly the file's (here: the bundled one, from an export).
  const exported = join(work, 'export.json');
  await ok(['export', exported, '--state-dir', await seededState()]);
  await ok(['import', exported, '--replace', '--state-dir', state]);
  assert.deepEqual((await exportOf(state)).payload.dataset, before.payload.dataset);

  // An import whose last row breaks a rule: nothing changes.
  const doc = splitDocument(readFileSync(exported, 'utf8'));
  doc.payload.dataset.bands.at(-1).genres = [];
  writeBackup(join(work, 'bad-last.json.gz'), doc.manifest, JSON.stringify(doc.payload));
  const r = await cli(['import', join(work, 'bad-last.json.gz'), '--replace', '--state-dir', state]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal((await exportOf(state)).payload.dataset.bands.length, bundled.bands.length);
});

// ---------------------------------------------------------------- migrations

// A database at 0001_init: seed, then undo 0006, 0005, 0004, 0003 and 0002 (their tables, columns,
// functions, triggers and records), with sqlite3 or psql.
const UNDO_POSTGRES = `DROP TABLE genre_aliases, band_aliases, genre_former_ids, band_former_ids, genre_defining,
    audit_log, login_attempts, sessions, users, acme_state, backup_keys;
    DROP TRIGGER genres_id_not_former ON genres; DROP TRIGGER bands_id_not_former ON bands;
    DROP FUNCTION musicgraph_former_ids_apart(), musicgraph_keep_an_admin(), musicgraph_lock_users();
    ALTER TABLE genres DROP COLUMN region; ALTER TABLE bands DROP COLUMN country, DROP COLUMN active_from, DROP COLUMN type;
    DELETE FROM schema_migrations WHERE name > '0001_init';`;

test('the server backs up before it applies pending migrations', { timeout: TEST_TIMEOUT }, async (t) => {
  const tool = onPostgres ? 'psql' : 'sqlite3';
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return t.skip(`needs the ${tool} command to build an old database`);
  const state = await seededState();
  const sql = onPostgres ? UNDO_POSTGRES : `DROP TABLE genre_aliases; DROP TABLE band_aliases; DROP TABLE genre_former_ids;
    DROP TABLE band_former_ids; DROP TABLE genre_defining; DROP TRIGGER genres_id_not_former;
    DROP TRIGGER bands_id_not_former; ALTER TABLE genres DROP COLUMN region;
    ALTER TABLE bands DROP COLUMN country; ALTER TABLE bands DROP COLUMN active_from; ALTER TABLE bands DROP COLUMN type;
    DROP TABLE audit_log; DROP TABLE login_attempts; DROP TABLE sessions; DROP TABLE users; DROP TABLE acme_state; DROP TABLE backup_keys;
    DELETE FROM schema_migrations WHERE name > '0001_init';`;
  const latest = readdirSync(join(repoRoot, 'src', 'store', 'migrations', 'sqlite')).sort().pop().replace(/\.sql$/, '');
  const r = onPostgres
    ? spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', await databaseFor(state), '-c', sql], { encoding: 'utf8' })
    : spawnSync('sqlite3', [join(state, 'musicgraph.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const status = (await cli(['migrate', '--status', '--state-dir', state])).stdout;
  assert.match(status, /0002_accounts\s+pending/);
  const server = await serve(state);
  await server.stop({ keepState: true });
  const made = backupsIn(join(state, 'backups'));
  assert.deepEqual(made.map((n) => n.replace(/^musicgraph-\d{8}T\d{6}Z/, '')), [`-pre-migrate-0001_init-${latest}.json.gz`], made.join(' '));
  const { manifest, payload } = readBackup(join(state, 'backups', made[0]));
  assert.equal(manifest.schema_version, '0001_init');
  assert.equal(payload.dataset.genres.length, bundled.genres.length);
  assert.equal(payload.users, undefined, 'the old schema had no accounts');
  // An old-schema backup restores into the current schema (accounts kept).
  await ok(['verify', join(state, 'backups', made[0]), '--state-dir', state]);
  await ok(['restore', join(state, 'backups', made[0]), '--state-dir', state]);
  assert.match((await ok(['user', 'list', '--state-dir', state])).stdout, /^admin\s/m);
});

// ---------------------------------------------------------------- helpers with state

let bigFile = null;
async function bigDataset() {
  if (bigFile) return bigFile;
  const dir = tempDir();
  bigFile = join(dir, 'big.json');
  const r = spawnSync(process.execPath, [join(repoRoot, 'bench', 'gen-dataset.mjs'), bigFile, '--seed', '3'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return bigFile;
}
