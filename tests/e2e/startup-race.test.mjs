// Processes started together on an empty state directory (issue 18): the
// initialization — generated secret, migrations, the bundled dataset, the
// first admin — runs one process at a time under STATE_DIR/init.lock, so
// three `serve` started at the same moment all come up, one of them seeds,
// one creates the admin, and all serve the same data. 20 rounds (set
// MUSICGRAPH_RACE_ROUNDS for more or fewer).
// Run: node --test tests/e2e/startup-race.test.mjs
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../lib/server.mjs';
import { cleanEnv, removeTempDirs, tempDir } from '../lib/backup.mjs';

const ROUNDS = Number(process.env.MUSICGRAPH_RACE_ROUNDS || 20);
const PROCESSES = 3;
const running = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  removeTempDirs();
});

const count = (text, re) => (text.match(re) || []).length;

test(`${PROCESSES} servers started together on an empty directory all serve, ${ROUNDS} times`, { timeout: 1_500_000 }, async () => {
  const env = { ...cleanEnv(), MUSICGRAPH_ADMIN_PASSWORD: 'race-test-admin-password' };
  for (let round = 1; round <= ROUNDS; round++) {
    const state = tempDir('musicgraph-race-');
    const started = await Promise.allSettled(
      Array.from({ length: PROCESSES }, () => startServer({ stateDir: state, env, args: ['--shutdown-timeout', '1'], timeoutMs: 120_000 })),
    );
    const servers = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    running.push(...servers);
    const failures = started.filter((s) => s.status === 'rejected').map((s) => s.reason.message);
    assert.deepEqual(failures, [], `round ${round}: a server did not come up`);
    const logs = servers.map((s) => s.logs()).join('\n');
    assert.equal(count(logs, /seeded the bundled dataset/g), 1, `round ${round}: one process seeds\n${logs}`);
    assert.equal(count(logs, /created the first admin account/g), 1, `round ${round}: one process creates the admin\n${logs}`);
    // The same data and the same generated secret everywhere: a session made
    // by one server is good on the others.
    const bodies = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/api/v1/genres`)).text()));
    assert.ok(bodies.every((b) => b === bodies[0] && b.length > 1000), `round ${round}: every server serves the same map`);
    const login = await fetch(`${servers[0].url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'race-test-admin-password' }),
    });
    assert.equal(login.status, 200, `round ${round}: the admin logs in`);
    const cookie = login.headers.get('set-cookie').split(';')[0];
    for (const s of servers) {
      const me = await fetch(`${s.url}/api/v1/me`, { headers: { cookie } });
      assert.equal(me.status, 200, `round ${round}: the session is good on ${s.url}`);
    }
    assert.equal(readFileSync(join(state, 'secret_key'), 'utf8').length, 64);
    for (const s of servers.splice(0)) {
      await s.stop();
      running.splice(running.indexOf(s), 1);
    }
  }
});
