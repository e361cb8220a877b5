// The blackhole sink: counts and acknowledges; `delayMs` makes each write take that long and
// gives up at once when the signal aborts (not counted); as a slow sink in a pipeline; and the
// conformance kit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type AckOutcome,
  type Batch,
  Counters,
  createEventBatch,
  createRawBatch,
  definePipeline,
  type Sink,
} from '@spillway/core';
import { assertConformance, checkSink, listSource, sampleBatch } from '@spillway/testing';
import { type BlackholeOptions, blackhole } from '../src/basic.js';

const live = () => new AbortController().signal;

async function build(options: BlackholeOptions): Promise<Sink> {
  return blackhole(options).build({ name: 'void', signal: live(), counters: new Counters() });
}

describe('blackhole sink', () => {
  it('counts batches, events and bytes, and acknowledges each', async () => {
    const sink = await build({});
    const events = createEventBatch({
      source: 't',
      events: [
        { timestamp: 1, message: 'a' },
        { timestamp: 2, message: 'b' },
      ],
    });
    const raw = createRawBatch({ source: 't', data: Buffer.from('x\ny\nz\n') });
    assert.equal(await sink.write(events, live()), undefined);
    assert.equal(await sink.write(raw, live()), undefined);
    assert.deepEqual(sink.stats!(), { batches: 2, events: 5, bytes: events.bytes + 6 });
  });

  it('takes delayMs per write, and gives up at once, uncounted, when the signal aborts', async () => {
    const sink = await build({ delayMs: 200 });
    const started = performance.now();
    const first = sampleBatch({ events: 3 });
    await sink.write(first, live());
    assert.ok(performance.now() - started >= 195, 'the write took delayMs');

    const controller = new AbortController();
    const reason = new Error('hard stop');
    const cut = sink.write(sampleBatch({ events: 3 }), controller.signal);
    await delay(10);
    const aborted = performance.now();
    controller.abort(reason);
    await assert.rejects(cut, (err) => err === reason);
    assert.ok(performance.now() - aborted < 100, 'it did not wait for the delay');
    await assert.rejects(
      sink.write(sampleBatch(), AbortSignal.abort(reason)),
      (err) => err === reason,
    );
    assert.deepEqual(sink.stats!(), { batches: 1, events: 3, bytes: first.bytes });
  });

  it('is a slow sink in a pipeline: every batch delivered, counted in its metrics', async () => {
    const log = { outcomes: [] as AckOutcome[], emitted: [] as Batch[] };
    const batches = Array.from({ length: 6 }, (_, i) => [{ timestamp: i, message: `m${i}` }]);
    const pipeline = await definePipeline({
      sources: { list: listSource({ batches, log }) },
      sinks: {
        void: { inputs: ['list'], stage: blackhole({ delayMs: 20 }), pool: { maxWorkers: 1 } },
      },
    }).build();
    const started = performance.now();
    pipeline.start();
    await pipeline.done();
    assert.ok(performance.now() - started >= 6 * 20 - 5, 'one write at a time, delayMs each');
    const stats = pipeline.metrics.snapshot().entries.find((e) => e.id === 'void')!.stats;
    await pipeline.stop();
    assert.deepEqual(
      log.outcomes.map((o) => o.status),
      Array(6).fill('delivered'),
    );
    assert.equal(stats.batches, 6);
    assert.equal(stats.events, 6);
  });

  it('validates delayMs', () => {
    assert.deepEqual(blackhole({}).validate(), []);
    assert.deepEqual(blackhole({ delayMs: -1 }).validate(), [
      'delayMs must be a number ≥ 0, not -1',
    ]);
    assert.deepEqual(blackhole('fast' as never).validate(), [
      'options must be an object, not "fast"',
    ]);
  });

  it('passes the conformance kit, with and without a delay', async () => {
    assertConformance(
      await checkSink(() => blackhole({}), { invalid: [blackhole({ delayMs: -5 })] }),
    );
    assertConformance(
      await checkSink(() => blackhole({ delayMs: 1 }), { memory: { iterations: 300 } }),
    );
  });
});
