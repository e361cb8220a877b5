// End to end with a spill buffer: generator → sink that is down for a while. The generator is
// not held back (the disk absorbs the backlog), memory stays within its bound, and when the
// sink recovers every event arrives once, in order. A hard stop persists what was still in
// memory or cut off in the sink, and the next start delivers it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, defineSink, eventsOf, type Pipeline } from '@spillway/core';
import { type SpillChannelStats, spill } from '@spillway/disk-buffer';
import { generator } from '@spillway/sources';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-spill-'));
  dirs.push(dir);
  return dir;
};

/** The sink's spill buffer, as the metrics registry shows it. */
const inputStats = (pipeline: Pipeline) =>
  pipeline.metrics.snapshot().entries.find((e) => e.id === 'out.in')!
    .stats as unknown as SpillChannelStats;

const generated = (pipeline: Pipeline) =>
  pipeline.metrics.snapshot().entries.find((e) => e.id === 'gen')!.stats.generated as number;

const MEMORY = { capacity: 4, maxBytes: 256 * 1024 };

/** A sink that is down (its writes wait) until `up()` is called, recording every seq. */
function flakySink() {
  const seqs: number[] = [];
  let release: (() => void) | undefined;
  let down: Promise<void> | undefined = new Promise((resolve) => {
    release = resolve;
  });
  const stage = defineSink<Record<string, never>>({
    type: 'flaky',
    build: () => ({
      async write(batch, signal) {
        if (down) {
          const aborted = new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
          );
          await Promise.race([down, aborted]);
        }
        for (const e of eventsOf(batch)) seqs.push(e.attributes?.seq as number);
        return undefined;
      },
    }),
  });
  return {
    stage,
    seqs,
    up() {
      down = undefined;
      release?.();
    },
  };
}

it('spills while the sink is down, keeps memory bounded, and replays everything in order', {
  timeout: 60_000,
}, async () => {
  const TOTAL = 20_000;
  const dir = await tempDir();
  const sink = flakySink();
  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      out: { inputs: ['gen'], stage: sink.stage({}), buffer: spill({ dir, memory: MEMORY }) },
    },
  }).build();
  pipeline.start();
  const input = () => inputStats(pipeline);
  let maxDepth = 0;
  let maxBytes = 0;
  const sampler = setInterval(() => {
    const s = input();
    maxDepth = Math.max(maxDepth, s.depth);
    maxBytes = Math.max(maxBytes, s.bytes);
  }, 1);
  // The generator is not held back by the dead sink: it finishes while the sink is still down.
  while (generated(pipeline) < TOTAL) await delay(20);
  const whileDown = input();
  assert.equal(sink.seqs.length, 0, 'nothing was delivered while the sink was down');
  assert.ok(whileDown.spilledBatches > 0, 'batches went to disk');
  // Held outside the disk: memory, one batch per pool worker (4) and one in the dispatcher.
  const held = (whileDown.depth + 4 + 1) * 100;
  assert.equal(whileDown.disk?.writtenEvents, TOTAL - held, 'the rest of the backlog is on disk');

  sink.up();
  await pipeline.done();
  clearInterval(sampler);
  const result = await pipeline.stop();
  assert.ok(maxDepth <= MEMORY.capacity, `memory depth ${maxDepth} ≤ ${MEMORY.capacity}`);
  assert.ok(maxBytes <= MEMORY.maxBytes, `memory bytes ${maxBytes} ≤ ${MEMORY.maxBytes}`);
  assert.deepEqual(
    sink.seqs,
    Array.from({ length: TOTAL }, (_, i) => i),
    'every event exactly once, in order, across memory and disk',
  );
  assert.deepEqual(result.undelivered, { batches: 0, events: 0 });
});

it('a hard stop persists memory and cut-off batches; the next start delivers them', {
  timeout: 60_000,
}, async () => {
  const TOTAL = 5_000;
  const dir = await tempDir();
  const dead = flakySink();
  const first = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      out: { inputs: ['gen'], stage: dead.stage({}), buffer: spill({ dir, memory: MEMORY }) },
    },
  }).build();
  first.start();
  const stats = () => inputStats(first);
  while (generated(first) < TOTAL || stats().disk === undefined) await delay(20);
  const stopped = await first.stop({ deadline: 100, grace: 500 });
  assert.equal(stopped.drained, false, 'the dead sink could not drain');
  assert.deepEqual(stopped.undelivered, { batches: 0, events: 0 }, 'nothing counted as lost');

  const live = flakySink();
  live.up();
  const second = await definePipeline({
    sources: { gen: generator({ count: 0 }) },
    sinks: {
      out: { inputs: ['gen'], stage: live.stage({}), buffer: spill({ dir, memory: MEMORY }) },
    },
  }).build();
  second.start();
  await second.done();
  await second.stop();
  const unique = new Set(live.seqs);
  assert.equal(unique.size, TOTAL, 'every event generated before the stop arrives after restart');
  assert.equal(live.seqs.length, TOTAL, 'and exactly once: nothing was acknowledged twice');
});

it('a sink that gives batches back (retries ran out) has them written to disk and replayed', {
  timeout: 60_000,
}, async () => {
  const TOTAL = 2_000;
  const dir = await tempDir();
  const seqs: number[] = [];
  const refused = new Set<string>();
  // Gives back each batch the first time it sees it, as a sink whose backend kept failing
  // transiently would; delivers it when it comes round again from the disk.
  const reluctant = defineSink<Record<string, never>>({
    type: 'reluctant',
    build: () => ({
      async write(batch) {
        if (!refused.has(batch.id)) {
          refused.add(batch.id);
          return { status: 'requeue', reason: 'retries_exhausted' };
        }
        for (const e of eventsOf(batch)) seqs.push(e.attributes?.seq as number);
        return undefined;
      },
    }),
  });
  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      out: { inputs: ['gen'], stage: reluctant({}), buffer: spill({ dir, memory: MEMORY }) },
    },
  }).build();
  pipeline.start();
  await pipeline.done();
  const input = inputStats(pipeline);
  const pool = pipeline.metrics.snapshot().entries.find((e) => e.id === 'out.pool')!.stats;
  const result = await pipeline.stop();
  assert.equal(input.requeuedBatches, TOTAL / 100, 'every batch went back to disk once');
  assert.equal(pool.requeued, TOTAL / 100);
  assert.deepEqual(
    [...seqs].sort((a, b) => a - b),
    Array.from({ length: TOTAL }, (_, i) => i),
    'every event delivered once, after its replay',
  );
  assert.deepEqual(result.undelivered, { batches: 0, events: 0 });
});

it('bad spill options fail the pipeline at build, every problem named, before any file', async () => {
  const dir = await tempDir();
  const { stage } = flakySink();
  await assert.rejects(
    definePipeline({
      sources: { gen: generator({ count: 10 }) },
      sinks: {
        out: {
          inputs: ['gen'],
          stage: stage({}),
          buffer: spill({
            dir: join(dir, 'never-made'),
            segmentBytes: 100,
            fsync: 'sometimes' as 'always',
            memory: { capacity: 0 },
          }),
        },
      },
    }).build(),
    (err: Error) =>
      /buffer of "out": segmentBytes must be/.test(err.message) &&
      /buffer of "out": fsync must be/.test(err.message) &&
      /buffer of "out": memory\.capacity must be/.test(err.message),
  );
  await assert.rejects(stat(join(dir, 'never-made')), { code: 'ENOENT' }, 'no directory made');
});
