// Browser tests of the curation pages (web/admin.html, web/admin.js,
// web/admin.css) and the login page, against the real musicgraph binary in
// Debian's headless Chromium.
//
// A curator's whole round trip is driven through the pages the way a person
// would: log in through the /login form, add a genre with two parents, add
// and edit a band, see both in the read API and in the explorer, try a
// deletion the server refuses and read the reason in the dialog, manage
// users, read the audit log, log out. Every page fails its test on a console
// error, an uncaught exception, a Content-Security-Policy violation, a
// dialog (an alert() would mean injected script ran) or an HTTP error
// response the test did not expect.
//
// Run: node --test tests/browser/admin.test.mjs (needs build/musicgraph, or
// MUSICGRAPH_BIN).
import { after, before, describe, test } from '../lib/test.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeProblems, launchChromium, watchPage } from '../lib/browser.mjs';
import { runCli, startServer } from '../lib/server.mjs';

const ADMIN = { username: 'admin', password: 'correct-horse-battery' };
const READER = { username: 'reader', password: 'reader-password-1' };
const EDITOR = { username: 'editor', password: 'editor-password-1' }; // a second admin
const XSS_GENRE = '</script><script>alert(1)</script>';
const XSS_BAND = '<img src=x onerror=alert(1)>';

let server;
let browser;
let adminState; // the admin's logged-in cookies, shared by most tests
let clients = 0;

before(async () => {
  // Login is rate limited per client address (5 a minute). Each browser
  // context plays a different person behind the loopback proxy, with its
  // own X-Forwarded-For address, and most tests share one admin session.
  // Chromium starts while the server starts and the two users are created.
  const launching = launchChromium().then((b) => (browser = b)); // closed by after() even if a step below fails
  server = await startServer({ env: { MUSICGRAPH_ADMIN_PASSWORD: ADMIN.password, MUSICGRAPH_TRUSTED_PROXIES: '127.0.0.1' } });
  const dir = mkdtempSync(join(tmpdir(), 'musicgraph-admin-test-'));
  const pwFile = join(dir, 'password');
  writeFileSync(pwFile, READER.password + '\n');
  let r = await runCli(['user', 'create', READER.username, '--email', 'reader@example.com', '--password-file', pwFile, '--state-dir', server.stateDir]);
  assert.equal(r.code, 0, `user create failed: ${r.stderr}`);
  writeFileSync(pwFile, EDITOR.password + '\n');
  r = await runCli(['user', 'create', EDITOR.username, '--email', 'editor@example.com', '--admin', '--password-file', pwFile, '--state-dir', server.stateDir]);
  assert.equal(r.code, 0, `user create failed: ${r.stderr}`);
  await launching;
  const context = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': nextClient() } });
  const page = await context.newPage();
  await loginForm(page, ADMIN, '/admin');
  assert.equal(new URL(page.url()).pathname, '/admin', 'the admin is logged in');
  adminState = await context.storageState();
  await context.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/* ---------- helpers ---------- */

async function getJson(path) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

// A fresh browser context (own cookies) and page. `problems` collects console
// errors, page errors, CSP violations and dialogs; `httpErrors` every
// response >= 400 as "STATUS METHOD /path", which each test compares with
// what it expects (Chromium also logs those as console errors, which are
// therefore left out of `problems`).
function nextClient() {
  clients += 1;
  return `10.0.${clients >> 8}.${clients & 255}`;
}

const inFlightOf = new WeakMap(); // page → its unanswered requests (newPage fills it)

async function newPage(t, { width = 1280, height = 860, storageState } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, storageState, extraHTTPHeaders: { 'X-Forwarded-For': nextClient() } });
  const page = await context.newPage();
  const problems = await watchPage(page, {
    ignoreConsole: (text) => /^Failed to load resource: the server responded with a status of \d+/.test(text),
  });
  const httpErrors = [];
  const inFlight = new Map(); // request → when it started, for adminReady's report
  inFlightOf.set(page, inFlight);
  page.on('request', (req) => inFlight.set(req, Date.now()));
  page.on('requestfinished', (req) => inFlight.delete(req));
  page.on('requestfailed', (req) => inFlight.delete(req));
  page.on('response', (res) => {
    if (res.status() >= 400) {
      const u = new URL(res.url());
      httpErrors.push(`${res.status()} ${res.request().method()} ${u.pathname}`);
    }
  });
  t.after(() => context.close());
  return { context, page, problems, httpErrors };
}

function assertClean(p, expectedHttpErrors = []) {
  assert.deepEqual(p.problems, [], 'console errors, CSP violations or dialogs');
  assert.deepEqual(p.httpErrors, expectedHttpErrors, 'HTTP error responses');
}

// Types a filter (or clears it) and waits until the count says so: the filter
// is debounced, so a row already on the first page (a name starting with "<")
// would otherwise be clicked while the table is rebuilt under it, and the
// click lost (seen twice in make test-fresh).
async function filterTable(page, kind, text) {
  await page.fill(`#${kind}-filter`, text);
  await page.waitForFunction(
    ([k, filtered]) => / of /.test(document.getElementById(k + '-count').textContent) === filtered,
    [kind, text !== ''],
  );
}

// Waits until the page has rendered; `path` (a string, or a RegExp source
// given as {re}) is the URL path, query and hash it must show. When it never
// does, the failure says what the page showed and which requests were still
// unanswered (a rare timeout under load in make test-fresh said nothing more).
async function adminReady(page, path) {
  try {
    await page.waitForFunction(
      (want) => {
        if (document.body.dataset.adminReady !== '1') return false;
        const at = location.pathname + location.search + location.hash;
        return !want || (typeof want === 'string' ? at === want : new RegExp(want.re).test(at));
      },
      path instanceof RegExp ? { re: path.source } : path || null,
    );
  } catch (err) {
    const shown = await page.evaluate(() => ({
      at: location.pathname + location.search + location.hash,
      ready: document.body.dataset.adminReady ?? null,
      text: (document.querySelector('main, body')?.innerText || '').slice(0, 300),
    })).catch((e) => ({ error: String(e) }));
    const pending = [...(inFlightOf.get(page) || new Map())]
      .map(([req, since]) => `${req.method()} ${new URL(req.url()).pathname} (${Date.now() - since} ms)`);
    err.message += `\nwanted ${path || 'any page'}; the page: ${JSON.stringify(shown)}; unanswered: ${JSON.stringify(pending)}`;
    throw err;
  }
}

// The genre or band table at any of its pages.
const LIST_GENRES = /^\/admin#genres(\?page=\d+)?$/;
const LIST_BANDS = /^\/admin#bands(\?page=\d+)?$/;

// Logs in through the server-rendered /login form, as a person would.
async function loginForm(page, user, next) {
  await page.goto(server.url + '/login' + (next ? '?next=' + encodeURIComponent(next) : ''));
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type="submit"]')]);
}

// A page of the logged-in admin showing `path`, ready.
async function adminPage(t, path = '/admin', opts = {}) {
  const p = await newPage(t, { ...opts, storageState: adminState });
  const res = await p.page.goto(server.url + path);
  assert.equal(res.status(), 200, path);
  await adminReady(p.page);
  return p;
}

// API calls with the browser context's session (cookie + CSRF token), for
// setting up data a test is not about.
async function apiAs(context, method, path, body) {
  const me = await context.request.get(server.url + '/api/v1/me');
  assert.equal(me.status(), 200);
  const { csrf_token } = await me.json();
  const res = await context.request.fetch(server.url + path, {
    method,
    headers: { 'X-CSRF-Token': csrf_token, 'Content-Type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status(), body: res.status() === 204 ? null : await res.json().catch(() => null) };
}

// Ticks a genre in a filtered multi-select (the checklist under `base`).
async function pick(page, base, name) {
  await page.fill(`#${base}-filter`, name);
  const exact = new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
  await page.locator(`#${base}-list label.check`).filter({ has: page.locator('.check-name', { hasText: exact }) }).locator('input').check();
  await page.fill(`#${base}-filter`, '');
}

async function optionValues(page, selector) {
  return page.$$eval(`${selector} option`, (os) => os.map((o) => o.value));
}

const ROWS_PER_PAGE = 100; // web/admin-core.js
const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true }); // web/text.js

// Genres or bands in the tables' default order (web/admin-core.js).
function byName(items) {
  return [...items].sort((a, b) => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// The text of the pager above a table ("Rows 101–200 of 8,008").
const pagerInfoSelector = (kind) => `nav[aria-label="${kind === 'genres' ? 'Genre' : 'Band'} table pages"] .pager-info`;
async function pagerInfo(page, kind) {
  return page.textContent(pagerInfoSelector(kind));
}

async function rowTexts(page, tableId, column) {
  return page.$$eval(`#${tableId} tbody tr:not(.empty)`, (rows, col) => rows.map((r) => r.children[col].textContent.trim()), column);
}

// The error shown for a field must be the one its control points to.
async function fieldError(page, controlSelector) {
  return page.$eval(controlSelector, (c) => {
    const ids = (c.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    const shown = ids.map((id) => document.getElementById(id)).filter((e) => e && e.classList.contains('field-error') && !e.hidden);
    return shown.map((e) => e.textContent.trim()).join(' | ');
  });
}

const nf = new Intl.NumberFormat('en-US');

/* ---------- login, logout, permissions ---------- */

describe('login and permissions', () => {
  test('anonymous visitors of /admin pages are sent to the login page, which comes back to them', async (t) => {
    for (const path of ['/admin', '/admin/genres/new', '/admin/users', '/admin/audit']) {
      const res = await fetch(server.url + path, { redirect: 'manual' });
      assert.equal(res.status, 303, path);
      const to = new URL(res.headers.get('location'), server.url);
      assert.equal(to.pathname, '/login', path);
      assert.equal(to.searchParams.get('next'), path);
    }
    const p = await newPage(t);
    const res = await p.page.goto(server.url + '/admin/users');
    assert.equal(res.status(), 200);
    assert.equal(new URL(p.page.url()).pathname, '/login');
    assert.ok(await p.page.isVisible('form[action="/login"] #username'));
    await p.page.fill('#username', ADMIN.username);
    await p.page.fill('#password', ADMIN.password);
    await Promise.all([p.page.waitForNavigation(), p.page.click('form[action="/login"] button[type="submit"]')]);
    assert.equal(new URL(p.page.url()).pathname, '/admin/users');
    await adminReady(p.page);
    assert.equal(await p.page.textContent('h1'), 'Users');
    assertClean(p);
  });

  test('a wrong password stays on the login page with an error and keeps no session', async (t) => {
    const p = await newPage(t);
    await loginForm(p.page, { username: ADMIN.username, password: 'not-the-password' }, '/admin');
    assert.equal(new URL(p.page.url()).pathname, '/login');
    const error = p.page.locator('[role="alert"]:visible');
    assert.equal(await error.count(), 1);
    assert.match(await error.textContent(), /\S/);
    const me = await p.context.request.get(server.url + '/api/v1/me');
    assert.equal(me.status(), 401);
    assertClean(p, p.httpErrors.filter((e) => e.startsWith('401 ')));
  });

  test('a logged-in user who is not an admin gets 403 on /admin, and the API refuses their writes', async (t) => {
    const p = await newPage(t);
    await loginForm(p.page, READER, '/');
    const me = await p.context.request.get(server.url + '/api/v1/me');
    assert.equal(me.status(), 200);
    assert.equal((await me.json()).user.is_admin, false);
    for (const path of ['/admin', '/admin/genres/new', '/admin/users']) {
      const res = await p.page.goto(server.url + path);
      assert.equal(res.status(), 403, path);
      assert.notEqual(new URL(p.page.url()).pathname, '/login');
    }
    const write = await apiAs(p.context, 'POST', '/api/v1/genres', { name: 'Reader genre', type: 'root', parent: null, parents: [] });
    assert.equal(write.status, 403);
    assert.equal((await fetch(server.url + '/api/v1/genres/reader-genre')).status, 404);
    assertClean(p, ['403 GET /admin', '403 GET /admin/genres/new', '403 GET /admin/users']);
  });
  test('when the session ends behind its back, a save keeps the form and works again after a new login', async (t) => {
    const p = await newPage(t);
    const { page, context } = p;
    await loginForm(page, EDITOR, '/admin/genres/new');
    await adminReady(page, '/admin/genres/new');
    await page.fill('#genre-name', 'Lost in a timeout');
    await page.selectOption('#genre-type', 'root');
    await page.fill('#genre-description', 'Typed before the session ended.');
    // The session ends (idle timeout, or a logout in another tab).
    const gone = await apiAs(context, 'DELETE', '/api/v1/session');
    assert.equal(gone.status, 204);
    await page.click('button:text-is("Create genre")');
    await page.waitForSelector('.form-errors:not([hidden]) a.login-again');
    assert.match(await page.textContent('.form-errors'), /session has ended/);
    const again = new URL(await page.getAttribute('.form-errors a.login-again', 'href'), server.url);
    assert.equal(again.pathname, '/login');
    assert.equal(again.searchParams.get('next'), '/admin/genres/new');
    assert.equal(await page.inputValue('#genre-name'), 'Lost in a timeout');
    assert.equal(await page.inputValue('#genre-description'), 'Typed before the session ended.');
    assert.equal((await fetch(server.url + '/api/v1/genres/lost-in-a-timeout')).status, 404, 'nothing was saved');

    // Logged in again (as in another tab, sharing the cookies): the same
    // form saves, with the new session's CSRF token.
    const login = await context.request.post(server.url + '/api/v1/session', { data: EDITOR });
    assert.equal(login.status(), 200);
    await page.click('button:text-is("Create genre")');
    await adminReady(page, LIST_GENRES);
    assert.match(await page.textContent('#notice'), /Created genre “Lost in a timeout”/);
    const g = await getJson('/api/v1/genres/lost-in-a-timeout');
    assert.equal(g.description, 'Typed before the session ended.');
    assertClean(p, ['401 POST /api/v1/genres']);
  });
});

/* ---------- tables ---------- */

describe('genre and band tables', () => {
  // The pager above the table `kind`, and its buttons by their accessible names.
  function pagerOf(page, kind) {
    const nav = page.getByRole('navigation', { name: `${kind === 'genres' ? 'Genre' : 'Band'} table pages`, exact: true });
    const button = (name) => nav.getByRole('button', { name, exact: true });
    return { nav, first: button('First page'), prev: button('Previous page'), next: button('Next page'), last: button('Last page') };
  }

  // Every row of the (filtered) table, read page by page through "Next page".
  async function allRows(page, kind, column) {
    const { first, next } = pagerOf(page, kind);
    if (await first.isEnabled()) await first.click();
    const rows = [];
    for (;;) {
      rows.push(...(await rowTexts(page, kind + '-table', column)));
      if (!(await next.isEnabled())) return rows;
      const info = await pagerInfo(page, kind);
      await next.click();
      await page.waitForFunction(([sel, before]) => document.querySelector(sel).textContent !== before, [pagerInfoSelector(kind), info]);
    }
  }

  test('list every genre and band with counts, filter and sort them over the whole table', async (t) => {
    const graph = await getJson('/api/v1/graph');
    const p = await adminPage(t, '/admin');
    const { page } = p;
    assert.equal(await page.textContent('h1'), 'Genres');
    assert.equal(await page.textContent('#genres-count'), `${nf.format(graph.genres.length)} genres`);
    // One page of rows is built, not the whole table.
    assert.ok(graph.genres.length > ROWS_PER_PAGE, 'the bundled map has more genres than a page');
    assert.equal(await page.locator('#genres-table tbody tr').count(), ROWS_PER_PAGE);
    assert.equal(await pagerInfo(page, 'genres'), `Rows 1–${ROWS_PER_PAGE} of ${nf.format(graph.genres.length)}`);
    assert.deepEqual(await rowTexts(page, 'genres-table', 0), byName(graph.genres).slice(0, ROWS_PER_PAGE).map((g) => g.name));

    // Filtering narrows the rows over the whole table and the count says so.
    await filterTable(page, 'genres', 'metal');
    const names = await allRows(page, 'genres', 0);
    assert.ok(names.length > 3 && names.length < graph.genres.length);
    assert.equal(await page.textContent('#genres-count'), `${nf.format(names.length)} of ${nf.format(graph.genres.length)} genres`);
    const metalNames = new Set(graph.genres.filter((g) => /metal/i.test(g.name) || /metal/.test(g.id)).map((g) => g.name));
    for (const name of metalNames) assert.ok(names.includes(name), `${name} matches "metal"`);

    // Name sorts ascending by default; a click on the header reverses it,
    // over every match, and goes back to the first page.
    const asc = [...names].sort(collator.compare);
    assert.deepEqual(names, asc);
    await page.click('#genres-table th button[data-key="name"]');
    assert.deepEqual(await allRows(page, 'genres', 0), [...asc].reverse());
    assert.equal(await page.getAttribute('#genres-table th:has(button[data-key="name"])', 'aria-sort'), 'descending');

    // Without the filter, the first row sorted by name descending is the
    // last genre of the whole table, not of the first page.
    await filterTable(page, 'genres', '');
    assert.equal((await rowTexts(page, 'genres-table', 0))[0], byName(graph.genres).at(-1).name);

    // Sort by band count: biggest first.
    await page.click('#genres-table th button[data-key="bands"]');
    const counts = (await rowTexts(page, 'genres-table', 5)).map((s) => Number(s.replace(/,/g, '')));
    const bandsPerGenre = new Map();
    for (const b of graph.bands) for (const g of b.genres) bandsPerGenre.set(g, (bandsPerGenre.get(g) || 0) + 1);
    assert.equal(counts[0], Math.max(...bandsPerGenre.values()));
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));

    // The bands table, through the navigation.
    await page.click('nav.nav a[data-nav="bands"]');
    await adminReady(page, '/admin#bands');
    assert.equal(await page.textContent('h1'), 'Bands');
    assert.equal(await page.textContent('#bands-count'), `${nf.format(graph.bands.length)} bands`);
    assert.equal(await page.locator('#bands-table tbody tr').count(), ROWS_PER_PAGE);
    const band = byName(graph.bands).at(-1); // on the last page
    await filterTable(page, 'bands', band.name);
    assert.ok((await rowTexts(page, 'bands-table', 0)).includes(band.name));

    // Back and forward replay the views.
    await page.goBack();
    await adminReady(page, '/admin');
    assert.equal(await page.textContent('h1'), 'Genres');
    await page.goForward();
    await adminReady(page, '/admin#bands');
    assert.equal(await page.textContent('h1'), 'Bands');
    assertClean(p);
  });

  test('the page controls move through the table, by mouse and keyboard, and the page is in the URL', async (t) => {
    const graph = await getJson('/api/v1/graph');
    const bands = byName(graph.bands);
    const total = nf.format(bands.length);
    const pages = Math.ceil(bands.length / ROWS_PER_PAGE);
    const rowsOf = (n) => bands.slice((n - 1) * ROWS_PER_PAGE, n * ROWS_PER_PAGE).map((b) => b.name);
    const infoOf = (n) => `Rows ${nf.format((n - 1) * ROWS_PER_PAGE + 1)}–${nf.format(Math.min(n * ROWS_PER_PAGE, bands.length))} of ${total}`;
    const p = await adminPage(t, '/admin#bands');
    const { page } = p;
    const top = pagerOf(page, 'bands');
    const bottom = page.getByRole('navigation', { name: 'Band table pages, below the table', exact: true });

    assert.equal(await pagerInfo(page, 'bands'), infoOf(1));
    assert.equal(await top.first.isDisabled(), true);
    assert.equal(await top.prev.isDisabled(), true);
    await top.next.click();
    await adminReady(page, '/admin#bands?page=2');
    assert.equal(await pagerInfo(page, 'bands'), infoOf(2));
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(2));
    assert.equal(await page.textContent('#bands-count'), `${total} bands`, 'the count is the whole table');

    // Keyboard: the buttons take Enter and Space and keep the focus.
    await top.next.focus();
    await page.keyboard.press('Enter');
    await adminReady(page, '/admin#bands?page=3');
    await page.keyboard.press('Space');
    await adminReady(page, '/admin#bands?page=4');
    assert.equal(await top.next.evaluate((b) => b === document.activeElement), true);
    await page.keyboard.press('Shift+Tab'); // to "Previous page"
    await page.keyboard.press('Enter');
    await adminReady(page, '/admin#bands?page=3');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(3));

    // The pager below the table hands the focus to the one above it.
    await bottom.getByRole('button', { name: 'Next page', exact: true }).click();
    await adminReady(page, '/admin#bands?page=4');
    assert.equal(await top.next.evaluate((b) => b === document.activeElement), true);

    // The page survives a reload and back goes to the page before.
    await page.reload();
    await adminReady(page, '/admin#bands?page=4');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(4));
    await page.goBack();
    await adminReady(page, '/admin#bands?page=3');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(3));

    // Last page from the keyboard: its button becomes disabled and the
    // focus moves to "Previous page".
    await top.last.focus();
    await page.keyboard.press('Enter');
    await adminReady(page, `/admin#bands?page=${pages}`);
    assert.equal(await pagerInfo(page, 'bands'), infoOf(pages));
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(pages));
    assert.equal(await top.next.isDisabled(), true);
    assert.equal(await top.prev.evaluate((b) => b === document.activeElement), true);
    await top.first.click();
    await adminReady(page, '/admin#bands');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), rowsOf(1));

    // A deep link past the end shows the last page, and says so in the URL.
    await page.goto(server.url + '/admin#bands?page=99999');
    await adminReady(page, `/admin#bands?page=${pages}`);
    assert.equal(await pagerInfo(page, 'bands'), infoOf(pages));

    // A new filter goes back to page 1 (and the pager below disappears for one page).
    const band = bands.find((b) => b.genres.length > 1);
    await filterTable(page, 'bands', band.id);
    await adminReady(page, '/admin#bands');
    assert.ok((await rowTexts(page, 'bands-table', 0)).includes(band.name));
    const matches = await page.locator('#bands-table tbody tr').count();
    assert.equal(await pagerInfo(page, 'bands'), `Rows 1–${matches} of ${matches}`);
    assert.equal(await bottom.isVisible(), false);
    await filterTable(page, 'bands', '');

    // So does a new sort.
    await top.next.click();
    await adminReady(page, '/admin#bands?page=2');
    await page.click('#bands-table th button[data-key="name"]');
    await adminReady(page, '/admin#bands');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), [...bands].reverse().slice(0, ROWS_PER_PAGE).map((b) => b.name));

    // Leaving for a band's form and cancelling comes back to the same page,
    // and so does saving it (the map is read again after the write).
    await page.click('#bands-table th button[data-key="name"]'); // ascending again
    await top.next.click();
    await top.next.click();
    await adminReady(page, '/admin#bands?page=3');
    const third = rowsOf(3);
    const some = bands[2 * ROWS_PER_PAGE + 5];
    await page.click(`#bands-table tr[data-id="${some.id}"] th a`);
    await adminReady(page, `/admin/bands/${some.id}/edit`);
    await page.click('a:text-is("Cancel")');
    await adminReady(page, '/admin#bands?page=3');
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), third);
    await page.click(`#bands-table tr[data-id="${some.id}"] th a`);
    await adminReady(page, `/admin/bands/${some.id}/edit`);
    await page.click('button:text-is("Save changes")');
    await adminReady(page, '/admin#bands?page=3');
    assert.equal(await page.locator(`#bands-table tr[data-id="${some.id}"].flash`).count(), 1);
    assert.deepEqual(await rowTexts(page, 'bands-table', 0), third);
    assertClean(p);
  });
});

/* ---------- editing ---------- */

describe('editing genres and bands', () => {
  test('add a genre with two parents and an influence link; the API and the explorer show it', async (t) => {
    const p = await adminPage(t, '/admin');
    const { page } = p;
    await page.click('a:text-is("Add genre")');
    await adminReady(page, '/admin/genres/new');

    // The id follows the name (accents stripped) until it is edited.
    await page.fill('#genre-name', 'Blackened crüst  punk!');
    assert.equal(await page.inputValue('#genre-id'), 'blackened-crust-punk');
    await page.fill('#genre-name', 'Blackened crust');
    assert.equal(await page.inputValue('#genre-id'), 'blackened-crust');

    await page.selectOption('#genre-type', 'leaf');
    assert.equal(await page.isDisabled('#genre-parent'), true, 'no parent chosen yet');
    await pick(page, 'genre-parents', 'Crust punk');
    assert.equal(await page.inputValue('#genre-parent'), 'crust-punk', 'a single parent is the primary one');
    await pick(page, 'genre-parents', 'Black metal');
    // The primary parent can only be one of the chosen parents.
    assert.deepEqual((await optionValues(page, '#genre-parent')).filter(Boolean).sort(), ['black-metal', 'crust-punk']);
    await page.selectOption('#genre-parent', 'black-metal');
    await pick(page, 'genre-links', 'Grindcore');
    await page.fill('#genre-description', 'Crust punk played with black metal tremolo riffs.');
    await page.fill('#genre-origin-year', '2000');
    await page.click('button:text-is("Create genre")');
    await adminReady(page, LIST_GENRES);
    assert.match(await page.textContent('#notice'), /Created genre “Blackened crust”/);
    assert.equal(await page.locator('#genres-table tr[data-id="blackened-crust"].flash').count(), 1);

    const g = await getJson('/api/v1/genres/blackened-crust');
    assert.equal(g.name, 'Blackened crust');
    assert.equal(g.type, 'leaf');
    assert.equal(g.parent, 'black-metal');
    assert.deepEqual([...g.parents].sort(), ['black-metal', 'crust-punk']);
    assert.deepEqual(g.links, [{ to: 'grindcore', kind: 'influence' }]);
    assert.equal(g.origin_year, 2000);
    assert.equal(g.description, 'Crust punk played with black metal tremolo riffs.');
    const parent = await getJson('/api/v1/genres/crust-punk');
    assert.ok(parent.children.some((c) => c.id === 'blackened-crust'));

    // The explorer shows it at once.
    await page.goto(server.url + '/genres/blackened-crust');
    await page.waitForFunction(() => document.getElementById('panel-title')?.textContent === 'Blackened crust');
    const panel = await page.textContent('#panel-body');
    assert.match(panel, /Black metal/);
    assert.match(panel, /Crust punk/);
    assertClean(p);
  });

  test('errors from the server appear next to their fields and nothing typed is lost', async (t) => {
    const p = await adminPage(t, '/admin/genres/new');
    const { page } = p;
    await page.fill('#genre-name', 'Orphan style');
    await page.selectOption('#genre-type', 'intermediate');
    await page.fill('#genre-description', 'Kept after the error.');
    await page.fill('#genre-origin-year', '1999');
    await pick(page, 'genre-links', 'Grindcore');
    await page.click('button:text-is("Create genre")');
    await page.waitForSelector('.form-errors:not([hidden])');
    // No parent for a non-root genre: the message sits at the parents box.
    assert.match(await fieldError(page, '#genre-parents'), /\S/);
    assert.equal(await page.getAttribute('#genre-parents-filter', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#genre-name'), 'Orphan style');
    assert.equal(await page.inputValue('#genre-id'), 'orphan-style');
    assert.equal(await page.inputValue('#genre-type'), 'intermediate');
    assert.equal(await page.inputValue('#genre-description'), 'Kept after the error.');
    assert.equal(await page.inputValue('#genre-origin-year'), '1999');
    assert.deepEqual(await page.$$eval('#genre-links .chip span', (s) => s.map((x) => x.textContent)), ['Grindcore']);
    assert.equal(new URL(page.url()).pathname, '/admin/genres/new');

    // A duplicate id is reported at the id field.
    await page.fill('#genre-id', 'metal');
    await page.selectOption('#genre-type', 'root');
    await page.click('button:text-is("Create genre")');
    await page.waitForFunction(() => !document.getElementById('genre-id-error').hidden);
    assert.match(await fieldError(page, '#genre-id'), /\S/);
    assert.equal(await page.getAttribute('#genre-id', 'aria-invalid'), 'true');
    assert.equal(await fieldError(page, '#genre-parents-filter'), '', 'the old error is gone');
    assert.equal(await page.inputValue('#genre-name'), 'Orphan style');

    // A non-number year is caught before sending.
    await page.fill('#genre-origin-year', 'nineteen');
    await page.click('button:text-is("Create genre")');
    assert.match(await fieldError(page, '#genre-origin-year'), /year/);
    // So is a missing name.
    await page.fill('#genre-name', '');
    await page.click('button:text-is("Create genre")');
    assert.match(await fieldError(page, '#genre-name'), /required/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'genre-name');
    assert.equal((await fetch(server.url + '/api/v1/genres/orphan-style')).status, 404);
    assertClean(p, ['400 POST /api/v1/genres', '409 POST /api/v1/genres']);
  });

  test('add a band with two genres, then edit it; the API and the explorer follow', async (t) => {
    const p = await adminPage(t, '/admin#bands');
    const { page } = p;
    await page.click('a:text-is("Add band")');
    await adminReady(page, '/admin/bands/new');
    await page.fill('#band-name', 'Ünholy Static');
    assert.equal(await page.inputValue('#band-id'), 'unholy-static');
    await page.fill('#band-id', 'unholy-static-band');
    await page.fill('#band-name', 'Unholy Static');
    assert.equal(await page.inputValue('#band-id'), 'unholy-static-band', 'an edited id is kept');
    await pick(page, 'band-genres', 'Black metal');
    assert.equal(await page.isDisabled('#band-primary-genre'), true, 'Black metal is not a leaf');
    await pick(page, 'band-genres', 'Thrash metal');
    await pick(page, 'band-genres', 'Grindcore');
    // Primary genre: only the chosen leaf genres.
    assert.deepEqual((await optionValues(page, '#band-primary-genre')).filter(Boolean).sort(), ['grindcore', 'thrash-metal']);
    await page.selectOption('#band-primary-genre', 'thrash-metal');
    await page.selectOption('#band-type', 'group');
    await page.fill('#band-country', 'gb');
    await page.fill('#band-active-from', '1999');
    await page.fill('#band-aliases', 'The Static\nUnholy S.');
    await page.click('button:text-is("Create band")');
    // The table opens at the page of the new band, which is highlighted.
    await adminReady(page, LIST_BANDS);
    const bands = (await getJson('/api/v1/graph')).bands;
    const at = byName(bands).findIndex((x) => x.id === 'unholy-static-band');
    const bandPage = Math.floor(at / ROWS_PER_PAGE) + 1;
    assert.ok(bandPage > 1, 'the test needs a band beyond the first page');
    assert.equal(new URL(page.url()).hash, '#bands?page=' + bandPage);
    assert.match(await page.textContent('#notice'), /Created band “Unholy Static”/);
    assert.equal(await page.locator('#bands-table tr[data-id="unholy-static-band"].flash').count(), 1);
    assert.equal(await pagerInfo(page, 'bands'), `Rows ${nf.format((bandPage - 1) * ROWS_PER_PAGE + 1)}–${nf.format(Math.min(bandPage * ROWS_PER_PAGE, bands.length))} of ${nf.format(bands.length)}`);
    let b = await getJson('/api/v1/bands/unholy-static-band');
    assert.equal(b.name, 'Unholy Static');
    assert.equal(b.primary_genre, 'thrash-metal');
    assert.deepEqual([...b.genres].sort(), ['black-metal', 'grindcore', 'thrash-metal']);
    assert.deepEqual([b.type, b.country, b.active_from], ['group', 'GB', 1999]);
    assert.deepEqual(b.aliases, ['The Static', 'Unholy S.']);

    // Edit: rename, drop a genre, change the primary genre, the type and the year.
    await filterTable(page, 'bands', 'Unholy');
    await page.click('#bands-table a:text-is("Unholy Static")');
    await adminReady(page, '/admin/bands/unholy-static-band/edit');
    assert.equal(await page.inputValue('#band-name'), 'Unholy Static');
    assert.equal(await page.getAttribute('#band-id', 'readonly'), '');
    assert.equal(await page.inputValue('#band-primary-genre'), 'thrash-metal');
    await page.fill('#band-name', 'Unholy Static II');
    await page.click('#band-genres .chip-button[aria-label="Remove Black metal"]');
    await page.selectOption('#band-primary-genre', 'grindcore');
    assert.deepEqual([await page.inputValue('#band-type'), await page.inputValue('#band-country'), await page.inputValue('#band-active-from')], ['group', 'GB', '1999']);
    await page.selectOption('#band-type', 'person');
    await page.fill('#band-active-from', 'around 2001');
    await page.click('button:text-is("Save changes")');
    // A year that is not a year is refused beside its field, and nothing typed is lost.
    await page.locator('#band-active-from-error:not([hidden])').waitFor();
    assert.match(await page.textContent('#band-active-from-error'), /whole year/);
    assert.equal(await page.inputValue('#band-name'), 'Unholy Static II');
    await page.fill('#band-active-from', '2001');
    await page.click('button:text-is("Save changes")');
    // The filter is kept: the table shows its one page of matches.
    await adminReady(page, '/admin#bands');
    assert.match(await page.textContent('#notice'), /Saved band “Unholy Static II”/);
    assert.equal(await page.inputValue('#bands-filter'), 'Unholy');
    assert.equal(await page.locator('#bands-table tr[data-id="unholy-static-band"].flash').count(), 1);
    b = await getJson('/api/v1/bands/unholy-static-band');
    assert.equal(b.name, 'Unholy Static II');
    assert.equal(b.primary_genre, 'grindcore');
    assert.deepEqual([...b.genres].sort(), ['grindcore', 'thrash-metal']);
    assert.deepEqual([b.type, b.country, b.active_from], ['person', 'GB', 2001]);
    assert.deepEqual(b.aliases, ['The Static', 'Unholy S.'], 'aliases left as they were are kept');
    const grind = await getJson('/api/v1/genres/grindcore');
    assert.ok(grind.bands.some((x) => x.id === 'unholy-static-band'));

    await page.goto(server.url + '/bands/unholy-static-band');
    await page.waitForFunction(() => document.getElementById('panel-title')?.textContent === 'Unholy Static II');
    assert.match(await page.textContent('#panel-body'), /Grindcore/);
    assert.match(await page.textContent('#panel-kind'), /^Solo artist · /);
    assert.match(await page.textContent('#panel-body'), /Active since\s*2001/);
    assert.match(await page.textContent('#panel-body'), /From\s*United Kingdom/);
    assertClean(p);
  });

  test('the id suggested from the name is the id the server derives when none is given', async (t) => {
    const p = await adminPage(t, '/admin/bands/new');
    const { page, context } = p;
    const names = ['Straße Œuvre — Ünholy ĳssel!', '  Ægir & the Ørn (live) ', 'x'.repeat(48) + ' yz', 'Ελληνικά 2 Rock'];
    for (const name of names) {
      await page.fill('#band-name', name);
      const suggested = await page.inputValue('#band-id');
      const r = await apiAs(context, 'POST', '/api/v1/bands', { name, primary_genre: 'grindcore', genres: ['grindcore'] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.id, suggested, name);
    }
    assertClean(p);
  });

  test('editing a genre keeps its values and saves the changes', async (t) => {
    const before = await getJson('/api/v1/genres/sludge-metal');
    const p = await adminPage(t, '/admin/genres/sludge-metal/edit');
    const { page } = p;
    assert.equal(await page.inputValue('#genre-name'), before.name);
    assert.equal(await page.inputValue('#genre-id'), 'sludge-metal');
    assert.equal(await page.getAttribute('#genre-id', 'readonly'), '');
    assert.equal(await page.inputValue('#genre-type'), before.type);
    assert.equal(await page.inputValue('#genre-parent'), before.parent);
    assert.equal(await page.inputValue('#genre-description'), before.description || '');
    // A genre is never offered as its own parent.
    assert.equal(await page.locator('#genre-parents-list input[value="sludge-metal"]').count(), 0);
    await pick(page, 'genre-parents', 'Noise rock');
    await page.fill('#genre-origin-year', '1988');
    await page.click('button:text-is("Save changes")');
    await adminReady(page, LIST_GENRES);
    const g = await getJson('/api/v1/genres/sludge-metal');
    assert.deepEqual([...g.parents].sort(), [...before.parents, 'noise-rock'].sort());
    assert.equal(g.parent, before.parent);
    assert.equal(g.origin_year, 1988);
    assert.equal(g.name, before.name);
    assertClean(p);
  });

  test('a genre’s other names, region and ordered defining artists are edited in its form', async (t) => {
    const before = await getJson('/api/v1/genres/thrash-metal');
    assert.deepEqual(before.defining, ['metallica', 'slayer', 'megadeth', 'anthrax', 'kreator'], 'the test starts from the bundled data');
    const p = await adminPage(t, '/admin/genres/thrash-metal/edit');
    const { page } = p;
    assert.equal(await page.inputValue('#genre-aliases'), before.aliases.join('\n'));
    assert.equal(await page.inputValue('#genre-region'), before.region);
    const chips = () => page.$$eval('#genre-defining .chip', (cs) => cs.map((c) => c.textContent.replace(/[↑×]/g, '').trim()));
    assert.deepEqual(await chips(), ['1.Metallica', '2.Slayer', '3.Megadeth', '4.Anthrax', '5.Kreator']);
    // Five is the most: the other artists cannot be ticked until one goes.
    const exodus = page.locator('#genre-defining-list label.check').filter({ has: page.locator('.check-name', { hasText: /^Exodus$/ }) }).locator('input');
    assert.equal(await exodus.isDisabled(), true);
    // Only artists of thrash metal (or its sub-genres) are offered.
    assert.equal(await page.locator('#genre-defining-list input[value="abba"]').count(), 0);
    await page.click('#genre-defining .chip-button[aria-label="Remove Kreator"]');
    assert.equal(await exodus.isDisabled(), false);
    await pick(page, 'genre-defining', 'Exodus');
    await page.click('#genre-defining button[aria-label="Move Exodus earlier"]');
    await page.click('#genre-defining button[aria-label="Move Exodus earlier"]');
    assert.deepEqual(await chips(), ['1.Metallica', '2.Slayer', '3.Exodus', '4.Megadeth', '5.Anthrax']);
    // An alias that is the name itself is refused beside its field; the rest stays as typed.
    await page.fill('#genre-aliases', 'thrash\n  Thrash metal  \n');
    await page.fill('#genre-region', 'Bay Area, United States');
    await page.click('button:text-is("Save changes")');
    await page.locator('#genre-aliases-error:not([hidden])').waitFor();
    assert.match(await page.textContent('#genre-aliases-error'), /is the name itself/);
    assert.deepEqual(await chips(), ['1.Metallica', '2.Slayer', '3.Exodus', '4.Megadeth', '5.Anthrax']);
    await page.fill('#genre-aliases', 'thrash\n\nbay area thrash');
    await page.click('button:text-is("Save changes")');
    await adminReady(page, LIST_GENRES);
    const g = await getJson('/api/v1/genres/thrash-metal');
    assert.deepEqual(g.defining, ['metallica', 'slayer', 'exodus', 'megadeth', 'anthrax']);
    assert.deepEqual(g.aliases, ['thrash', 'bay area thrash']);
    assert.equal(g.region, 'Bay Area, United States');
    assert.deepEqual(g.parents, before.parents);
    const found = await getJson('/api/v1/search?q=' + encodeURIComponent('bay area thrash'));
    assert.ok(found.results.some((r) => r.id === 'thrash-metal'), 'search finds the genre by its new alias');
    // A new genre has no artist yet, so its form offers no defining artists.
    await page.goto(server.url + '/admin/genres/new');
    await adminReady(page, '/admin/genres/new');
    assert.equal(await page.locator('#genre-defining').count(), 0);
    assert.equal(await page.locator('#genre-aliases').count(), 1);
    assertClean(p, ['400 PUT /api/v1/genres/thrash-metal']);
  });

  test('a refused deletion shows the reason and the blocking genres and bands in the dialog', async (t) => {
    const detail = await getJson('/api/v1/genres/thrash-metal');
    const graph = await getJson('/api/v1/graph');
    const blockingBands = graph.bands.filter((b) => b.primary_genre === 'thrash-metal');
    assert.ok(blockingBands.length > 0, 'the dataset has bands whose primary genre is thrash metal');
    const p = await adminPage(t, '/admin/genres/thrash-metal/edit');
    const { page } = p;
    await page.click('#delete-genre');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.locator('h2').textContent(), /Thrash metal/);
    await dialog.locator('button:text-is("Delete genre")').click();
    await dialog.locator('.dialog-reason').waitFor();
    assert.match(await dialog.locator('.dialog-reason').textContent(), /\S{3}/);
    const shown = await dialog.locator('ul.blockers[data-kind="bands"] a').allTextContents();
    assert.deepEqual(shown.sort(), blockingBands.map((b) => b.name).sort());
    assert.equal(await dialog.locator('button:text-is("Delete genre")').isVisible(), false, 'no second try');
    assert.equal((await getJson('/api/v1/genres/thrash-metal')).name, detail.name, 'still there');

    // A blocker is a link to its edit page.
    const first = blockingBands.sort((a, b) => a.name.localeCompare(b.name))[0];
    await dialog.locator('ul.blockers[data-kind="bands"] a', { hasText: first.name }).first().click();
    await adminReady(page, `/admin/bands/${first.id}/edit`);
    assert.equal(await page.locator('dialog[open]').count(), 0);
    assert.equal(await page.inputValue('#band-name'), first.name);

    // A genre that is only a primary parent: the blockers are genres.
    await page.goto(server.url + '/admin/genres/black-metal/edit');
    await adminReady(page);
    await page.click('#delete-genre');
    await page.locator('dialog[open] button:text-is("Delete genre")').click();
    await page.locator('dialog[open] .dialog-reason').waitFor();
    const children = graph.genres.filter((g) => g.parent === 'black-metal').map((g) => g.name);
    assert.ok(children.length > 0);
    const shownGenres = await page.locator('dialog[open] ul.blockers[data-kind="genres"] a').allTextContents();
    for (const c of children) assert.ok(shownGenres.includes(c), `${c} is listed`);
    await page.click('dialog[open] button:text-is("Close")');
    assert.equal(await page.locator('dialog[open]').count(), 0);
    assertClean(p, ['409 DELETE /api/v1/genres/thrash-metal', '409 DELETE /api/v1/genres/black-metal']);
  });

  test('deleting a band and an unblocked genre asks first, then removes them', async (t) => {
    // The data is set up first, so the first page loaded is the one tested.
    const p = await newPage(t, { storageState: adminState });
    const { page, context } = p;
    let r = await apiAs(context, 'POST', '/api/v1/genres', { id: 'short-lived', name: 'Short-lived', type: 'leaf', parent: 'punk', parents: ['punk', 'metal'], description: '', origin_year: null, links: [] });
    assert.equal(r.status, 201);
    r = await apiAs(context, 'POST', '/api/v1/bands', { id: 'short-band', name: 'Short Band', primary_genre: 'grindcore', genres: ['grindcore', 'short-lived'] });
    assert.equal(r.status, 201);

    await page.goto(server.url + '/admin/bands/short-band/edit');
    await adminReady(page);
    await page.click('#delete-band');
    await page.click('dialog[open] button:text-is("Cancel")');
    assert.equal((await fetch(server.url + '/api/v1/bands/short-band')).status, 200, 'cancel deletes nothing');
    await page.click('#delete-band');
    await page.click('dialog[open] button:text-is("Delete band")');
    await adminReady(page, '/admin#bands');
    assert.match(await page.textContent('#notice'), /Deleted band “Short Band”/);
    assert.equal((await fetch(server.url + '/api/v1/bands/short-band')).status, 404);

    r = await apiAs(context, 'POST', '/api/v1/bands', { id: 'short-band-2', name: 'Short Band 2', primary_genre: 'grindcore', genres: ['grindcore', 'short-lived'] });
    assert.equal(r.status, 201);
    await page.goto(server.url + '/admin/genres/short-lived/edit');
    await adminReady(page);
    await page.click('#delete-genre');
    await page.click('dialog[open] button:text-is("Delete genre")');
    await adminReady(page, '/admin#genres');
    assert.match(await page.textContent('#notice'), /Deleted genre “Short-lived” \(removed from 1 band\)/);
    assert.equal((await fetch(server.url + '/api/v1/genres/short-lived')).status, 404);
    assert.deepEqual((await getJson('/api/v1/bands/short-band-2')).genres, ['grindcore']);
    await page.fill('#genres-filter', 'short-lived');
    await page.locator('#genres-table tr.empty').waitFor();
    assert.equal(await page.locator('#genres-table tr[data-id="short-lived"]').count(), 0);
    assertClean(p, p.httpErrors.filter((e) => e === '404 GET /api/v1/bands/short-band'));
  });
});

/* ---------- hostile names ---------- */

describe('hostile names', () => {
  test('names with markup render literally in the tables, forms, dialogs and audit log', async (t) => {
    const p = await newPage(t, { storageState: adminState });
    const { page, context } = p;
    let r = await apiAs(context, 'POST', '/api/v1/genres', { id: 'xss-genre', name: XSS_GENRE, type: 'leaf', parent: 'punk', parents: ['punk'], description: XSS_BAND, origin_year: null, links: [] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await apiAs(context, 'POST', '/api/v1/bands', { id: 'xss-band', name: XSS_BAND, primary_genre: 'xss-genre', genres: ['xss-genre'] });
    assert.equal(r.status, 201, JSON.stringify(r.body));

    await page.goto(server.url + '/admin');
    await adminReady(page);
    await filterTable(page, 'genres', 'xss-genre');
    assert.equal(await page.textContent('#genres-table tr[data-id="xss-genre"] th'), XSS_GENRE);
    await page.click('nav.nav a[data-nav="bands"]');
    await adminReady(page, '/admin#bands');
    await filterTable(page, 'bands', 'xss-band');
    assert.equal(await page.textContent('#bands-table tr[data-id="xss-band"] th'), XSS_BAND);
    assert.equal(await page.textContent('#bands-table tr[data-id="xss-band"] td:nth-child(3)'), XSS_GENRE);

    await page.click('#bands-table tr[data-id="xss-band"] th a');
    await adminReady(page, '/admin/bands/xss-band/edit');
    assert.equal(await page.inputValue('#band-name'), XSS_BAND);
    assert.equal(await page.textContent('.subtitle'), XSS_BAND);
    assert.deepEqual(await page.$$eval('#band-genres .chip span', (s) => s.map((x) => x.textContent)), [XSS_GENRE]);
    assert.equal(await page.$eval('#band-primary-genre', (s) => s.selectedOptions[0].textContent), XSS_GENRE);

    await page.goto(server.url + '/admin/genres/xss-genre/edit');
    await adminReady(page);
    assert.equal(await page.inputValue('#genre-name'), XSS_GENRE);
    assert.equal(await page.inputValue('#genre-description'), XSS_BAND);
    // The refusal dialog names the band literally too.
    await page.click('#delete-genre');
    assert.equal(await page.textContent('dialog[open] h2'), `Delete “${XSS_GENRE}”?`);
    await page.click('dialog[open] button:text-is("Delete genre")');
    await page.locator('dialog[open] ul.blockers a').first().waitFor();
    assert.deepEqual(await page.locator('dialog[open] ul.blockers a').allTextContents(), [XSS_BAND]);
    await page.click('dialog[open] button:text-is("Close")');

    await page.click('nav.nav a[data-nav="audit"]');
    await adminReady(page, '/admin/audit');
    const after = await page.$$eval('#audit-table tbody tr', (rows) => rows.slice(0, 2).map((r) => r.querySelector('[data-side="after"] pre').textContent));
    assert.equal(JSON.parse(after[0]).name, XSS_BAND);
    assert.equal(JSON.parse(after[1]).name, XSS_GENRE);

    // Nothing was parsed as markup anywhere.
    assert.equal(await page.evaluate(() => document.querySelectorAll('main img, main script').length), 0);
    assertClean(p, ['409 DELETE /api/v1/genres/xss-genre']);
  });
});

/* ---------- users ---------- */

describe('users', () => {
  test('create a user with a generated password shown once, promote, demote and disable', async (t) => {
    const p = await adminPage(t, '/admin/users');
    const { page } = p;
    const adminRow = page.locator('#users-table tr[data-username="admin"]');
    // Nobody changes their own admin flag or disables themselves.
    assert.equal(await adminRow.locator('button:text-is("Remove admin")').isDisabled(), true);
    assert.equal(await adminRow.locator('button:text-is("Disable")').isDisabled(), true);
    const reader = page.locator('#users-table tr[data-username="reader"]');
    assert.equal(await reader.locator('.badge').first().textContent(), 'User');
    assert.equal(await reader.locator('button:text-is("Make admin")').isDisabled(), false);

    // Invalid input: errors next to the fields.
    await page.fill('#user-username', 'x');
    await page.fill('#user-email', 'curator@example.com');
    await page.click('button:text-is("Create user")');
    await page.waitForFunction(() => !document.getElementById('user-username-error').hidden);
    assert.match(await fieldError(page, '#user-username'), /\S/);
    assert.equal(await page.inputValue('#user-email'), 'curator@example.com');

    // Valid: the generated password is shown once and works.
    await page.fill('#user-username', 'curator');
    await page.click('button:text-is("Create user")');
    const secret = await page.locator('#generated-password').textContent({ timeout: 5000 });
    assert.ok(secret.length >= 10);
    const login = await fetch(server.url + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'curator', password: secret }) });
    assert.equal(login.status, 200);
    const row = page.locator('#users-table tr[data-username="curator"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge').first().textContent(), 'User');
    assert.equal(await page.inputValue('#user-username'), '', 'the form is cleared');

    await row.locator('button:text-is("Make admin")').click();
    await page.locator('#users-table tr[data-username="curator"] .badge-admin').waitFor();
    let users = (await apiAs(p.context, 'GET', '/api/v1/users')).body.users;
    assert.equal(users.find((u) => u.username === 'curator').is_admin, true);
    await page.locator('#users-table tr[data-username="curator"] button:text-is("Remove admin")').click();
    await page.locator('#users-table tr[data-username="curator"] .badge-user').waitFor();
    await page.locator('#users-table tr[data-username="curator"] button:text-is("Disable")').click();
    await page.locator('#users-table tr[data-username="curator"] .badge-disabled').waitFor();
    users = (await apiAs(p.context, 'GET', '/api/v1/users')).body.users;
    const curator = users.find((u) => u.username === 'curator');
    assert.equal(curator.is_admin, false);
    assert.equal(curator.disabled, true);
    const refused = await fetch(server.url + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'curator', password: secret }) });
    assert.equal(refused.status, 401, 'a disabled user cannot log in');

    // After a reload the password is gone for good.
    await page.reload();
    await adminReady(page);
    assert.equal(await page.locator('#generated-password').count(), 0);
    assert.equal(await page.evaluate((s) => document.body.textContent.includes(s), secret), false);
    assertClean(p, ['400 POST /api/v1/users']);
  });
});

/* ---------- audit ---------- */

describe('audit log', () => {
  test('every change is listed newest first, with before and after, across pages', async (t) => {
    const p = await adminPage(t, '/admin');
    const { page, context } = p;
    // Enough changes for a second page (the tests before made some). Most
    // are e-mail changes of a user: audited like any change, they do not
    // wait for a new snapshot of the map as each genre change does.
    const { body: start } = await apiAs(context, 'GET', '/api/v1/audit?page=1&per_page=1');
    const reader = (await apiAs(context, 'GET', '/api/v1/users')).body.users.find((u) => u.username === READER.username);
    for (let i = start.total; i < 48; i++) {
      const u = await apiAs(context, 'PATCH', `/api/v1/users/${reader.id}`, { email: `reader+${i}@example.com` });
      assert.equal(u.status, 200);
    }
    const updates = 2;
    const r = await apiAs(context, 'POST', '/api/v1/genres', { id: 'audit-probe', name: 'Audit probe 0', type: 'root', parent: null, parents: [], description: '', origin_year: null, links: [] });
    assert.equal(r.status, 201);
    for (let i = 1; i <= updates; i++) {
      const u = await apiAs(context, 'PUT', '/api/v1/genres/audit-probe', { name: `Audit probe ${i}`, type: 'root', parent: null, parents: [], description: '', origin_year: null, links: [] });
      assert.equal(u.status, 200);
    }
    const { body: first } = await apiAs(context, 'GET', '/api/v1/audit?page=1&per_page=50');
    assert.ok(first.total > 50);

    await page.click('nav.nav a[data-nav="audit"]');
    await adminReady(page, '/admin/audit');
    assert.equal(await page.textContent('h1'), 'Audit log');
    assert.equal(await page.locator('#audit-table tbody tr').count(), 50);
    const top = page.locator('#audit-table tbody tr').first();
    assert.match(await top.textContent(), /audit-probe/);
    assert.match(await top.locator('.changed-keys').textContent(), /name/);
    const beforeText = await top.locator('[data-side="before"] pre').textContent();
    const afterText = await top.locator('[data-side="after"] pre').textContent();
    assert.equal(JSON.parse(beforeText).name, `Audit probe ${updates - 1}`);
    assert.equal(JSON.parse(afterText).name, `Audit probe ${updates}`);
    // The changed line is marked on both sides.
    assert.ok((await top.locator('.line-del').allTextContents()).some((l) => l.includes(`"name": "Audit probe ${updates - 1}"`)));
    assert.ok((await top.locator('.line-ins').allTextContents()).some((l) => l.includes(`"name": "Audit probe ${updates}"`)));

    await page.click('a:text-is("Older →")');
    await adminReady(page, '/admin/audit?page=2');
    assert.equal(await page.locator('#audit-table tbody tr').count(), Math.min(50, first.total - 50));
    const firstOnPage2 = await page.getAttribute('#audit-table tbody tr', 'data-id');
    await page.reload();
    await adminReady(page, '/admin/audit?page=2');
    assert.equal(await page.getAttribute('#audit-table tbody tr', 'data-id'), firstOnPage2);
    await page.goBack();
    await adminReady(page, '/admin/audit');
    assert.equal(await page.locator('#audit-table tbody tr').count(), 50);
    assertClean(p);
  });
});

/* ---------- small screens ---------- */

describe('phone width', () => {
  test('the list, the forms and the audit log fit 360 px without sideways scrolling', async (t) => {
    const graph = await getJson('/api/v1/graph');
    const band = graph.bands.find((b) => b.genres.length > 1);
    const p = await adminPage(t, '/admin', { width: 360, height: 740 });
    const { page } = p;
    for (const path of ['/admin', '/admin#bands', '/admin/genres/new', `/admin/bands/${band.id}/edit`, '/admin/genres/death-metal/edit', '/admin/users', '/admin/audit']) {
      await page.goto(server.url + path);
      await adminReady(page);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${path} is ${width}px wide`);
      assert.ok(await page.isVisible('#logout'), `${path}: log out reachable`);
    }
    // Every form control has a label.
    await page.goto(server.url + '/admin/genres/new');
    await adminReady(page);
    const unlabelled = await page.$$eval('main input:not([type=hidden]), main select, main textarea', (els) =>
      els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id || e.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
    assertClean(p);
  });
});

/* ---------- logging out (last: it ends the shared session) ---------- */

// One test a page, each with the whole per-test timeout: the genre and band forms are large (a
// checklist of every genre, twice on the genre form).
describe('accessibility: axe-core finds no serious or critical problem', { timeout: 540_000 }, () => {
  for (const path of ['/admin', '/admin#bands', '/admin/genres/new', '/admin/genres/grindcore/edit', '/admin/bands/new', '/admin/users', '/admin/audit']) {
    test(`on ${path}`, async (t) => {
      const p = await adminPage(t, path);
      assert.deepEqual(await axeProblems(p.page), [], `axe on ${path}`);
      assertClean(p);
    });
  }
  test('on /login', async (t) => {
    const anon = await newPage(t);
    await anon.page.goto(server.url + '/login');
    assert.deepEqual(await axeProblems(anon.page), [], 'axe on /login');
  });
});

describe('logging out', () => {
  test('log out ends the session: the map opens and /admin asks for the login again', async (t) => {
    // Last: it ends the session the other tests share.
    const p = await adminPage(t, '/admin');
    assert.equal(await p.page.textContent('#whoami'), ADMIN.username);
    await Promise.all([p.page.waitForURL(server.url + '/'), p.page.click('#logout')]);
    const me = await p.context.request.get(server.url + '/api/v1/me');
    assert.equal(me.status(), 401);
    await p.page.goto(server.url + '/admin');
    assert.equal(new URL(p.page.url()).pathname, '/login');
    assert.equal(new URL(p.page.url()).searchParams.get('next'), '/admin');
    assertClean(p, p.httpErrors.filter((e) => e.startsWith('401 ')));
  });
});
