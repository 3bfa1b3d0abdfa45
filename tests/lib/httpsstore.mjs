// An HTTPS release store on loopback for the deploy tests: Debian's nginx, not a daemon, running
// the example deploy/nginx/musicgraph-releases.conf (WebDAV PUT under /musicgraph/, HTTP Basic auth
// for everything but GET and HEAD) with its paths and port replaced, in a directory of its own: TLS
// with a throwaway CA and a server certificate for 127.0.0.1 made with openssl, the htpasswd line
// from `openssl passwd -apr1`, pid, logs and temporary files there (never /var). /moved/… redirects
// to plain http:// (a hostile server, for the client's redirect rule).
//
//   const hs = await startHttpsStore({ user: 'publisher', password: 'pw' });
//   hs.url       -> https://127.0.0.1:PORT/musicgraph/
//   hs.root      -> the directory nginx serves /musicgraph/ from
//   hs.caFile    -> the CA that signed the server's certificate; hs.otherCaFile: one that did not
//   hs.authFile  -> a file holding user:password, for MUSICGRAPH_RELEASE_STORE_AUTH_FILE
//   hs.accessLog() -> ["PUT /musicgraph/… 201", …]
//   await hs.stop()   (SIGTERM to nginx's pid)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ok, tempDir } from './release.mjs';
import { freePort, repoRoot } from './server.mjs';

export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null;

// A CA and a certificate for 127.0.0.1/localhost that it signed, in dir: { caFile, certFile, keyFile }.
export function makeCertificates(dir, name = 'test') {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const caFile = join(dir, `${name}-ca.pem`), caKey = join(dir, `${name}-ca.key`);
  ok('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=musicgraph ${name} CA`]);
  const certFile = join(dir, `${name}-server.pem`), keyFile = join(dir, `${name}-server.key`), csr = join(dir, `${name}.csr`);
  ok('openssl', ['req', '-new', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1']);
  const ext = join(dir, `${name}-ext.cnf`);
  writeFileSync(ext, 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ok('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', '1', '-days', '2', '-extfile', ext, '-out', certFile]);
  return { caFile, certFile, keyFile };
}

export async function startHttpsStore({ user, password }) {
  const dir = tempDir('musicgraph-httpsstore-');
  for (const d of ['logs', 'tmp', 'www/musicgraph']) mkdirSync(join(dir, d), { recursive: true });
  const { caFile, certFile, keyFile } = makeCertificates(dir, 'store');
  const otherCaFile = makeCertificates(dir, 'other').caFile;
  writeFileSync(join(dir, 'htpasswd'), `${user}:${ok('openssl', ['passwd', '-apr1', password]).trim()}\n`);
  const authFile = join(dir, 'store-auth');
  writeFileSync(authFile, `${user}:${password}\n`, { mode: 0o600 });
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`).join('\n');
  const example = readFileSync(join(repoRoot, 'deploy/nginx/musicgraph-releases.conf'), 'utf8');
  const site = [
    ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`],
    ['/etc/letsencrypt/live/releases.example.org/fullchain.pem', certFile],
    ['/etc/letsencrypt/live/releases.example.org/privkey.pem', keyFile],
    ['root /srv/releases-www;', `root ${dir}/www;\n    location /moved/ {\n        return 302 http://127.0.0.1:${port}/musicgraph/;\n    }`],
    ['/etc/nginx/musicgraph-releases.htpasswd', join(dir, 'htpasswd')],
  ].reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`deploy/nginx/musicgraph-releases.conf has no "${from}"`);
    return text.replaceAll(from, to);
  }, example);
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
events {}
http {
  access_log ${dir}/logs/access.log;
${temp}
  include ${dir}/site.conf;
}
`);
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  nginx.stdout.on('data', (d) => (output += d));
  nginx.stderr.on('data', (d) => (output += d));
  const ca = readFileSync(caFile);
  const answers = () =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/musicgraph/', ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  for (let i = 0; !(await answers()); i++) {
    if (nginx.exitCode !== null || i > 100) {
      nginx.kill('SIGTERM');
      throw new Error(`nginx did not start (exit ${nginx.exitCode}):\n${output}\n${readLog(join(dir, 'logs/error.log'))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `https://127.0.0.1:${port}/musicgraph/`,
    port,
    root: join(dir, 'www/musicgraph'),
    caFile,
    otherCaFile,
    authFile,
    dir,
    accessLog: () => readLog(join(dir, 'logs/access.log')).split('\n').filter(Boolean).map((l) => {
      const m = /"(\w+) (\S+) [^"]*" (\d+)/.exec(l);
      return m ? `${m[1]} ${m[2]} ${m[3]}` : l;
    }),
    stop: () =>
      new Promise((resolve) => {
        if (nginx.exitCode !== null) return resolve();
        nginx.on('exit', resolve);
        nginx.kill('SIGTERM');
      }),
  };
}

const readLog = (path) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
