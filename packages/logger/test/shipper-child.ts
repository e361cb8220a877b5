// A program that ships its logs with a shipper, for the exit, signal and crash tests. It writes
// `count` records, then ends the way `mode` says: process.exit(), waiting for a signal, or an
// uncaught exception. argv: mode, url, dir, count.
import { createShipper } from '../src/index.js';

const [mode, url, dir, count] = process.argv.slice(2) as [string, string, string, string];
const shipper = createShipper({
  http: { url: url!, batch: { lingerMs: 5 }, retry: { initialMs: 20, maxMs: 200 }, timeoutMs: 500 },
  dir: dir!,
  exitDeadlineMs: 500,
});
for (let i = 0; i < Number(count); i++)
  shipper.write({ level: 'info', msg: `record ${i}`, seq: i });

switch (mode) {
  case 'exit':
    process.exit(0);
    break;
  case 'signal':
    // Keeps the event loop alive until the test's signal arrives.
    setInterval(() => {}, 1000);
    process.stdout.write('ready\n');
    break;
  case 'crash':
    setTimeout(() => {
      throw new Error('boom: the thing that broke');
    }, 10);
    break;
  case 'reject':
    setTimeout(() => void Promise.reject(new Error('rejected: nobody caught this')), 10);
    break;
  case 'ship':
    // Ship what the earlier runs left on disk, then exit normally.
    setTimeout(() => {}, 1500);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
