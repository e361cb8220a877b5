// A program that logs with pino through our transport, for the end-to-end tests: it logs
// `count` lines, each with its `seq` and the `run` it belongs to, and then ends normally (its
// event loop empties; pino's exit handler flushes and ends the transport's thread).
// argv: url, dir ('' for none), count, run.
import pino from 'pino';
import type { PinoTransportOptions } from '../src/index.js';

const [url, dir, count, run] = process.argv.slice(2) as [string, string, string, string];
const options: PinoTransportOptions = {
  http: { url, batch: { lingerMs: 5 }, retry: { initialMs: 20, maxMs: 200 }, timeoutMs: 500 },
  exitDeadlineMs: 500,
  ...(dir === '' ? {} : { dir }),
};
// The package's own name, resolved through the workspace as an application would resolve it.
const logger = pino({ transport: { target: '@spillway/pino-transport', options } });
for (let seq = 0; seq < Number(count); seq++) logger.info({ seq, run }, `line ${seq}`);
logger.warn({ run }, 'done');
