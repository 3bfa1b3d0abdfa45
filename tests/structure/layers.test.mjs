// The layer order of src/ (docs/architecture.md) is enforced twice: by
// tools/check-layers over every #include, which the build runs before it
// links musicgraph, and by meson.build linking one library per layer only
// with the layers below it. These tests show the check passes on the tree,
// catches each kind of violation in a copy of it, and that meson.build's
// libraries follow the same order as the check.
// Run: node --test tests/structure/layers.test.mjs   (no build needed)
import { test, after } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEST_TIMEOUT = 30_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const check = join(root, 'tools', 'check-layers');
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(src) {
  const r = spawnSync(check, [src], { encoding: 'utf8', timeout: TEST_TIMEOUT });
  return { status: r.status, out: r.stdout + r.stderr };
}

// A copy of src/ to break.
function copyOfSrc() {
  const d = mkdtempSync(join(tmpdir(), 'musicgraph-layers-'));
  dirs.push(d);
  cpSync(join(root, 'src'), join(d, 'src'), { recursive: true });
  return join(d, 'src');
}

// What each layer may include, as the check states it.
function allowedByCheck() {
  const table = {};
  for (const m of readFileSync(check, 'utf8').matchAll(/allowed\["(\w+)"\] = "([\w ]+)"/g))
    table[m[1]] = m[2].split(' ').filter((l) => l !== m[1]);
  return table;
}

test('the tree keeps the layer order', { timeout: TEST_TIMEOUT }, () => {
  const r = run(join(root, 'src'));
  assert.equal(r.status, 0, r.out);
  assert.equal(r.out, '');
});

test('an upward include is caught, naming the file, the line and the rule', { timeout: TEST_TIMEOUT }, () => {
  const src = copyOfSrc();
  const lines = readFileSync(join(src, 'domain', 'rules.c'), 'utf8').split('\n').length;
  appendFileSync(join(src, 'domain', 'rules.c'), '#include "store/store.h"\n');
  const r = run(src);
  assert.equal(r.status, 1);
  assert.match(r.out, new RegExp(`domain/rules\\.c:${lines}: #include "store/store\\.h": domain/ may not use store/ \\(it may use: domain core\\)`));
  assert.match(r.out, /an include goes against the layer order/);
});

test('every crossing the design forbids is caught; allowed ones pass', { timeout: TEST_TIMEOUT }, () => {
  const cases = [
    ['http/router.c', 'graph/snapshot.h', false], // http knows nothing of genres
    ['ops/doctor.c', 'http/http.h', false], // ops sits beside http, not above it
    ['api/read.c', 'ops/backup.h', false], // nor do the handlers reach into ops
    ['store/store.c', 'graph/snapshot.h', false], // store and graph are peers
    ['graph/index.h', 'store/store.h', false],
    ['core/buf.c', 'domain/model.h', false],
    ['api/read.c', 'server/app.h', false], // the composition root is above the handlers
    ['server/status.c', 'ops/backup.h', true],
    ['main.c', 'server/app.h', true],
    ['api/edit.c', 'store/store.h', true],
  ];
  for (const [file, header, ok] of cases) {
    const src = copyOfSrc();
    appendFileSync(join(src, file), `#include "${header}"\n`);
    const r = run(src);
    assert.equal(r.status, ok ? 0 : 1, `${file} including ${header}: ${r.out}`);
  }
});

test('includes that dodge the layer names are refused, and so is a new folder', { timeout: TEST_TIMEOUT }, () => {
  let src = copyOfSrc();
  appendFileSync(join(src, 'http', 'router.c'), '#include "../ops/s3.h"\n');
  let r = run(src);
  assert.equal(r.status, 1);
  assert.match(r.out, /http\/router\.c:\d+: #include "\.\.\/ops\/s3\.h": name the header through its layer/);

  src = copyOfSrc();
  mkdirSync(join(src, 'cache'));
  writeFileSync(join(src, 'cache', 'lru.c'), '#include "core/buf.h"\n');
  r = run(src);
  assert.equal(r.status, 1);
  assert.match(r.out, /cache\/lru\.c: cache is not a layer/);
});

test('meson.build links each layer only with the layers the check allows', { timeout: TEST_TIMEOUT }, () => {
  const allowed = allowedByCheck();
  const meson = readFileSync(join(root, 'meson.build'), 'utf8');
  const libs = {};
  for (const m of meson.matchAll(/(\w+)_lib = static_library\('mg_(\w+)',([\s\S]*?)\n\n/g)) {
    assert.equal(m[1], m[2]);
    const linked = /link_with : (\[[\w, ]*\]|\w+)/.exec(m[3]);
    libs[m[1]] = linked ? linked[1].replace(/[[\]]/g, '').split(',').map((s) => s.trim().replace(/_lib$/, '')).filter(Boolean) : [];
  }
  const layers = Object.keys(allowed).filter((l) => l !== 'main');
  assert.deepEqual(Object.keys(libs).sort(), layers.sort(), 'one library per layer');
  for (const layer of layers)
    assert.deepEqual(libs[layer].sort(), allowed[layer].sort(), `mg_${layer} links exactly the layers below it`);
  // The build runs the check before it links the program.
  assert.match(meson, /executable\('musicgraph'[\s\S]*?link_depends : layer_check/);
});
