import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Acknowledgement, createEventBatch, createRawBatch } from '@spillway/core';
import { fromResult, fromTask, SlotPool, toResult, toTask } from '../src/internal/envelope.js';

const raw = (text: string) => createRawBatch({ source: 'test', data: Buffer.from(text) });

describe('envelope', () => {
  describe('SlotPool', () => {
    it('makes slots in powers of two, at least 4 KiB, and reuses the smallest that fits', () => {
      const pool = new SlotPool(4);
      const small = pool.take(10);
      const large = pool.take(300_000);
      assert.equal(small.byteLength, 4096);
      assert.equal(large.byteLength, 524_288);
      pool.give(large);
      pool.give(small);
      assert.equal(pool.take(100), small, 'the smallest slot that fits');
      assert.equal(pool.take(100_000), large);
      assert.equal(pool.size, 0);
    });

    it('keeps at most `capacity` free slots', () => {
      const pool = new SlotPool(2);
      const slots = [pool.take(1), pool.take(1), pool.take(1)];
      for (const slot of slots) pool.give(slot);
      assert.equal(pool.size, 2);
    });

    it('turns over to a larger size when no free slot fits', () => {
      const pool = new SlotPool(2);
      const a = pool.take(1);
      const b = pool.take(1);
      pool.give(a);
      pool.give(b);
      const big = pool.take(10_000);
      assert.equal(big.byteLength, 16_384);
      assert.equal(pool.size, 1, 'one too-small slot dropped to make room');
      pool.give(big);
      assert.equal(pool.take(10_000), big);
    });
  });

  it('copies raw lines into a shared slot once, leaving the batch untouched', () => {
    const pool = new SlotPool(2);
    const batch = raw('a\nbb\n');
    const { message, transfer, slot } = toTask(batch, pool);
    assert.ok(slot instanceof SharedArrayBuffer);
    assert.equal(message.payload.buffer, slot);
    assert.deepEqual(transfer, [], 'shared, not transferred');
    assert.equal(Buffer.from(message.payload).toString(), 'a\nbb\n');
    assert.equal(message.lines, 2);
    assert.notEqual(batch.payload.kind === 'raw' && batch.payload.data.buffer, slot);
  });

  it('packs events into a buffer of their own, to be transferred', () => {
    const events = [{ timestamp: 1, message: 'x', attributes: { n: 1 } }];
    const { message, transfer, slot } = toTask(
      createEventBatch({ source: 's', events }),
      new SlotPool(1),
    );
    assert.equal(slot, undefined);
    assert.deepEqual(transfer, [message.payload.buffer]);
    assert.deepEqual(fromTask(message, new Acknowledgement()).payload, { kind: 'events', events });
  });

  it('returns every output in a shared buffer of its own, copied out of the slot', () => {
    const pool = new SlotPool(1);
    const { message, slot } = toTask(raw('one\ntwo\n'), pool);
    const ack = new Acknowledgement();
    const input = fromTask(message, ack);
    const own = createRawBatch({ source: 'x', data: Buffer.from('new\n') });
    const events = createEventBatch({ source: 'x', ack, events: [{ timestamp: 2, message: 'e' }] });
    const result = toResult([input, own, events], ack, [{ events_in: 2 }], 1.5);
    const [same, other, packed] = result.outputs;
    assert.ok(same?.raw?.buffer instanceof SharedArrayBuffer);
    assert.notEqual(
      same?.raw?.buffer,
      slot,
      'an output that is the input is copied out of the slot',
    );
    new Uint8Array(slot!).fill(0);
    assert.equal(Buffer.from(same!.raw!).toString(), 'one\ntwo\n');
    assert.deepEqual([same?.shares, other?.shares, packed?.shares], [true, false, true]);
    assert.ok(other?.raw?.buffer instanceof SharedArrayBuffer);
    assert.ok(packed?.events?.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(result.steps, [{ events_in: 2 }]);

    const original = raw('one\ntwo\n');
    const back = fromResult(original, structuredClone(result.outputs));
    assert.deepEqual(
      back.map((b) => [b.id === original.id, b.ack === original.ack, b.count]),
      [
        [true, true, 2],
        [false, false, 1],
        [false, true, 1],
      ],
    );
    assert.equal(
      back[1]!.payload.kind === 'raw' && Buffer.from(back[1]!.payload.data).toString(),
      'new\n',
    );
    assert.deepEqual(back[2]!.payload, {
      kind: 'events',
      events: [{ timestamp: 2, message: 'e' }],
    });
  });
});
