// A real ACME CA on loopback for the tests and the benchmark: Debian's pebble,
// which really fetches http-01 tokens and makes tls-alpn-01 handshakes, and
// pebble-challtestsrv, the DNS server pebble asks (its HTTP API sets TXT
// records for dns-01). Every name resolves to 127.0.0.1.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { freePort } from './server.mjs';
import { sleep, waitFor as waitUntil } from './wait.mjs';

export const ACME_NAME = 'musicgraph.test';

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const pebbleMissing = have('pebble') && have('pebble-challtestsrv')
  ? false
  : 'needs pebble and pebble-challtestsrv (Debian package pebble; scripts/deps --test installs it)';

// Polled every 250 ms: each poll of a certificate is a TLS handshake.
export const waitFor = (what, fn, ms) => waitUntil(what, fn, ms, 250);
export { sleep };

// GET over TLS, naming ACME_NAME by SNI; ca: PEM roots to verify against (or none: no verification).
export function tlsGet(port, path, { ca, agent = false } = {}) {
  return new Promise((ok, fail) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, servername: ACME_NAME, agent, timeout: 5000,
        ...(ca ? { ca } : { rejectUnauthorized: false }) },
      (res) => {
        const cert = res.socket.getPeerCertificate();
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => ok({ status: res.statusCode, body, serial: cert.serialNumber, issuer: cert.issuer?.CN, names: cert.subjectaltname, raw: cert.raw }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
  });
}

// Starts pebble and pebble-challtestsrv with their files in dir. httpPort and
// tlsPort are where pebble checks http-01 and tls-alpn-01; lifetimeS is the
// certificates' validity. Returns { directory, caFile, keyFile, roots,
// dnsPort, challMgmt, stop() }.
export async function startPebble({ dir, httpPort, tlsPort, lifetimeS }) {
  const children = [];
  const startChild = (cmd, args, env = {}) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    children.push(child);
    return { child, logs: () => output };
  };
  // pebble's own HTTPS listener needs a certificate; the package ships none.
  const caFile = join(dir, 'pebble-https.pem'), keyFile = join(dir, 'pebble-https.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
    '-out', caFile, '-days', '2', '-subj', '/CN=pebble listener', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const [dnsPort, challMgmt, acmePort, mgmtPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  startChild('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${challMgmt}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
  const config = join(dir, 'pebble.json');
  writeFileSync(config, JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
    certificate: caFile, privateKey: keyFile, httpPort, tlsPort, ocspResponderURL: '',
    externalAccountBindingRequired: false, certificateValidityPeriod: lifetimeS,
  } }));
  // PEBBLE_VA_ALWAYS_VALID=0: pebble really fetches the token from our server.
  const p = startChild('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`],
    { PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_AUTHZREUSE: '0' });
  const stop = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const ca = readFileSync(caFile);
  const get = (url) => new Promise((ok, fail) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? ok(body) : fail(new Error(`${url}: ${res.statusCode}`))));
    }).on('error', fail);
  });
  try {
    await waitFor(() => `pebble at ${directory}\n${p.logs()}`, () => get(directory), 20000);
    const roots = await get(`https://127.0.0.1:${mgmtPort}/roots/0`);
    return { directory, caFile, keyFile, roots, dnsPort, challMgmt, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

// The settings of a server that gets its certificate from pebble; plainPort
// is its plain-HTTP listener (http-01), extra overrides or adds settings.
export function acmeEnv(pebble, plainPort, extra = {}) {
  return {
    MUSICGRAPH_ACME_DOMAINS: ACME_NAME,
    MUSICGRAPH_ACME_EMAIL: 'ops@musicgraph.test',
    MUSICGRAPH_ACME_DIRECTORY: pebble.directory,
    MUSICGRAPH_ACME_CA_ROOTS: pebble.caFile,
    MUSICGRAPH_HTTP_REDIRECT_LISTEN: `127.0.0.1:${plainPort}`,
    ...extra,
  };
}

// A dns-01 hook (written into dir) that sets the TXT record through
// pebble-challtestsrv's HTTP API, or exits with exitCode when it is not 0.
// Each call is appended to HOOK.calls.
export function dnsHook(pebble, dir, exitCode = 0) {
  const hook = join(dir, `hook-${exitCode}.sh`);
  writeFileSync(hook, [
    '#!/bin/sh',
    '# HOOK add|remove NAME TXT_NAME TXT_VALUE',
    'echo "$*" >>"$0.calls"',
    `[ ${exitCode} -eq 0 ] || exit ${exitCode}`,
    'case "$1" in',
    `  add) path=set-txt; body="{\\"host\\":\\"$3.\\",\\"value\\":\\"$4\\"}" ;;`,
    `  remove) path=clear-txt; body="{\\"host\\":\\"$3.\\"}" ;;`,
    '  *) exit 2 ;;',
    'esac',
    `exec curl -sf -o /dev/null -X POST -d "$body" "http://127.0.0.1:${pebble.challMgmt}/$path"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return hook;
}

// The settings for each challenge type, for a server whose HTTPS port is
// pebble's tlsPort (tls-alpn-01) and whose plain listener is pebble's
// httpPort (http-01).
export function challengeEnv(pebble, dir, challenge, plainPort) {
  if (challenge === 'http-01') return acmeEnv(pebble, plainPort);
  const env = challenge === 'dns-01'
    ? acmeEnv(pebble, 0, { MUSICGRAPH_ACME_CHALLENGE: 'dns-01', MUSICGRAPH_ACME_DNS_HOOK: dnsHook(pebble, dir),
      MUSICGRAPH_ACME_DNS_RESOLVER: `127.0.0.1:${pebble.dnsPort}` })
    : acmeEnv(pebble, 0, { MUSICGRAPH_ACME_CHALLENGE: challenge });
  delete env.MUSICGRAPH_HTTP_REDIRECT_LISTEN;
  return env;
}

// RFC 9773's certID of a PEM or DER certificate: base64url of the authority
// key identifier, ".", base64url of the serial's DER content octets.
export function certId(cert) {
  const x = new X509Certificate(cert);
  const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], { input: x.toString() }).toString();
  const keyid = text.split('\n')[1].trim().replace(/^keyid:/, '').replaceAll(':', '');
  let serial = x.serialNumber.length % 2 ? `0${x.serialNumber}` : x.serialNumber;
  if (parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`; // DER keeps a positive serial positive
  return `${Buffer.from(keyid, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

// Pebble 2.4 (Debian 12) has no ACME Renewal Information (RFC 9773): this
// HTTPS proxy in front of it adds renewalInfo to the directory and answers
// it with answer(certID) — { start, end, retryAfter } (Dates) for a window,
// or { status, body } for anything else. Every other request goes through
// to pebble with its Host header, so the URLs pebble hands out (and checks
// in each JWS) are the proxy's. Records what the CA was asked (asks: the
// certIDs, and askedAt: when), the orders placed (their payloads, with
// the moment each arrived in `at`) and the certificates issued.
export async function startAriProxy(pebble, answer) {
  const upstream = new URL(pebble.directory);
  const ca = readFileSync(pebble.caFile);
  const seen = { asks: [], askedAt: [], orders: [], certificates: [] };
  const server = https.createServer({ cert: ca, key: readFileSync(pebble.keyFile) }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith('/renewal-info/')) {
        const id = req.url.slice('/renewal-info/'.length);
        seen.asks.push(id);
        seen.askedAt.push(Date.now());
        const a = answer(id);
        if (a.status) {
          res.writeHead(a.status, { 'content-type': 'application/json' });
          return res.end(a.body);
        }
        res.writeHead(200, { 'content-type': 'application/json', 'retry-after': String(a.retryAfter ?? 60) });
        return res.end(JSON.stringify({ suggestedWindow: { start: a.start.toISOString(), end: a.end.toISOString() } }));
      }
      if (req.method === 'POST') {
        let payload = {};
        try { payload = JSON.parse(Buffer.from(JSON.parse(body).payload, 'base64url').toString() || '{}'); } catch { /* not a JWS: pebble answers */ }
        if (payload.identifiers) seen.orders.push({ ...payload, at: Date.now() });
      }
      const up = https.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, ca }, (ur) => {
        const parts = [];
        ur.on('data', (c) => parts.push(c));
        ur.on('end', () => {
          let out = Buffer.concat(parts);
          const headers = { ...ur.headers };
          if (req.url === upstream.pathname && ur.statusCode === 200) {
            const dir = JSON.parse(out);
            dir.renewalInfo = `https://${req.headers.host}/renewal-info`;
            out = Buffer.from(JSON.stringify(dir));
          }
          if (/pem-certificate-chain/.test(headers['content-type'] || '')) seen.certificates.push(out.toString());
          headers['content-length'] = String(out.length);
          delete headers['transfer-encoding'];
          res.writeHead(ur.statusCode, headers);
          res.end(out);
        });
      });
      up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { directory: `https://127.0.0.1:${server.address().port}${upstream.pathname}`, seen, close: () => server.close() };
}
