// Starts a throwaway PostgreSQL cluster (tests/lib/postgres.mjs) for a whole
// test run: prints its base URL (postgres://USER:PASSWORD@127.0.0.1:PORT)
// on the first line of stdout, or "none" when PostgreSQL is not installed,
// and removes the cluster when its stdin closes or it gets SIGTERM. With
// --durable, fsync and synchronous_commit stay on (benchmarks); tests run
// without them.
import { startPostgres } from '../lib/postgres.mjs';

const pg = await startPostgres({ durable: process.argv.includes('--durable') });
if (!pg) {
  console.log('none');
  process.exit(0);
}
console.log(pg.url('').replace(/\/$/, ''));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await pg.stop();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
