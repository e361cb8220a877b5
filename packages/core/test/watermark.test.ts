// The ack watermark: acknowledgements settle in any order, the committed position only moves
// over a contiguous settled prefix, and tracking waits at maxInFlight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AckWatermark, isCommittable } from '../src/index.js';

describe('AckWatermark', () => {
  it('commits only the contiguous settled prefix when acks arrive out of order', () => {
    const commits: number[] = [];
    const wm = new AckWatermark<number>({ onCommit: (p) => commits.push(p) });
    const acks = [10, 20, 30, 40, 50].map((p) => wm.tryTrack(p)!);

    acks[1]!.settle('delivered');
    acks[3]!.settle('delivered');
    assert.equal(wm.committed, undefined, 'nothing commits while the first batch is unsettled');
    assert.deepEqual(wm.stats(), {
      committed: undefined,
      inFlight: 3,
      pending: 2,
      totalTracked: 5,
      totalCommitted: 0,
      held: false,
    });

    acks[0]!.settle('delivered');
    assert.equal(wm.committed, 20, 'settling the head releases the batch waiting behind it');
    assert.deepEqual(commits, [20], 'one commit per advance, at the furthest position');

    acks[2]!.settle('rejected'); // a dead-lettered batch is settled too: it does not hold back
    assert.equal(wm.committed, 40);
    acks[4]!.settle('dropped');
    assert.equal(wm.committed, 50);
    assert.deepEqual(commits, [20, 40, 50]);
    assert.equal(wm.stats().inFlight, 0);
    assert.equal(wm.stats().pending, 0);
  });

  it('track() waits at maxInFlight and resumes when the head commits, in order', async () => {
    const wm = new AckWatermark<number>({ maxInFlight: 2 });
    const a = await wm.track(1);
    const b = await wm.track(2);
    assert.equal(wm.tryTrack(3), undefined, 'full: tryTrack refuses');

    const order: number[] = [];
    const tracked = (p: number) =>
      wm.track(p).then((ack) => {
        order.push(p);
        return ack;
      });
    const third = tracked(3);
    const fourth = tracked(4);
    b.settle('delivered'); // settled but not committed: no room yet
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], 'a settled batch behind an unsettled head frees no room');

    a.settle('delivered'); // commits 1 and 2: room for both waiters
    const [c, d] = await Promise.all([third, fourth]);
    assert.deepEqual(order, [3, 4]);
    c.settle('delivered');
    d.settle('delivered');
    assert.equal(wm.committed, 4);
  });

  it('track() rejects with the signal reason and leaves the line', async () => {
    const wm = new AckWatermark<number>({ maxInFlight: 1 });
    const first = wm.tryTrack(1)!;
    const controller = new AbortController();
    const parked = wm.track(2, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(parked, /stop/);
    first.settle('delivered');
    assert.equal(wm.stats().totalTracked, 1, 'the aborted tracker never took a slot');
    assert.ok(wm.tryTrack(3), 'the freed slot goes to the next tracker');
  });

  it('whenIdle() resolves once every tracked batch is committed', async () => {
    const wm = new AckWatermark<number>();
    await wm.whenIdle(); // idle from the start
    const a = wm.tryTrack(1)!;
    const b = wm.tryTrack(2)!;
    let idle = false;
    const waiting = wm.whenIdle().then(() => {
      idle = true;
    });
    b.settle('delivered');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    a.settle('delivered');
    await waiting;
    assert.equal(idle, true);
  });

  it('property: the committed position is always the end of the longest settled prefix', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 60 })
          .chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()]))),
        ([n, settleOrder]) => {
          const commits: number[] = [];
          const wm = new AckWatermark<number>({ onCommit: (p) => commits.push(p) });
          const acks = Array.from({ length: n }, (_, i) => wm.tryTrack(i)!);
          const settled = new Array<boolean>(n).fill(false);
          for (const i of settleOrder) {
            acks[i]!.settle('delivered');
            settled[i] = true;
            const prefix = settled.indexOf(false) === -1 ? n : settled.indexOf(false);
            assert.equal(wm.committed, prefix === 0 ? undefined : prefix - 1);
            const s = wm.stats();
            assert.equal(s.inFlight, settled.filter((x) => !x).length);
            assert.equal(s.pending, settled.filter((x) => x).length - prefix);
          }
          // Commits only ever move forward.
          for (let i = 1; i < commits.length; i++) assert.ok(commits[i]! > commits[i - 1]!);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it('holds at a batch cut off by a shutdown: it and everything after stay uncommitted', async () => {
    const wm = new AckWatermark<number>({ commitWhen: isCommittable, maxInFlight: 4 });
    const acks = [10, 20, 30, 40].map((p) => wm.tryTrack(p)!);
    acks[2]!.settle('dropped', 'http.pool:shutdown_deadline');
    acks[3]!.settle('delivered');
    acks[1]!.settle('dropped', 'http.in:full_drop_newest');
    assert.equal(wm.committed, undefined);
    acks[0]!.settle('delivered');
    // 10 and 20 commit (a policy drop is final); 30 was cut off, so 30 and 40 are read again.
    assert.equal(wm.committed, 20);
    assert.equal(wm.stats().held, true);
    // Room is still made, and idle still comes, so a stopping source never deadlocks.
    await wm.whenIdle();
    const later = wm.tryTrack(50)!;
    later.settle('delivered');
    assert.equal(wm.committed, 20);
  });
});
