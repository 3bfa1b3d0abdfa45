// The family colours (web/palette.js), measured: every family of the map
// served gets its own colour, any two at least a stated perceptual distance
// apart, readable on the background, and faded nodes still visible.
import { after, before, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { BG, FADE, PALETTE, assignFamilyColors, contrast, deltaE, mix } from '../../web/palette.js';
import { startServer } from '../lib/server.mjs';

const TEST_TIMEOUT = 60000;
const MIN_DELTA_E = 9; // OKLab, x100; about 2 is a just noticeable difference

let server;
let families;

before(async () => {
  server = await startServer();
  const doc = await (await fetch(server.url + '/api/v1/graph')).json();
  families = new Map();
  for (const g of doc.genres) families.set(g.family, (families.get(g.family) || 0) + 1);
});

after(async () => {
  await server?.stop();
});

test('each family of the map has its own colour, any two far apart in OKLab', { timeout: TEST_TIMEOUT }, (t) => {
  const colours = assignFamilyColors(families);
  assert.equal(colours.size, families.size);
  assert.ok(families.size <= PALETTE.length, `${families.size} families, ${PALETTE.length} colours`);
  assert.equal(new Set(colours.values()).size, families.size, 'no colour twice');
  let min = Infinity;
  let pair = null;
  const list = [...colours];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const d = deltaE(list[i][1], list[j][1]);
      if (d < min) [min, pair] = [d, `${list[i][0]} ${list[i][1]} / ${list[j][0]} ${list[j][1]}`];
    }
  }
  t.diagnostic(`${families.size} families: minimum OKLab ΔE ${min.toFixed(1)} (${pair})`);
  assert.ok(min >= MIN_DELTA_E, `closest pair ${pair}: ΔE ${min.toFixed(1)}`);
  // The biggest families get the first colours.
  const biggest = [...families].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  assert.equal(colours.get(biggest), PALETTE[0]);
});

test('family colours read on the background, and faded ones stay visible', { timeout: TEST_TIMEOUT }, () => {
  for (const c of PALETTE) {
    assert.ok(contrast(c, BG) >= 4.5, `${c} on ${BG}: ${contrast(c, BG).toFixed(2)}`);
    const faded = mix(c, BG, FADE);
    assert.ok(contrast(faded, BG) >= 1.5, `${c} faded to ${faded}: ${contrast(faded, BG).toFixed(2)}`);
  }
});
