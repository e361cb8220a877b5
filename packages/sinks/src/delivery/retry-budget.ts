/**
 * A retry budget: retries may add at most a set share to the traffic a sink sends, plus a
 * small floor, so that an outage does not multiply the load on a backend that is already
 * struggling (every agent retrying every request is how a brown-out becomes an outage).
 *
 * A token bucket: each first attempt deposits `ratio` tokens, each retry takes one, and
 * `minPerSecond` tokens trickle in with time so that a quiet sink can still retry. The bucket
 * holds at most `ratio × 100 + minPerSecond × 10` tokens, so a long quiet spell does not bank
 * an unlimited burst of retries.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt. Default 0.2 (retries add at most 20 % to the load). */
  ratio?: number;
  /** Retries allowed per second whatever the traffic. Default 1. */
  minPerSecond?: number;
}

export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly #cap: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;
  #denied = 0;

  constructor(options: RetryBudgetOptions = {}, now: () => number = Date.now) {
    this.ratio = options.ratio ?? 0.2;
    this.minPerSecond = options.minPerSecond ?? 1;
    this.#cap = this.ratio * 100 + this.minPerSecond * 10;
    this.#now = now;
    this.#tokens = this.#cap;
    this.#refilledAt = now();
  }

  /** A first attempt went out. */
  deposit(): void {
    this.#refill();
    this.#tokens = Math.min(this.#cap, this.#tokens + this.ratio);
  }

  /** Takes a token for one retry; false (counted) when the budget is spent. */
  tryWithdraw(): boolean {
    this.#refill();
    // Deposits are fractions: allow for their rounding (ten deposits of 0.1 make one retry).
    if (this.#tokens >= 1 - 1e-9) {
      this.#tokens -= 1;
      return true;
    }
    this.#denied++;
    return false;
  }

  stats(): { tokens: number; denied: number } {
    this.#refill();
    return { tokens: Math.floor(this.#tokens * 100) / 100, denied: this.#denied };
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#refilledAt) / 1000;
    this.#refilledAt = now;
    this.#tokens = Math.min(this.#cap, this.#tokens + elapsed * this.minPerSecond);
  }
}
