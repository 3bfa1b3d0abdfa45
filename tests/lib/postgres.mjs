// Starts a throwaway PostgreSQL cluster for the tests that run musicgraph on
// PostgreSQL: Debian's postgresql package (initdb and pg_ctl from
// /usr/lib/postgresql/NN/bin, or $MUSICGRAPH_PG_BIN), a temporary data
// directory, a private port on 127.0.0.1 and a private socket directory,
// password authentication (so URLs carry a password, as in production).
// initdb refuses to run as root: as root the cluster runs as the `postgres`
// user (or `nobody`), through setpriv.
//
//   const pg = await startPostgres();      // null when PostgreSQL is not installed
//   const url = await pg.createDatabase(); // a fresh database: postgres://…
//   await pg.psql(url, 'SELECT 1');        // { code, stdout, stderr }
//   await pg.stop();
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.mjs';

const PASSWORD = 'pg-test-Secret-77';

export function postgresBin() {
  if (process.env.MUSICGRAPH_PG_BIN) return existsSync(join(process.env.MUSICGRAPH_PG_BIN, 'initdb')) ? process.env.MUSICGRAPH_PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => b - a);
  return versions.length ? join(root, versions[0], 'bin') : null;
}

// The account the cluster runs as: ourselves, or an unprivileged user when we are root.
function clusterUser() {
  if (process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name]).toString());
      const gid = Number(execFileSync('id', ['-g', name]).toString());
      return { name, uid, gid };
    } catch {
      /* try the next */
    }
  }
  throw new Error('running as root and there is no postgres or nobody user to run PostgreSQL as');
}

function run(cmd, args, { user, env = {}, input } = {}) {
  const [file, argv] = user
    ? ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', cmd, ...args]]
    : [cmd, args];
  return new Promise((ok) => {
    const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as one stream: a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => ok({ code: -1, stdout, stderr: String(e) }));
    child.on('close', (code) => ok({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

// durable: fsync and synchronous_commit on, as a production server runs (the
// benchmark's writes); by default off, for the tests' speed.
export async function startPostgres({ durable = false } = {}) {
  const bin = postgresBin();
  if (!bin) return null;
  const user = clusterUser();
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, PASSWORD + '\n');
  chmodSync(dir, 0o755);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const init = await run(join(bin, 'initdb'), ['-D', data, '-U', 'musicgraph', '--auth=scram-sha-256', `--pwfile=${pwfile}`,
    '-E', 'UTF8', '--locale=C', '--no-sync'], { user });
  if (init.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stdout}\n${init.stderr}`);
  }
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200` +
    (durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off');
  const log = join(dir, 'postgres.log');
  const start = await run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start'], { user });
  if (start.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${start.stdout}\n${start.stderr}`);
  }
  let databases = 0;
  const adminUrl = (db) => `postgres://musicgraph:${PASSWORD}@127.0.0.1:${port}/${db}`;
  const pg = {
    port,
    password: PASSWORD,
    dir,
    url: adminUrl,
    // psql as the cluster's superuser against url (or the postgres database);
    // unaligned rows without headers (-At): one value per line.
    psql(url, sql) {
      return run(join(bin, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url || adminUrl('postgres'), '-c', sql]);
    },
    async createDatabase() {
      const name = `mg_${process.pid}_${++databases}`;
      const r = await pg.psql(null, `CREATE DATABASE ${name}`);
      if (r.code !== 0) throw new Error(`CREATE DATABASE failed: ${r.stderr}`);
      return adminUrl(name);
    },
    // Stops and starts the server on the same port (the outage tests).
    async pause() {
      return run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], { user });
    },
    async resume() {
      return run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start'], { user });
    },
    async stop() {
      await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { user });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pg;
}
