// Restarts under load lose no request: the systemd way (a holder keeps the
// listening socket, the server is stopped and started again on it) and the
// built-in way (SIGUSR2 starts the new binary on the inherited socket, which
// takes over when ready while the old one drains). wrk runs on loopback the
// whole time; the bar is zero failed requests.
import { test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { binary as testBinary, freePort, runCli, startServer } from '../lib/server.mjs';
import { sleep } from '../lib/wait.mjs';

// Restarts are about timing under load, so they use the optimised build when
// there is one (tests/run sets it); the sanitizer build covers the same code
// in every other suite.
const binary = process.env.MUSICGRAPH_RELEASE_BIN || testBinary;
const holder = join(dirname(binary), 'socket_holder');
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.status === 1; // wrk --version exits 1 after printing its version
  }
})();

// Runs wrk for `seconds` and returns { requests, errors, non2xx, raw }.
function runWrk(url, seconds) {
  return new Promise((ok) => {
    const child = spawn('wrk', ['-t2', '-c32', `-d${seconds}s`, url]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', () => {
      const requests = Number((out.match(/(\d+) requests in/) || [])[1] || 0);
      const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
      const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      const non2xx = Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] || 0);
      ok({ requests, errors, non2xx, raw: out });
    });
  });
}

async function waitReady(url, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {}
    await sleep(50);
  }
  throw new Error('server not ready');
}

// PIDs of musicgraph processes whose command line mentions dir.
function pidsUsing(dir) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(dir) && cmd.includes('serve')) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

test('restart through a held socket (systemd style) loses no request', { skip: !hasWrk && 'wrk not installed' }, async () => {
  assert.ok(existsSync(holder), `${holder} must be built`);
  const stateDir = mkdtempSync(join(tmpdir(), 'musicgraph-restart-'));
  const seeded = await runCli(['seed', '--state-dir', stateDir]);
  assert.equal(seeded.code, 0, seeded.stderr);
  const port = await freePort();
  const child = spawn(holder, [String(port), binary, 'serve', '--state-dir', stateDir, '--threads', '2'], {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', MUSICGRAPH_LOG_LEVEL: process.env.RESTART_LOG_LEVEL || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
    const load = runWrk(`${url}/api/v1/genres/rock`, 12);
    let done = false;
    load.then(() => (done = true));
    // Two restarts while wrk runs, each one waited for before the next.
    for (let restart = 2; restart <= 3; restart++) {
      await sleep(2000);
      child.kill('SIGHUP');
      const end = Date.now() + 8000;
      while ((out.match(/started \d+/g) || []).length < restart && Date.now() < end) await sleep(50);
      await waitReady(url);
    }
    const restartsDone = !done;
    const result = await load;
    assert.equal((out.match(/started \d+/g) || []).length, 3, `two restarts happened:\n${out}`);
    assert.ok(restartsDone, 'both restarts happened while wrk was running');
    assert.match(out, /exited \d+ status 0/, 'the old server exited cleanly');
    assert.ok(result.requests > 1000, `wrk made requests:\n${result.raw}`);
    assert.equal(result.errors, 0, `no socket errors:\n${result.raw}\n${out}`);
    assert.equal(result.non2xx, 0, `no failed responses:\n${result.raw}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('SIGUSR2 hands the socket to a new process without losing a request', { skip: !hasWrk && 'wrk not installed' }, async () => {
  const srv = await startServer({ env: { MUSICGRAPH_LOG_LEVEL: 'warn' }, binary });
  const seen = new Set([srv.pid]);
  try {
    const load = runWrk(`${srv.url}/api/v1/genres/rock`, 8);
    let current = srv.pid;
    for (let round = 0; round < 2; round++) {
      await sleep(2000);
      process.kill(current, 'SIGUSR2');
      // The successor appears, becomes ready, and the old process leaves.
      const end = Date.now() + 20000;
      let next;
      while (Date.now() < end) {
        next = pidsUsing(srv.stateDir).find((p) => !seen.has(p));
        if (next && !pidsUsing(srv.stateDir).includes(current)) break;
        await sleep(50);
      }
      assert.ok(next, 'a new process took over');
      assert.ok(!pidsUsing(srv.stateDir).includes(current), 'the old process exited');
      seen.add(next);
      current = next;
    }
    const result = await load;
    assert.ok(result.requests > 1000, `wrk made requests:\n${result.raw}`);
    assert.equal(result.errors, 0, `no socket errors:\n${result.raw}`);
    assert.equal(result.non2xx, 0, `no failed responses:\n${result.raw}`);
    const ready = await fetch(`${srv.url}/readyz`);
    assert.equal(ready.status, 200);
  } finally {
    for (const pid of pidsUsing(srv.stateDir)) process.kill(pid, 'SIGTERM');
    await srv.stop();
  }
});

test('while a SIGUSR2 successor is still starting, the old process keeps serving and still obeys SIGTERM', { timeout: 40_000 }, async () => {
  // The binary is copied, started, then replaced on disk by a program that
  // never becomes ready: SIGUSR2 starts that one, and waiting for it must
  // neither stop the service nor block signal handling.
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-upgrade-'));
  const copy = join(dir, 'musicgraph');
  copyFileSync(binary, copy);
  chmodSync(copy, 0o755);
  const srv = await startServer({ env: { MUSICGRAPH_LOG_LEVEL: 'info' }, args: ['--shutdown-timeout', '2'], binary: copy });
  const childPidFile = join(dir, 'child.pid');
  try {
    writeFileSync(`${copy}.new`, `#!/bin/sh\necho $$ > ${childPidFile}\nexec sleep 30\n`, { mode: 0o755 });
    renameSync(`${copy}.new`, copy);
    process.kill(srv.pid, 'SIGUSR2');
    const end = Date.now() + 10000;
    while (!existsSync(childPidFile) && Date.now() < end) await sleep(50);
    assert.ok(existsSync(childPidFile), 'the successor was started');
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${srv.url}/api/v1/genres/rock`)).status, 200, 'still serving');
    // The successor would be given 60 s: a stop that waited for it would exceed this test's timeout.
    assert.equal(await srv.stop(), 0);
  } finally {
    try {
      process.kill(Number(readFileSync(childPidFile, 'utf8')), 'SIGKILL');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
});
