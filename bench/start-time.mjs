#!/usr/bin/env node
// start-time.mjs — measures how long musicgraph takes from spawn to its first
// served request, N times, and prints one JSON object on stdout.
//
//   node bench/start-time.mjs BINARY STATE_DIR [N]
//
// Each start gets a fresh free loopback port, is spawned with
// MUSICGRAPH_LOG_LEVEL=warn and 2 threads, and is polled every millisecond:
// first for 200 on /healthz (the target in issue 2), then for 200 on
// /api/v1/graph (the map itself is being served, which is what a user waits
// for). The server is then stopped with SIGTERM (SIGKILL after 10 s) before
// the next start. Timing is taken in this process with a monotonic clock, from
// just before spawn() to the moment the 200 response head has arrived.

import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { sleep } from '../tests/lib/wait.mjs';

const [bin, stateDir, nArg] = process.argv.slice(2);
if (!bin || !stateDir) {
  process.stderr.write('usage: start-time.mjs BINARY STATE_DIR [N]\n');
  process.exit(2);
}
const N = Number(nArg || 5);
const POLL_MS = 1;
const GIVE_UP_MS = 30000;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// One GET with a fresh connection; resolves to the status or 0 on error.
const status = (port, path) =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });

let child = null;
const killChild = () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', killChild);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

async function waitFor(port, path, t0) {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before serving ${path}`);
    if ((await status(port, path)) === 200) return nowMs() - t0;
    if (nowMs() - t0 > GIVE_UP_MS) throw new Error(`no 200 on ${path} after ${GIVE_UP_MS} ms`);
    await sleep(POLL_MS);
  }
}

async function stop() {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10000);
  await done;
  clearTimeout(t);
}

const runs = [];
try {
  for (let i = 0; i < N; i++) {
    const port = await freePort();
    const env = { ...process.env, MUSICGRAPH_LOG_LEVEL: 'warn' };
    const t0 = nowMs();
    child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', stateDir, '--threads', '2'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const healthz = await waitFor(port, '/healthz', t0);
    const graph = await waitFor(port, '/api/v1/graph', t0);
    runs.push({ healthz_ms: +healthz.toFixed(2), graph_ms: +graph.toFixed(2) });
    await stop();
  }
} catch (e) {
  process.stderr.write(`start-time: ${e.message}\n`);
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
process.stdout.write(
  JSON.stringify({
    runs,
    median_healthz_ms: +median(runs.map((r) => r.healthz_ms)).toFixed(2),
    median_graph_ms: +median(runs.map((r) => r.graph_ms)).toFixed(2),
    poll_interval_ms: POLL_MS,
  }) + '\n',
);
