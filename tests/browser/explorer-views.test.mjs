// Browser tests of the explorer: names at every zoom, zoom and fit, the
// infoboxes, the keyboard, axe-core.
//
// Each file starts its own musicgraph (bundled map) and Chromium; the files
// are split so that each finishes well within the test runner's per-file
// time on a loaded machine. Run one: node --test tests/browser/FILE
// (needs build/musicgraph, or MUSICGRAPH_BIN).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { axeProblems } from '../lib/browser.mjs';
import {
  api, assertBandInView, assertClean, env, openPage, panelState, startExplorer, stopExplorer, waitIdle, waitPanel,
} from '../lib/explorer.mjs';

before(startExplorer);
after(stopExplorer);

describe('explorer: views', { timeout: 1_200_000 }, () => {
  test('names at every zoom: labels where there is room, never one over another', async (t) => {
    const { page, problems } = await openPage(t, '/');
    // Home, then closer, around the map's middle (where the 1,000 genres are
    // densest: a close-up there is a closer zoom); then Metal and Electronic
    // from their family view down to a close-up. Measured from the label
    // boxes sigma drew in the last frame.
    const views = [
      ['home', null, [1, 0.5, 0.25, 0.12]],
      ['Metal', 'g:metal', [0.45, 0.18, 0.07]],
      ['Electronic', 'g:electronic', [0.45, 0.18, 0.07]],
    ];
    for (const [name, key, ratios] of views) {
      for (const ratio of ratios) {
        const m = await page.evaluate(
          async ({ key, ratio }) => {
            const { sigma, graph, labels } = window.musicgraph;
            const camera = sigma.getCamera();
            const at = key ? sigma.viewportToFramedGraph(sigma.graphToViewport(graph.getNodeAttributes(key))) : { x: 0.5, y: 0.5 };
            camera.setState({ x: at.x, y: at.y, ratio, angle: 0 });
            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
            const { width, height } = sigma.getDimensions();
            const boxes = labels();
            const named = new Set(boxes.map((b) => b.key));
            let visible = 0;
            let labelled = 0;
            graph.forEachNode((k, a) => {
              if (a.kind !== 'genre') return;
              const v = sigma.graphToViewport(a);
              if (v.x < 0 || v.y < 0 || v.x > width || v.y > height) return;
              visible++;
              if (named.has(k)) labelled++;
            });
            let overlaps = 0;
            for (let i = 0; i < boxes.length; i++) {
              for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i];
                const b = boxes[j];
                if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) overlaps++;
              }
            }
            const unreadable = boxes.filter((b) => b.size < 12 || b.x0 < 0 || b.y0 < 0 || b.x1 > width || b.y1 > height).length;
            return { visible, labelled, overlaps, unreadable, drawn: boxes.length };
          },
          { key, ratio },
        );
        const share = m.visible ? m.labelled / m.visible : 1;
        t.diagnostic(`labels ${name} ratio ${ratio}: ${m.labelled} of ${m.visible} visible genres named (${Math.round(share * 100)}%), ${m.drawn} labels, ${m.overlaps} overlaps`);
        assert.equal(m.overlaps, 0, `${name} at ${ratio}: no label over another`);
        assert.equal(m.unreadable, 0, `${name} at ${ratio}: every label whole and at least 12 px`);
        assert.ok(m.visible > 0, `${name} at ${ratio}: genres in view`);
        if (ratio === ratios[ratios.length - 1]) assert.ok(share >= 0.8, `${name} closest: ${Math.round(share * 100)}% named, want >= 80%`);
        // Farther out the screen has room for so many labels whatever the size of the map: a fifth of
        // the genres in view, or a hundred names where a fifth of a large map would not fit.
        else assert.ok(share > 0.2 || m.labelled >= 100, `${name} at ${ratio}: names appear (${m.labelled}, ${Math.round(share * 100)}%)`);
      }
    }
    assertClean(problems);
  });

  test('zoom and fit buttons; a click on empty map clears the selection', async (t) => {
    const { page, problems } = await openPage(t, '/genres/grindcore');
    await waitPanel(page, 'genre', 'grindcore');
    const ratio = () => page.evaluate(() => window.musicgraph.sigma.getCamera().getState().ratio);
    const before = await ratio();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await waitIdle(page);
    assert.ok((await ratio()) < before * 0.8, 'zoomed in');
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await waitIdle(page);
    assert.ok((await ratio()) > before, 'zoomed out');
    await page.getByRole('button', { name: 'Fit the whole map in view' }).click();
    await waitIdle(page);
    // Every genre inside the part of the map the panel leaves visible.
    const out = await page.evaluate(() => {
      const { sigma, graph } = window.musicgraph;
      const c = sigma.getContainer().getBoundingClientRect();
      const w = document.getElementById('panel').getBoundingClientRect().left - c.left;
      return graph.filterNodes((k, a) => {
        if (a.kind !== 'genre') return false;
        const v = sigma.graphToViewport(a);
        return v.x < 0 || v.y < 0 || v.x > w || v.y > c.height;
      });
    });
    assert.deepEqual(out, [], 'the whole map is in view beside the panel');

    // An empty spot: a point of the map far from every node.
    const empty = await page.evaluate(() => {
      const { sigma, graph } = window.musicgraph;
      const c = sigma.getContainer().getBoundingClientRect();
      const pts = graph.mapNodes((k, a) => sigma.graphToViewport(a));
      for (let y = 20; y < c.height - 20; y += 15) {
        for (let x = 20; x < c.width / 2; x += 15) {
          const on = document.elementFromPoint(c.left + x, c.top + y);
          if (!on || !sigma.getContainer().contains(on)) continue; // under a card or button
          if (pts.every((p) => Math.hypot(p.x - x, p.y - y) > 25)) return { x: c.left + x, y: c.top + y };
        }
      }
      return null;
    });
    assert.ok(empty, 'an empty spot on the map');
    await page.mouse.click(empty.x, empty.y);
    await page.waitForFunction(() => document.getElementById('panel').hidden);
    assert.equal(new URL(page.url()).pathname, '/');
    assertClean(problems);
  });

  test('the genre infobox: family and era in words, each relation once, defining artists first', async (t) => {
    const { page, problems } = await openPage(t, '/genres/shoegaze');
    await waitPanel(page, 'genre', 'shoegaze');
    const g = await api('/api/v1/genres/shoegaze');
    const doc = env.graphDoc.genres.find((x) => x.id === 'shoegaze');
    const family = env.graphDoc.genres.find((x) => x.id === doc.family);
    const panel = await panelState(page);
    assert.doesNotMatch(panel.text, /\b(ROOT|LEAF|INTERMEDIATE)\b/, 'no type jargon');
    assert.match(panel.text, new RegExp(`${family.name} family`, 'i'), 'the family in words');
    if (g.origin_year) assert.match(panel.text, new RegExp(`in the ${Math.floor(g.origin_year / 10) * 10}s`), 'the decade in words');
    const genreLinks = await page.$$eval('#panel .panel-section:not(.path-finder) a[data-kind="genre"]', (as) => as.map((a) => a.dataset.id));
    assert.equal(new Set(genreLinks).size, genreLinks.length, `each genre listed once (${genreLinks.join(', ')})`);
    for (const p of g.parents) assert.ok(genreLinks.includes(p), `origin ${p} listed`);
    // Bands: the defining artists (when the data has them) in order, first.
    const bandLinks = await page.$$eval('#panel section.bands a[data-kind="band"]', (as) => as.map((a) => a.dataset.id));
    assert.deepEqual(bandLinks.slice().sort(), g.bands.map((b) => b.id).sort(), 'every band');
    const defining = (doc.defining || []).filter((id) => bandLinks.includes(id));
    assert.deepEqual(bandLinks.slice(0, defining.length), defining, 'defining artists first, in the dataset order');
    assert.match(await page.locator('#panel section.bands h3').textContent(), new RegExp(String(g.bands.length)));
    assertClean(problems);
  });

  test('the band infobox: its genres, similar bands and plain links to look it up elsewhere', async (t) => {
    const { page, problems } = await openPage(t, '/bands/bjork');
    await waitPanel(page, 'band', 'bjork');
    const b = await api('/api/v1/bands/bjork');
    await assertBandInView(page, 'bjork');
    const genreLinks = await page.$$eval('#panel .facts a[data-kind="genre"]', (as) => as.map((a) => a.dataset.id));
    assert.deepEqual(genreLinks.slice().sort(), b.genres.slice().sort());
    assert.equal(genreLinks[0], b.primary_genre, 'the primary genre first');
    // What the artist is, and what its year means: a person's career began, a group formed.
    assert.equal(b.type, 'person');
    assert.match(await page.locator('#panel-kind').textContent(), /^Solo artist · \S.* family$/);
    assert.match(await page.locator('#panel .facts').innerText(), new RegExp(`Active since\\s+${b.active_from}`));
    const out = await page.$$eval('#panel section.elsewhere a', (as) => as.map((a) => [a.textContent, a.href, a.rel]));
    assert.deepEqual(out.map((o) => o[0]), ['MusicBrainz', 'Wikipedia', 'Bandcamp', 'YouTube']);
    for (const [site, href, rel] of out) {
      assert.ok(href.startsWith('https://') && href.includes(encodeURIComponent(b.name)), `${site}: ${href}`);
      assert.match(rel, /noopener/);
    }
    assert.equal(await page.locator('script[src^="http"]').count(), 0, 'no third-party script');
    assertClean(problems);
    const group = await openPage(t, '/bands/metallica');
    await waitPanel(group.page, 'band', 'metallica');
    assert.match(await group.page.locator('#panel-kind').textContent(), /^Group · \S.* family$/);
    assert.match(await group.page.locator('#panel .facts').innerText(), /Formed\s+1981/);
    assertClean(group.problems);
  });

  test('keyboard: Tab reaches the map, arrows move along links, Enter opens, Escape gives the focus back', async (t) => {
    const { page, problems } = await openPage(t, '/');
    await page.locator('#graph').focus();
    const cursor = () => page.evaluate(() => window.musicgraph.cursor());
    const start = await cursor();
    assert.ok(start, 'the map shows a cursor when it has the focus');
    await page.waitForFunction(() => /,/.test(document.getElementById('announce').textContent));
    // Arrow keys go from node to node, each announced.
    const visited = new Set([start]);
    for (const key of ['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp']) {
      await page.keyboard.press(key);
      visited.add(await cursor());
    }
    assert.ok(visited.size >= 3, `the cursor moved (${[...visited].join(', ')})`);
    const target = await cursor();
    await page.keyboard.press('Enter');
    const [kind, id] = [target.startsWith('g:') ? 'genre' : 'band', target.slice(2)];
    await waitPanel(page, kind, id);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'panel-title', 'the focus is on the panel heading');
    await page.waitForFunction((name) => document.getElementById('announce').textContent.startsWith('Opened ' + name), await page.locator('#panel-title').textContent());
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.getElementById('panel').hidden);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'graph', 'the focus is back on the map');

    // From the genre index: the focus returns to the link that opened the panel.
    await page.click('#genre-index summary');
    await page.locator('#genre-index a[href="/genres/jazz"]').focus();
    await page.keyboard.press('Enter');
    await waitPanel(page, 'genre', 'jazz');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'panel-title');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.getElementById('panel').hidden);
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '/genres/jazz');
    assertClean(problems);
  });

  test('axe-core finds no serious or critical problem on the home, genre, band and path pages', async (t) => {
    for (const path of ['/', '/genres/thrash-metal', '/bands/bjork', '/genres/death-metal?path=jazz']) {
      const { page } = await openPage(t, path);
      if (path !== '/') await page.waitForFunction(() => document.getElementById('panel').dataset.loaded === '1');
      if (path.includes('path=')) await page.waitForFunction(() => document.querySelector('.path-steps'));
      assert.deepEqual(await axeProblems(page), [], `axe on ${path}`);
    }
  });
});
