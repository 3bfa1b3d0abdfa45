// node:test with a timeout on every test and suite, so that a hang is a
// named failure on every Node version: Node 18 (Debian 12) has no
// --test-timeout flag, so tests/run cannot set one from the outside.
// A test's own { timeout } wins; MUSICGRAPH_TEST_TIMEOUT_MS changes the default.
import * as nodeTest from 'node:test';

export const DEFAULT_TEST_TIMEOUT_MS = Number(process.env.MUSICGRAPH_TEST_TIMEOUT_MS || 180_000);

function withTimeout(run) {
  return (name, options, fn) => {
    if (typeof options === 'function') [options, fn] = [{}, options];
    return run(name, { timeout: DEFAULT_TEST_TIMEOUT_MS, ...options }, fn);
  };
}

const timed = withTimeout(nodeTest.test);
const flagged = (flag) => (name, options, fn) =>
  typeof options === 'function' ? timed(name, { [flag]: true }, options) : timed(name, { [flag]: true, ...options }, fn);
export const test = Object.assign(timed, { skip: flagged('skip'), todo: flagged('todo'), only: flagged('only') });
export const describe = withTimeout(nodeTest.describe);
export const it = test;
export const { before, after, beforeEach, afterEach } = nodeTest;
