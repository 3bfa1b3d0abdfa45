// Starts an S3-compatible server on loopback for the offsite-backup tests:
// the `s3rver` package (filesystem-backed, path-style URLs) behind a check
// of AWS Signature Version 4.
//
// Why the check: s3rver 3.7 parses a V4 Authorization header and refuses an
// unknown access key id, but it does not compute V4 signatures ("V4
// signatures have incomplete support", lib/middleware/authentication.js), so
// on its own a wrong secret key would be accepted. This wrapper recomputes
// every signature from the request as received (method, path, sorted query,
// the signed headers, x-amz-content-sha256) with node:crypto — an
// implementation independent of the C one under test — and answers 403
// SignatureDoesNotMatch, as S3 does, when it differs. It does not re-hash
// the body (that would mean buffering it before s3rver reads it); the body
// hash is still part of what is signed. tests/e2e/backup.test.mjs checks
// this code against AWS's published worked example.
//
//   const s3 = await startS3({ buckets: ['backups'] });
//   s3.env  -> MUSICGRAPH_S3_* variables for the binary
//   s3.requests -> [{ method, url, status }]
//   await s3.stop();
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

// s3rver's built-in account.
export const ACCESS_KEY = 'S3RVER';
export const SECRET_KEY = 'S3RVER';
export const REGION = 'us-east-1';

const hmac = (key, data) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data) => createHash('sha256').update(data, 'utf8').digest('hex');
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function s3Error(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

// Returns null when the request is correctly signed, else [status, code, message].
export function checkSignature(req, secrets = { [ACCESS_KEY]: SECRET_KEY }) {
  const auth = req.headers.authorization;
  if (!auth) return [403, 'AccessDenied', 'Anonymous access is not allowed here'];
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed'];
  const [, keyId, date, region, signedHeaders, signature] = m;
  const secret = secrets[keyId];
  if (secret === undefined) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return [403, 'SignatureDoesNotMatch', 'x-amz-date does not match the credential scope'];
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) return [400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
  const [path, query = ''] = req.url.split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf('=');
      const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, '%20'));
      return [rfc3986(k), rfc3986(v)];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256'))
    return [403, 'SignatureDoesNotMatch', 'host, x-amz-date and x-amz-content-sha256 must be signed'];
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  if (expected !== signature)
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
  return null;
}

export async function startS3({ buckets = ['backups'] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-s3-'));
  const s3 = new S3rver({ silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  await s3.configureBuckets();
  const handler = s3.callback();
  const requests = [];
  const server = createServer((req, res) => {
    const entry = { method: req.method, url: req.url, status: 0 };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const bad = checkSignature(req);
    if (bad) {
      req.resume();
      s3Error(res, ...bad);
      return;
    }
    handler(req, res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  return {
    endpoint,
    dir,
    requests,
    env: {
      MUSICGRAPH_S3_ENDPOINT: endpoint,
      MUSICGRAPH_S3_REGION: REGION,
      MUSICGRAPH_S3_ACCESS_KEY_ID: ACCESS_KEY,
      MUSICGRAPH_S3_SECRET_ACCESS_KEY: SECRET_KEY,
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((ok) => server.close(ok));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A signed S3 request from the test itself (to plant and inspect objects).
export function signedS3(s3, method, path, query = '', body = Buffer.alloc(0), secret = SECRET_KEY) {
  const host = s3.endpoint.replace('http://', '');
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const date = amzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonical = [method, path, query, `host:${host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n`, 'host;x-amz-content-sha256;x-amz-date', payloadHash].join('\n');
  const scope = `${date}/${REGION}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const h = (k, d) => createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h('AWS4' + secret, date), REGION), 's3'), 'aws4_request');
  const sig = createHmac('sha256', key).update(toSign).digest('hex');
  return fetch(`${s3.endpoint}${path}${query ? '?' + query : ''}`, {
    method,
    body: method === 'PUT' ? body : undefined,
    headers: {
      'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${sig}`,
    },
  });
}
