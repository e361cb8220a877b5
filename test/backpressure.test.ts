// End to end: generator → transform → a sink that stalls. While the sink stalls, pressure must
// travel back to the generator (it stops producing) without any buffer passing its bounds; when
// the sink recovers, every event arrives exactly once and in order.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ChannelStats,
  definePipeline,
  defineSink,
  defineTransform,
  eventsOf,
  withEvents,
} from '@spillway/core';
import { generator } from '@spillway/sources';

const TOTAL = 40_000;
const BUFFER = { capacity: 4, maxBytes: 48 * 1024 };

const tag = defineTransform<{ field: string }>({
  type: 'tag',
  build: (o) => ({
    process: (batch) =>
      withEvents(
        batch,
        eventsOf(batch).map((e) => ({ ...e, attributes: { ...e.attributes, [o.field]: true } })),
      ),
  }),
});

class Valve {
  #open = true;
  #waiters: (() => void)[] = [];
  close() {
    this.#open = false;
  }
  open() {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }
  pass(): Promise<void> | undefined {
    return this.#open ? undefined : new Promise((resolve) => this.#waiters.push(resolve));
  }
}

it('backpressure reaches the generator, bounds hold, and recovery delivers everything in order', {
  timeout: 60_000,
}, async () => {
  const valve = new Valve();
  const seen: number[] = [];
  const stallable = defineSink<Record<string, never>>({
    type: 'stallable',
    build: () => ({
      async write(batch) {
        await valve.pass();
        for (const event of eventsOf(batch)) {
          assert.equal(event.attributes?.tagged, true);
          seen.push(event.attributes?.seq as number);
        }
        return undefined;
      },
    }),
  });

  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    transforms: { tag: { inputs: ['gen'], stage: tag({ field: 'tagged' }) } },
    sinks: { out: { inputs: ['tag'], stage: stallable({}), pool: { maxWorkers: 1 } } },
    defaultBuffer: BUFFER,
  }).build();

  const channels = () =>
    pipeline.metrics
      .snapshot()
      .entries.filter((e) => e.kind === 'channel')
      .map((e) => e.stats as unknown as ChannelStats);
  const generated = () =>
    pipeline.metrics.snapshot().entries.find((e) => e.id === 'gen')?.stats.generated as number;

  // Check the bounds on every turn of the event loop, for the whole run.
  let samples = 0;
  const violations: string[] = [];
  const monitor = setInterval(() => {
    samples++;
    for (const c of channels()) {
      if (c.depth > c.capacity || c.bytes > c.maxBytes) {
        violations.push(`${c.name}: ${c.depth} items, ${c.bytes} bytes`);
      }
    }
  }, 1);

  valve.close();
  pipeline.start();

  // (a) The sink stalls: the cascade fills every buffer, then the generator is held.
  while (!channels().every((c) => c.depth === c.capacity || c.bytes + 9000 > c.maxBytes)) {
    await delay(5);
  }
  await delay(20);
  const heldAt = generated();
  await delay(200);
  assert.equal(generated(), heldAt, 'the generator produced nothing while the sink stalled');
  assert.ok(heldAt < TOTAL, 'the generator was stopped short of its total');
  assert.ok(heldAt > 0);
  const gen = pipeline.metrics.snapshot().entries.find((e) => e.id === 'gen')!.stats;
  assert.ok((gen.blocked_ms as number) > 0, 'the generator reports time spent blocked');
  assert.ok(
    channels().some((c) => c.blockedSenders > 0),
    'a sender is parked on a full channel',
  );
  assert.equal(seen.length, 0);

  // (c) Recovery: everything arrives exactly once and in order.
  valve.open();
  await pipeline.done();
  clearInterval(monitor);

  // (b) No buffer ever held more than its bounds.
  assert.ok(samples > 10, 'the monitor ran');
  assert.deepEqual(violations, []);
  assert.equal(seen.length, TOTAL);
  for (let i = 0; i < TOTAL; i++) assert.equal(seen[i], i, `event ${i} out of order`);
  for (const c of channels()) {
    assert.equal(c.totalOut, c.totalIn);
    assert.deepEqual(c.drops, {});
  }
});
