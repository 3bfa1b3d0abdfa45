// Black-box tests of the musicgraph command line (DESIGN.md §5 "Contracts"):
// help, exit statuses, migrations, seeding and its data rules, configuration
// precedence, and an operator's command seen by a running server.
// Run: node --test tests/e2e/cli.test.mjs   (Node 20+, no dependencies)
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net, { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, freePort, startServer } from '../lib/server.mjs';

// No test may hang the run (a server that never answers, a child that never exits).
const TEST_TIMEOUT = 30_000;

// The servers here are about data, not shutdown: do not wait the default
// 10 s for idle keep-alive connections (see the shutdown test at the end).
const FAST_STOP = ['--shutdown-timeout', '1'];

const dirs = [];
const servers = [];

// A fresh, empty temporary directory, removed when the file is done.
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'musicgraph-cli-'));
  dirs.push(d);
  return d;
}

// The settings a developer's shell might carry must not leak into the tests.
const CLEAN = ['MUSICGRAPH_STATE_DIR', 'MUSICGRAPH_DATABASE_URL', 'DATABASE_URL', 'MUSICGRAPH_CONFIG', 'MUSICGRAPH_ENV',
  'MUSICGRAPH_LISTEN', 'MUSICGRAPH_SEED', 'MUSICGRAPH_LOG_FORMAT', 'MUSICGRAPH_LOG_LEVEL', 'MUSICGRAPH_THREADS',
  'STATE_DIRECTORY'];

// Like runCli (tests/lib/server.mjs), but with those variables removed
// rather than inherited: { code, stdout, stderr }.
function cli(args, env = {}) {
  const full = { ...process.env };
  for (const k of CLEAN) delete full[k];
  Object.assign(full, env);
  return new Promise((ok) => {
    const child = spawn(binary, args, { env: full });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // The binary can be missing for a moment while it is being rebuilt.
    child.on('error', (e) => ok({ code: null, stdout, stderr: `${stderr}${e.message}\n` }));
    child.stdin.on('error', () => {});
    child.stdin.end();
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

// A failure: non-zero exit, exactly one non-empty line on stderr.
function assertOneLineError(res, code, what) {
  assert.equal(res.code, code, `${what}: exit ${res.code}, stderr: ${res.stderr}`);
  const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `${what}: stderr should be one line, got:\n${res.stderr}`);
  return lines[0];
}

function migrationStates(stdout) {
  const states = {};
  for (const line of stdout.split('\n')) {
    const m = line.match(/^(\d{4}_[a-z0-9_]+)\s+(\S+)/);
    if (m) states[m[1]] = m[2];
  }
  return states;
}

async function occupiedPort() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  return srv;
}

after(async () => {
  for (const s of servers) {
    const timer = setTimeout(() => {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await s.stop().catch(() => {});
    clearTimeout(timer);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------- help and usage

test('--help lists the commands and exits 0', { timeout: TEST_TIMEOUT }, async () => {
  const res = await cli(['--help']);
  assert.equal(res.code, 0);
  for (const cmd of ['serve', 'migrate', 'seed', 'version']) assert.match(res.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), cmd);
  assert.match(res.stdout, /--state-dir/);
  assert.equal(res.stderr, '');
  const h = await cli(['-h']);
  assert.equal(h.code, 0);
  assert.equal(h.stdout, res.stdout);
});

test('each command has --help and exits 0', { timeout: TEST_TIMEOUT }, async () => {
  for (const cmd of ['serve', 'migrate', 'seed', 'version']) {
    const res = await cli([cmd, '--help']);
    assert.equal(res.code, 0, `${cmd} --help: ${res.stderr}`);
    assert.match(res.stdout, new RegExp(`usage: musicgraph ${cmd}`), `${cmd} --help`);
    // Every subcommand takes --state-dir and --database-url.
    assert.match(res.stdout, /--state-dir/, `${cmd} --help mentions --state-dir`);
    assert.match(res.stdout, /--database-url/, `${cmd} --help mentions --database-url`);
  }
  assert.match((await cli(['serve', '--help'])).stdout, /--no-seed/);
  assert.match((await cli(['migrate', '--help'])).stdout, /--status/);
  assert.match((await cli(['seed', '--help'])).stdout, /--file/);
});

test('every command listed by --help has its own --help with the common options', { timeout: TEST_TIMEOUT }, async () => {
  const list = (await cli(['--help'])).stdout;
  const section = list.slice(list.indexOf('Commands:'), list.indexOf('\n\n', list.indexOf('Commands:')));
  const commands = [...section.matchAll(/^\s{2}([a-z][a-z-]*)\s{2,}\S/gm)].map((m) => m[1]);
  assert.ok(commands.length >= 4, `no command list in --help:\n${list}`);
  for (const cmd of commands) {
    const res = await cli([cmd, '--help']);
    assert.equal(res.code, 0, `${cmd} --help exits ${res.code}: ${res.stderr}`);
    assert.match(res.stdout, new RegExp(`usage: musicgraph ${cmd}\\b`), `${cmd} --help has no usage line`);
    assert.match(res.stdout, /--state-dir/, `${cmd} --help lacks --state-dir`);
    assert.match(res.stdout, /--database-url/, `${cmd} --help lacks --database-url`);
  }
});

test('--help does not touch the state directory', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const res = await cli(['serve', '--help', '--state-dir', join(dir, 'sub')]);
  assert.equal(res.code, 0);
  assert.ok(!existsSync(join(dir, 'sub')), 'serve --help created the state directory');
});

test('no command: usage on stderr, exit 2', { timeout: TEST_TIMEOUT }, async () => {
  const res = await cli([]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /usage: musicgraph/);
});

test('an unknown command exits 2 with one line on stderr', { timeout: TEST_TIMEOUT }, async () => {
  const res = await cli(['frobnicate']);
  const line = assertOneLineError(res, 2, 'unknown command');
  assert.match(line, /frobnicate/);
  assert.equal(res.stdout, '');
});

test('an unknown flag or stray argument exits 2 with one line', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  for (const args of [['serve', '--bogus'], ['migrate', 'extra'], ['seed', '--nope'], ['version', 'x'],
    ['migrate', '--state-dir']]) {
    const res = await cli([...args, ...(args.includes('--state-dir') ? [] : ['--state-dir', dir])]);
    assertOneLineError(res, 2, args.join(' '));
  }
});

test('version prints the version', { timeout: TEST_TIMEOUT }, async () => {
  const res = await cli(['version']);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /^musicgraph \d+\.\d+\.\d+/);
  const flag = await cli(['--version']);
  assert.equal(flag.code, 0);
  assert.equal(flag.stdout, res.stdout);
});

// ---------------------------------------------------------------- migrate

test('migrate: status on a fresh state dir, apply, status again', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const before = await cli(['migrate', '--status', '--state-dir', dir]);
  assert.equal(before.code, 0, before.stderr);
  assert.equal(migrationStates(before.stdout)['0001_init'], 'pending', before.stdout);

  const apply = await cli(['migrate', '--state-dir', dir]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.equal(migrationStates(apply.stdout)['0001_init'], 'applied', apply.stdout);

  const afterwards = await cli(['migrate', '--status', '--state-dir', dir]);
  assert.equal(afterwards.code, 0);
  const states = migrationStates(afterwards.stdout);
  assert.equal(states['0001_init'], 'applied');
  assert.ok(Object.values(states).every((s) => s === 'applied'), afterwards.stdout);

  // Applying again changes nothing and succeeds.
  const again = await cli(['migrate', '--state-dir', dir]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /\b0 migration/);
});

// ---------------------------------------------------------------- seed

test('seed loads the bundled dataset into a fresh dir, and the server serves it', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const res = await cli(['seed', '--state-dir', dir]);
  assert.equal(res.code, 0, res.stderr);
  const m = res.stdout.match(/(\d+) genres and (\d+) bands/);
  assert.ok(m, `seed does not print counts: ${res.stdout}`);
  const [genres, bands] = [Number(m[1]), Number(m[2])];
  assert.ok(genres > 50 && bands > 100, res.stdout);

  const server = await startServer({ stateDir: dir, seed: false, args: FAST_STOP });
  servers.push(server);
  const graph = await (await fetch(`${server.url}/api/v1/graph`)).json();
  assert.equal(graph.genres.length, genres, 'the server shows the genres seed counted');
  assert.equal(graph.bands.length, bands, 'the server shows the bands seed counted');
  assert.equal(await server.stop({ keepState: true }), 0);
});

test('a second seed is refused and changes nothing', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  assert.equal((await cli(['seed', '--state-dir', dir])).code, 0);
  const res = await cli(['seed', '--state-dir', dir]);
  const line = assertOneLineError(res, 1, 'second seed');
  assert.match(line, /already|not empty|holds data/i, line);
  const file = await cli(['seed', '--file', goodDatasetFile(), '--state-dir', dir]);
  assertOneLineError(file, 1, 'seed --file into a seeded database');
});

const XSS_GENRE = '</title><script>alert(1)</script> & "core"';
const XSS_DESCRIPTION = '"><img src=x onerror=alert(2)> \'quoted\' & <b>bold</b> — Ævintýri 🎸';
const XSS_BAND = "Robert'); DROP TABLE bands;-- <script>alert(3)</script>";
const GOOD_GENRES = ['doom-metal', 'heavy-metal', 'metal', 'rock', 'thrash-metal', 'xss-core'];
const GOOD_BANDS = ['bobby-tables', 'candlemass', 'metallica'];

// A small dataset that follows every rule; the bad ones below each break one.
function goodDataset() {
  const genre = (id, name, type, parents, extra = {}) => ({
    id, name, type, parent: parents[0] ?? null, parents, description: `${name}, a test genre.`, origin_year: 1970,
    links: [], ...extra,
  });
  return {
    format: 'musicgraph-dataset',
    format_version: 1,
    genres: [
      genre('rock', 'Rock', 'root', []),
      genre('metal', 'Metal', 'root', []),
      genre('heavy-metal', 'Heavy metal', 'intermediate', ['metal', 'rock']),
      genre('thrash-metal', 'Thrash metal', 'leaf', ['heavy-metal'], { links: [{ to: 'rock', kind: 'influence' }] }),
      genre('doom-metal', 'Doom metal', 'leaf', ['heavy-metal']),
      // Hostile but valid text: it must reach pages only as text.
      genre('xss-core', XSS_GENRE, 'leaf', ['rock'], { description: XSS_DESCRIPTION }),
    ],
    bands: [
      { id: 'metallica', name: 'Metallica', primary_genre: 'thrash-metal', genres: ['thrash-metal', 'heavy-metal'] },
      { id: 'candlemass', name: 'Candlemass', primary_genre: 'doom-metal', genres: ['doom-metal'] },
      { id: 'bobby-tables', name: XSS_BAND, primary_genre: 'xss-core', genres: ['xss-core'] },
    ],
  };
}

function writeDataset(content) {
  const file = join(tempDir(), 'dataset.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

let goodFile;
function goodDatasetFile() {
  goodFile ??= writeDataset(goodDataset());
  return goodFile;
}

test('seed --file loads a valid dataset and reports its counts', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const res = await cli(['seed', '--file', goodDatasetFile(), '--state-dir', dir]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`\\b${GOOD_GENRES.length} genres\\b.*\\b${GOOD_BANDS.length} bands\\b`), res.stdout);
});

// Each bad dataset: [what, mutate(dataset) or raw text, entry the message must name, rule it must name].
const BAD_DATASETS = [
  ['a parent cycle', (d) => {
    d.genres.push(
      { id: 'a-core', name: 'A core', type: 'intermediate', parent: 'b-core', parents: ['b-core'], description: 'Cycle one.', origin_year: null, links: [] },
      { id: 'b-core', name: 'B core', type: 'intermediate', parent: 'a-core', parents: ['a-core'], description: 'Cycle two.', origin_year: null, links: [] });
  }, /genre (a-core|b-core)/, /cycle/i],
  ['a genre that is its own parent', (d) => {
    d.genres[3].parents.push('thrash-metal');
  }, /genre thrash-metal/, /own parent|cycle/i],
  ['a band whose primary genre is not a leaf', (d) => {
    d.bands[0].primary_genre = 'heavy-metal';
  }, /band metallica/, /leaf/i],
  ['a band whose primary genre is not among its genres', (d) => {
    d.bands[1].primary_genre = 'thrash-metal';
  }, /band candlemass/, /primary genre/i],
  ['a band without genres', (d) => {
    d.bands[1].genres = [];
  }, /band candlemass/, /at least one genre|genres/i],
  ['a band with a genre that does not exist', (d) => {
    d.bands[1].genres.push('polka-metal');
  }, /band candlemass/, /polka-metal/],
  ['a root with a parent', (d) => {
    d.genres[1].parents = ['rock'];
    d.genres[1].parent = 'rock';
  }, /genre metal/, /root/i],
  ['a primary parent that is not one of the parents', (d) => {
    d.genres[2].parent = 'thrash-metal';
  }, /genre heavy-metal/, /primary parent/i],
  ['a parent that does not exist', (d) => {
    d.genres[4].parents = ['funeral-polka'];
    d.genres[4].parent = 'funeral-polka';
  }, /genre doom-metal/, /funeral-polka/],
  ['a duplicate genre id', (d) => {
    d.genres.push({ ...d.genres[4], name: 'Doom metal again' });
  }, /genre doom-metal/, /id|used|duplicate/i],
  ['a duplicate band id', (d) => {
    d.bands.push({ ...d.bands[1], name: 'Candlemass again' });
  }, /band candlemass/, /id|used|duplicate/i],
  ['an id with capitals', (d) => {
    d.bands[1].id = 'CandleMass';
  }, /band CandleMass/, /lowercase|id/i],
  ['a name with a control character', (d) => {
    d.bands[1].name = 'Candle\u0007mass';
  }, /band candlemass/, /control/i],
  ['an unknown genre type', (d) => {
    d.genres[4].type = 'subgenre';
  }, /genre doom-metal/, /root, intermediate or leaf|type/i],
  ['wrong format_version', (d) => {
    d.format_version = 99;
  }, /dataset|format_version/, /format_version/],
  ['wrong format', (d) => {
    d.format = 'something-else';
  }, /dataset|format/, /format/],
  ['invalid JSON', '{"format": "musicgraph-dataset", "format_version": 1, "genres": [', /dataset|JSON/i, /JSON/],
  ['not JSON at all', '\u0000\u0001 binary junk', /dataset|JSON/i, /JSON/],
  ['an empty file', '', /dataset|JSON/i, /JSON|empty/i],
];

test('seed --file refuses each bad dataset, naming the entry and the rule, and leaves the database empty', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  for (const [what, change, entry, rule] of BAD_DATASETS) {
    let content = change;
    if (typeof change === 'function') {
      content = goodDataset();
      change(content);
    }
    const res = await cli(['seed', '--file', writeDataset(content), '--state-dir', dir]);
    assert.equal(res.code, 1, `${what}: exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    // A previous bad seed that slipped data in would make this one "already holds data".
    assert.doesNotMatch(res.stderr, /already/i, `${what}: the database is not empty after a refused seed`);
    assert.match(res.stderr, entry, `${what}: the message does not name the entry:\n${res.stderr}`);
    assert.match(res.stderr, rule, `${what}: the message does not name the rule:\n${res.stderr}`);
  }
  const missing = await cli(['seed', '--file', join(dir, 'no-such-file.json'), '--state-dir', dir]);
  const line = assertOneLineError(missing, 1, 'missing file');
  assert.match(line, /no-such-file\.json/);

  // Nothing was loaded: a good seed still works, and a server shows exactly it.
  const good = await cli(['seed', '--file', goodDatasetFile(), '--state-dir', dir]);
  assert.equal(good.code, 0, `a good seed after the bad ones: ${good.stderr}`);
  const server = await startServer({ stateDir: dir, seed: false, args: FAST_STOP });
  servers.push(server);
  const graph = await (await fetch(`${server.url}/api/v1/graph`)).json();
  assert.deepEqual(graph.genres.map((g) => g.id).sort(), GOOD_GENRES);
  assert.deepEqual(graph.bands.map((b) => b.id).sort(), GOOD_BANDS);

  // Text from the database reaches the API unchanged and HTML only as text.
  const xss = await (await fetch(`${server.url}/api/v1/genres/xss-core`)).json();
  assert.equal(xss.name, XSS_GENRE);
  assert.equal(xss.description, XSS_DESCRIPTION);
  assert.equal((await (await fetch(`${server.url}/api/v1/bands/bobby-tables`)).json()).name, XSS_BAND);
  const found = await (await fetch(`${server.url}/api/v1/search?q=${encodeURIComponent('drop table')}`)).json();
  assert.deepEqual(found.results, [{ kind: 'band', id: 'bobby-tables', name: XSS_BAND, match: 'word' }]);
  for (const path of ['/', '/genres/xss-core', '/bands/bobby-tables']) {
    const html = await (await fetch(`${server.url}${path}`)).text();
    assert.ok(!html.includes('<script>alert'), `${path}: a stored name became a script`);
    assert.ok(!html.includes('<img'), `${path}: a stored description became an element`);
    assert.ok(!html.includes('</title><script>'), `${path}: a stored name closed the title`);
    assert.ok(!html.includes('<b>bold'), `${path}: stored markup reached the page`);
    const scripts = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
    assert.ok(scripts.every((t) => /\ssrc="\/assets\//.test(t)), `${path}: unexpected script tags ${scripts}`);
  }
  const index = await (await fetch(`${server.url}/`)).text();
  assert.match(index, /<a href="\/genres\/xss-core">&lt;\/title&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; (&quot;|&#34;|")core(&quot;|&#34;|")<\/a>/,
    'the hostile genre name is listed, escaped');
  assert.equal(await server.stop({ keepState: true }), 0);
});

test('a refused seed names every broken entry, not only the first', { timeout: TEST_TIMEOUT }, async () => {
  const d = goodDataset();
  d.bands[0].primary_genre = 'heavy-metal';
  d.genres[1].parents = ['rock'];
  d.genres[1].parent = 'rock';
  const res = await cli(['seed', '--file', writeDataset(d), '--state-dir', tempDir()]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /band metallica/);
  assert.match(res.stderr, /genre metal/);
});

// ---------------------------------------------------------------- configuration

test('--state-dir beats MUSICGRAPH_STATE_DIR', { timeout: TEST_TIMEOUT }, async () => {
  const fromEnv = tempDir();
  const fromFlag = tempDir();
  const res = await cli(['migrate', '--state-dir', fromFlag], { MUSICGRAPH_STATE_DIR: fromEnv });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(migrationStates((await cli(['migrate', '--status', '--state-dir', fromFlag])).stdout)['0001_init'], 'applied');
  assert.deepEqual(readdirSync(fromEnv), [], 'the environment state dir was used although --state-dir was given');
  const eq = await cli(['migrate', '--status', `--state-dir=${fromFlag}`]);
  assert.equal(migrationStates(eq.stdout)['0001_init'], 'applied', '--state-dir=DIR form');
});

test('MUSICGRAPH_STATE_DIR is used without the flag', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const res = await cli(['seed', '--file', goodDatasetFile()], { MUSICGRAPH_STATE_DIR: dir });
  assert.equal(res.code, 0, res.stderr);
  const again = await cli(['seed', '--file', goodDatasetFile(), '--state-dir', dir]);
  assert.equal(again.code, 1, 'the seed went somewhere else than MUSICGRAPH_STATE_DIR');
});

test('a config file via --config: file < environment < flag', { timeout: TEST_TIMEOUT }, async () => {
  const fromFile = tempDir();
  const fromEnv = tempDir();
  const fromFlag = tempDir();
  const conf = join(tempDir(), 'musicgraph.conf');
  writeFileSync(conf, `# musicgraph settings\nMUSICGRAPH_STATE_DIR=${fromFile}\n\nMUSICGRAPH_LOG_FORMAT="text"\n`);
  const status = async (dir) => migrationStates((await cli(['migrate', '--status', '--state-dir', dir])).stdout)['0001_init'];

  assert.equal((await cli(['migrate', '--config', conf])).code, 0);
  assert.equal(await status(fromFile), 'applied', 'the config file state dir was not used');

  assert.equal((await cli(['migrate', '--config', conf], { MUSICGRAPH_STATE_DIR: fromEnv })).code, 0);
  assert.equal(await status(fromEnv), 'applied', 'the environment did not beat the config file');

  assert.equal((await cli(['migrate', '--config', conf, '--state-dir', fromFlag], { MUSICGRAPH_STATE_DIR: fromEnv })).code, 0);
  assert.equal(await status(fromFlag), 'applied', 'the flag did not beat environment and file');

  // MUSICGRAPH_CONFIG names the file too.
  const viaEnv = tempDir();
  const conf2 = join(tempDir(), 'other.conf');
  writeFileSync(conf2, `MUSICGRAPH_STATE_DIR=${viaEnv}\n`);
  assert.equal((await cli(['migrate'], { MUSICGRAPH_CONFIG: conf2 })).code, 0);
  assert.equal(await status(viaEnv), 'applied', 'MUSICGRAPH_CONFIG was not read');
});

test('a broken or missing config file exits 2 with one clear line', { timeout: TEST_TIMEOUT }, async () => {
  const missing = await cli(['migrate', '--config', join(tempDir(), 'nope.conf'), '--state-dir', tempDir()]);
  assert.match(assertOneLineError(missing, 2, 'missing config'), /nope\.conf/);
  const bad = join(tempDir(), 'bad.conf');
  writeFileSync(bad, 'MUSICGRAPH_STATE_DIR=/tmp\nthis line has no equals sign\n');
  assert.match(assertOneLineError(await cli(['migrate', '--config', bad]), 2, 'bad line'), /bad\.conf:2/);
  const unknown = join(tempDir(), 'unknown.conf');
  writeFileSync(unknown, 'MUSICGRAPH_COLOUR=blue\n');
  assert.match(assertOneLineError(await cli(['migrate', '--config', unknown]), 2, 'unknown key'), /MUSICGRAPH_COLOUR/);
});

test('an invalid MUSICGRAPH_ENV exits 2 with a clear message', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  for (const [args, env] of [
    [['migrate', '--state-dir', dir], { MUSICGRAPH_ENV: 'prod' }],
    [['serve', '--state-dir', dir, '--listen', '127.0.0.1:1'], { MUSICGRAPH_ENV: 'banana' }],
    [['seed', '--state-dir', dir, '--env', 'testing'], {}],
  ]) {
    const res = await cli(args, env);
    const line = assertOneLineError(res, 2, `env ${JSON.stringify(env)} ${args.join(' ')}`);
    assert.match(line, /MUSICGRAPH_ENV/);
    assert.match(line, /development/);
    assert.match(line, /production/);
  }
  assert.deepEqual(readdirSync(dir), [], 'a refused configuration still touched the state dir');
});

test('other invalid settings exit 2 naming the setting', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  for (const [env, name] of [
    [{ MUSICGRAPH_LOG_FORMAT: 'xml' }, /MUSICGRAPH_LOG_FORMAT/],
    [{ MUSICGRAPH_DATABASE_URL: 'mysql://x' }, /database URL/i],
  ]) {
    const res = await cli(['migrate', '--state-dir', dir], env);
    assert.match(assertOneLineError(res, 2, JSON.stringify(env)), name);
  }
  const threads = await cli(['serve', '--state-dir', dir, '--threads', 'many']);
  assert.match(assertOneLineError(threads, 2, '--threads many'), /THREADS/);
});

test('--database-url and DATABASE_URL choose the database', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  const db = join(dir, 'elsewhere.db');
  assert.equal((await cli(['migrate', '--database-url', `sqlite://${db}`, '--state-dir', tempDir()])).code, 0);
  assert.ok(existsSync(db), '--database-url was not used');
  const db2 = join(dir, 'plain.db');
  assert.equal((await cli(['migrate', '--state-dir', tempDir()], { DATABASE_URL: `sqlite://${db2}` })).code, 0);
  assert.ok(existsSync(db2), 'DATABASE_URL was not used');
});

// ---------------------------------------------------------------- serve

test('serve on a port already in use exits non-zero with a clear message', { timeout: TEST_TIMEOUT }, async () => {
  const blocker = await occupiedPort();
  const { port } = blocker.address();
  try {
    const res = await cli(['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', tempDir(), '--no-seed']);
    assert.notEqual(res.code, 0, 'serve did not fail');
    assert.notEqual(res.code, null, 'serve was killed instead of exiting');
    assert.match(res.stderr, new RegExp(`${port}`), res.stderr);
    assert.match(res.stderr, /in use|cannot listen/i, res.stderr);
  } finally {
    blocker.close();
  }
});

test('serve with a malformed listen address exits non-zero', { timeout: TEST_TIMEOUT }, async () => {
  const dir = tempDir();
  for (const listen of ['nonsense', '127.0.0.1:99999', '999.1.1.1:8080']) {
    const res = await cli(['serve', '--listen', listen, '--state-dir', dir, '--no-seed']);
    assert.ok(res.code !== 0 && res.code !== null, `--listen ${listen}: exit ${res.code}`);
    assert.match(res.stderr, /listen|address|port/i, `--listen ${listen}: ${res.stderr}`);
  }
});

test('--no-seed starts with an empty map', { timeout: TEST_TIMEOUT }, async () => {
  const server = await startServer({ seed: false, args: FAST_STOP });
  servers.push(server);
  const graph = await (await fetch(`${server.url}/api/v1/graph`)).json();
  assert.equal(graph.genres.length, 0);
  assert.equal(graph.bands.length, 0);
  const genres = await (await fetch(`${server.url}/api/v1/genres`)).json();
  assert.equal(genres.count, 0);
  const search = await (await fetch(`${server.url}/api/v1/search?q=rock`)).json();
  assert.deepEqual(search.results, []);
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200, 'the explorer page works on an empty map');
  assert.equal((await fetch(`${server.url}/api/v1/genres/rock`)).status, 404);
  assert.equal(await server.stop(), 0);
});

test('MUSICGRAPH_SEED=0 is the environment form of --no-seed', { timeout: TEST_TIMEOUT }, async () => {
  const server = await startServer({ env: { MUSICGRAPH_SEED: '0' }, args: FAST_STOP });
  servers.push(server);
  const graph = await (await fetch(`${server.url}/api/v1/graph`)).json();
  assert.equal(graph.genres.length, 0);
  assert.equal(await server.stop(), 0);
});

test('data seeded by the CLI while the server runs shows up without a restart', { timeout: TEST_TIMEOUT }, async () => {
  const server = await startServer({ seed: false, args: FAST_STOP });
  servers.push(server);
  const before = await fetch(`${server.url}/api/v1/graph`);
  const etagBefore = before.headers.get('etag');
  const empty = await before.json();
  assert.equal(empty.genres.length, 0);

  const seeded = await cli(['seed', '--file', goodDatasetFile(), '--state-dir', server.stateDir]);
  assert.equal(seeded.code, 0, seeded.stderr);

  const deadline = Date.now() + 5000;
  let graph = empty;
  while (Date.now() < deadline) {
    graph = await (await fetch(`${server.url}/api/v1/graph`)).json();
    if (graph.genres.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(graph.genres.length, GOOD_GENRES.length, 'the seeded genres did not show up within 5 s');
  assert.equal(graph.bands.length, GOOD_BANDS.length);
  assert.notEqual(graph.version, empty.version, 'the data version did not change');
  // Everything reads the new data, and caches revalidate.
  const after = await fetch(`${server.url}/api/v1/graph`, { headers: { 'if-none-match': etagBefore } });
  assert.equal(after.status, 200, 'the old ETag still matches the new data');
  const rock = await fetch(`${server.url}/api/v1/genres/heavy-metal`);
  assert.equal(rock.status, 200);
  assert.deepEqual((await rock.json()).bands.map((b) => b.id), ['metallica']);
  const found = await (await fetch(`${server.url}/api/v1/search?q=metallica`)).json();
  assert.equal(found.results[0]?.id, 'metallica');
  const page = await (await fetch(`${server.url}/`)).text();
  assert.match(page, /href="\/genres\/thrash-metal"/, 'the page lists the new genres');
  assert.match((await (await fetch(`${server.url}/genres/doom-metal`)).text()), /<title>[^<]*Doom metal/);
  assert.equal(await server.stop(), 0);
});

test('serve exits 0 on SIGINT as on SIGTERM', { timeout: TEST_TIMEOUT }, async () => {
  const server = await startServer({ seed: false, args: FAST_STOP });
  servers.push(server);
  process.kill(server.pid, 'SIGINT');
  assert.equal(await server.exited, 0);
  // The port is free again.
  const again = await startServer({ stateDir: server.stateDir, seed: false, args: FAST_STOP });
  servers.push(again);
  assert.equal(await again.stop({ keepState: true }), 0);
});

test('serve listens on the address from MUSICGRAPH_LISTEN when no flag is given', { timeout: TEST_TIMEOUT }, async () => {
  const port = await freePort();
  const dir = tempDir();
  const env = { ...process.env };
  for (const k of CLEAN) delete env[k];
  Object.assign(env, { MUSICGRAPH_LISTEN: `127.0.0.1:${port}`, MUSICGRAPH_STATE_DIR: dir, MUSICGRAPH_SEED: '0',
    MUSICGRAPH_SHUTDOWN_TIMEOUT: '1', ASAN_OPTIONS: 'detect_leaks=0' /* as startServer does */ });
  const child = spawn(binary, ['serve', '--threads', '1'], { env, stdio: 'ignore' });
  const exited = new Promise((ok) => {
    child.on('exit', (code, sig) => ok(code ?? sig));
    child.on('error', (e) => ok(e.message));
  });
  try {
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, 'the server did not listen on MUSICGRAPH_LISTEN');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

test('SIGTERM while the map is still being laid out is a clean stop', { timeout: TEST_TIMEOUT }, async () => {
  // Right after start the bundled map is laid out in the background. A stop
  // then must still be the graceful one (exit 0), not death by the signal.
  const base = tempDir();
  const seeded = await cli(['seed', '--state-dir', base]);
  assert.equal(seeded.code, 0, seeded.stderr);
  const codes = await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    const dir = tempDir();
    cpSync(base, dir, { recursive: true });
    const server = await startServer({ stateDir: dir, seed: false, args: FAST_STOP });
    servers.push(server);
    await (await fetch(`${server.url}/api/v1/graph`)).arrayBuffer();
    await new Promise((r) => setTimeout(r, i * 50));
    return server.stop({ keepState: true });
  }));
  assert.deepEqual(codes, [0, 0, 0, 0, 0], 'a server died of SIGTERM instead of stopping cleanly');
});

test('SIGTERM with an idle keep-alive client exits promptly', { timeout: TEST_TIMEOUT }, async () => {
  // Graceful shutdown finishes open requests; an idle connection has none,
  // so the server must not wait out the shutdown timeout for it.
  const server = await startServer({ seed: false, args: ['--shutdown-timeout', '5'] });
  servers.push(server);
  const sock = net.connect(server.port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((ok) => sock.on('connect', ok));
  sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((ok) => sock.once('data', ok));
  const t0 = Date.now();
  try {
    const code = await server.stop();
    const ms = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(ms < 2500, `SIGTERM took ${ms} ms with one idle keep-alive connection open (shutdown timeout 5 s)`);
  } finally {
    sock.destroy();
  }
});
