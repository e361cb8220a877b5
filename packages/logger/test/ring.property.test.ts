// Property tests of the record ring against a model queue: random sequences of writes (bytes and
// strings of random sizes, multi-byte UTF-8 and lone surrogates included, some too large) and
// reads (read, drain, drainLines with random budgets), on one thread. The seed is committed so
// that a failure reproduces; change it (or drop it locally) to explore further.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  RecordRing,
  type RecordRingConsumer,
  type RecordRingStats,
  type WhenFull,
} from '../src/ring/index.js';
import { footprint } from '../src/ring/layout.js';

const runs = { seed: 20_251_123, numRuns: 150 } as const;

type Op =
  | { kind: 'bytes'; size: number }
  | { kind: 'text'; text: string }
  | { kind: 'read' }
  | { kind: 'drain'; maxBytes: number }
  | { kind: 'drainLines'; maxBytes: number };

// Sizes around the interesting places of a 64 KiB ring: tiny, medium, near the 16 KiB limit.
const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 16 * 1024 - 8, max: 16 * 1024 + 8 }),
);
// Short strings of any code points, repeated to reach kilobytes now and then.
const text = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.oneof(fc.constant(1), fc.nat(1000)))
  .map(([unit, times]) => unit.repeat(times));
// Budgets mostly below what is queued, so that the ring fills up and drains leave records behind.
const budget = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 20_000 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: size.map((s) => ({ kind: 'bytes' as const, size: s })) },
  { weight: 3, arbitrary: text.map((t) => ({ kind: 'text' as const, text: t })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'read' as const }) },
  { weight: 1, arbitrary: budget.map((m) => ({ kind: 'drain' as const, maxBytes: m })) },
  { weight: 1, arbitrary: budget.map((m) => ({ kind: 'drainLines' as const, maxBytes: m })) },
);

/** A record whose bytes say which one it is. */
function pattern(id: number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (id * 31 + i) & 0xff;
  return bytes;
}

const totalDropped = (s: RecordRingStats) => Object.values(s.dropped).reduce((a, b) => a + b, 0);

/** What the runs went through, to show that the generator reaches the full ring. */
interface Coverage {
  dropped: Record<string, number>;
  bytesWritten: number;
}

/** Runs `ops`, checking every outcome and every record read against the model queue. */
function check(whenFull: WhenFull, ops: readonly Op[], seen: Coverage): void {
  // block: on one thread nobody makes room, so a full ring means a (1 ms) timeout.
  const ring = RecordRing.create({
    bytes: 64 * 1024,
    whenFull,
    ...(whenFull === 'block' ? { blockTimeoutMs: 1 } : {}),
  });
  const consumer = RecordRing.consumer(ring.buffer);
  const model: Buffer[] = [];
  let attempts = 0;
  let read = 0;
  let id = 0;

  const take = (got: Uint8Array) => {
    const expected = model.shift();
    assert.ok(expected, 'read a record the model does not have');
    assert.ok(Buffer.from(got).equals(expected), 'a record differs from the one written');
    read++;
  };
  const takeBatch = (data: Uint8Array, ends: readonly number[], maxBytes: number, sep: number) => {
    let start = 0;
    for (const end of ends) {
      take(data.subarray(start, end - sep));
      if (sep) assert.equal(data[end - 1], 0x0a);
      start = end;
    }
    assert.equal(start, data.length);
    assert.ok(ends.length === 1 || data.length <= maxBytes, 'over the byte budget');
    const next = model[0];
    if (next) assert.ok(data.length + next.length + sep > maxBytes, 'left a record that fit');
  };

  for (const o of ops) {
    if (o.kind === 'bytes' || o.kind === 'text') {
      const record = o.kind === 'text' ? Buffer.from(o.text, 'utf8') : pattern(id++, o.size);
      const before = ring.stats();
      const outcome = o.kind === 'text' ? ring.writeString(o.text) : ring.write(record);
      const after = ring.stats();
      attempts++;
      if (record.length > ring.maxRecordBytes) {
        assert.equal(outcome, 'dropped');
        assert.equal(after.dropped.too_large, before.dropped.too_large + 1);
        continue;
      }
      // drop-oldest: the records it discarded are the oldest of the model.
      model.splice(0, after.dropped.full_oldest - before.dropped.full_oldest);
      if (outcome === 'written') {
        model.push(record);
        assert.equal(after.bytesWritten, before.bytesWritten + record.length);
      } else {
        assert.notEqual(whenFull, 'drop-oldest');
        const reason = whenFull === 'block' ? 'block_timeout' : 'full_newest';
        assert.equal(after.dropped[reason], before.dropped[reason] + 1);
        // No spurious drop: the free room is no more than the record's footprint at the end
        // plus what a wrap to 0 would need.
        const free = ring.capacity - before.usedBytes;
        assert.ok(free <= 2 * footprint(record.length), `dropped with ${free} bytes free`);
      }
    } else if (o.kind === 'read') {
      const got = consumer.read();
      if (got) take(got);
      else assert.equal(model.length, 0);
    } else if (o.kind === 'drainLines') {
      const batch = consumer.drainLines(o.maxBytes);
      if (batch) takeBatch(batch.data, lineEnds(model, batch.records), o.maxBytes, 1);
      else assert.equal(model.length, 0);
    } else {
      const batch = consumer.drain(o.maxBytes);
      if (batch) takeBatch(batch.data, offsetsOf(batch), o.maxBytes, 0);
      else assert.equal(model.length, 0);
    }
    invariants(ring, consumer, attempts, read, model.length);
  }
  const rest = consumer.drain();
  if (rest) takeBatch(rest.data, offsetsOf(rest), Infinity, 0);
  assert.equal(model.length, 0, 'records written but never read');
  invariants(ring, consumer, attempts, read, 0);
  const stats = ring.stats();
  for (const [reason, n] of Object.entries(stats.dropped)) {
    seen.dropped[reason] = (seen.dropped[reason] ?? 0) + n;
  }
  seen.bytesWritten += stats.bytesWritten;
}

function invariants(
  ring: RecordRing,
  consumer: RecordRingConsumer,
  attempts: number,
  read: number,
  queued: number,
): void {
  const stats = ring.stats();
  assert.deepEqual(consumer.stats(), stats, 'the two sides disagree');
  assert.equal(attempts, read + totalDropped(stats) + queued, 'written ≠ read + dropped + queued');
  assert.equal(stats.recordsWritten, read + stats.dropped.full_oldest + queued);
  assert.ok(stats.usedBytes >= 0 && stats.usedBytes < stats.capacity);
  assert.equal(stats.usedBytes === 0, queued === 0);
}

/**
 * Where each record of a line batch must end, its newline included. Records may contain
 * newlines themselves, so the ends come from the model's lengths, not from searching.
 */
function lineEnds(model: readonly Buffer[], records: number): number[] {
  assert.ok(records <= model.length, 'read more records than the model has');
  const ends: number[] = [];
  let at = 0;
  for (const record of model.slice(0, records)) ends.push((at += record.length + 1));
  return ends;
}

const offsetsOf = (batch: { offsets: Uint32Array }) => [...batch.offsets.subarray(1)];

describe('RecordRing properties', () => {
  for (const whenFull of ['drop-newest', 'drop-oldest', 'block'] as const) {
    it(`${whenFull}: every record read is one written, in order, once; written = read + dropped + queued`, () => {
      const seen: Coverage = { dropped: {}, bytesWritten: 0 };
      const ops = fc.array(op, { minLength: 1, maxLength: 300, size: 'max' });
      fc.assert(
        fc.property(ops, (o) => check(whenFull, o, seen)),
        runs,
      );
      // The runs did fill the ring, refuse records and go round it many times.
      const full = {
        'drop-newest': 'full_newest',
        'drop-oldest': 'full_oldest',
        block: 'block_timeout',
      }[whenFull];
      assert.ok((seen.dropped[full] ?? 0) > 300, `${full}: ${seen.dropped[full]}`);
      assert.ok((seen.dropped.too_large ?? 0) > 100);
      assert.ok(seen.bytesWritten > 300 * 64 * 1024, `${seen.bytesWritten} bytes written`);
    });
  }
});
