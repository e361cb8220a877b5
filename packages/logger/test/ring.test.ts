// The record ring on one thread: both sides in this test, so every interleaving is the test's
// choice. The two-thread behaviour is in ring-threads.test.ts, the model check in
// ring.property.test.ts.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { SpillwayError } from '@spillway/core';
import { RecordRing, type RecordRingConsumer, type WhenFull } from '../src/ring/index.js';
import { CounterWriter, LOCK, readCounter } from '../src/ring/layout.js';

const KiB = 1024;

const pair = (whenFull: WhenFull, extra: { blockTimeoutMs?: number } = {}) => {
  const ring = RecordRing.create({ bytes: 64 * KiB, whenFull, ...extra });
  return { ring, consumer: RecordRing.consumer(ring.buffer) };
};

/** A record of `size` bytes whose content says which record it is. */
const record = (id: number, size: number) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (id * 31 + i) & 0xff;
  return bytes;
};

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');

const readAll = (consumer: RecordRingConsumer) => {
  const out: Uint8Array[] = [];
  for (let r = consumer.read(); r; r = consumer.read()) out.push(r);
  return out;
};

const noDrops = {
  full_newest: 0,
  full_oldest: 0,
  full_busy: 0,
  too_large: 0,
  block_timeout: 0,
  closed: 0,
};

describe('RecordRing', () => {
  it('refuses options out of bounds, naming each problem', () => {
    const invalid = (options: unknown, pattern: RegExp) =>
      assert.throws(
        () => RecordRing.create(options as Parameters<typeof RecordRing.create>[0]),
        (err) => SpillwayError.is(err, 'ERR_INVALID_OPTION') && pattern.test(err.message),
      );
    invalid({ bytes: 64 * KiB - 1, whenFull: 'drop-newest' }, /bytes must be an integer/);
    invalid({ bytes: 1024 * 1024 * KiB + 1, whenFull: 'drop-newest' }, /bytes/);
    invalid({ bytes: 100_000.5, whenFull: 'drop-newest' }, /bytes/);
    invalid({ bytes: 64 * KiB, whenFull: 'spill' }, /whenFull must be one of/);
    invalid({ bytes: 64 * KiB, whenFull: 'drop-oldest', blockTimeoutMs: 10 }, /only to whenFull/);
    invalid({ bytes: 64 * KiB, whenFull: 'block', blockTimeoutMs: 0 }, /blockTimeoutMs must be/);
    invalid({ bytes: 1, whenFull: 'nope' }, /bytes.*; whenFull/);
    // Not a multiple of 8: rounded up, and the consumer sees the same capacity.
    const ring = RecordRing.create({ bytes: 64 * KiB + 1, whenFull: 'block' });
    assert.equal(ring.capacity, 64 * KiB + 8);
    assert.equal(ring.maxRecordBytes, 16 * KiB + 2);
    assert.equal(RecordRing.consumer(ring.buffer).capacity, 64 * KiB + 8);
    assert.equal(RecordRing.consumer(ring.buffer).whenFull, 'block');
  });

  it('opens a consumer only on the buffer of a ring', () => {
    const notRing = (buffer: unknown) =>
      assert.throws(
        () => RecordRing.consumer(buffer as SharedArrayBuffer),
        (err) => SpillwayError.is(err, 'ERR_INVALID_OPTION'),
      );
    notRing(new SharedArrayBuffer(128 * KiB));
    notRing(new ArrayBuffer(128 * KiB));
    notRing(undefined);
    // A ring's buffer cut short is not one either.
    notRing(
      RecordRing.create({ bytes: 64 * KiB, whenFull: 'drop-newest' }).buffer.slice(0, 66_000),
    );
  });

  it('hands records over in order, bytes and strings, and counts them on both sides', () => {
    const { ring, consumer } = pair('drop-newest');
    assert.equal(ring.write(record(1, 10)), 'written');
    assert.equal(ring.writeString('héllo wörld ✓ 😀'), 'written');
    assert.equal(ring.write(new Uint8Array(0)), 'written');
    assert.equal(ring.writeString(''), 'written');
    assert.equal(ring.writeString('lone \ud800 surrogate'), 'written');
    // Length word and payload, each record padded to 8.
    assert.equal(ring.usedBytes, 16 + 32 + 8 + 8 + 24);
    assert.equal(consumer.usedBytes, ring.usedBytes);
    assert.deepEqual(consumer.stats(), ring.stats());
    assert.deepEqual(ring.stats(), {
      capacity: 64 * KiB,
      usedBytes: 88,
      recordsWritten: 5,
      bytesWritten: 10 + 22 + 0 + 0 + 18,
      dropped: noDrops,
    });

    assert.deepEqual(consumer.read(), record(1, 10));
    assert.equal(text(consumer.read()), 'héllo wörld ✓ 😀');
    assert.deepEqual(consumer.read(), new Uint8Array(0));
    assert.equal(text(consumer.read()), '');
    assert.equal(text(consumer.read()), 'lone \ufffd surrogate');
    assert.equal(consumer.read(), undefined);
    assert.equal(ring.usedBytes, 0);
  });

  it('drop-newest: a record that does not fit is dropped and counted; room comes back', () => {
    const { ring, consumer } = pair('drop-newest');
    let written = 0;
    while (ring.write(record(written, 1000)) === 'written') written++;
    // 1008 bytes per record with framing: 65 fit in 64 KiB.
    assert.equal(written, 65);
    assert.equal(ring.write(record(99, 1000)), 'dropped');
    assert.equal(ring.writeString('x'.repeat(1000)), 'dropped');
    assert.deepEqual(ring.stats().dropped, { ...noDrops, full_newest: 3 });
    assert.deepEqual(consumer.stats().dropped, { ...noDrops, full_newest: 3 });
    assert.deepEqual(ring.dropped(), { ...noDrops, full_newest: 3 });
    assert.deepEqual(consumer.dropped(), { ...noDrops, full_newest: 3 });

    // The next record wraps to 0, where it needs more than one record's room (8 bytes stay free).
    assert.deepEqual(consumer.read(), record(0, 1000));
    assert.equal(ring.write(record(65, 1000)), 'dropped');
    assert.deepEqual(consumer.read(), record(1, 1000));
    assert.equal(ring.write(record(65, 1000)), 'written');
    const rest = readAll(consumer);
    assert.deepEqual(
      rest,
      Array.from({ length: 64 }, (_, i) => record(i + 2, 1000)),
    );
    assert.equal(ring.stats().dropped.full_newest, 4);
    assert.equal(ring.stats().recordsWritten, 66);
  });

  it('drop-oldest: the oldest records are discarded to make room, each counted', () => {
    const { ring, consumer } = pair('drop-oldest');
    for (let i = 0; i < 200; i++) assert.equal(ring.write(record(i, 1000)), 'written');
    const kept = readAll(consumer);
    const discarded = 200 - kept.length;
    assert.ok(kept.length >= 60, `only ${kept.length} kept`);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => record(discarded + i, 1000)),
    );
    assert.deepEqual(ring.stats().dropped, { ...noDrops, full_oldest: discarded });
    assert.deepEqual(consumer.stats().dropped, ring.stats().dropped);
    assert.equal(ring.stats().recordsWritten, 200);

    // Mixed sizes: what is kept is the newest, in order, and the counts add up.
    const sizes = [100, 16 * KiB, 7, 3000];
    const written = Array.from({ length: 500 }, (_, i) => record(i, sizes[i % 4]!));
    for (const r of written) assert.equal(ring.write(r), 'written');
    const after = readAll(consumer);
    assert.deepEqual(after, written.slice(written.length - after.length));
    assert.equal(ring.stats().dropped.full_oldest, discarded + 500 - after.length);
    assert.equal(ring.stats().recordsWritten, 700);
  });

  it('drop-oldest: while the consumer holds the lock, the newest is dropped instead (full_busy)', () => {
    const { ring, consumer } = pair('drop-oldest');
    while (consumer.usedBytes < 60 * KiB) ring.write(record(0, 1000));
    const queued = ring.stats().recordsWritten;
    // Play a consumer in the middle of a drain.
    const ctl = new Int32Array(ring.buffer);
    Atomics.store(ctl, LOCK, 1);
    const started = performance.now();
    assert.equal(ring.write(record(1, 8000)), 'dropped');
    assert.ok(performance.now() - started < 50, 'the producer spins only briefly');
    assert.deepEqual(ring.stats().dropped, { ...noDrops, full_busy: 1 });
    Atomics.store(ctl, LOCK, 0);

    assert.equal(ring.write(record(2, 8000)), 'written');
    assert.deepEqual(ring.stats().dropped, { ...noDrops, full_busy: 1, full_oldest: 8 });
    assert.equal(readAll(consumer).length, queued - 8 + 1);
  });

  it('block: a write waits for room, then gives up after blockTimeoutMs (counted)', () => {
    const { ring, consumer } = pair('block', { blockTimeoutMs: 30 });
    while (ring.write(record(0, 4000)) === 'written') {}
    const started = performance.now();
    assert.equal(ring.write(record(1, 4000)), 'dropped');
    assert.ok(performance.now() - started >= 29, 'it waited for the timeout');
    assert.deepEqual(consumer.stats().dropped, { ...noDrops, block_timeout: 2 });
    consumer.read();
    consumer.read();
    assert.equal(ring.write(record(2, 4000)), 'written');
  });

  it('refuses a record larger than a quarter of the ring (too_large), whatever the policy', () => {
    for (const whenFull of ['drop-newest', 'drop-oldest', 'block'] as const) {
      const { ring, consumer } = pair(whenFull);
      assert.equal(ring.maxRecordBytes, 16 * KiB);
      assert.equal(ring.write(new Uint8Array(16 * KiB)), 'written');
      assert.equal(ring.write(new Uint8Array(16 * KiB + 1)), 'dropped');
      assert.equal(ring.writeString('a'.repeat(16 * KiB)), 'written');
      assert.equal(ring.writeString('a'.repeat(16 * KiB + 1)), 'dropped');
      // Fewer UTF-16 units than the limit, more UTF-8 bytes: measured, then refused.
      assert.equal(ring.writeString('é'.repeat(8 * KiB + 1)), 'dropped');
      // 4 bytes per code point, exactly the limit.
      assert.equal(ring.writeString('😀'.repeat(4 * KiB)), 'written');
      assert.deepEqual(ring.stats().dropped, { ...noDrops, too_large: 3 });
      const got = readAll(consumer);
      assert.deepEqual(
        got.map((r) => r.length),
        [16 * KiB, 16 * KiB, 16 * KiB],
      );
      assert.equal(text(got[2]), '😀'.repeat(4 * KiB));
    }
  });

  it('wraps around with odd sizes: a record never straddles the end, and ends exactly at it', () => {
    const { ring, consumer } = pair('drop-newest');
    // Exactly at the end: 15 records of 4096 bytes with framing, one read, one more written.
    for (let i = 0; i < 15; i++) ring.write(record(i, 4092));
    assert.deepEqual(consumer.read(), record(0, 4092));
    assert.equal(ring.write(record(15, 4092)), 'written');
    assert.equal(ring.usedBytes, 15 * 4096, 'the write offset is back at 0');
    assert.equal(
      ring.write(record(16, 4092)),
      'dropped',
      'exactly the room left: 8 bytes stay free',
    );
    assert.equal(ring.write(record(16, 4084)), 'written');
    assert.deepEqual(readAll(consumer), [
      ...Array.from({ length: 15 }, (_, i) => record(i + 1, 4092)),
      record(16, 4084),
    ]);

    // Odd sizes over many laps, reading in between so that the queue is never empty.
    const sizes = [1, 3, 7, 13, 999, 4097, 0, 16_383, 2, 5_001, 65, 10_007];
    const expected: Uint8Array[] = [];
    let id = 0;
    let bytes = 0;
    let dropped = 0;
    for (let round = 0; round < 200; round++) {
      for (const size of sizes.slice(round % 5, (round % 5) + 4)) {
        const r = record(id++, size);
        if (ring.write(r) === 'written') {
          expected.push(r);
          bytes += size;
        } else dropped++;
      }
      const batch = consumer.drain(20_000);
      assert.ok(batch);
      for (let i = 0; i < batch.records; i++) {
        assert.deepEqual(
          batch.data.subarray(batch.offsets[i], batch.offsets[i + 1]),
          expected.shift(),
        );
      }
    }
    assert.ok(bytes > 10 * ring.capacity, `${bytes} bytes: many laps`);
    for (const r of readAll(consumer)) assert.deepEqual(r, expected.shift());
    assert.deepEqual(expected, []);
    assert.equal(ring.stats().dropped.full_newest, 1 + dropped);
  });

  it('drainLines joins records with a newline after each, within the byte budget', () => {
    const { ring, consumer } = pair('drop-newest');
    for (const line of ['a', 'bc', '', '{"x":1}']) ring.writeString(line);
    const all = consumer.drainLines();
    assert.ok(all);
    assert.equal(all.records, 4);
    assert.equal(text(all.data), 'a\nbc\n\n{"x":1}\n');
    assert.equal(consumer.drainLines(), undefined);

    for (const line of ['aaaa', 'bb', 'c', 'dd']) ring.writeString(line);
    assert.equal(text(consumer.drainLines(5)?.data), 'aaaa\n');
    // At least one record, even when it is over the budget.
    assert.equal(text(consumer.drainLines(1)?.data), 'bb\n');
    assert.equal(text(consumer.drainLines(5)?.data), 'c\ndd\n');

    for (const line of ['one', 'two', 'three']) ring.writeString(line);
    const batch = consumer.drain(8);
    assert.ok(batch);
    assert.equal(batch.records, 2);
    assert.deepEqual([...batch.offsets], [0, 3, 6]);
    assert.equal(text(batch.data), 'onetwo');
    assert.equal(text(consumer.drain()?.data), 'three');
  });

  it('close: later writes are dropped (closed), queued records stay readable, waiters wake', async () => {
    const { ring, consumer } = pair('drop-newest');
    ring.writeString('before');
    assert.equal(consumer.closed, false);
    ring.close();
    assert.equal(ring.closed, true);
    assert.equal(consumer.closed, true);
    assert.equal(ring.writeString('after'), 'dropped');
    assert.deepEqual(consumer.stats().dropped, { ...noDrops, closed: 1 });
    assert.equal(consumer.waitForDataSync(1000), true);
    await consumer.waitForData();
    assert.equal(text(consumer.read()), 'before');
    assert.equal(consumer.read(), undefined);
    assert.equal(consumer.waitForDataSync(1000), true, 'closed: nothing more to wait for');

    // From the consumer's side, the same.
    const other = pair('block');
    other.consumer.close();
    assert.equal(other.ring.closed, true);
    assert.equal(other.ring.write(record(1, 1)), 'dropped');
    assert.deepEqual(other.ring.stats().dropped, { ...noDrops, closed: 1 });
  });

  it('waitForData resolves on a write and rejects when its signal aborts', async () => {
    const { ring, consumer } = pair('drop-newest');
    const waiting = consumer.waitForData();
    setImmediate(() => ring.writeString('wake up'));
    await waiting;
    assert.equal(text(consumer.read()), 'wake up');

    const ac = new AbortController();
    const aborted = consumer.waitForData(ac.signal);
    const reason = new Error('stop');
    setImmediate(() => ac.abort(reason));
    await assert.rejects(aborted, (err) => err === reason);
    await assert.rejects(
      consumer.waitForData(AbortSignal.abort()),
      (err) => SpillwayError.is(err, 'ERR_ABORTED') || (err as Error).name === 'AbortError',
    );
    // The aborted waits left nothing behind: a new one still wakes on a write.
    const again = consumer.waitForData();
    setImmediate(() => ring.writeString('again'));
    await again;
  });

  it('waitForDataSync and waitUntilEmpty time out, and return at once when they can', () => {
    const { ring, consumer } = pair('drop-newest');
    let started = performance.now();
    assert.equal(consumer.waitForDataSync(20), false);
    assert.ok(performance.now() - started >= 19);
    assert.equal(ring.waitUntilEmpty(0), true);
    ring.writeString('x');
    assert.equal(consumer.waitForDataSync(1000), true);
    started = performance.now();
    assert.equal(ring.waitUntilEmpty(20), false);
    assert.ok(performance.now() - started >= 19);
    consumer.read();
    assert.equal(ring.waitUntilEmpty(1000), true);
  });

  it('keeps counters exact past 2^31 (the two-word carry)', () => {
    const words = new Int32Array(new SharedArrayBuffer(16));
    const counter = new CounterWriter(words, 0);
    counter.add(2 ** 31 - 1);
    assert.equal(readCounter(words, 0), 2 ** 31 - 1);
    counter.add(10);
    assert.equal(readCounter(words, 0), 2 ** 31 + 9);
    for (let i = 0; i < 5; i++) counter.add(2 ** 30);
    assert.equal(readCounter(words, 0), 2 ** 31 + 9 + 5 * 2 ** 30);
    assert.equal(counter.value, readCounter(words, 0));
  });
});
