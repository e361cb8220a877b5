// The record ring across two real threads: this thread writes as fast as it can, a worker
// (ring-worker.ts) consumes as the shipping thread will, checking every record it gets. The
// producer's cost per write is printed, never asserted.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { RecordRing, type RecordRingOptions, type RecordRingStats } from '../src/ring/index.js';
import { recordTemplate, stamp } from './ring-records.js';
import type { RingWorkerData, RingWorkerResult } from './ring-worker.js';

const KiB = 1024;
const RECORD_BYTES = 100;

interface Run {
  stats: RecordRingStats;
  consumer: RingWorkerResult;
  nsPerWrite: number;
  elapsedMs: number;
}

/** Starts the consumer worker; its first message says it is ready. */
const consumerWorker = (workerData: RingWorkerData) =>
  new Worker(new URL('./ring-worker.js', import.meta.url), { workerData });

/**
 * Starts a consumer worker on a new ring, writes `records` stamped records from this thread,
 * closes the ring and returns what both sides saw.
 */
async function run(
  ring: RecordRingOptions,
  records: number,
  consumer: Partial<Omit<RingWorkerData, 'buffer'>> = {},
  write: (producer: RecordRing, record: Uint8Array) => void = (p, r) => {
    p.write(r);
  },
): Promise<Run> {
  const producer = RecordRing.create(ring);
  const workerData: RingWorkerData = {
    buffer: producer.buffer,
    maxBytes: 64 * KiB,
    verify: true,
    recordBytes: RECORD_BYTES,
    ...consumer,
  };
  const worker = consumerWorker(workerData);
  // Listening for the exit from the start: a worker that posts and exits while this thread is
  // busy has both events delivered in one go.
  const exited = once(worker, 'exit');
  const failed = once(worker, 'error').then(([err]) => Promise.reject(err));
  await Promise.race([once(worker, 'message'), failed]);
  const result = once(worker, 'message');

  const template = recordTemplate(RECORD_BYTES);
  const started = process.hrtime.bigint();
  for (let seq = 0; seq < records; seq++) {
    stamp(template, seq);
    write(producer, template);
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  producer.close();
  const [answer] = (await Promise.race([result, failed])) as [RingWorkerResult];
  await exited;
  return {
    stats: producer.stats(),
    consumer: answer,
    nsPerWrite: elapsed / records,
    elapsedMs: elapsed / 1e6,
  };
}

const report = (name: string, r: Run) => {
  const dropped = Object.entries(r.stats.dropped).filter(([, n]) => n > 0);
  console.log(
    `${name}: ${r.nsPerWrite.toFixed(1)} ns/write (stamping included), ` +
      `${r.consumer.received} received, dropped ${JSON.stringify(Object.fromEntries(dropped))}`,
  );
};

/** Every record the consumer got was intact, and their sequence numbers only went up. */
function intactAndInOrder(r: Run): void {
  assert.equal(r.consumer.firstProblem, undefined);
  assert.equal(r.consumer.broken, 0);
  assert.equal(r.consumer.outOfOrder, 0);
  // Both sides read the same counters.
  assert.equal(r.consumer.recordsWritten, r.stats.recordsWritten);
  assert.deepEqual(r.consumer.dropped, r.stats.dropped);
}

const total = (dropped: Readonly<Record<string, number>>) =>
  Object.values(dropped).reduce((a, b) => a + b, 0);

describe('RecordRing across threads', { timeout: 120_000 }, () => {
  it('drop-newest: 1,000,000 writes into a small ring; received + dropped = written', async () => {
    const r = await run({ bytes: 64 * KiB, whenFull: 'drop-newest' }, 1_000_000);
    report('drop-newest, 64 KiB', r);
    intactAndInOrder(r);
    assert.equal(r.consumer.received, r.stats.recordsWritten);
    assert.equal(r.consumer.received + r.stats.dropped.full_newest, 1_000_000);
    assert.equal(total(r.stats.dropped), r.stats.dropped.full_newest);
    assert.equal(r.stats.bytesWritten, r.consumer.received * RECORD_BYTES);
  });

  it('drop-oldest: 1,000,000 writes into a small ring; what arrives only goes up, counts add up', async () => {
    const r = await run({ bytes: 64 * KiB, whenFull: 'drop-oldest' }, 1_000_000);
    report('drop-oldest, 64 KiB', r);
    intactAndInOrder(r);
    const { full_oldest, full_busy } = r.stats.dropped;
    assert.ok(full_oldest + full_busy > 0, 'the consumer cannot keep up: some were dropped');
    assert.equal(r.consumer.received + full_oldest + full_busy, 1_000_000);
    assert.equal(r.stats.recordsWritten, r.consumer.received + full_oldest);
    assert.equal(total(r.stats.dropped), full_oldest + full_busy);
  });

  it('block: the producer waits for a consumer that pauses, and nothing is dropped', async () => {
    const r = await run({ bytes: 64 * KiB, whenFull: 'block' }, 200_000, {
      pauseFirstMs: 100,
      pauseEvery: 50_000,
      pauseMs: 20,
    });
    report('block, 64 KiB, consumer pausing', r);
    intactAndInOrder(r);
    assert.equal(r.consumer.received, 200_000);
    assert.equal(r.consumer.lastSeq, 199_999);
    assert.equal(total(r.stats.dropped), 0);
    // 64 KiB hold about 630 records: the writes could only finish after the pauses.
    assert.ok(r.elapsedMs >= 100 + 3 * 20, `the producer waited (${r.elapsedMs} ms)`);
  });

  it('block with blockTimeoutMs: writes that wait too long are dropped and counted', async () => {
    const r = await run({ bytes: 64 * KiB, whenFull: 'block', blockTimeoutMs: 10 }, 20_000, {
      pauseFirstMs: 300,
    });
    report('block 10 ms, 64 KiB, consumer 300 ms late', r);
    intactAndInOrder(r);
    const timedOut = r.stats.dropped.block_timeout;
    // About 300 / 10 while the consumer sleeps, none once it drains.
    assert.ok(timedOut >= 5 && timedOut < 100, `${timedOut} timed out`);
    assert.equal(r.consumer.received + timedOut, 20_000);
    assert.equal(total(r.stats.dropped), timedOut);
  });

  it('ping-pong: each write wakes the sleeping consumer, each drain wakes waitUntilEmpty; no wake-up lost', async () => {
    // Every round trip goes through both sleeps: the consumer's (woken by the write) and the
    // producer's (woken by the drain). A lost wake-up shows as a waitUntilEmpty that times out.
    let late = 0;
    const r = await run({ bytes: 64 * KiB, whenFull: 'drop-newest' }, 5_000, {}, (p, record) => {
      assert.equal(p.write(record), 'written');
      if (!p.waitUntilEmpty(5_000)) late++;
    });
    report('ping-pong', r);
    intactAndInOrder(r);
    assert.equal(late, 0);
    assert.equal(r.consumer.received, 5_000);
  });

  it('measures the producer: ns per write of 100-byte records, a consumer draining meanwhile', async () => {
    // Bursts that fit the ring (so that every write is a real one, not a drop), timed, then a
    // wait until the consumer took them, not timed. The first rounds are a warm-up: they let
    // the JIT settle and touch every page of the ring (a fresh SharedArrayBuffer is mapped
    // lazily: a first lap pays a page fault every 40 records).
    const burst = 40_000;
    const rounds = 27;
    for (const kind of ['write', 'writeString'] as const) {
      const producer = RecordRing.create({ bytes: 8 * 1024 * KiB, whenFull: 'drop-newest' });
      const workerData: RingWorkerData = {
        buffer: producer.buffer,
        maxBytes: 1024 * KiB,
        verify: false,
        recordBytes: RECORD_BYTES,
      };
      const worker = consumerWorker(workerData);
      const exited = once(worker, 'exit');
      await once(worker, 'message');
      const done = once(worker, 'message');
      const bytesRecord = recordTemplate(RECORD_BYTES);
      const textRecord = Buffer.from(bytesRecord).toString('latin1');
      let ns = 0;
      for (let round = 0; round < rounds; round++) {
        const started = process.hrtime.bigint();
        if (kind === 'write') for (let i = 0; i < burst; i++) producer.write(bytesRecord);
        else for (let i = 0; i < burst; i++) producer.writeString(textRecord);
        if (round >= 2) ns += Number(process.hrtime.bigint() - started);
        assert.ok(producer.waitUntilEmpty(10_000));
      }
      producer.close();
      const [answer] = (await done) as [RingWorkerResult];
      await exited;
      assert.equal(answer.received, rounds * burst);
      assert.equal(total(producer.stats().dropped), 0);
      const perWrite = ns / ((rounds - 2) * burst);
      console.log(`${kind}(100 bytes), consumer draining: ${perWrite.toFixed(1)} ns/write`);
    }
  });
});
