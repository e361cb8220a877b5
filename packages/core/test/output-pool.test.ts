// The output pool: most-recently-used dispatch, growth up to maxWorkers, reaping of idle
// workers, and the dispatcher's wait at the maximum (the backpressure that reaches sources).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Batch, createEventBatch, OutputPool, type SinkOutcome } from '../src/index.js';

const batch = (n: number): Batch =>
  createEventBatch({ source: 'test', events: [{ timestamp: n, message: `m${n}` }] });

/** A sink whose writes finish only when the test releases them, recording who wrote what. */
function gatedSink() {
  const writes: { worker: number; batch: Batch; release: (o?: SinkOutcome) => void }[] = [];
  const write = (b: Batch, _signal: AbortSignal, worker: number) =>
    new Promise<SinkOutcome>((resolve) => writes.push({ worker, batch: b, release: resolve }));
  return { writes, write };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('OutputPool', () => {
  it('grows while all workers are busy, then makes the dispatcher wait at maxWorkers', async () => {
    const sink = gatedSink();
    const pool = new OutputPool('out', sink.write, {
      maxWorkers: 2,
      signal: new AbortController().signal,
    });
    await pool.dispatch(batch(1));
    await pool.dispatch(batch(2));
    await turn();
    assert.deepEqual(
      sink.writes.map((w) => w.worker),
      [0, 1],
    );
    assert.equal(pool.stats().spawned, 2);

    let third = false;
    const dispatching = pool.dispatch(batch(3)).then(() => {
      third = true;
    });
    await turn();
    assert.equal(third, false, 'at maxWorkers with all busy the dispatcher waits');
    assert.equal(pool.stats().busy, 2);

    sink.writes[1]!.release();
    await dispatching;
    await turn();
    assert.equal(sink.writes[2]!.worker, 1, 'the worker that became free takes the next batch');
    assert.equal(pool.stats().spawned, 2, 'never more than maxWorkers');
    assert.ok(pool.stats().waitMs >= 0);
    for (const w of sink.writes.slice(0, 3)) if (w !== sink.writes[1]) w.release();
    await pool.close();
    assert.equal(pool.stats().delivered, 3);
  });

  it('dispatches to the most recently used free worker first', async () => {
    const sink = gatedSink();
    const pool = new OutputPool('out', sink.write, {
      maxWorkers: 3,
      signal: new AbortController().signal,
    });
    for (const n of [1, 2, 3]) await pool.dispatch(batch(n));
    await turn();
    // Workers 0, 1, 2 busy; they finish in the order 2, 0, 1: worker 1 is now the MRU.
    for (const i of [2, 0, 1]) {
      sink.writes[i]!.release();
      await turn();
    }
    assert.deepEqual(pool.freeWorkers(), [2, 0, 1], 'least recently used first');
    await pool.dispatch(batch(4));
    await turn();
    assert.equal(sink.writes[3]!.worker, 1, 'MRU worker gets the batch');
    sink.writes[3]!.release();
    await turn();
    // Under light load one worker keeps taking everything.
    for (const n of [5, 6, 7]) {
      await pool.dispatch(batch(n));
      await turn();
      sink.writes.at(-1)!.release();
      await turn();
    }
    assert.deepEqual(
      sink.writes.slice(3).map((w) => w.worker),
      [1, 1, 1, 1],
    );
    await pool.close();
  });

  it('reaps workers idle longer than the timeout, least recently used first, down to min', async () => {
    const sink = gatedSink();
    const pool = new OutputPool('out', sink.write, {
      minWorkers: 1,
      maxWorkers: 3,
      idleTimeoutMs: 1000,
      signal: new AbortController().signal,
    });
    for (const n of [1, 2, 3]) await pool.dispatch(batch(n));
    await turn();
    for (const w of sink.writes) {
      w.release();
      await turn();
    }
    const now = performance.now();
    pool.reapIdle(now); // nobody has been idle for 1000 ms yet
    assert.equal(pool.stats().workers, 3);
    pool.reapIdle(now + 5_000);
    assert.deepEqual(pool.stats().workers, 1, 'reaped down to minWorkers');
    assert.equal(pool.stats().reaped, 2);
    assert.deepEqual(pool.freeWorkers(), [2], 'the most recently used worker survives');
    await pool.dispatch(batch(4));
    await turn();
    assert.equal(sink.writes[3]!.worker, 2);
    sink.writes[3]!.release();
    await pool.close();
  });

  it('settles each batch from the outcome: delivered, dropped, or rejected on a throw', async () => {
    const outcomes: SinkOutcome[] = [
      undefined,
      { status: 'dropped', reason: 'sampled' },
      { status: 'rejected', reason: 'bad_request' },
    ];
    let i = 0;
    const errors: unknown[] = [];
    const pool = new OutputPool(
      'out',
      async () => {
        const outcome = outcomes[i++];
        if (i === 4) throw Object.assign(new Error('boom'), { code: 'ECONNRESET' });
        return outcome;
      },
      { signal: new AbortController().signal, onError: (err) => errors.push(err) },
    );
    const batches = [1, 2, 3, 4].map(batch);
    for (const b of batches) await pool.dispatch(b);
    await pool.idle();
    const settled = await Promise.all(batches.map((b) => b.ack.settledPromise()));
    assert.deepEqual(
      settled.map((o) => [o.status, ...o.reasons]),
      [
        ['delivered'],
        ['dropped', 'out:sampled'],
        ['rejected', 'out:bad_request'],
        ['rejected', 'out:sink_error:ECONNRESET'],
      ],
    );
    assert.equal(errors.length, 1);
    assert.deepEqual(
      [pool.stats().delivered, pool.stats().dropped, pool.stats().rejected],
      [1, 1, 2],
    );
    await pool.close();
  });

  it('abandons writes cut short by its signal as dropped, and refuses bad sizes', async () => {
    const controller = new AbortController();
    const abandoned: Batch[] = [];
    let writing!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      writing = resolve;
    });
    const pool = new OutputPool(
      'out',
      (_b, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          writing();
        }),
      {
        signal: controller.signal,
        onAbandoned: (b) => {
          abandoned.push(b);
          return false;
        },
      },
    );
    const b = batch(1);
    await pool.dispatch(b);
    await inFlight;
    controller.abort(new Error('deadline'));
    const outcome = await b.ack.settledPromise();
    assert.equal(outcome.status, 'dropped');
    assert.deepEqual(outcome.reasons, ['out:shutdown_deadline']);
    assert.deepEqual(abandoned, [b]);
    await pool.close();

    assert.throws(
      () =>
        new OutputPool('x', async () => undefined, { maxWorkers: 0, signal: controller.signal }),
      { code: 'ERR_INVALID_OPTION' },
    );
    assert.throws(
      () =>
        new OutputPool('x', async () => undefined, {
          minWorkers: 3,
          maxWorkers: 2,
          signal: controller.signal,
        }),
      { code: 'ERR_INVALID_OPTION' },
    );
  });

  it('does not start a write once its signal has aborted', async () => {
    const controller = new AbortController();
    let writes = 0;
    const pool = new OutputPool(
      'out',
      async () => {
        writes++;
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('deadline'));
    const b = batch(1);
    await pool.dispatch(b);
    assert.equal((await b.ack.settledPromise()).status, 'dropped');
    assert.equal(writes, 0);
    await pool.close();
  });

  it('a dispatcher waiting at the maximum leaves the line when its signal aborts', async () => {
    const sink = gatedSink();
    const pool = new OutputPool('out', sink.write, {
      maxWorkers: 1,
      signal: new AbortController().signal,
    });
    await pool.dispatch(batch(1));
    const controller = new AbortController();
    const waiting = pool.dispatch(batch(2), controller.signal);
    controller.abort(new Error('stopping'));
    await assert.rejects(waiting, /stopping/);
    await turn();
    sink.writes[0]!.release();
    await pool.idle();
    assert.equal(pool.stats().dispatched, 1, 'the aborted dispatch never reached a worker');
    await pool.close();
  });

  it('gives a `requeue` batch back to a buffer that takes it, and leaves settling to it', async () => {
    const taken: Batch[] = [];
    const pool = new OutputPool(
      'out',
      async () => ({ status: 'requeue', reason: 'retries_exhausted' }) as const,
      {
        signal: new AbortController().signal,
        onRequeue: async (b) => {
          taken.push(b);
          return true;
        },
      },
    );
    const b = batch(1);
    await pool.dispatch(b);
    await pool.idle();
    assert.deepEqual(taken, [b]);
    assert.equal(b.ack.settled, false, 'the buffer settles it, not the pool');
    assert.equal(pool.stats().requeued, 1);
    assert.equal(pool.stats().rejected + pool.stats().dropped, 0);
    await pool.close();
  });

  it('holds a `requeue` batch no buffer takes, writing it again until it is delivered', async () => {
    let attempts = 0;
    const pool = new OutputPool(
      'out',
      async (): Promise<SinkOutcome> =>
        ++attempts < 3 ? { status: 'requeue', reason: 'retries_exhausted' } : undefined,
      { signal: new AbortController().signal, onRequeue: async () => false },
    );
    const b = batch(1);
    await pool.dispatch(b);
    assert.equal((await b.ack.settledPromise()).status, 'delivered');
    assert.equal(attempts, 3);
    assert.equal(pool.stats().rewrites, 2);
    assert.equal(pool.stats().requeued, 0);
    await pool.close();
  });

  it('stops holding a `requeue` batch at the hard stop and hands it to onAbandoned', async () => {
    const controller = new AbortController();
    const abandoned: Batch[] = [];
    const pool = new OutputPool(
      'out',
      async () => {
        controller.abort(new Error('deadline'));
        return { status: 'requeue', reason: 'retries_exhausted' } as const;
      },
      {
        signal: controller.signal,
        onAbandoned: (b) => {
          abandoned.push(b);
          return false;
        },
      },
    );
    const b = batch(1);
    await pool.dispatch(b);
    assert.equal((await b.ack.settledPromise()).status, 'dropped');
    assert.deepEqual(abandoned, [b]);
    await pool.close();
  });
});
