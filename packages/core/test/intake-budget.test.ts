import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Acknowledgement, IntakeBudget } from '../src/index.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('IntakeBudget', () => {
  it('refuses a reservation that does not fit, and counts it', () => {
    const budget = new IntakeBudget({ maxBytes: 100 });
    assert.equal(budget.tryReserve(60), true);
    assert.equal(budget.tryReserve(50), false);
    assert.equal(budget.tryReserve(40), true);
    assert.deepEqual(
      { used: budget.stats().usedBytes, refused: budget.stats().refused },
      { used: 100, refused: 1 },
    );
    budget.release(60);
    assert.equal(budget.tryReserve(50), true);
  });

  it('lets one oversized request through when nothing is reserved', () => {
    const budget = new IntakeBudget({ maxBytes: 100 });
    assert.equal(budget.tryReserve(500), true);
    assert.equal(budget.tryReserve(1), false);
  });

  it('releases when the acknowledgement settles, whatever the outcome', () => {
    const budget = new IntakeBudget({ maxBytes: 100 });
    const delivered = new Acknowledgement();
    const dropped = new Acknowledgement();
    budget.tryReserve(30);
    budget.tryReserve(30);
    budget.releaseOnSettle(delivered, 30);
    budget.releaseOnSettle(dropped, 30);
    delivered.settle('delivered');
    assert.equal(budget.usedBytes, 30);
    dropped.settle('dropped', 'test');
    assert.equal(budget.usedBytes, 0);
  });

  it('advises Retry-After from the measured drain rate, within its bounds', () => {
    const c = clock();
    const budget = new IntakeBudget({ maxBytes: 1000, windowSec: 10, now: c.now });
    budget.tryReserve(1000);
    // Nothing has drained: the backend looks stalled, advise the maximum.
    assert.equal(budget.retryAfterSec(500), 60);
    // 100 bytes/s over the 10 s window.
    for (let s = 0; s < 10; s++) {
      c.t += 1000;
      budget.release(100);
      budget.tryReserve(100);
    }
    assert.equal(budget.drainRate(), 100);
    // 1000 used + 500 wanted - 1000 max = 500 excess at 100 B/s.
    assert.equal(budget.retryAfterSec(500), 5);
    assert.equal(budget.retryAfterSec(1), 1, 'never below the minimum');
    // A refund frees room but is not drain: bad requests must not shorten Retry-After.
    budget.refund(100);
    assert.equal(budget.usedBytes, 900);
    assert.equal(budget.drainRate(), 100);
    // Slots older than the window are forgotten.
    c.t += 20_000;
    assert.equal(budget.drainRate(), 0);
  });
});
