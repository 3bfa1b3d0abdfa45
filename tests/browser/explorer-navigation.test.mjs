// Browser tests of the explorer: search, deep links, history, the genre
// index, phone width, hostile names, related genres, paths, accessibility.
//
// Each file starts its own musicgraph (bundled map) and Chromium; the files
// are split so that each finishes well within the test runner's per-file
// time on a loaded machine. Run one: node --test tests/browser/FILE
// (needs build/musicgraph, or MUSICGRAPH_BIN).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import {
  api, assertBandInView, assertClean, clickNode, env, genreName, graphState, nodePoint, offCentre, openPage, panelState, startExplorer, stopExplorer, waitIdle, waitPanel,
} from '../lib/explorer.mjs';

before(startExplorer);
after(stopExplorer);

describe('explorer: navigation', { timeout: 1_200_000 }, () => {
  test('search suggests genres and bands; keyboard and mouse pick one and focus it', async (t) => {
    const { page, problems } = await openPage(t, '/');
    const input = page.getByRole('combobox', { name: 'Search genres and artists' });

    // Accent-insensitive: "motorhead" finds Motörhead; arrows + Enter pick it.
    await input.fill('motorhead');
    const option = page.getByRole('option', { name: /Motörhead/ });
    await option.waitFor();
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    await input.press('ArrowDown');
    assert.equal(await option.getAttribute('aria-selected'), 'true');
    assert.equal(await input.getAttribute('aria-activedescendant'), await option.getAttribute('id'));
    await input.press('Enter');
    await waitPanel(page, 'band', 'motorhead');
    assert.equal((await panelState(page)).title, 'Motörhead');
    assert.equal(new URL(page.url()).pathname, '/bands/motorhead');
    assert.ok(await nodePoint(page, 'b:motorhead'), 'the band node is shown');
    assert.equal(await page.locator('#search-results').isHidden(), true, 'suggestions closed');

    // Mouse: a genre.
    await input.fill('grind');
    const grind = page.getByRole('option', { name: new RegExp(genreName('grindcore')) });
    await grind.click();
    await waitPanel(page, 'genre', 'grindcore');
    const off = await offCentre(page, 'g:grindcore');
    assert.ok(off.inside, 'grindcore is on screen');

    // Björk by its plain spelling, Enter straight away takes the top hit.
    await input.fill('bjork');
    await page.getByRole('option', { name: /Björk/ }).waitFor();
    await input.press('Enter');
    await waitPanel(page, 'band', 'bjork');

    // Nothing found says so.
    await input.fill('zzzzqqq');
    await page.getByText('No genre or artist matches.').waitFor();
    assertClean(problems);
  });

  test('deep links /genres/death-metal and /bands/pantera open focused and survive reload', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal');
    const dm = await api('/api/v1/genres/death-metal');
    for (let round = 0; round < 2; round++) {
      await waitPanel(page, 'genre', 'death-metal');
      const panel = await panelState(page);
      assert.equal(panel.title, dm.name);
      const g = await graphState(page);
      assert.deepEqual(g.bands.map((b) => b.id).sort(), dm.bands.map((b) => b.id).sort(), 'its bands are expanded');
      const off = await offCentre(page, 'g:death-metal');
      assert.ok(off.inside && Math.abs(off.dx) < 40 && Math.abs(off.dy) < 40, 'focused on death metal and its bands');
      if (round === 0) {
        await page.reload();
        await waitIdle(page);
      }
    }
    assert.match(await page.title(), new RegExp(dm.name));

    const pantera = await api('/api/v1/bands/pantera');
    await page.goto(env.server.url + '/bands/pantera');
    for (let round = 0; round < 2; round++) {
      await waitPanel(page, 'band', 'pantera');
      assert.equal((await panelState(page)).title, pantera.name);
      const g = await graphState(page);
      assert.ok(
        g.edges.some((e) => e.source === 'b:pantera' && e.target === 'g:' + pantera.primary_genre),
        'the primary genre is expanded with the band',
      );
      await assertBandInView(page, 'pantera');
      if (round === 0) {
        await page.reload();
        await waitIdle(page);
      }
    }
    assertClean(problems);
  });

  test('an unknown id says so and shows the map', async (t) => {
    const { page } = await openPage(t, '/genres/no-such-genre', { expectStatus: 404 });
    await page.getByText(/No genre with the id/).waitFor();
    assert.equal((await panelState(page)).hidden, true);
    assert.equal((await graphState(page)).genres.length, env.graphDoc.genres.length);
  });

  test('back and forward restore the focus', async (t) => {
    const { page, problems } = await openPage(t, '/');
    await clickNode(page, 'g:death-metal');
    await waitPanel(page, 'genre', 'death-metal');
    await page.click('#panel a[href="/genres/grindcore"]');
    await waitPanel(page, 'genre', 'grindcore');
    await page.click('#panel a[data-kind="band"]');
    const bandId = await page.evaluate(() => document.getElementById('panel').dataset.id);
    await waitPanel(page, 'band', bandId);

    await page.goBack();
    await waitPanel(page, 'genre', 'grindcore');
    assert.equal(new URL(page.url()).pathname, '/genres/grindcore');
    await page.goBack();
    await waitPanel(page, 'genre', 'death-metal');
    let off = await offCentre(page, 'g:death-metal');
    assert.ok(off.inside, 'camera back on death metal');
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('panel').hidden);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal((await graphState(page)).bands.length, 0, 'home: nothing expanded');

    await page.goForward();
    await waitPanel(page, 'genre', 'death-metal');
    await page.goForward();
    await waitPanel(page, 'genre', 'grindcore');
    await page.goForward();
    await waitPanel(page, 'band', bandId);
    await assertBandInView(page, bandId);
    assertClean(problems);
  });

  test('the genre index links focus genres without a reload', async (t) => {
    const { page, problems } = await openPage(t, '/');
    assert.equal(await page.locator('#genre-index li').count(), env.graphDoc.genres.length);
    await page.evaluate(() => (window.__noReload = true));
    await page.click('#genre-index summary');
    await page.click('#genre-index a[href="/genres/rock"]');
    await waitPanel(page, 'genre', 'rock');
    assert.equal(await page.evaluate(() => window.__noReload), true);
    assert.equal(await page.locator('#genre-index details').getAttribute('open'), null, 'index folds away');
    assertClean(problems);
  });

  test('at 360 px: no horizontal scroll, the panel is a bottom sheet, search reachable', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal', { width: 360, height: 740 });
    await waitPanel(page, 'genre', 'death-metal');
    const layout = await page.evaluate(() => {
      const r = (id) => document.getElementById(id).getBoundingClientRect().toJSON();
      return {
        scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
        clientWidth: document.documentElement.clientWidth,
        panel: r('panel'),
        search: r('search-input'),
      };
    });
    assert.ok(layout.scrollWidth <= layout.clientWidth, `no horizontal scroll (${layout.scrollWidth} > ${layout.clientWidth})`);
    assert.ok(layout.panel.left <= 1 && layout.panel.right >= 359, 'sheet spans the width');
    assert.ok(Math.abs(layout.panel.bottom - 740) <= 1, 'sheet sits at the bottom');
    assert.ok(layout.panel.top > 740 * 0.4, 'sheet leaves the upper part of the map visible');
    assert.ok(layout.search.left >= 0 && layout.search.right <= 360 && layout.search.top >= 0, 'search box on screen');
    const off = await offCentre(page, 'g:death-metal');
    assert.ok(off.inside && Math.abs(off.dx) < 40 && Math.abs(off.dy) < 40, 'focused genre centred above the sheet');

    // Everything overflowing would show as wide elements.
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => e.tagName + (e.id ? '#' + e.id : '')),
    );
    assert.deepEqual(wide, []);

    const input = page.getByRole('combobox', { name: 'Search genres and artists' });
    await input.fill('pantera');
    await page.getByRole('option', { name: /Pantera/ }).click();
    await waitPanel(page, 'band', 'pantera');
    assertClean(problems);
  });

  test('names from the data are shown as text, never as markup', async (t) => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const evilBand = '<img src=x onerror=alert(3)> & "quotes"';
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => {
      problems.push('dialog ' + d.message());
      d.dismiss().catch(() => {});
    });
    // The API answers are rewritten in flight so any server can be used.
    await page.route('**/api/v1/graph', async (route) => {
      const doc = await (await route.fetch()).json();
      const g = doc.genres.find((x) => x.id === 'grindcore');
      g.name = evil;
      doc.bands.find((b) => b.id === 'pantera').name = evilBand;
      await route.fulfill({ json: doc });
    });
    await page.route('**/api/v1/genres/grindcore', async (route) => {
      const doc = await (await route.fetch()).json();
      doc.name = evil;
      doc.description = evil;
      await route.fulfill({ json: doc });
    });
    await page.route('**/api/v1/search?*', (route) =>
      route.fulfill({ json: { query: 'x', results: [{ kind: 'genre', id: 'grindcore', name: evil }, { kind: 'band', id: 'pantera', name: evilBand }] } }),
    );
    await page.goto(env.server.url + '/genres/grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    const panel = await panelState(page);
    assert.equal(panel.title, evil);
    assert.equal(await page.locator('#panel .description').textContent(), evil);
    await page.getByRole('combobox', { name: 'Search genres and artists' }).fill('x');
    await page.getByRole('option').first().waitFor();
    assert.equal(await page.locator('#search-results .option-name').first().textContent(), evil);
    assert.equal(await page.locator('#search-results .option-name').nth(1).textContent(), evilBand);
    assert.equal(await page.locator('img').count(), 0, 'no <img> was created from data');
    assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script was created');
    assert.equal(await page.evaluate(() => window.musicgraph.graph.getNodeAttribute('g:grindcore', 'label')), evil);
    await page.waitForTimeout(200);
    assert.deepEqual(problems, []);
  });

  test('the panel lists related genres and similar bands as links', async (t) => {
    // A leaf: its siblings are related without being named elsewhere in the panel (an intermediate
    // genre such as death metal names its parent, links and children, which leaves nothing to add).
    const { page, problems } = await openPage(t, '/genres/melodic-death-metal');
    await waitPanel(page, 'genre', 'melodic-death-metal');
    const related = (await api('/api/v1/genres/melodic-death-metal/related?limit=24')).related;
    assert.ok(related.length > 0);
    const section = page.locator('#panel section.related');
    await section.waitFor();
    assert.match(await section.locator('h3').textContent(), /Related genres/);
    // Each genre is named once in the panel: the related list shows, in the
    // server's order, those no other section names.
    const elsewhere = await page.$$eval('#panel .panel-section:not(.related):not(.bands):not(.defining) a[data-kind="genre"]', (as) => as.map((a) => a.dataset.id));
    assert.equal(new Set(elsewhere).size, elsewhere.length, 'no genre twice');
    assert.deepEqual(
      await section.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      related.filter((r) => !elsewhere.includes(r.id)).slice(0, 8).map((r) => '/genres/' + r.id),
    );

    await page.goto(env.server.url + '/bands/pantera');
    await waitIdle(page);
    await waitPanel(page, 'band', 'pantera');
    const similar = (await api('/api/v1/bands/pantera/similar?limit=8')).similar;
    assert.ok(similar.length > 0);
    const bandSection = page.locator('#panel section.related');
    await bandSection.waitFor();
    assert.match(await bandSection.locator('h3').textContent(), /Similar artists/);
    assert.deepEqual(
      await bandSection.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      similar.map((r) => '/bands/' + r.id),
    );
    await bandSection.locator('a').first().click();
    await waitPanel(page, 'band', similar[0].id);
    assertClean(problems);
  });

  test('the path between two genres is listed, drawn on the map, and kept in the URL', async (t) => {
    const { page, problems } = await openPage(t, '/genres/death-metal');
    await waitPanel(page, 'genre', 'death-metal');
    const doc = await api('/api/v1/path?from=death-metal&to=jazz');
    assert.equal(doc.found, true);
    const ids = ['death-metal', ...doc.steps.map((st) => st.to.id)];

    const input = page.getByRole('combobox', { name: 'Path to another genre' });
    await input.fill('jazz');
    await page.locator('#path-results').getByRole('option', { name: /^Jazz/ }).first().click();
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    await waitIdle(page);

    const check = async () => {
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/genres/death-metal?path=jazz');
      const listed = await page.locator('.path-steps a').evaluateAll((as) => as.map((a) => a.dataset.id));
      assert.deepEqual(listed, ids, 'every step listed in order');
      // On the map: path genres keep their colour, the rest is dimmed, the
      // edges along the path are highlighted, and everything is in view.
      const shown = await page.evaluate((pathIds) => {
        const { sigma, graph } = window.musicgraph;
        const res = { nodes: [], offPathDimmed: 0, offPath: 0, edges: [] };
        graph.forEachNode((k, a) => {
          if (a.kind !== 'genre') return;
          const d = sigma.getNodeDisplayData(k);
          if (pathIds.includes(a.id)) {
            const v = sigma.graphToViewport({ x: a.x, y: a.y });
            res.nodes.push({ id: a.id, bright: d.color === a.color, x: v.x, y: v.y });
          } else {
            res.offPath++;
            if (d.color === a.dimColor) res.offPathDimmed++;
          }
        });
        for (let i = 1; i < pathIds.length; i++) {
          const e = graph.edge('g:' + pathIds[i - 1], 'g:' + pathIds[i]) || graph.edge('g:' + pathIds[i], 'g:' + pathIds[i - 1]);
          res.edges.push(!!e && sigma.getEdgeDisplayData(e).color === graph.getEdgeAttribute(e, 'hiColor'));
        }
        const c = sigma.getContainer().getBoundingClientRect();
        const p = document.getElementById('panel').getBoundingClientRect();
        res.visibleWidth = p.left - c.left;
        res.height = c.height;
        return res;
      }, ids);
      for (const n of shown.nodes) {
        assert.ok(n.bright, `${n.id} is highlighted`);
        assert.ok(n.x >= 0 && n.x <= shown.visibleWidth && n.y >= 0 && n.y <= shown.height, `${n.id} is in view`);
      }
      // Their names too: the camera frames the labels that run right of the discs.
      const labels = await page.evaluate((keys) => window.musicgraph.labels().filter((b) => keys.includes(b.key)), ids.map((id) => 'g:' + id));
      assert.ok(labels.some((l) => l.key === 'g:death-metal'), 'the selected genre is named');
      for (const l of labels) assert.ok(l.x0 >= 0 && l.x1 <= shown.visibleWidth, `${l.key}: its name is in view, clear of the panel`);
      assert.equal(shown.offPathDimmed, shown.offPath, 'genres off the path are dimmed');
      assert.deepEqual(shown.edges, ids.slice(1).map(() => true), 'each step is a highlighted edge');
    };
    await check();
    await page.reload();
    await waitIdle(page);
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    await waitIdle(page);
    await check();

    await page.getByRole('button', { name: 'Clear path' }).click();
    assert.equal(new URL(page.url()).search, '');
    assert.equal(await page.locator('.path-steps').count(), 0);
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('panel').dataset.path === 'jazz');
    assertClean(problems);
  });

  test('the panel and search are accessible', async (t) => {
    const { page, problems } = await openPage(t, '/genres/rock');
    await waitPanel(page, 'genre', 'rock');
    assert.equal(await page.getByRole('complementary', { name: 'Rock' }).count(), 1, 'the panel is named after what it shows');
    assert.equal(await page.getByRole('link', { name: 'Close the panel' }).count(), 1);
    assert.equal(await page.locator('h1').count(), 1, 'one h1');
    const input = page.getByRole('combobox', { name: 'Search genres and artists' });
    assert.equal(await input.getAttribute('aria-controls'), 'search-results');
    assert.equal(await page.locator('#search-results').getAttribute('role'), 'listbox');
    // "/" jumps to the search box; the focus ring is visible.
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(ring, 'none', 'keyboard focus is visible');
    assertClean(problems);
  });
});
