// Starts the real musicgraph binary for black-box and browser tests.
//
// Each call gets a fresh state directory and a free loopback port, waits
// until /healthz answers, and returns { url, port, stateDir, logs(), stop() }.
// stop() sends SIGTERM and resolves with the exit code, so a test can assert
// a clean shutdown. The binary is $MUSICGRAPH_BIN (tests/run points it at the
// sanitizer build) or build/musicgraph.
//
// With MUSICGRAPH_TEST_PG set (postgres://USER:PASSWORD@HOST:PORT, a cluster
// that tests/run started: tests/tools/postgres-cluster.mjs), every server
// whose caller chose no database gets a fresh PostgreSQL database of its
// own instead of SQLite, and runCli passes it on to a command run with that
// server's --state-dir: the same test files run on both backends. The CLI
// tests, which make their state directories with commands (seed, restore)
// before any server, get theirs from withDatabase (tests/lib/backup.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binary = process.env.MUSICGRAPH_BIN || join(repoRoot, 'build', 'musicgraph');

const pgBase = process.env.MUSICGRAPH_TEST_PG || '';
const pgDatabases = new Map(); // state directory -> database URL
let pgCount = 0;

// True when the servers and commands of this run are on PostgreSQL.
export const onPostgres = Boolean(pgBase);

// The PostgreSQL database of a state directory (created on first use), or null on SQLite.
export async function databaseFor(dir) {
  if (!pgBase) return null;
  if (!pgDatabases.has(dir)) {
    const name = `mgt_${process.pid}_${++pgCount}`;
    const made = await runProgram('psql', ['-X', '-q', '-d', `${pgBase}/postgres`, '-c', `CREATE DATABASE ${name}`]);
    if (made.code !== 0) throw new Error(`CREATE DATABASE ${name} failed: ${made.stderr}`);
    pgDatabases.set(dir, `${pgBase}/${name}`);
  }
  return pgDatabases.get(dir);
}

// args with --database-url DATABASE OF ITS --state-dir appended, on
// PostgreSQL, when they name a state directory and no database: the database
// of a state directory is made the first time one of its commands runs.
export async function withDatabase(args, env = {}) {
  const at = args.indexOf('--state-dir');
  if (!pgBase || at < 0 || choosesDatabase(args, env)) return args;
  return [...args, '--database-url', await databaseFor(args[at + 1])];
}

function choosesDatabase(args, env) {
  return args.some((a) => String(a).startsWith('--database-url')) || 'MUSICGRAPH_DATABASE_URL' in env || 'DATABASE_URL' in env;
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

// Runs a musicgraph subcommand to completion: { code, stdout, stderr }.
export function runCli(args, { env = {}, input } = {}) {
  const dir = args[args.indexOf('--state-dir') + 1];
  if (pgBase && args.includes('--state-dir') && pgDatabases.has(dir) && !choosesDatabase(args, env))
    args = [...args, '--database-url', pgDatabases.get(dir)];
  return runProgram(binary, args, { env, input });
}

function runProgram(program, args, { env = {}, input } = {}) {
  return new Promise((ok) => {
    const child = spawn(program, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.on('error', (e) => ok({ code: -1, stdout, stderr: String(e) }));
    // Decoded as one stream: a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

// GET /healthz on a fresh connection (no keep-alive left open to delay a
// graceful stop); resolves with the status, or 0 when nothing answers.
function healthStatus(url) {
  return new Promise((ok) => {
    const get = url.startsWith('https:') ? httpsRequest : request;
    const req = get(`${url}/healthz`, { agent: false, timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode));
    });
    req.on('error', () => ok(0));
    // destroy() without an error emits no 'error': pass one, and settle on 'close' too,
    // so a server that accepts but answers slowly (still starting) never hangs the poll.
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('close', () => ok(0));
    req.end();
  });
}

export async function startServer({ args = [], env = {}, stateDir, seed = true, timeoutMs = 60000, healthScheme = 'http', binary: program = binary, port: fixedPort } = {}) {
  const port = fixedPort || (await freePort());
  const dir = stateDir || mkdtempSync(join(tmpdir(), 'musicgraph-test-'));
  const fullArgs = ['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', dir, '--threads', '2', ...args];
  if (pgBase && !choosesDatabase(args, env)) fullArgs.push('--database-url', await databaseFor(dir));
  if (!seed) fullArgs.push('--no-seed');
  const child = spawn(program, fullArgs, {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let spawnError = null;
  child.on('error', (e) => (spawnError = e));
  const exited = new Promise((ok) => {
    child.on('exit', (code, signal) => ok(code ?? signal));
    child.on('error', () => ok(-1));
  });
  const url = `${healthScheme}://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) break;
    if ((await healthStatus(url)) === 200) {
      ready = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`musicgraph did not become ready on ${url}: ${spawnError ? spawnError.message : ''}\n${output}`);
  }
  return {
    url,
    port,
    stateDir: dir,
    pid: child.pid,
    logs: () => output,
    exited,
    async stop({ keepState = false } = {}) {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (!keepState && !stateDir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
