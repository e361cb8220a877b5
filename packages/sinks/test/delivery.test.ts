// The delivery primitives on their own: the retry schedule, Retry-After, the retry budget, the
// health state and its probe gate, the AIMD limiter, record slicing and the batcher.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { type BatchPayload, recordCount } from '@spillway/core';
import fc from 'fast-check';
import { Batcher } from '../src/delivery/batcher.js';
import { ConcurrencyLimiter } from '../src/delivery/concurrency.js';
import { SinkHealth } from '../src/delivery/health.js';
import { pickRecords, sliceRecords, splitRecords } from '../src/delivery/records.js';
import { RetryBudget } from '../src/delivery/retry-budget.js';
import {
  BACKOFF_DEFAULTS,
  backoffDelay,
  classifyStatus,
  parseRetryAfter,
} from '../src/delivery/retry-policy.js';

const signal = new AbortController().signal;
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('retry policy', () => {
  it('classifies statuses as the HTTP sinks promise', () => {
    for (const s of [200, 201, 204]) assert.equal(classifyStatus(s), 'delivered');
    for (const s of [408, 429, 500, 502, 503, 504, 507, 522])
      assert.equal(classifyStatus(s), 'retry');
    assert.equal(classifyStatus(413), 'split');
    for (const s of [301, 400, 401, 403, 404, 409, 422, 501, 505]) {
      assert.equal(classifyStatus(s), 'rejected');
    }
  });

  it('full jitter stays within [0, step], steps grow by the multiplier up to maxMs', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, r) => {
          const step = Math.min(BACKOFF_DEFAULTS.maxMs, BACKOFF_DEFAULTS.initialMs * 2 ** retry);
          const d = backoffDelay(BACKOFF_DEFAULTS, retry, undefined, () => r);
          return d >= 0 && d <= step && Math.abs(d - r * step) < 1e-6;
        },
      ),
    );
  });

  it('never waits less than Retry-After, cut to maxRetryAfterMs', () => {
    const policy = { ...BACKOFF_DEFAULTS, maxRetryAfterMs: 10_000 };
    assert.equal(
      backoffDelay(policy, 0, 3000, () => 0),
      3000,
    );
    assert.equal(
      backoffDelay(policy, 0, 60_000, () => 0),
      10_000,
    );
    assert.equal(
      backoffDelay(policy, 20, 10, () => 0.5),
      15_000,
      'jitter wins when longer',
    );
  });

  it('reads Retry-After as seconds or an HTTP-date, and nothing else', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now), 0, 'a past date is now');
    for (const bad of [undefined, '', '-1', '1.5', 'soon', '12abc']) {
      assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
    }
    assert.equal(parseRetryAfter(['2', '9'], now), 2000);
  });
});

describe('RetryBudget', () => {
  it('lets retries add only `ratio` of the first attempts, plus a trickle over time', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1 }, () => now);
    // The bucket starts full (cap = 0.1 × 100 + 1 × 10 = 20): spend it.
    let granted = 0;
    while (budget.tryWithdraw()) granted++;
    assert.equal(granted, 20);
    for (let i = 0; i < 100; i++) budget.deposit();
    granted = 0;
    while (budget.tryWithdraw()) granted++;
    assert.equal(granted, 10, '100 first attempts earn 10 retries');
    now += 3000;
    granted = 0;
    while (budget.tryWithdraw()) granted++;
    assert.equal(granted, 3, 'three seconds earn three');
    assert.ok(budget.stats().denied >= 3);
  });
});

describe('SinkHealth', () => {
  it('goes degraded on a failure, down after downAfter in a row, healthy on the first success', async () => {
    const health = new SinkHealth({ downAfter: 3, window: 5 });
    const attempt = async (ok: boolean) => (await health.admit(signal))(ok);
    await attempt(true);
    assert.equal(health.state, 'healthy');
    await attempt(false);
    assert.equal(health.state, 'degraded');
    await attempt(false);
    await attempt(false);
    assert.equal(health.state, 'down');
    await attempt(true);
    assert.equal(health.state, 'healthy', 'one success restores full flow');
    await attempt(false);
    for (let i = 0; i < 5; i++) await attempt(true);
    assert.equal(health.state, 'healthy', 'a clean window heals a degraded sink');
  });

  it('while down, lets one probe through at a time and frees everyone on its success', async () => {
    const health = new SinkHealth({ downAfter: 1 });
    (await health.admit(signal))(false);
    assert.equal(health.state, 'down');
    const probe = await health.admit(signal);
    let admitted = 0;
    const waiting = [health.admit(signal), health.admit(signal)].map((p) =>
      p.then((done) => {
        admitted++;
        return done;
      }),
    );
    await turn();
    assert.equal(admitted, 0, 'the others wait for the probe');
    probe(false);
    await turn();
    assert.equal(admitted, 1, 'a failed probe passes the turn to one waiter');
    (await waiting[0]!)(true);
    await turn();
    assert.equal(admitted, 2, 'a successful probe frees the rest');
    assert.equal(health.state, 'healthy');
    assert.equal(health.stats().probes, 2);
  });

  it('a waiter leaves the line when its signal aborts', async () => {
    const health = new SinkHealth({ downAfter: 1 });
    (await health.admit(signal))(false);
    await health.admit(signal);
    const controller = new AbortController();
    const waiting = health.admit(controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
  });
});

describe('ConcurrencyLimiter', () => {
  it('fixed: never more than the number in flight', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const a = await limiter.acquire(signal);
    await limiter.acquire(signal);
    let third = false;
    const c = limiter.acquire(signal).then(() => {
      third = true;
    });
    await turn();
    assert.equal(third, false);
    a({ rttMs: 1, backpressure: true });
    await c;
    assert.equal(limiter.limit, 2, 'a fixed limit does not adapt');
  });

  it('adaptive: grows by one per window while saturated and fast, shrinks on backpressure', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter({ adaptive: { max: 10, minWindowMs: 10 } }, () => now);
    assert.equal(limiter.limit, 1);
    // Saturated windows with a steady 10 ms round trip: +1 each.
    for (let window = 0; window < 5; window++) {
      const releases = [];
      for (let i = 0; i < limiter.limit; i++) releases.push(await limiter.acquire(signal));
      now += 10;
      for (const release of releases) release({ rttMs: 10, backpressure: false });
    }
    assert.equal(limiter.limit, 6);
    const release = await limiter.acquire(signal);
    now += 10;
    release({ rttMs: 10, backpressure: true });
    assert.equal(limiter.limit, 5, 'multiplicative decrease: floor(6 × 0.9)');
    assert.equal(limiter.stats().decreases, 1);
  });

  it('adaptive: shrinks when round trips grow well past their mean', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(
      { adaptive: { initial: 8, max: 10, minWindowMs: 10 } },
      () => now,
    );
    for (let window = 0; window < 5; window++) {
      const release = await limiter.acquire(signal);
      now += 10;
      release({ rttMs: 10, backpressure: false });
    }
    assert.equal(limiter.limit, 8, 'not saturated: no growth');
    const release = await limiter.acquire(signal);
    now += 100;
    release({ rttMs: 100, backpressure: false });
    assert.equal(limiter.limit, 7, 'a slow window is backpressure too');
  });
});

describe('records', () => {
  const raw = (text: string): BatchPayload => {
    const data = Buffer.from(text);
    return { kind: 'raw', data, lines: text.split('\n').length - 1 };
  };
  const text = (p: BatchPayload) => (p.kind === 'raw' ? Buffer.from(p.data).toString() : '');

  it('slices, picks and splits raw lines at line ends, counting an unterminated last line', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\n', ' ')),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 64 }),
        (lines, terminated, maxRecords, maxBytes) => {
          // Unterminated, a last empty line is no line at all.
          fc.pre(terminated || lines.at(-1) !== '');
          const body = lines.join('\n') + (terminated ? '\n' : '');
          const payload = raw(body);
          if (recordCount(payload) !== lines.length) return false;
          const pieces = splitRecords(payload, maxRecords, maxBytes);
          if (pieces.map(text).join('') !== body) return false;
          if (pieces.some((p) => recordCount(p) > maxRecords)) return false;
          const mid = Math.floor(lines.length / 2);
          if (
            text(sliceRecords(payload, 0, mid)) + text(sliceRecords(payload, mid, lines.length)) !==
            body
          ) {
            return false;
          }
          const odd = lines.map((_, i) => i).filter((i) => i % 2 === 1);
          const picked = pickRecords(payload, odd);
          return recordCount(picked) === odd.length;
        },
      ),
    );
  });

  it('splits events by count', () => {
    const events = Array.from({ length: 7 }, (_, i) => ({ timestamp: i, message: `m${i}` }));
    const pieces = splitRecords({ kind: 'events', events }, 3, 1);
    assert.deepEqual(
      pieces.map((p) => recordCount(p)),
      [3, 3, 1],
    );
  });
});

describe('Batcher', () => {
  const chunk = (records: number, bytes = records) => ({ records, bytes });

  it('flushes a key at maxEvents or maxBytes, and on its own after lingerMs', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const flushed: [string, number][] = [];
      const batcher = new Batcher(
        { maxEvents: 10, maxBytes: 100, lingerMs: 50 },
        100,
        (key, chunks) => flushed.push([key, chunks.length]),
      );
      batcher.add('a', chunk(4));
      batcher.add('a', chunk(6));
      assert.deepEqual(flushed, [['a', 2]], 'reached maxEvents');
      batcher.add('b', chunk(1, 60));
      batcher.add('b', chunk(1, 60));
      assert.deepEqual(flushed.at(-1), ['b', 1], 'the second would pass maxBytes: the first goes');
      mock.timers.tick(49);
      assert.equal(flushed.length, 2);
      mock.timers.tick(1);
      assert.deepEqual(flushed.at(-1), ['b', 1], 'linger sent the rest');
      assert.equal(batcher.held, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it('never holds more than maxChunks chunks, whatever the keys', () => {
    const flushed: number[] = [];
    const batcher = new Batcher({ maxEvents: 1e6, maxBytes: 1e9, lingerMs: 1e6 }, 3, (_k, c) =>
      flushed.push(c.length),
    );
    for (const key of ['a', 'b', 'a', 'c', 'a']) {
      batcher.add(key, chunk(1));
      assert.ok(batcher.held < 3);
    }
    batcher.flushAll();
    assert.equal(batcher.held, 0);
    assert.equal(
      flushed.reduce((a, b) => a + b, 0),
      5,
    );
  });
});
