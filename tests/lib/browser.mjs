// One way to run Debian's headless Chromium, shared by the browser tests
// (tests/browser) and the benchmarks (bench/first-frame.mjs).
//
// launchChromium() starts /usr/bin/chromium (or $CHROMIUM_BIN) through
// playwright-core with WebGL on SwiftShader, which is what sigma.js needs on
// a machine without a GPU. watchPage() records what must never happen on a
// page: console errors, uncaught exceptions, Content-Security-Policy
// violations and dialogs (an alert() would mean injected script ran).
// axeProblems() runs the axe-core accessibility checks.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// Returns the array the page's problems are pushed to, as readable lines.
// ignoreConsole(text) may leave out console errors a caller expects (e.g.
// Chromium's own line for an HTTP error response the test provoked).
export async function watchPage(page, { ignoreConsole = () => false } = {}) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !ignoreConsole(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

// Runs axe-core (npm, tests only) on the page as it is and returns the
// serious and critical violations as readable lines. axe is evaluated
// through the DevTools protocol, so the page's CSP stays as strict as it is.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function axeProblems(page) {
  const result = await page.evaluate(`${axeSource}
    axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })))`);
  return result
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
}
