/**
 * Scenario `channel`: the raw cost of a hop.
 *
 * The same pre-generated events go through the same 3-stage chain in every contender:
 *
 * ```
 *   producer ──hop 1──▶ relay ──hop 2──▶ consumer (counts events)
 * ```
 *
 * - spillway: two bounded `Channel`s (16 batches, 4 MiB each, `block` policy) carrying batches
 *   of 1, 64 or 1024 events, moved with the channel's fast path (`trySend` before `send`,
 *   `tryRecv` before `recv`: synchronous while there is room, parked only at the bound). The
 *   batches are built before the clock starts, as the peers' events are: these contenders
 *   measure the hop. `spillway_batch1024_build` cuts the events into batches with
 *   `createEventBatch` inside the timed region (byte estimate, id, acknowledgement per batch),
 *   which is what a source that builds events pays on top.
 * - Node streams: `stream.pipeline(Readable.from(events), Transform, Writable)` in object mode
 *   with each constructor's default highWaterMark, one event per chunk — what a Node user
 *   writes first.
 * - rxjs: `from(events)` → `map` (the relay) → `mergeMap(of)` (the hand-off) → subscriber.
 *   rxjs has no backpressure and `from(array)` runs synchronously, so it bounds nothing: it is
 *   the cost of a push-based hop with no queue at all.
 */

import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Batch,
  Channel,
  createEventBatch,
  estimateEventBytes,
  type LogEvent,
} from '@spillway/core';
import { from, map, mergeMap, of } from 'rxjs';
import { byName, type Contender, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';

const FULL = { events: 1_000_000, rounds: 5, warmupRounds: 1 };
const QUICK = { events: 20_000, rounds: 1, warmupRounds: 0 };
const BATCH_SIZES = [1, 64, 1024] as const;
const CHANNEL_CAPACITY = 16;
const CHANNEL_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Events per second through producer → relay → consumer: spillway channels carrying batches
 * of 1, 64 and 1024 events against Node object-mode streams and rxjs.
 */
export const channelScenario: ScenarioDefinition = {
  name: 'channel',
  description:
    'Events per second through a 3-stage chain (producer → relay → consumer) whose two hops ' +
    'are bounded spillway channels carrying batches of 1, 64 and 1024 events, built before ' +
    "the clock starts as the peers' events are (`spillway_batch1024_build` builds them inside " +
    'the timed region). The consumer counts every event. A batch crosses a hop as one ' +
    'reference, so the prebuilt contenders show the per-hop cost spread over the batch; ' +
    '`spillway_batch1024_build` is the figure for a source that makes its own events.',
  peers:
    "Node's `stream.pipeline` in object mode (Readable.from → Transform → Writable, default " +
    'highWaterMarks, one event per chunk) and rxjs 7 (`from` → `map` → `mergeMap(of)` → ' +
    'subscriber; unbounded and synchronous, so it pays for no queue at all).',
  targets: [
    { ratio: 'batched1024_vs_node_streams', atLeast: 20 },
    { ratio: 'unbatched_vs_node_streams', atLeast: 1 },
  ],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const events = generateEvents(params.events);
    let bytes = 0;
    for (const event of events) bytes += estimateEventBytes(event);
    log(`  ${events.length.toLocaleString('en-US')} events, ${(bytes / 1e6).toFixed(1)} MB`);
    const contenders: Contender[] = [
      ...BATCH_SIZES.map((size) => {
        const batches = [...cutIntoBatches(events, size)];
        return {
          name: `spillway_batch${size}`,
          run: (s: AbortSignal) => throughSpillway(() => batches, s),
        };
      }),
      {
        name: 'spillway_batch1024_build',
        run: (s: AbortSignal) => throughSpillway(() => cutIntoBatches(events, 1024), s),
      },
      { name: 'node_streams', run: (s: AbortSignal) => throughNodeStreams(events, s) },
      { name: 'rxjs', run: () => throughRxjs(events) },
    ];
    const results = await race(contenders, {
      signal,
      log,
      rounds: params.rounds,
      warmupRounds: params.warmupRounds,
      expectedEvents: events.length,
      expectedBytes: bytes,
    });
    const rate = (name: string): number => byName(results, name).eventsPerSec;
    return {
      results,
      ratios: {
        batched1024_vs_node_streams: round2(rate('spillway_batch1024') / rate('node_streams')),
        batched64_vs_node_streams: round2(rate('spillway_batch64') / rate('node_streams')),
        unbatched_vs_node_streams: round2(rate('spillway_batch1') / rate('node_streams')),
        batched1024_vs_rxjs: round2(rate('spillway_batch1024') / rate('rxjs')),
        built1024_vs_node_streams: round2(rate('spillway_batch1024_build') / rate('node_streams')),
      },
      setup: {
        events: events.length,
        'bytes per event (estimated)': Math.round(bytes / events.length),
        rounds: params.rounds,
        'warm-up rounds': params.warmupRounds,
        'spillway channel bounds': `${CHANNEL_CAPACITY} batches, ${CHANNEL_MAX_BYTES / 1024 / 1024} MiB, block`,
      },
    };
  },
};

/** Small, realistic access-log events; deterministic so every run carries the same bytes. */
function generateEvents(count: number): LogEvent[] {
  const start = Date.UTC(2025, 0, 1);
  const events = new Array<LogEvent>(count);
  for (let i = 0; i < count; i++) {
    events[i] = {
      timestamp: start + i,
      message: `GET /api/items/${i % 10_000} 200 ${i % 97}ms`,
      severity: i % 50 === 0 ? 'warn' : 'info',
      attributes: { service: 'api', status: 200 },
    };
  }
  return events;
}

/** Cuts `events` into batches of `size` events, in order. */
function* cutIntoBatches(events: readonly LogEvent[], size: number): Generator<Batch> {
  for (let i = 0; i < events.length; i += size) {
    yield createEventBatch({ source: 'bench', events: events.slice(i, i + size) });
  }
}

/**
 * Producer → relay → consumer over two channels. `batches` is called once per run, inside the
 * timed region: an array (prebuilt) or a generator that builds each batch when asked.
 */
async function throughSpillway(
  batches: () => Iterable<Batch>,
  signal: AbortSignal,
): Promise<number> {
  const options = { capacity: CHANNEL_CAPACITY, maxBytes: CHANNEL_MAX_BYTES };
  const hop1 = new Channel<Batch>({ name: 'producer→relay', ...options });
  const hop2 = new Channel<Batch>({ name: 'relay→consumer', ...options });
  // One listener per run, not per send: the way a pipeline runtime wires its stop signal.
  const stop = (reason: unknown) => {
    hop1.abort(reason);
    hop2.abort(reason);
  };
  const onAbort = () => stop(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });

  const produce = async () => {
    for (const batch of batches()) hop1.trySend(batch).ok || (await hop1.send(batch));
    hop1.close();
  };
  const relay = async () => {
    for (
      let b = hop1.tryRecv() ?? (await hop1.recv());
      b;
      b = hop1.tryRecv() ?? (await hop1.recv())
    ) {
      hop2.trySend(b).ok || (await hop2.send(b));
    }
    hop2.close();
  };
  const consume = async () => {
    let count = 0;
    for (
      let b = hop2.tryRecv() ?? (await hop2.recv());
      b;
      b = hop2.tryRecv() ?? (await hop2.recv())
    ) {
      count += b.count;
    }
    return count;
  };
  // A failing stage aborts both hops so the other stages stop instead of waiting forever.
  const stage = <R>(work: Promise<R>) =>
    work.catch((err: unknown) => {
      stop(err);
      throw err;
    });
  try {
    const [, , count] = await Promise.all([stage(produce()), stage(relay()), stage(consume())]);
    return count;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function throughNodeStreams(
  events: readonly LogEvent[],
  signal: AbortSignal,
): Promise<number> {
  let count = 0;
  await pipeline(
    Readable.from(events),
    new Transform({
      objectMode: true,
      transform(event: LogEvent, _encoding, done) {
        done(null, event);
      },
    }),
    new Writable({
      objectMode: true,
      write(_event: LogEvent, _encoding, done) {
        count++;
        done();
      },
    }),
    { signal },
  );
  return count;
}

/** Synchronous from start to end (`from(array)`), so there is nothing to abort mid-run. */
function throughRxjs(events: readonly LogEvent[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = 0;
    from(events)
      .pipe(
        map((event) => event),
        mergeMap((event) => of(event)),
      )
      .subscribe({
        next: () => {
          count++;
        },
        error: reject,
        complete: () => resolve(count),
      });
  });
}
