#!/usr/bin/env node
// deploy.mjs — deploy and rollback durations of the deploy agent (issue 15), and the requests that
// failed during each, and prints one JSON object on stdout.
//
//   node bench/deploy.mjs MUSICGRAPH_BIN [RUNS]
//
// Releases of the commit checked out are built like the tests build them (tests/lib/deploy.mjs, here
// with --buildtype=release): RUNS good versions and one whose server cannot start. One installation
// serves the first version from a pid file on a free loopback port while wrk (2 threads, 16
// connections) asks for a genre the whole time. Then, RUNS times:
//   deploy:   `release promote NEXT dev`, then `musicgraph deploy run`; measured from just before the
//             channel moves to the first /readyz that reports NEXT (polled every 20 ms);
//   rollback: `release promote BAD dev`, then `musicgraph deploy run --retry`: measured from just
//             before the channel moves until the agent has switched back and the old version serves
//             (the agent's exit, after its own /readyz wait);
// and wrk's non-2xx answers and socket errors during each. Medians over the runs.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildReleases } from '../tests/lib/deploy.mjs';
import { removeTemps, runAsync, tempDir } from '../tests/lib/release.mjs';
import { startServer } from '../tests/lib/server.mjs';
import { sleep } from '../tests/lib/wait.mjs';

const bin = resolve(process.argv[2] || 'build/musicgraph');
const RUNS = Number(process.argv[3] || 5);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const log = (m) => process.stderr.write(`bench/deploy: ${m}\n`);

function wrk(url) {
  const child = spawn('wrk', ['-t2', '-c16', '-d600s', url]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise((ok) => child.on('close', () => ok(out)));
  return {
    async stop() {
      child.kill('SIGINT'); // wrk prints its summary on SIGINT
      const text = await done;
      const sock = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
      return {
        requests: Number((text.match(/(\d+) requests in/) || [])[1] || 0),
        failed: (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + Number((text.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] || 0),
      };
    },
  };
}

async function main() {
  const good = Array.from({ length: RUNS + 1 }, (_, i) => ({ version: `1.${i}.0` }));
  const bad = { version: '9.0.0', migration: 'CREATE TABLE genres (id TEXT);\n' };
  log(`building ${good.length + 1} releases`);
  const rel = buildReleases([...good, bad], { buildtype: 'release' });
  const store = tempDir('musicgraph-bench-store-');
  const root = tempDir('musicgraph-bench-root-');
  const state = tempDir('musicgraph-bench-state-');
  for (const v of Object.keys(rel.dists)) {
    const r = spawnSync(bin, ['release', 'publish', rel.dists[v], '--to', store, '--public-key', rel.publicKey], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const env = {
    MUSICGRAPH_DEPLOY_ROOT: root, MUSICGRAPH_DEPLOY_STORE: store, MUSICGRAPH_DEPLOY_CHANNEL: 'dev',
    MUSICGRAPH_RELEASE_PUBLIC_KEY: rel.publicKey, MUSICGRAPH_PID_FILE: join(state, 'musicgraph.pid'),
    MUSICGRAPH_STATE_DIR: state, MUSICGRAPH_LOG_LEVEL: 'warn', MUSICGRAPH_DEPLOY_KEEP: '3',
  };
  const promote = (v) => spawnSync(bin, ['release', 'promote', v, 'dev', '--to', store], { env: { ...process.env, ...env } });
  promote(good[0].version);
  await runAsync(bin, ['deploy', 'run'], { env });
  const server = await startServer({ binary: join(root, 'current/bin/musicgraph'), stateDir: state, env, timeoutMs: 120000 });
  const agentEnv = { ...env, MUSICGRAPH_DEPLOY_URL: server.url };
  const readyVersion = async () => {
    try {
      const r = await fetch(`${server.url}/readyz`);
      return r.status === 200 ? (await r.json()).version : '';
    } catch {
      return '';
    }
  };
  const result = { runs: RUNS, deploy_ms: [], deploy_agent_ms: [], deploy_failed: [], rollback_ms: [], rollback_failed: [], requests: 0 };
  try {
    for (let i = 1; i <= RUNS; i++) {
      const next = good[i].version;
      const load = wrk(`${server.url}/api/v1/genres/rock`);
      await sleep(1000);
      const t0 = now();
      promote(next);
      const agent = runAsync(bin, ['deploy', 'run'], { env: agentEnv });
      let t1 = 0;
      while (!t1) {
        if ((await readyVersion()) === next) t1 = now();
        else await sleep(20);
      }
      const r = await agent;
      await sleep(500);
      const w = await load.stop();
      if (r.status !== 0) throw new Error(`deploy of ${next} failed:\n${r.stderr}`);
      const rec = JSON.parse(readFileSync(join(root, 'last-deploy.json'), 'utf8'));
      result.deploy_ms.push(Math.round(t1 - t0));
      result.deploy_agent_ms.push(rec.duration_ms);
      result.deploy_failed.push(w.failed);
      result.requests += w.requests;
      log(`deploy ${next}: ${Math.round(t1 - t0)} ms, ${w.failed} failed of ${w.requests}`);

      const load2 = wrk(`${server.url}/api/v1/genres/rock`);
      await sleep(1000);
      const t2 = now();
      promote(bad.version);
      const back = await runAsync(bin, ['deploy', 'run', '--retry'], { env: agentEnv });
      const t3 = now();
      await sleep(500);
      const w2 = await load2.stop();
      if (back.status !== 1 || (await readyVersion()) !== next) throw new Error(`the rollback of ${bad.version} did not return to ${next}:\n${back.stderr}`);
      result.rollback_ms.push(Math.round(t3 - t2));
      result.rollback_failed.push(w2.failed);
      result.requests += w2.requests;
      log(`rollback of ${bad.version}: ${Math.round(t3 - t2)} ms, ${w2.failed} failed of ${w2.requests}`);
    }
  } finally {
    try {
      process.kill(Number(readFileSync(env.MUSICGRAPH_PID_FILE, 'utf8')), 'SIGTERM');
    } catch {}
    await server.stop({ keepState: true });
  }
  for (const k of ['deploy_ms', 'deploy_agent_ms', 'rollback_ms']) result[`${k}_median`] = median(result[k]);
  result.deploy_failed_total = result.deploy_failed.reduce((a, b) => a + b, 0);
  result.rollback_failed_total = result.rollback_failed.reduce((a, b) => a + b, 0);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main()
  .catch((e) => {
    process.stdout.write(JSON.stringify({ error: String(e.message || e).slice(0, 2000) }) + '\n');
    process.exitCode = 1;
  })
  .finally(removeTemps);
