// Property tests of the channel against a model: concurrent senders and receivers with random
// sizes and random interleavings. The seed is committed so a failure reproduces; change it (or
// drop it locally) to explore further.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Channel, type FullPolicyName } from '../src/index.js';

const runs = { seed: 42, numRuns: 100 } as const;

interface Item {
  sender: number;
  seq: number;
  bytes: number;
}

type Pause = 'none' | 'micro' | 'macro';
const pause = fc.constantFrom<Pause>('none', 'micro', 'macro');

/** Yields to other actors: not at all, for one microtask, or for one macrotask turn. */
async function yieldBy(kind: Pause | undefined): Promise<void> {
  if (kind === 'micro') await Promise.resolve();
  else if (kind === 'macro') await new Promise<void>((resolve) => setImmediate(resolve));
}

const key = (i: Item) => `${i.sender}:${i.seq}`;

/** Checks the channel's bounds and bookkeeping; called after every operation of every actor. */
function checkBounds(ch: Channel<Item>, queued: () => number): void {
  const s = ch.stats();
  assert.ok(s.depth <= s.capacity, `depth ${s.depth} > capacity ${s.capacity}`);
  assert.ok(s.bytes <= s.maxBytes, `bytes ${s.bytes} > maxBytes ${s.maxBytes}`);
  assert.ok(s.fillRatio >= 0 && s.fillRatio <= 1);
  assert.equal(s.depth, queued(), 'depth disagrees with the model');
}

const scenario = (maxBytes: number) =>
  fc.record({
    // Each sender: a sequence of item sizes, plus the pauses it takes between sends.
    senders: fc.array(
      fc.record({
        sizes: fc.array(fc.integer({ min: 0, max: maxBytes }), { maxLength: 25 }),
        pauses: fc.array(pause, { minLength: 1, maxLength: 8 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    receivers: fc.array(fc.array(pause, { minLength: 1, maxLength: 8 }), {
      minLength: 1,
      maxLength: 4,
    }),
  });

const config = fc.integer({ min: 1, max: 200 }).chain((maxBytes) =>
  fc.record({
    capacity: fc.integer({ min: 1, max: 6 }),
    maxBytes: fc.constant(maxBytes),
    actors: scenario(maxBytes),
  }),
);

describe('Channel properties', () => {
  it('block: with concurrent senders and receivers nothing is lost or duplicated, per-sender order is kept and bounds hold', {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(config, async ({ capacity, maxBytes, actors }) => {
        const ch = new Channel<Item>({ capacity, maxBytes });
        // Model of what the channel holds: in = every resolved send, out = every received item.
        let sentCount = 0;
        let receivedCount = 0;
        const queued = () => ch.stats().totalIn - ch.stats().totalOut;
        const check = () => checkBounds(ch, queued);
        const received: Item[] = [];

        const senders = actors.senders.map(async ({ sizes, pauses }, sender) => {
          for (const [seq, bytes] of sizes.entries()) {
            await yieldBy(pauses[seq % pauses.length]);
            const outcome = await ch.send({ sender, seq, bytes });
            assert.equal(outcome, 'queued');
            sentCount++;
            check();
          }
        });
        const receivers = actors.receivers.map(async (pauses) => {
          for (let n = 0; ; n++) {
            await yieldBy(pauses[n % pauses.length]);
            const got = await ch.recv();
            check();
            if (got === undefined) return;
            received.push(got);
            receivedCount++;
          }
        });

        await Promise.all(senders);
        ch.close();
        await Promise.all(receivers);

        const expected = actors.senders.flatMap(({ sizes }, sender) =>
          sizes.map((bytes, seq) => ({ sender, seq, bytes })),
        );
        // Nothing lost, nothing duplicated.
        assert.equal(receivedCount, sentCount);
        assert.equal(received.length, expected.length);
        assert.deepEqual(new Set(received.map(key)).size, received.length);
        assert.deepEqual(received.map(key).sort(), expected.map(key).sort());
        // Per-sender order: received in the order the channel handed items out.
        const lastSeq = new Map<number, number>();
        for (const got of received) {
          const previous = lastSeq.get(got.sender) ?? -1;
          assert.equal(got.seq, previous + 1, `sender ${got.sender} out of order`);
          lastSeq.set(got.sender, got.seq);
        }
        const s = ch.stats();
        assert.equal(s.totalIn, expected.length);
        assert.equal(s.totalOut, expected.length);
        assert.equal(
          s.bytesOut,
          expected.reduce((sum, i) => sum + i.bytes, 0),
        );
        assert.deepEqual(s.drops, {});
        assert.equal(s.depth, 0);
        assert.equal(s.bytes, 0);
        assert.equal(s.blockedSenders, 0);
      }),
      runs,
    );
  });

  it('drop-oldest / drop-newest: received + dropped == sent, every drop is counted and seen, bounds hold', {
    timeout: 60_000,
  }, async () => {
    const policyConfig = fc.record({
      policy: fc.constantFrom<FullPolicyName>('drop-oldest', 'drop-newest'),
      useTrySend: fc.boolean(),
      setup: config,
    });
    await fc.assert(
      fc.asyncProperty(policyConfig, async ({ policy, useTrySend, setup }) => {
        const { capacity, maxBytes, actors } = setup;
        const dropped: Item[] = [];
        const reasons = new Set<string>();
        const ch = new Channel<Item>({
          capacity,
          maxBytes,
          whenFull: policy,
          onDrop: (it, reason) => {
            dropped.push(it);
            reasons.add(reason);
          },
        });
        const queued = () => ch.stats().totalIn - ch.stats().totalOut - evicted();
        // drop-oldest evicts items that had entered (counted in totalIn); drop-newest drops
        // items before they enter.
        const evicted = () => (policy === 'drop-oldest' ? dropped.length : 0);
        const check = () => checkBounds(ch, queued);
        const received: Item[] = [];
        let droppedOutcomes = 0;

        const senders = actors.senders.map(async ({ sizes, pauses }, sender) => {
          for (const [seq, bytes] of sizes.entries()) {
            await yieldBy(pauses[seq % pauses.length]);
            const it = { sender, seq, bytes };
            if (useTrySend) {
              const result = ch.trySend(it);
              // A drop policy never hands an item back while the channel is open.
              assert.ok(result.ok);
              if (result.outcome === 'dropped') droppedOutcomes++;
            } else if ((await ch.send(it)) === 'dropped') droppedOutcomes++;
            check();
          }
        });
        const receivers = actors.receivers.map(async (pauses) => {
          for (let n = 0; ; n++) {
            await yieldBy(pauses[n % pauses.length]);
            const got = await ch.recv();
            check();
            if (got === undefined) return;
            received.push(got);
          }
        });
        await Promise.all(senders);
        ch.close();
        await Promise.all(receivers);

        const sent = actors.senders.flatMap(({ sizes }, sender) =>
          sizes.map((bytes, seq) => ({ sender, seq, bytes })),
        );
        // received and dropped partition what was sent.
        assert.equal(received.length + dropped.length, sent.length);
        assert.deepEqual([...received, ...dropped].map(key).sort(), sent.map(key).sort());
        const s = ch.stats();
        const reason = policy === 'drop-oldest' ? 'full_drop_oldest' : 'full_drop_newest';
        const dropCount = Object.values(s.drops).reduce((a, b) => a + b, 0);
        assert.equal(dropCount, dropped.length);
        if (dropped.length > 0) {
          assert.deepEqual(Object.keys(s.drops), [reason]);
          assert.deepEqual([...reasons], [reason]);
        }
        assert.equal(
          s.droppedBytes,
          dropped.reduce((sum, i) => sum + i.bytes, 0),
        );
        // drop-newest tells the sender; drop-oldest evicts someone else's item.
        if (policy === 'drop-newest') assert.equal(droppedOutcomes, dropped.length);
        else assert.equal(droppedOutcomes, 0);
        assert.equal(s.blockedSenders, 0);
        // What survives keeps per-sender order.
        const lastSeq = new Map<number, number>();
        for (const got of received) {
          assert.ok(got.seq > (lastSeq.get(got.sender) ?? -1), `sender ${got.sender} reordered`);
          lastSeq.set(got.sender, got.seq);
        }
      }),
      runs,
    );
  });
});
