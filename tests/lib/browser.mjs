// One way to run Debian's headless Chromium, shared by the browser tests
// (tests/browser) and the benchmarks (bench/first-frame.mjs).
//
// launchChromium() starts /usr/bin/chromium (or $CHROMIUM_BIN) through
// playwright-core with WebGL on SwiftShader, which is what sigma.js needs on
// a machine without a GPU. watchPage() records what must never happen on a
// page: console errors, uncaught exceptions, Content-Security-Policy
// violations and dialogs (an alert() would mean injected script ran).
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
