// Waiting in tests and benchmarks: sleep(ms), and waitFor(), which polls a
// condition until it holds or a deadline passes.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls fn every `every` ms until it returns a truthy value, which waitFor
// returns. After ms it throws, naming `what` (a string, or a function that
// describes the state at that moment) and fn's last error: a server that is
// restarting makes fn throw for a while, which is not yet a failure.
export async function waitFor(what, fn, ms = 15000, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const name = typeof what === 'function' ? what() : what;
      throw new Error(`timed out waiting for ${name}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(every);
  }
}
