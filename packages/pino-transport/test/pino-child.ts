// A program that logs with pino through our transport, for the end-to-end tests: it logs
// `count` lines, each with its `seq` and the `run` it belongs to, then ends the way `end` says:
// - `normal`: its event loop empties; pino's exit handler flushes and ends the transport;
// - `crash` / `crash-plain`: an uncaught exception, with / without our process hooks;
// - `signal`: waits (printing `ready`) for the test's SIGTERM, with our process hooks.
// argv: url, dir ('' for none), count, run, end.
import pino from 'pino';
import { installProcessHooks } from '../src/hooks.js';
import type { PinoTransportOptions } from '../src/index.js';

const [url, dir, count, run, end] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const options: PinoTransportOptions = {
  http: { url, batch: { lingerMs: 5 }, retry: { initialMs: 20, maxMs: 200 }, timeoutMs: 500 },
  exitDeadlineMs: 500,
  ...(dir === '' ? {} : { dir }),
};
// The package's own name, resolved through the workspace as an application would resolve it.
const logger = pino({ transport: { target: '@spillway/pino-transport', options } });
if (end === 'crash' || end === 'signal') installProcessHooks(logger);
for (let seq = 0; seq < Number(count); seq++) logger.info({ seq, run }, `line ${seq}`);
logger.warn({ run }, 'done');

switch (end) {
  case 'normal':
    break;
  case 'crash':
  case 'crash-plain':
    setTimeout(() => {
      throw new Error('boom: the thing that broke');
    }, 10);
    break;
  case 'signal':
    setInterval(() => {}, 1000);
    process.stdout.write('ready\n');
    break;
  default:
    throw new Error(`unknown end ${end}`);
}
