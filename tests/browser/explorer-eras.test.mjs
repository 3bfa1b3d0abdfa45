// Browser tests of the explorer: the eras, click-to-frame timings, pages
// without JavaScript, grouped and forgiving search.
//
// Each file starts its own musicgraph (bundled map) and Chromium; the files
// are split so that each finishes well within the test runner's per-file
// time on a loaded machine. Run one: node --test tests/browser/FILE
// (needs build/musicgraph, or MUSICGRAPH_BIN).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import {
  api, assertClean, clickNode, env, openPage, startExplorer, stopExplorer, waitIdle, waitPanel,
} from '../lib/explorer.mjs';

before(startExplorer);
after(stopExplorer);

describe('explorer: eras, search and pages', { timeout: 1_200_000 }, () => {
  test('eras: genres by origin year, a year that dims what came later, view and year in the link', async (t) => {
    const { page, problems } = await openPage(t, '/genres/shoegaze');
    await waitPanel(page, 'genre', 'shoegaze');
    const place = (id) =>
      page.evaluate((k) => {
        const a = window.musicgraph.graph.getNodeAttributes(k);
        return { x: a.x, y: a.y };
      }, 'g:' + id);
    const onMap = await place('rock');
    const timings = [];
    for (let round = 0; round < 5; round++) {
      for (const view of ['Eras', 'Map']) {
        await page.getByRole('button', { name: view, exact: true }).click();
        await page.waitForFunction((v) => document.getElementById('view-' + v.toLowerCase()).getAttribute('aria-pressed') === 'true', view);
        await waitIdle(page);
        await page.waitForTimeout(700); // the nodes' move
      }
    }
    timings.push(...(await page.evaluate(() => window.musicgraph.timings.viewSwitch)));
    const sorted = timings.slice().sort((a, b) => a - b);
    t.diagnostic(`view switch, click to first frame: median ${sorted[sorted.length >> 1].toFixed(1)} ms over ${sorted.length}`);
    assert.equal(timings.length, 10, 'every switch drew');
    await page.getByRole('button', { name: 'Eras', exact: true }).click();
    await page.waitForTimeout(900);
    await waitIdle(page);
    assert.match(new URL(page.url()).search, /view=eras/, 'the view is in the URL');
    // Genres on a time axis: later origin years further right, no genre
    // left of a parent.
    const doc = env.graphDoc;
    const x = await page.evaluate(() => {
      const out = {};
      window.musicgraph.graph.forEachNode((k, a) => {
        if (a.kind === 'genre') out[a.id] = a.x;
      });
      return out;
    });
    for (const g of doc.genres) for (const p of g.parents) assert.ok(x[g.id] >= x[p] - 1e-6, `${g.id} is not left of its parent ${p}`);
    const dated = doc.genres.filter((g) => g.origin_year);
    const early = dated.filter((g) => g.origin_year <= 1950);
    const late = dated.filter((g) => g.origin_year >= 1990);
    assert.ok(Math.max(...early.map((g) => x[g.id])) < Math.min(...late.map((g) => x[g.id])), 'the 1950s left of the 1990s');
    assert.notDeepEqual(await place('rock'), onMap, 'the genres moved');

    // The year: what came later is dimmed; the link keeps it.
    await page.locator('#year').fill('1977');
    await page.waitForFunction(() => document.getElementById('year-out').textContent === '1977');
    assert.match(new URL(page.url()).search, /year=1977/);
    const dim = await page.evaluate(() => {
      const { sigma, graph } = window.musicgraph;
      const out = {};
      graph.forEachNode((k, a) => {
        if (a.kind === 'genre') out[a.id] = sigma.getNodeDisplayData(k).color === a.dimColor;
      });
      return out;
    });
    for (const g of dated) {
      if (g.id === 'shoegaze') continue; // the selection stays lit
      if (g.origin_year > 1977) assert.equal(dim[g.id], true, `${g.id} (${g.origin_year}) is dimmed in 1977`);
    }
    assert.equal(dim.rock, false, 'rock (1950s) existed in 1977');
    const link = new URL(page.url());
    const again = await openPage(t, link.pathname + link.search);
    await waitPanel(again.page, 'genre', 'shoegaze');
    assert.equal(await again.page.locator('#view-eras').getAttribute('aria-pressed'), 'true', 'the link opens the eras');
    assert.equal(await again.page.locator('#year-out').textContent(), '1977', 'and the year');
    await again.page.goBack().catch(() => {});
    assertClean(problems);
    assertClean(again.problems);
  });

  test('opening a genre by a click: time to the first frame of the panel', async (t) => {
    const { page, problems } = await openPage(t, '/');
    for (const id of ['thrash-metal', 'jazz', 'techno', 'grunge', 'salsa']) {
      await clickNode(page, 'g:' + id);
      await waitPanel(page, 'genre', id);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.getElementById('panel').hidden);
      await page.evaluate(() => window.musicgraph.sigma.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }));
      await waitIdle(page);
    }
    const ms = (await page.evaluate(() => window.musicgraph.timings.panelOpen)).sort((a, b) => a - b);
    assert.equal(ms.length, 5);
    t.diagnostic(`panel open, click to first frame: median ${ms[2].toFixed(1)} ms (${ms.map((m) => m.toFixed(0)).join(', ')})`);
    assertClean(problems);
  });

  test('without JavaScript: genre and band pages show their panel, links and the search form work', async (t) => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(env.server.url + '/genres/shoegaze');
    const g = await api('/api/v1/genres/shoegaze');
    assert.equal(await page.locator('#panel-title').textContent(), g.name);
    assert.ok(await page.locator('#panel').isVisible(), 'the panel is shown');
    assert.ok((await page.locator('#panel').innerText()).includes(g.description));
    assert.equal(await page.getByText('Loading the map').count(), 0, 'no endless loading message');
    await page.click(`#panel a[href="/genres/${g.parents[0]}"]`);
    await page.waitForURL('**/genres/' + g.parents[0]);
    assert.equal(await page.locator('#panel-title').textContent(), (await api('/api/v1/genres/' + g.parents[0])).name);
    await page.fill('#search-input', 'thrash');
    await page.press('#search-input', 'Enter');
    await page.waitForURL('**/search?q=thrash');
    assert.ok(await page.locator('#panel a[href="/genres/thrash-metal"]').isVisible());
  });

  test('search: genres and bands grouped, forgiving spelling, "show all" opens every match', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const input = page.getByRole('combobox', { name: 'Search genres and artists' });
    await input.fill('motorhed');
    await page.getByRole('option', { name: /Motörhead/ }).waitFor();
    await input.fill('metal');
    await page.locator('#search-results [data-id="thrash-metal"]').waitFor();
    const groups = page.locator('#search-results [role="group"]');
    assert.deepEqual(await groups.evaluateAll((gs) => gs.map((g) => g.querySelector('.option-group-name').textContent)), ['Genres', 'Artists']);
    assert.ok((await groups.first().getByRole('option').count()) <= 8);
    const all = page.getByRole('option', { name: /^Show all \d+ matches$/ });
    const n = Number((await all.textContent()).match(/\d+/)[0]);
    assert.ok(n > 10, `${n} matches for metal`);
    await all.click();
    await page.waitForURL('**/search?q=metal');
    await waitIdle(page);
    assert.equal(await page.locator('#panel a[data-kind]').count(), Math.min(n, 50), 'the search page lists them');
    await page.click('#panel a[href="/genres/thrash-metal"]');
    await waitPanel(page, 'genre', 'thrash-metal');
    assertClean(problems);
  });
});
