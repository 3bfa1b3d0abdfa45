// Debian's nginx running the shipped deploy/nginx/musicgraph.conf on loopback, in a directory of
// its own (not a daemon; pid, logs and temporary files there, never /var): the listen ports and the
// upstream servers replaced by the test's, a throwaway self-signed certificate where certbot's
// would be. Everything else is the file as shipped.
//
//   const site = exampleSite({ upstreams: [portA, portB] });   // writes the configuration
//   const ng = await site.start();    // nginx running; resolves once it answers on port80
//   site.https('/api/v1/graph', { method, headers, body }) -> { status, headers, body }
//   site.accessLog()   -> ["GET /api/v1/graph 200 127.0.0.1:PORT", …] (upstream address last)
//   await ng.stop()    (SIGTERM to nginx)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';
import { waitFor } from './wait.mjs';

export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

// The second upstream line, shipped commented out (one instance is the default).
const SECOND = '#server 127.0.0.1:8081';

// upstreams: the ports of the musicgraph servers, one or two (the second uncomments the example's
// second server line). Ports 80 and 443 of the example become port80 and port443.
export function exampleSite({ port80 = 80, port443 = 443, upstreams = [8080] } = {}) {
  const prefix = mkdtempSync(join(tmpdir(), 'musicgraph-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'tmp'));
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=musicgraph.example.org',
    '-keyout', join(prefix, 'privkey.pem'), '-out', join(prefix, 'fullchain.pem')], { encoding: 'utf8' });
  if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
  const example = readFileSync(join(repoRoot, 'deploy/nginx/musicgraph.conf'), 'utf8');
  for (const must of ['server 127.0.0.1:8080', SECOND, 'listen 80;', 'listen 443 ssl'])
    if (!example.includes(must)) throw new Error(`deploy/nginx/musicgraph.conf has no "${must}"`);
  let site = example
    .replaceAll('/etc/letsencrypt/live/musicgraph.example.org', prefix)
    .replace(/^\s*listen \[::\].*\n/gm, '')
    .replace('listen 80;', `listen 127.0.0.1:${port80};`)
    .replace('listen 443 ssl', `listen 127.0.0.1:${port443} ssl`)
    .replace('server 127.0.0.1:8080', `server 127.0.0.1:${upstreams[0]}`);
  if (upstreams.length > 1) site = site.replace(SECOND, `server 127.0.0.1:${upstreams[1]}`);
  writeFileSync(join(prefix, 'site.conf'), site);
  writeFileSync(join(prefix, 'nginx.conf'), `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events {}
http {
  log_format upstream '$request_method $uri $status $upstream_addr';
  access_log ${prefix}/logs/access.log upstream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  include ${prefix}/site.conf;
}
`);
  const readLog = (name) => (existsSync(join(prefix, 'logs', name)) ? readFileSync(join(prefix, 'logs', name), 'utf8') : '');
  // Keep-alive, as a browser would: one TLS handshake, not one per request.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  return {
    prefix,
    conf: join(prefix, 'nginx.conf'),
    errorLog: () => readLog('error.log'),
    accessLog: () => readLog('access.log').split('\n').filter(Boolean),
    https: (path, { method = 'GET', headers = {}, body } = {}) =>
      new Promise((ok, fail) => {
        const req = request({ host: '127.0.0.1', port: port443, path, method, headers, agent, rejectUnauthorized: false, timeout: 30000 }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
        req.on('error', fail);
        req.end(body);
      }),
    async start() {
      const nginx = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      nginx.stderr.on('data', (d) => (out += d));
      const exited = new Promise((r) => nginx.once('exit', r));
      await waitFor(() => `nginx on ${port80}: ${out}${readLog('error.log')}`, async () => {
        if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}`);
        return (await fetch(`http://127.0.0.1:${port80}/`, { redirect: 'manual' })).status === 301;
      });
      return {
        output: () => out,
        async stop() {
          agent.destroy();
          if (nginx.exitCode === null) nginx.kill('SIGTERM');
          await exited;
          rmSync(prefix, { recursive: true, force: true });
        },
      };
    },
  };
}
