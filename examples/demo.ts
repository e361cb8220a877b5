// `npm start`: the backpressure cascade, live. A generator feeds a parser and a sink whose
// backend stalls for a few seconds out of every cycle. Watch the buffers fill from the sink
// backwards, the generator's blocked time climb while nothing is lost, and everything drain in
// order when the backend recovers. (Until the spillway command lands, this is the main job.)
//
//   npm start                      runs until Ctrl-C
//   npm start -- --seconds 10      runs for 10 s, then stops gracefully

import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  type ChannelStats,
  definePipeline,
  defineSink,
  defineTransform,
  eventsOf,
  type MetricsSnapshot,
  withEvents,
} from '@spillway/core';
import { generator } from '@spillway/sources';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'stall-every': { type: 'string', default: '6' },
    'stall-for': { type: 'string', default: '3' },
  },
});
const stallEvery = Number(values['stall-every']) * 1000;
const stallFor = Number(values['stall-for']) * 1000;
const started = Date.now();
const backendDown = () => (Date.now() - started) % stallEvery >= stallEvery - stallFor;

const parse = defineTransform<Record<string, never>>({
  type: 'parseAccessLog',
  build: () => ({
    process: (batch) =>
      withEvents(
        batch,
        eventsOf(batch).map((e) => {
          const [method, path, status, took] = e.message.split(' ');
          const attributes = { seq: e.attributes?.seq, method, path, status: Number(status), took };
          return { timestamp: e.timestamp, message: e.message, attributes };
        }),
      ),
  }),
});

let delivered = 0;
const backend = defineSink<Record<string, never>>({
  type: 'stallingBackend',
  build: () => ({
    async write(batch, signal) {
      // A stalled backend answers nothing; a healthy one takes a millisecond per batch.
      while (backendDown()) await delay(50, undefined, { signal });
      await delay(1, undefined, { signal });
      delivered += batch.count;
      return undefined;
    },
  }),
});

const pipeline = await definePipeline({
  name: 'demo',
  sources: { gen: generator({ batchSize: 500, ratePerSec: 50_000 }) },
  transforms: { parse: { inputs: ['gen'], stage: parse({}) } },
  sinks: { backend: { inputs: ['parse'], stage: backend({}), pool: { maxWorkers: 4 } } },
  defaultBuffer: { capacity: 16, maxBytes: 4 << 20, whenFull: 'block' },
}).build();

const bar = (c: ChannelStats) => {
  const width = 16;
  const filled = Math.round(c.fillRatio * width);
  return `${c.name.padEnd(9)} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${String(c.depth).padStart(2)}/${c.capacity}`;
};

let last: MetricsSnapshot | undefined;
const show = (snap: MetricsSnapshot) => {
  const get = (id: string) => snap.entries.find((e) => e.id === id)?.stats ?? {};
  const prev = (id: string) => last?.entries.find((e) => e.id === id)?.stats ?? {};
  const dt = last ? (snap.timestamp - last.timestamp) / 1000 : 1;
  const rate = (id: string, key: string) =>
    Math.round((((get(id)[key] as number) ?? 0) - ((prev(id)[key] as number) ?? 0)) / dt);
  const blockedShare = Math.min(100, rate('gen', 'blocked_ms') / 10);
  const channels = snap.entries
    .filter((e) => e.kind === 'channel')
    .map((e) => e.stats as unknown as ChannelStats);
  const pool = get('backend.pool');
  const t = ((snap.timestamp - started) / 1000).toFixed(0).padStart(3);
  process.stdout.write(
    `t=${t}s backend ${backendDown() ? 'STALLED' : 'healthy'} | gen ${String(rate('gen', 'events_out')).padStart(7)} ev/s, blocked ${blockedShare.toFixed(0).padStart(3)}% | ${channels.map(bar).join(' | ')} | workers ${pool.busy}/${pool.maxWorkers} | delivered ${delivered}\n`,
  );
  last = snap;
};

pipeline.start();
const subscription = pipeline.metrics$(1000).subscribe(show);
const stop = async () => {
  subscription.unsubscribe();
  const result = await pipeline.stop({ deadline: 2000 });
  const gen = pipeline.metrics.snapshot().entries.find((e) => e.id === 'gen')?.stats;
  process.stdout.write(
    `stopped: generated ${gen?.generated}, delivered ${delivered}, undelivered at deadline ${result.undelivered.events} (counted), drained ${result.drained}\n`,
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (values.seconds) {
  await delay(Number(values.seconds) * 1000);
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
  await stop();
}
