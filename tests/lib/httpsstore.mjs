// An HTTPS release store on loopback for the deploy tests: Debian's nginx, not a daemon, with a
// generated configuration in a directory of its own — TLS with a throwaway CA and a server certificate
// for 127.0.0.1 made with openssl, WebDAV PUT (`dav_methods PUT; create_full_put_path on;`) under
// /store/, and HTTP Basic auth (an htpasswd line from `openssl passwd -apr1`) for everything but GET
// and HEAD, as docs/operations.md "Deploys" shows it. /moved/… redirects to plain http:// (a hostile
// server, for the tests of the client's redirect rule).
//
//   const hs = await startHttpsStore({ user: 'publisher', password: 'pw' });
//   hs.url       -> https://127.0.0.1:PORT/store/
//   hs.root      -> the directory nginx serves /store/ from
//   hs.caFile    -> the CA that signed the server's certificate; hs.otherCaFile: one that did not
//   hs.authFile  -> a file holding user:password, for MUSICGRAPH_RELEASE_STORE_AUTH_FILE
//   hs.accessLog() -> ["PUT /store/… 201", …]
//   await hs.stop()   (SIGTERM to nginx's pid)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ok, tempDir } from './release.mjs';
import { freePort } from './server.mjs';

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
  for (const d of ['logs', 'tmp', 'www/store']) mkdirSync(join(dir, d), { recursive: true });
  const { caFile, certFile, keyFile } = makeCertificates(dir, 'store');
  const otherCaFile = makeCertificates(dir, 'other').caFile;
  writeFileSync(join(dir, 'htpasswd'), `${user}:${ok('openssl', ['passwd', '-apr1', password]).trim()}\n`);
  const authFile = join(dir, 'store-auth');
  writeFileSync(authFile, `${user}:${password}\n`, { mode: 0o600 });
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
events {}
http {
  access_log ${dir}/logs/access.log;
${temp}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    root ${dir}/www;
    location /store/ {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      client_max_body_size 0;
      limit_except GET HEAD {
        auth_basic "musicgraph releases";
        auth_basic_user_file ${dir}/htpasswd;
      }
    }
    location /moved/ {
      return 302 http://127.0.0.1:${port}/store/;
    }
  }
}
`);
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  nginx.stdout.on('data', (d) => (output += d));
  nginx.stderr.on('data', (d) => (output += d));
  const ca = readFileSync(caFile);
  const answers = () =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/store/', ca, timeout: 2000 }, (res) => {
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
    url: `https://127.0.0.1:${port}/store/`,
    port,
    root: join(dir, 'www/store'),
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
