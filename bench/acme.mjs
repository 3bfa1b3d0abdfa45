#!/usr/bin/env node
// Time from a cold start with no certificate to the first HTTPS response,
// per ACME challenge type, with pebble on loopback (issue 13).
//
//   node bench/acme.mjs   (MUSICGRAPH_BIN, RUNS=5)
//
// The bundled map is seeded once into a state directory; each run starts the
// server on a copy of it (no certificate, no ACME account) and polls
// /healthz over HTTPS every 50 ms until it answers 200. The same start
// without ACME, plain HTTP, is the baseline: the difference is what getting
// the certificate costs (an account, an order, the challenge, the CSR,
// pebble's validation). Prints one JSON line: per challenge the median and
// every run, in ms; or {"skipped": why} without pebble.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { challengeEnv, pebbleMissing, startPebble } from '../tests/lib/pebble.mjs';
import { freePort, startServer } from '../tests/lib/server.mjs';

const RUNS = Number(process.env.RUNS || 5);
if (pebbleMissing) {
  console.log(JSON.stringify({ skipped: pebbleMissing }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'musicgraph-bench-acme-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
let pebble;
try {
  const [plainPort, alpnPort] = [await freePort(), await freePort()];
  pebble = await startPebble({ dir, httpPort: plainPort, tlsPort: alpnPort, lifetimeS: 3600 });
  const seeded = join(dir, 'seeded');
  const env = { MUSICGRAPH_ADMIN_PASSWORD: 'bench-admin-pass-1', MUSICGRAPH_LOG_LEVEL: 'warn' };
  await (await startServer({ stateDir: seeded, env, timeoutMs: 120_000 })).stop({ keepState: true });

  const result = { runs: RUNS };
  for (const challenge of ['none', 'http-01', 'tls-alpn-01', 'dns-01']) {
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const state = join(dir, `run-${challenge}-${i}`);
      cpSync(seeded, state, { recursive: true });
      const acme = challenge === 'none' ? {} : challengeEnv(pebble, dir, challenge, plainPort);
      const t0 = performance.now();
      const srv = await startServer({
        stateDir: state,
        env: { ...env, ...acme },
        healthScheme: challenge === 'none' ? 'http' : 'https',
        port: challenge === 'tls-alpn-01' ? alpnPort : undefined,
        timeoutMs: 120_000,
      });
      times.push(performance.now() - t0);
      await srv.stop({ keepState: true });
      rmSync(state, { recursive: true, force: true });
    }
    result[challenge] = { median_ms: Math.round(median(times)), runs_ms: times.map(Math.round) };
  }
  console.log(JSON.stringify(result));
} finally {
  pebble?.stop();
  rmSync(dir, { recursive: true, force: true });
}
