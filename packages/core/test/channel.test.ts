import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Channel, type FullPolicy, SpillwayError } from '../src/index.js';

interface Item {
  id: string;
  bytes: number;
}

const item = (id: string, bytes = 1): Item => ({ id, bytes });

/** Lets every pending promise callback and one macrotask turn run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

type State = 'pending' | 'fulfilled' | 'rejected';

/** The state of `promise` after everything runnable has run (marks a rejection as handled). */
async function stateOf(promise: Promise<unknown>): Promise<State> {
  let state: State = 'pending';
  promise.then(
    () => {
      state = 'fulfilled';
    },
    () => {
      state = 'rejected';
    },
  );
  await flush();
  return state;
}

const hasCode = (code: string) => (err: unknown) => SpillwayError.is(err) && err.code === code;

describe('Channel options', () => {
  it('rejects a capacity that is not a positive integer and a non-positive maxBytes', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new Channel<Item>({ capacity }), hasCode('ERR_INVALID_OPTION'));
    }
    for (const maxBytes of [0, -5, Number.NaN]) {
      assert.throws(() => new Channel<Item>({ maxBytes }), hasCode('ERR_INVALID_OPTION'));
    }
  });

  it('rejects an unknown policy name', () => {
    assert.throws(() => new Channel<Item>({ whenFull: 'spill' as 'block' }), TypeError);
  });

  it('uses sizeOf when given, and refuses items without a numeric bytes property otherwise', async () => {
    const sized = new Channel<string>({ capacity: 10, maxBytes: 5, sizeOf: (s) => s.length });
    assert.equal(await sized.send('abc'), 'queued');
    assert.equal(sized.bytes, 3);
    assert.deepEqual(sized.trySend('xyz'), { ok: false, reason: 'full', item: 'xyz' });

    const plain = new Channel<unknown>();
    assert.throws(() => plain.trySend({ size: 3 }), TypeError);
    await assert.rejects(plain.send({ bytes: -1 }), TypeError);
    assert.equal(plain.depth, 0);
  });
});

describe('Channel send waits while full', () => {
  it('by item count', async () => {
    const ch = new Channel<Item>({ capacity: 2, maxBytes: 1000 });
    assert.equal(await ch.send(item('a')), 'queued');
    assert.equal(await ch.send(item('b')), 'queued');
    const c = ch.send(item('c'));
    assert.equal(await stateOf(c), 'pending');
    assert.equal(ch.depth, 2);
    assert.equal(ch.stats().blockedSenders, 1);

    assert.equal((await ch.recv())?.id, 'a');
    assert.equal(await c, 'queued');
    assert.equal(ch.depth, 2);
    assert.equal(ch.stats().blockedSenders, 0);
    assert.deepEqual([ch.tryRecv()?.id, ch.tryRecv()?.id, ch.tryRecv()], ['b', 'c', undefined]);
  });

  it('by bytes, while there is room for more items', async () => {
    const ch = new Channel<Item>({ capacity: 10, maxBytes: 100 });
    await ch.send(item('a', 60));
    await ch.send(item('b', 30));
    const c = ch.send(item('c', 20));
    assert.equal(await stateOf(c), 'pending');
    assert.equal(ch.depth, 2);
    assert.equal(ch.bytes, 90);

    assert.equal((await ch.recv())?.id, 'a');
    assert.equal(await c, 'queued');
    assert.equal(ch.bytes, 50);
    assert.equal(ch.depth, 2);
  });

  it('admits an item that fills maxBytes exactly', async () => {
    const ch = new Channel<Item>({ capacity: 10, maxBytes: 100 });
    await ch.send(item('a', 40));
    assert.equal(await stateOf(ch.send(item('b', 60))), 'fulfilled');
    assert.equal(ch.bytes, 100);
    assert.equal(ch.stats().fillRatio, 1);
  });

  it('refuses an item larger than maxBytes with ERR_ITEM_TOO_LARGE, leaving the channel as it was', async () => {
    const ch = new Channel<Item>({ capacity: 4, maxBytes: 100 });
    await ch.send(item('a', 10));
    const big = item('big', 101);
    // send rejects (never throws synchronously); trySend throws.
    const sent = ch.send(big);
    assert.ok(sent instanceof Promise);
    await assert.rejects(sent, hasCode('ERR_ITEM_TOO_LARGE'));
    assert.throws(() => ch.trySend(big), hasCode('ERR_ITEM_TOO_LARGE'));
    assert.equal(ch.depth, 1);
    assert.equal(ch.bytes, 10);
    assert.equal(ch.stats().totalIn, 1);
    assert.deepEqual(ch.stats().drops, {});
    assert.equal(ch.stats().blockedSenders, 0);
  });
});

describe('Channel trySend', () => {
  it('queues when there is room', () => {
    const ch = new Channel<Item>({ capacity: 1 });
    assert.deepEqual(ch.trySend(item('a')), { ok: true, outcome: 'queued' });
    assert.equal(ch.depth, 1);
  });

  it('hands the very same item back with reason full, without queueing it', () => {
    const ch = new Channel<Item>({ capacity: 1 });
    ch.trySend(item('a'));
    const b = item('b');
    const result = ch.trySend(b);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'full');
    assert.equal(result.item, b);
    assert.equal(ch.depth, 1);
    assert.equal(ch.stats().totalIn, 1);
    assert.deepEqual(ch.stats().drops, {});
  });

  it('hands the item back with reason closed once closed', () => {
    const ch = new Channel<Item>({ capacity: 4 });
    ch.close();
    const a = item('a');
    const result = ch.trySend(a);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'closed');
    assert.equal(result.item, a);
  });

  it('does not overtake a parked sender even when its item would fit', async () => {
    const ch = new Channel<Item>({ capacity: 10, maxBytes: 100 });
    await ch.send(item('a', 90));
    const parked = ch.send(item('big', 50));
    const small = item('small', 5);
    assert.deepEqual(ch.trySend(small), { ok: false, reason: 'full', item: small });
    assert.equal(ch.tryRecv()?.id, 'a');
    assert.equal(await parked, 'queued');
    assert.equal(ch.tryRecv()?.id, 'big');
  });
});

describe('Channel full-policies', () => {
  it('block is the default', () => {
    const ch = new Channel<Item>();
    assert.equal(ch.policy.name, 'block');
    assert.equal(ch.stats().policy, 'block');
  });

  it('drop-newest drops the new item, counts it by reason and bytes, and shows it to onDrop', async () => {
    const seen: [string, string][] = [];
    const ch = new Channel<Item>({
      capacity: 2,
      whenFull: 'drop-newest',
      onDrop: (dropped, reason) => seen.push([dropped.id, reason]),
    });
    assert.equal(await ch.send(item('a', 3)), 'queued');
    assert.equal(await ch.send(item('b', 3)), 'queued');
    assert.equal(await ch.send(item('c', 7)), 'dropped');
    assert.deepEqual(ch.trySend(item('d', 11)), { ok: true, outcome: 'dropped' });

    const stats = ch.stats();
    assert.equal(stats.policy, 'drop-newest');
    assert.deepEqual(stats.drops, { full_drop_newest: 2 });
    assert.equal(stats.droppedBytes, 18);
    assert.equal(stats.blockedSenders, 0);
    assert.deepEqual(seen, [
      ['c', 'full_drop_newest'],
      ['d', 'full_drop_newest'],
    ]);
    assert.deepEqual([ch.tryRecv()?.id, ch.tryRecv()?.id, ch.tryRecv()], ['a', 'b', undefined]);
  });

  it('drop-oldest evicts the oldest queued items, counts each, and never makes a sender wait', async () => {
    const seen: [string, string][] = [];
    const ch = new Channel<Item>({
      capacity: 3,
      whenFull: 'drop-oldest',
      onDrop: (dropped, reason) => seen.push([dropped.id, reason]),
    });
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      assert.equal(await stateOf(ch.send(item(id, 2))), 'fulfilled');
    }
    assert.deepEqual(ch.trySend(item('f', 2)), { ok: true, outcome: 'queued' });
    const stats = ch.stats();
    assert.deepEqual(stats.drops, { full_drop_oldest: 3 });
    assert.equal(stats.droppedBytes, 6);
    assert.equal(stats.depth, 3);
    assert.deepEqual(seen, [
      ['a', 'full_drop_oldest'],
      ['b', 'full_drop_oldest'],
      ['c', 'full_drop_oldest'],
    ]);
    assert.deepEqual([ch.tryRecv()?.id, ch.tryRecv()?.id, ch.tryRecv()?.id], ['d', 'e', 'f']);
  });

  it('drop-oldest evicts as many items as it takes to make the bytes fit', async () => {
    const dropped: string[] = [];
    const ch = new Channel<Item>({
      capacity: 10,
      maxBytes: 100,
      whenFull: 'drop-oldest',
      onDrop: (d) => dropped.push(d.id),
    });
    await ch.send(item('a', 40));
    await ch.send(item('b', 40));
    await ch.send(item('c', 10));
    assert.equal(await ch.send(item('d', 70)), 'queued');
    assert.deepEqual(dropped, ['a', 'b']);
    assert.equal(ch.bytes, 80);
    assert.equal(ch.stats().droppedBytes, 80);
    assert.deepEqual([ch.tryRecv()?.id, ch.tryRecv()?.id], ['c', 'd']);
  });

  it('accepts a custom strategy and counts its drops under its reason', async () => {
    // Drops items marked low priority, makes others wait.
    const shedLow: FullPolicy = {
      name: 'shed-low',
      dropReason: 'shed_low_priority',
      onFull: (candidate) => ((candidate as Item).id.startsWith('low') ? 'drop' : 'wait'),
    };
    const dropped: string[] = [];
    const ch = new Channel<Item>({
      capacity: 1,
      whenFull: shedLow,
      onDrop: (d, reason) => dropped.push(`${d.id}:${reason}`),
    });
    await ch.send(item('first'));
    assert.equal(await ch.send(item('low-1')), 'dropped');
    const high = ch.send(item('high'));
    assert.equal(await stateOf(high), 'pending');
    assert.deepEqual(ch.stats().drops, { shed_low_priority: 1 });
    assert.deepEqual(dropped, ['low-1:shed_low_priority']);
    ch.tryRecv();
    assert.equal(await high, 'queued');
  });
});

describe('Channel parked senders are served in FIFO order', () => {
  it('a later small item does not overtake an earlier parked big one', async () => {
    const ch = new Channel<Item>({ capacity: 10, maxBytes: 100 });
    await ch.send(item('head', 60));
    const order: string[] = [];
    const big = ch.send(item('big', 50)).then(() => order.push('big'));
    // 60 + 5 fits, but `big` is waiting ahead of it.
    const small = ch.send(item('small', 5)).then(() => order.push('small'));
    await flush();
    assert.deepEqual(order, []);
    assert.equal(ch.depth, 1);
    assert.equal(ch.stats().blockedSenders, 2);

    assert.equal(ch.tryRecv()?.id, 'head');
    await Promise.all([big, small]);
    assert.deepEqual(order, ['big', 'small']);
    assert.deepEqual([ch.tryRecv()?.id, ch.tryRecv()?.id], ['big', 'small']);
  });

  it('many senders parked on a full channel are admitted in arrival order', async () => {
    const ch = new Channel<Item>({ capacity: 1 });
    await ch.send(item('s0'));
    const sends = ['s1', 's2', 's3', 's4'].map((id) => ch.send(item(id)));
    const received: string[] = [];
    for (let i = 0; i < 5; i++) received.push((await ch.recv())!.id);
    await Promise.all(sends);
    assert.deepEqual(received, ['s0', 's1', 's2', 's3', 's4']);
  });

  it('refuses to park more than maxWaiters senders', async () => {
    const ch = new Channel<Item>({ capacity: 1, maxWaiters: 2 });
    await ch.send(item('a'));
    const parked = [ch.send(item('b')), ch.send(item('c'))];
    await assert.rejects(ch.send(item('d')), hasCode('ERR_INVALID_OPTION'));
    assert.equal(ch.stats().blockedSenders, 2);
    ch.tryRecv();
    ch.tryRecv();
    await Promise.all(parked);
  });
});

describe('Channel close', () => {
  it('lets receivers drain what is queued, then yields undefined', async () => {
    const ch = new Channel<Item>({ capacity: 4 });
    await ch.send(item('a'));
    await ch.send(item('b'));
    ch.close();
    assert.equal(ch.closed, true);
    assert.equal((await ch.recv())?.id, 'a');
    assert.equal((await ch.recv())?.id, 'b');
    assert.equal(await ch.recv(), undefined);
    assert.equal(await ch.recv(), undefined);
  });

  it('rejects parked senders with ERR_CHANNEL_CLOSED and does not deliver their items', async () => {
    const ch = new Channel<Item>({ capacity: 1 });
    await ch.send(item('a'));
    const parked = ch.send(item('b'));
    ch.close();
    await assert.rejects(parked, hasCode('ERR_CHANNEL_CLOSED'));
    assert.equal(ch.stats().blockedSenders, 0);
    assert.equal((await ch.recv())?.id, 'a');
    assert.equal(await ch.recv(), undefined);
    assert.equal(ch.stats().totalIn, 1);
  });

  it('rejects later sends with ERR_CHANNEL_CLOSED', async () => {
    const ch = new Channel<Item>();
    ch.close();
    ch.close(); // idempotent
    await assert.rejects(ch.send(item('a')), hasCode('ERR_CHANNEL_CLOSED'));
  });

  it('wakes receivers parked on an empty channel with undefined', async () => {
    const ch = new Channel<Item>();
    const r1 = ch.recv();
    const r2 = ch.recv();
    assert.equal(await stateOf(r1), 'pending');
    ch.close();
    assert.equal(await r1, undefined);
    assert.equal(await r2, undefined);
  });

  it('wakes a parked receiver with undefined once the last queued item is taken by another', async () => {
    const ch = new Channel<Item>({ capacity: 2 });
    await ch.send(item('a'));
    ch.close();
    const first = await ch.recv();
    assert.equal(first?.id, 'a');
    assert.equal(await ch.recv(), undefined);
  });
});

describe('Channel abort', () => {
  it('returns the queued items, rejects parked senders and receivers with ERR_CHANNEL_ABORTED', async () => {
    const full = new Channel<Item>({ capacity: 2 });
    await full.send(item('a', 4));
    await full.send(item('b', 5));
    const parkedSend = full.send(item('c'));
    const reason = new Error('operator said stop');
    const returned = full.abort(reason);
    assert.deepEqual(
      returned.map((i) => i.id),
      ['a', 'b'],
    );
    await assert.rejects(parkedSend, (err: unknown) => {
      assert.ok(SpillwayError.is(err, 'ERR_CHANNEL_ABORTED'));
      assert.equal(err.cause, reason);
      return true;
    });
    // Handed back, not dropped: the caller decides what they are.
    assert.deepEqual(full.stats().drops, {});
    assert.equal(full.depth, 0);
    assert.equal(full.bytes, 0);
    await assert.rejects(full.recv(), hasCode('ERR_CHANNEL_ABORTED'));
    await assert.rejects(full.send(item('d')), (err: unknown) =>
      /^ERR_CHANNEL_(CLOSED|ABORTED)$/.test((err as SpillwayError).code),
    );

    const empty = new Channel<Item>();
    const parkedRecv = empty.recv();
    assert.deepEqual(empty.abort(), []);
    await assert.rejects(parkedRecv, hasCode('ERR_CHANNEL_ABORTED'));
  });

  it('ends async iteration with ERR_CHANNEL_ABORTED rather than a clean end', async () => {
    const ch = new Channel<Item>();
    await ch.send(item('a'));
    const seen: string[] = [];
    const loop = (async () => {
      for await (const it of ch) {
        seen.push(it.id);
      }
    })();
    await flush();
    ch.abort();
    await assert.rejects(loop, hasCode('ERR_CHANNEL_ABORTED'));
    assert.deepEqual(seen, ['a']);
  });
});

describe('Channel AbortSignal', () => {
  it('send with an aborted signal rejects with its reason and queues nothing', async () => {
    const ch = new Channel<Item>();
    const reason = new Error('gone');
    await assert.rejects(ch.send(item('a'), AbortSignal.abort(reason)), (err) => err === reason);
    assert.equal(ch.depth, 0);
    assert.equal(ch.stats().totalIn, 0);
  });

  it('a non-Error abort reason becomes ERR_ABORTED with the reason as cause', async () => {
    const ch = new Channel<Item>();
    await assert.rejects(ch.recv(AbortSignal.abort('bye')), (err: unknown) => {
      assert.ok(SpillwayError.is(err, 'ERR_ABORTED'));
      assert.equal(err.cause, 'bye');
      return true;
    });
  });

  it('a parked sender that aborts leaves the line and its item is never queued', async () => {
    const ch = new Channel<Item>({ capacity: 1 });
    await ch.send(item('a'));
    const controller = new AbortController();
    const aborted = ch.send(item('b'), controller.signal);
    const after = ch.send(item('c'));
    await flush();
    assert.equal(ch.stats().blockedSenders, 2);
    controller.abort(new Error('cancelled'));
    await assert.rejects(aborted, /cancelled/);
    assert.equal(ch.stats().blockedSenders, 1);
    assert.equal(ch.tryRecv()?.id, 'a');
    assert.equal(await after, 'queued');
    assert.equal(ch.tryRecv()?.id, 'c');
    assert.equal(ch.tryRecv(), undefined);
    assert.equal(ch.stats().totalIn, 2);
  });

  it('when the parked head aborts, the smaller items behind it are admitted at once', async () => {
    const ch = new Channel<Item>({ capacity: 10, maxBytes: 100 });
    await ch.send(item('head', 70));
    const controller = new AbortController();
    const big = ch.send(item('big', 50), controller.signal);
    const small1 = ch.send(item('small1', 10));
    const small2 = ch.send(item('small2', 10));
    assert.equal(await stateOf(small1), 'pending');
    controller.abort();
    await assert.rejects(big);
    // No receive happened: the abort alone unblocked them.
    assert.equal(await small1, 'queued');
    assert.equal(await small2, 'queued');
    assert.equal(ch.bytes, 90);
    assert.equal(ch.stats().blockedSenders, 0);
  });

  it('a send whose signal aborts after it was queued is unaffected', async () => {
    const ch = new Channel<Item>({ capacity: 1 });
    await ch.send(item('a'));
    const controller = new AbortController();
    const sent = ch.send(item('b'), controller.signal);
    ch.tryRecv();
    assert.equal(await sent, 'queued');
    controller.abort();
    assert.equal(ch.tryRecv()?.id, 'b');
  });

  it('a parked receiver that aborts does not swallow the next item', async () => {
    const ch = new Channel<Item>();
    const controller = new AbortController();
    const aborted = ch.recv(controller.signal);
    const waiting = ch.recv();
    controller.abort(new Error('receiver gone'));
    await assert.rejects(aborted, /receiver gone/);
    await ch.send(item('a'));
    assert.equal((await waiting)?.id, 'a');
    assert.equal(ch.depth, 0);
  });

  it('recv with an aborted signal rejects even when items are queued', async () => {
    const ch = new Channel<Item>();
    await ch.send(item('a'));
    await assert.rejects(ch.recv(AbortSignal.abort(new Error('no'))), /no/);
    assert.equal(ch.depth, 1);
  });
});

describe('Channel async iteration', () => {
  it('yields every item in order while senders wait, and ends after close', async () => {
    const ch = new Channel<Item>({ capacity: 2 });
    const producer = (async () => {
      for (let i = 0; i < 20; i++) await ch.send(item(String(i)));
      ch.close();
    })();
    const seen: string[] = [];
    for await (const it of ch) {
      seen.push(it.id);
      assert.ok(ch.depth <= 2);
    }
    await producer;
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
  });
});

describe('Channel stats', () => {
  it('reports depth, bytes, fill ratio and totals', async () => {
    const ch = new Channel<Item>({ name: 'parse→http', capacity: 4, maxBytes: 100 });
    assert.deepEqual(ch.stats(), {
      name: 'parse→http',
      policy: 'block',
      depth: 0,
      bytes: 0,
      capacity: 4,
      maxBytes: 100,
      fillRatio: 0,
      totalIn: 0,
      totalOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      blockedSenders: 0,
      blockedMs: 0,
      drops: {},
      droppedBytes: 0,
    });
    await ch.send(item('a', 50));
    // bytes dominate: 50/100 > 1/4
    assert.equal(ch.stats().fillRatio, 0.5);
    await ch.send(item('b', 1));
    await ch.send(item('c', 1));
    // items dominate: 3/4 > 52/100
    assert.equal(ch.stats().fillRatio, 0.75);
    ch.tryRecv();
    const s = ch.stats();
    assert.equal(s.depth, 2);
    assert.equal(s.bytes, 2);
    assert.equal(s.totalIn, 3);
    assert.equal(s.totalOut, 1);
    assert.equal(s.bytesIn, 52);
    assert.equal(s.bytesOut, 50);
  });

  it('counts an item handed straight to a parked receiver as in and out', async () => {
    const ch = new Channel<Item>();
    const r = ch.recv();
    await ch.send(item('a', 7));
    assert.equal((await r)?.id, 'a');
    const s = ch.stats();
    assert.equal(s.depth, 0);
    assert.equal(s.bytes, 0);
    assert.equal(s.totalIn, 1);
    assert.equal(s.totalOut, 1);
    assert.equal(s.bytesOut, 7);
  });

  it('blockedMs grows while a sender is parked and keeps the time after it is admitted', async () => {
    const ch = new Channel<Item>({ capacity: 1 });
    await ch.send(item('a'));
    assert.equal(ch.stats().blockedMs, 0);
    const parked = ch.send(item('b'));
    await flush();
    const whileParked = ch.stats();
    assert.equal(whileParked.blockedSenders, 1);
    assert.ok(whileParked.blockedMs > 0);
    ch.tryRecv();
    await parked;
    const after = ch.stats();
    assert.equal(after.blockedSenders, 0);
    assert.ok(after.blockedMs >= whileParked.blockedMs);
    await flush();
    // Nobody is parked now: the total no longer grows.
    assert.equal(ch.stats().blockedMs, after.blockedMs);
  });
});
