// What the backup test files share: running the binary with a clean
// environment, temporary state directories, and reading and writing backup
// documents byte for byte (the format is src/ops/backup_format.h's).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { binary, withDatabase } from './server.mjs';

export const NAME_RE = /^musicgraph-\d{8}T\d{6}Z(\.\d+)?(-[A-Za-z0-9._-]+)?\.json\.gz$/;

const dirs = [];
// For a test file's after(), once its servers are stopped and mounts gone.
export function removeTempDirs() {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix = 'musicgraph-backup-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

// A developer's shell must not leak settings into the tests.
export function cleanEnv(extra = {}) {
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' };
  for (const k of Object.keys(env)) if (k.startsWith('MUSICGRAPH_') || k === 'DATABASE_URL' || k === 'STATE_DIRECTORY') delete env[k];
  return { ...env, ...extra };
}

// Runs the binary without blocking the event loop (the S3 server and the
// HTTP writer live in this process): { code, stdout, stderr }. With
// MUSICGRAPH_TEST_PG, each state directory has its PostgreSQL database
// (tests/lib/server.mjs, withDatabase).
export async function cli(args, env = {}) {
  args = await withDatabase(args, env);
  return new Promise((ok) => {
    const child = spawn(binary, args, { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    // Decoded as one stream: a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

export async function ok(args, env) {
  const r = await cli(args, env);
  assert.equal(r.code, 0, `musicgraph ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

// A failure: exit 1 and a first stderr line saying why.
export async function refused(args, pattern, env) {
  const r = await cli(args, env);
  assert.equal(r.code, 1, `musicgraph ${args.join(' ')} should fail, exited ${r.code}:\n${r.stdout}${r.stderr}`);
  const first = r.stderr.split('\n')[0];
  assert.match(first, /^musicgraph [a-z-]+: /, `no error line: ${r.stderr}`);
  assert.match(first, pattern, `unexpected message: ${r.stderr}`);
  return first;
}

// A seeded state directory (the bundled dataset).
export async function seededState(env) {
  const dir = tempDir();
  await ok(['seed', '--state-dir', dir], env);
  return dir;
}

export function writeTemp(content) {
  const f = join(tempDir(), 'file');
  writeFileSync(f, content);
  return f;
}

export const backupsIn = (dir) => (existsSync(dir) ? readdirSync(dir).filter((n) => NAME_RE.test(n)).sort() : []);

export async function takeBackup(state, extra = [], env) {
  const r = await ok(['backup', '--state-dir', state, ...extra], env);
  const m = /^backup written: (\S+) /m.exec(r.stdout);
  assert.ok(m, `no path in: ${r.stdout}`);
  return m[1];
}

// The full export (plain JSON on stdout) as { manifest, payload } where
// payload is the exact text after "payload": — compared byte for byte.
export async function exportOf(state) {
  const r = await ok(['export', '--state-dir', state]);
  return splitDocument(r.stdout);
}

// { manifest, manifestText (the signed bytes), signature (null when
// unsigned), payloadText, payload }.
export function splitDocument(text) {
  const marker = ',\n"payload":';
  const i = text.indexOf(marker);
  assert.ok(text.startsWith('{"manifest":') && i > 0 && text.endsWith('}\n'), 'not a backup document');
  const payload = text.slice(i + marker.length, -2);
  const head = JSON.parse(`${text.slice(0, i)}}`);
  const s = text.lastIndexOf(',"signature":', i);
  const manifestText = text.slice('{"manifest":'.length, s > 0 ? s : i);
  return { manifest: head.manifest, manifestText, signature: head.signature ?? null, payloadText: payload, payload: JSON.parse(payload) };
}

export const sha256 = (s) => createHash('sha256').update(s).digest('hex');

export function readBackup(file) {
  return splitDocument(gunzipSync(readFileSync(file)).toString('utf8'));
}

// Writes a backup document; fixSum recomputes the checksum (and counts).
// Without a signature it is an unsigned document (format 1, no signing
// key); with one, the manifest keeps its key and the signature follows it
// (a forger's file: the manifest changed, the signature did not).
export function writeBackup(file, manifest, payloadText, { fixSum = true, signature = null } = {}) {
  const m = { ...manifest };
  if (fixSum) {
    m.payload_sha256 = sha256(payloadText);
    const p = JSON.parse(payloadText);
    m.counts = countsOf(p);
  }
  if (signature === null) {
    delete m.signing_key;
    if (m.format_version === 2) m.format_version = 1;
  }
  const sig = signature === null ? '' : `,"signature":${JSON.stringify(signature)}`;
  writeFileSync(file, gzipSync(`{"manifest":${JSON.stringify(m)}${sig},\n"payload":${payloadText}}\n`));
}

export function countsOf(p) {
  const g = p.dataset.genres;
  const b = p.dataset.bands;
  return {
    genres: g.length,
    genre_parents: g.reduce((n, x) => n + (x.parents || []).length, 0),
    genre_links: g.reduce((n, x) => n + (x.links || []).length, 0),
    bands: b.length,
    band_genres: b.reduce((n, x) => n + (x.genres || []).length, 0),
    users: (p.users || []).length,
    audit_log: (p.audit_log || []).length,
  };
}
