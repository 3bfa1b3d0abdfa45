// node:test with a timeout on every test and suite, so that a hang is a
// named failure on every Node version: Node 18 (Debian 12) has no
// --test-timeout flag, so tests/run cannot set one from the outside.
// A test's own { timeout } wins; MUSICGRAPH_TEST_TIMEOUT_MS changes the default.
// A suite's default is the file watchdog's (tests/run): its tests and hooks
// have their own, and a suite of several long tests on a loaded machine
// must not be cut by the sum of what is a fine time for one.
import * as nodeTest from 'node:test';

export const DEFAULT_TEST_TIMEOUT_MS = Number(process.env.MUSICGRAPH_TEST_TIMEOUT_MS || 180_000);

export const DEFAULT_SUITE_TIMEOUT_MS = Number(process.env.MUSICGRAPH_TEST_FILE_TIMEOUT || 900) * 1000;

function withTimeout(run, timeout) {
  return (name, options, fn) => {
    if (typeof options === 'function') [options, fn] = [{}, options];
    return run(name, { timeout, ...options }, fn);
  };
}

const timed = withTimeout(nodeTest.test, DEFAULT_TEST_TIMEOUT_MS);
const flagged = (flag) => (name, options, fn) =>
  typeof options === 'function' ? timed(name, { [flag]: true }, options) : timed(name, { [flag]: true, ...options }, fn);
export const test = Object.assign(timed, { skip: flagged('skip'), todo: flagged('todo'), only: flagged('only') });
export const describe = withTimeout(nodeTest.describe, DEFAULT_SUITE_TIMEOUT_MS);
export const it = test;
export const { before, after, beforeEach, afterEach } = nodeTest;
