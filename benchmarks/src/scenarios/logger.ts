/**
 * Scenario `logger`: what a log call costs the application's thread, with spillway's shipper,
 * with pino through spillway's transport, and with pino's usual destinations.
 *
 * ```
 *   shipper_write               write(record) ─▶ JSON ─▶ hand-off ring ══▶ shipping thread ─▶ HTTP ─┐
 *   shipper_write_backend_down  the same, to a port where nothing listens (connections refused)    │
 *   pino_spillway_transport     logger.info() ─▶ thread-stream ══▶ our transport (dir) ─▶ HTTP ───┤─▶ counting
 *   pino_spillway_transport_drop  the same with the transport's defaults (drop-newest, no dir)    │
 *   pino_file_transport         logger.info() ─▶ thread-stream ══▶ pino/file ─▶ tmp file           │   backend
 *   pino_dev_null               logger.info() ─▶ sonic-boom ─▶ /dev/null                           │   (worker)
 *                               ════ a thread boundary: the work after it is not the caller's ────┘
 * ```
 *
 * What is timed: only the calls, on the caller's thread. A run makes N log calls of the same
 * access-log record, in blocks of 100 timed with `performance.now()`, yielding to the event
 * loop after every 1,000 calls as an application does between requests (pino's thread-stream
 * and sonic-boom do their own flushing in those turns, which is the caller's cost too and is
 * inside the run's clock). Events/s is calls/s; p99 is of the time of one block of 100 calls
 * (the median of the measured rounds' p99s). Each run gets a fresh logger, started before the
 * clock; after the clock every contender waits until its background work is over (the
 * shipper closes, the transports end, the backend has counted every line), so no contender
 * runs while an earlier one still ships.
 *
 * Same work: every contender turns the same fields into the same JSON line (the shipper is
 * given pino's `level`, `time`, `pid` and `hostname` as well). What each does with it next is
 * what it is for: the shipper's write never waits (a full hand-off drops, counted — the share
 * is in the setup), pino's transports buffer in the application's thread without a bound,
 * sonic-boom writes to a file descriptor.
 *
 * Checked: the spillway transport runs with a `dir` and a `block` hand-off, so it never drops:
 * the backend must count every line. The file transport's file must hold every line. The
 * healthy shipper's close must report nothing undelivered.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createShipper, type Shipper } from '@spillway/logger';
import { refusingUrl } from '@spillway/testing';
import pino from 'pino';
import { type BackendCounts, CountingBackend } from '../counting-backend.js';
import { byName, type Contender, median, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';

const FULL = { calls: 1_000_000, rounds: 3, warmupRounds: 1 };
const QUICK = { calls: 20_000, rounds: 1, warmupRounds: 0 };
const BLOCK_CALLS = 100;
const CALLS_PER_TURN = 1000;
/** How long cleanup waits for a run's records to be shipped or written before failing. */
const DRAIN_TIMEOUT_MS = 120_000;
/** The 1/1.2 of the issue: an outage may cost the caller at most 1.2× the healthy p99. */
const OUTAGE_TARGET = 0.83;

/** What one contender's runs measured besides their rate. */
interface Measured {
  /** p99 of a block's time (ms), one per run, warm-up runs included. */
  readonly p99s: number[];
  /** Shipper contenders: records handed off and dropped at the hand-off, last run. */
  handOff?: { written: number; dropped: number };
  /** pino transports: the peak of pino's buffer in the application's thread (bytes), last run. */
  pinoBufferPeak?: number;
}

/** A fresh logger for one run: how to log call `i`, and how to wait until it is done. */
interface RunLogger {
  log(i: number): void;
  /** Called at every turn of the event loop the run takes (outside the timed blocks). */
  sample?(): void;
  /** After the clock: ends the logger and resolves once its background work is over. */
  finish(): Promise<void>;
}

/**
 * A contender that times `calls` calls of `log` in blocks. `start` makes the run's logger
 * before the clock; its `finish` runs after the clock, in `cleanup`.
 */
function callerContender(
  name: string,
  calls: number,
  measured: Map<string, Measured>,
  start: (signal: AbortSignal) => Promise<RunLogger>,
): Contender {
  const own: Measured = { p99s: [] };
  measured.set(name, own);
  let logger: RunLogger | undefined;
  return {
    name,
    async prepare(signal) {
      logger = await start(signal);
    },
    async run() {
      const { log, sample } = logger!;
      const blocks = Math.ceil(calls / BLOCK_CALLS);
      const times = new Float64Array(blocks);
      for (let b = 0; b < blocks; b++) {
        const from = b * BLOCK_CALLS;
        const to = Math.min(calls, from + BLOCK_CALLS);
        const started = performance.now();
        for (let i = from; i < to; i++) log(i);
        times[b] = performance.now() - started;
        if (to % CALLS_PER_TURN === 0) {
          sample?.();
          await yieldToLoop();
        }
      }
      own.p99s.push(percentile(times, 0.99));
      return calls;
    },
    async cleanup() {
      const ending = logger;
      logger = undefined;
      await ending?.finish();
    },
  };
}

/** The record's fields, as pino is given them (its own `level`, `time`, `pid`… come on top). */
const fieldsOf = (i: number) => ({
  req: { id: i, method: 'GET', url: `/api/items/${i % 10_000}` },
  status: 200,
  ms: i % 97,
});
const MESSAGE = 'request completed';

/** A shipper to `url`; `deadlineMs` bounds its close; `check` says whether to insist on delivery. */
function shipperLogger(
  url: string,
  own: () => Measured,
  deadlineMs: number,
  check: boolean,
): () => Promise<RunLogger> {
  return async () => {
    const shipper: Shipper = createShipper({
      http: { url, proxy: 'none' },
      hooks: { exit: false, signals: false, crash: false },
    });
    // The shipping thread answers once its pipeline is built: the run starts with it running.
    await shipper.metrics();
    const pid = process.pid;
    const host = hostname();
    return {
      log: (i) => {
        shipper.write({
          level: 30,
          time: Date.now(),
          pid,
          hostname: host,
          ...fieldsOf(i),
          msg: MESSAGE,
        });
      },
      async finish() {
        const result = await shipper.close({ deadlineMs });
        const { written, dropped } = shipper.stats();
        own().handOff = { written, dropped: Object.values(dropped).reduce((a, b) => a + b, 0) };
        if (!check) return;
        if (!result.answered || result.undelivered.events > 0) {
          throw new Error(`the shipper left records undelivered: ${JSON.stringify(result)}`);
        }
      },
    };
  };
}

/**
 * Keeps `own.pinoBufferPeak` up to date with the bytes a pino transport holds in this thread,
 * waiting for its worker: thread-stream's own count (`bufLen` behind its `kImpl` symbol, an
 * internal of thread-stream 4 — reported as unknown if it moves).
 */
function pinoBufferSampler(transport: object, own: () => Measured): () => void {
  const impl = Object.getOwnPropertySymbols(transport).find((s) => s.description === 'kImpl');
  const state = impl && (transport as Record<symbol, { bufLen?: unknown }>)[impl];
  own().pinoBufferPeak = 0;
  return () => {
    const bytes = typeof state?.bufLen === 'number' ? state.bufLen : Number.NaN;
    own().pinoBufferPeak = Math.max(own().pinoBufferPeak!, bytes);
  };
}

/** Ends a thread-stream transport (blocks until its worker has closed) and waits for `close`. */
async function endTransport(transport: ReturnType<typeof pino.transport>): Promise<void> {
  const closed = once(transport, 'close');
  transport.end();
  await closed;
}

/** Counts the newline bytes of a file. */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

const mib = (bytes: number | undefined): string =>
  bytes === undefined || Number.isNaN(bytes) ? 'unknown' : `${(bytes / 1048576).toFixed(1)} MiB`;

function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Rejects after `ms`, so that a run whose records never all arrive fails instead of hanging. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const loggerScenario: ScenarioDefinition = {
  name: 'logger',
  description:
    'The caller-side cost of a log call: N calls of one access-log record per run, timed in ' +
    'blocks of 100 with a turn of the event loop every 1,000 (events/s = calls/s; p99 = of ' +
    'the time of a block of 100 calls, ms). `shipper_write`: `createShipper().write()` to a ' +
    'counting loopback backend (a worker thread), default options (8 MiB hand-off, ' +
    '`drop-newest`). `shipper_write_backend_down`: the same to a port that refuses ' +
    'connections. `pino_spillway_transport`: pino with `@spillway/pino-transport` (with a ' +
    '`dir` and a `block` hand-off, so it never drops) to the same backend; ' +
    "`pino_spillway_transport_drop`: the same with the transport's defaults (`drop-newest`, " +
    "no `dir`). The setup reports the peak of pino's own buffer in the application's thread " +
    'for each transport. Each run gets a fresh logger; its background work ends after the clock.',
  peers:
    '`pino_dev_null`: `pino(pino.destination("/dev/null"))`, the cheapest a pino call gets; ' +
    '`pino_file_transport`: pino with its own thread-stream transport `pino/file` to a ' +
    'temporary file, the usual way to move work off the application thread. The outage ' +
    'ratio compares the shipper with itself: its p99 with the backend up over down (≥ 0.83 ' +
    'means an outage costs the caller at most 1.2× the healthy p99).',
  targets: [{ ratio: 'healthy_vs_outage_p99', atLeast: OUTAGE_TARGET }],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-bench-logger-'));
    const measured = new Map<string, Measured>();
    const own = (name: string) => () => measured.get(name)!;
    try {
      await using backend = await CountingBackend.start();
      const downUrl = await refusingUrl('/ingest');
      let runs = 0;
      const sample = JSON.stringify({
        level: 30,
        time: Date.now(),
        pid: process.pid,
        hostname: hostname(),
        ...fieldsOf(123_456),
        msg: MESSAGE,
      });
      const counts = new Map<string, BackendCounts>();
      const contenders = [
        callerContender(
          'shipper_write',
          params.calls,
          measured,
          shipperLogger(backend.url, own('shipper_write'), DRAIN_TIMEOUT_MS, true),
        ),
        callerContender(
          'shipper_write_backend_down',
          params.calls,
          measured,
          shipperLogger(downUrl, own('shipper_write_backend_down'), 100, false),
        ),
        callerContender('pino_spillway_transport', params.calls, measured, async () => {
          const runDir = join(dir, `transport-${runs++}`);
          const { reached } = await backend.expect(params.calls);
          const transport = pino.transport({
            target: '@spillway/pino-transport',
            options: {
              http: { url: backend.url, proxy: 'none' },
              dir: runDir,
              // Never drop: the backend must count every line.
              handOff: { whenFull: 'block' },
              exitDeadlineMs: DRAIN_TIMEOUT_MS,
            },
          });
          await once(transport, 'ready');
          const logger = pino(transport);
          return {
            log: (i) => logger.info(fieldsOf(i), MESSAGE),
            sample: pinoBufferSampler(transport, own('pino_spillway_transport')),
            async finish() {
              // Every line reaches the backend before the transport is ended: thread-stream's
              // `end()` blocks this thread, and gives up after 10 s.
              counts.set(
                'pino_spillway_transport',
                await within(reached, DRAIN_TIMEOUT_MS, 'backend'),
              );
              await endTransport(transport);
              await rm(runDir, { recursive: true, force: true });
            },
          };
        }),
        callerContender('pino_spillway_transport_drop', params.calls, measured, async () => {
          // The transport's defaults (drop-newest, no dir): it never holds pino back, and drops
          // (counted in its own thread) what the pipeline cannot take; nothing to count here.
          const transport = pino.transport({
            target: '@spillway/pino-transport',
            options: { http: { url: backend.url, proxy: 'none' }, exitDeadlineMs: 5000 },
          });
          await once(transport, 'ready');
          const logger = pino(transport);
          return {
            log: (i) => logger.info(fieldsOf(i), MESSAGE),
            sample: pinoBufferSampler(transport, own('pino_spillway_transport_drop')),
            finish: () => endTransport(transport),
          };
        }),
        callerContender('pino_file_transport', params.calls, measured, async () => {
          const path = join(dir, `pino-${runs++}.log`);
          const transport = pino.transport({ target: 'pino/file', options: { destination: path } });
          await once(transport, 'ready');
          const logger = pino(transport);
          return {
            log: (i) => logger.info(fieldsOf(i), MESSAGE),
            sample: pinoBufferSampler(transport, own('pino_file_transport')),
            async finish() {
              await endTransport(transport);
              const lines = await countLines(path);
              await rm(path, { force: true });
              if (lines !== params.calls) {
                throw new Error(`pino/file wrote ${lines} lines, expected ${params.calls}`);
              }
            },
          };
        }),
        callerContender('pino_dev_null', params.calls, measured, async () => {
          const destination = pino.destination('/dev/null');
          await once(destination, 'ready');
          const logger = pino(destination);
          return {
            log: (i) => logger.info(fieldsOf(i), MESSAGE),
            async finish() {
              const closed = once(destination, 'close');
              destination.end();
              await closed;
            },
          };
        }),
      ];
      const results = await race(contenders, {
        signal,
        log,
        rounds: params.rounds,
        warmupRounds: params.warmupRounds,
        expectedEvents: params.calls,
        expectedBytes: params.calls * (sample.length + 1),
      });
      // Each contender's p99: the median over the measured rounds (warm-up runs come first).
      const p99 = (name: string) => median(measured.get(name)!.p99s.slice(params.warmupRounds));
      const withP99 = results.map((r) => ({ ...r, p99Ms: round3(p99(r.name)) }));
      const rate = (name: string) => byName(results, name).eventsPerSec;
      const dropShare = (name: string) => {
        const h = measured.get(name)!.handOff;
        return h ? `${((100 * h.dropped) / (h.written + h.dropped)).toFixed(1)} %` : 'n/a';
      };
      return {
        results: withP99,
        ratios: {
          healthy_vs_outage_p99: round2(p99('shipper_write') / p99('shipper_write_backend_down')),
          shipper_vs_pino_dev_null: round2(rate('shipper_write') / rate('pino_dev_null')),
          pino_spillway_vs_pino_file: round2(
            rate('pino_spillway_transport') / rate('pino_file_transport'),
          ),
          shipper_vs_pino_file: round2(rate('shipper_write') / rate('pino_file_transport')),
        },
        setup: {
          'calls per run': params.calls,
          record: `~${sample.length + 1} bytes of JSON (pino's line)`,
          'timed block': `${BLOCK_CALLS} calls (p99 is of a block, ms)`,
          'event-loop turn': `every ${CALLS_PER_TURN.toLocaleString('en-US')} calls`,
          'hand-off drops (last run)': `shipper_write ${dropShare('shipper_write')}, backend down ${dropShare('shipper_write_backend_down')}`,
          'backend requests (spillway transport, last run)':
            counts.get('pino_spillway_transport')?.requests ?? 'n/a',
          "pino's buffer in the app thread, peak (last run)": `spillway transport: block ${mib(
            measured.get('pino_spillway_transport')?.pinoBufferPeak,
          )}, drop-newest ${mib(
            measured.get('pino_spillway_transport_drop')?.pinoBufferPeak,
          )}; pino/file ${mib(measured.get('pino_file_transport')?.pinoBufferPeak)}`,
          rounds: params.rounds,
          'warm-up rounds': params.warmupRounds,
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** A block's p99 is a fraction of a millisecond: three decimals. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
