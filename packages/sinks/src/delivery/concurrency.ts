/**
 * How many requests a sink keeps in flight: fixed, or adapted by AIMD from what the backend
 * shows (the idea of Vector's adaptive request concurrency).
 *
 * Adaptive: start at one request in flight. Once per window (one past round-trip time, at
 * least `minWindowMs`), look at what came back in it:
 * - a retryable answer (429, 503, a timeout, a reset) or a round-trip time above the past mean
 *   by more than `rttDeviation` standard deviations (and at least 5 %): the backend is
 *   saturating — cut the limit to `decreaseRatio` of itself (at least 1);
 * - otherwise, if the limit was reached in the window: add one.
 * The past mean and variance are exponentially weighted (`ewmaAlpha`), so the limit follows a
 * backend whose capacity changes. A `Retry-After` is honoured by the retry schedule, not here:
 * it only counts as a retryable answer.
 */
import { ParkingLot } from '@spillway/core';

export interface AdaptiveConcurrencyOptions {
  /** Default 1. */
  initial?: number;
  /** The most requests in flight. Default 32. */
  max?: number;
  /** Default 0.9. */
  decreaseRatio?: number;
  /** Default 0.4. */
  ewmaAlpha?: number;
  /** Default 2.5. */
  rttDeviation?: number;
  /** Default 50 ms. */
  minWindowMs?: number;
}

/** `'adaptive'` (defaults), adaptive with options, or a fixed number of requests in flight. */
export type ConcurrencyOption = number | 'adaptive' | { adaptive: AdaptiveConcurrencyOptions };

/** One request's permit: give it back with what its round trip showed. */
export type Release = (result: { rttMs: number; backpressure: boolean }) => void;

export class ConcurrencyLimiter {
  readonly adaptive: boolean;
  readonly max: number;
  readonly #decreaseRatio: number;
  readonly #alpha: number;
  readonly #deviation: number;
  readonly #minWindowMs: number;
  readonly #now: () => number;
  readonly #waiters = new ParkingLot();
  #limit: number;
  #inFlight = 0;
  // The current window.
  #windowStart: number;
  #windowRttSum = 0;
  #windowCount = 0;
  #windowBackpressure = false;
  #windowReachedLimit = false;
  // The past, exponentially weighted.
  #pastRtt: number | undefined;
  #pastVariance = 0;
  #increases = 0;
  #decreases = 0;

  constructor(option: ConcurrencyOption = 'adaptive', now: () => number = performanceNow) {
    this.#now = now;
    this.#windowStart = now();
    if (typeof option === 'number') {
      this.adaptive = false;
      this.max = option;
      this.#limit = option;
      this.#decreaseRatio = 1;
      this.#alpha = 0;
      this.#deviation = 0;
      this.#minWindowMs = 0;
      return;
    }
    const o = option === 'adaptive' ? {} : option.adaptive;
    this.adaptive = true;
    this.max = o.max ?? 32;
    this.#limit = Math.min(this.max, o.initial ?? 1);
    this.#decreaseRatio = o.decreaseRatio ?? 0.9;
    this.#alpha = o.ewmaAlpha ?? 0.4;
    this.#deviation = o.rttDeviation ?? 2.5;
    this.#minWindowMs = o.minWindowMs ?? 50;
  }

  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for a free slot under the current limit. */
  async acquire(signal: AbortSignal): Promise<Release> {
    while (this.#inFlight >= this.#limit) await this.#waiters.park(signal);
    this.#inFlight++;
    if (this.#inFlight >= this.#limit) this.#windowReachedLimit = true;
    let released = false;
    return (result) => {
      if (released) return;
      released = true;
      this.#inFlight--;
      if (this.adaptive) this.#observe(result.rttMs, result.backpressure);
      this.#waiters.wakeOne();
    };
  }

  stats(): {
    limit: number;
    in_flight: number;
    increases: number;
    decreases: number;
    rtt_ms?: number;
  } {
    return {
      limit: this.#limit,
      in_flight: this.#inFlight,
      increases: this.#increases,
      decreases: this.#decreases,
      ...(this.#pastRtt === undefined ? {} : { rtt_ms: Math.round(this.#pastRtt * 10) / 10 }),
    };
  }

  #observe(rttMs: number, backpressure: boolean): void {
    this.#windowRttSum += rttMs;
    this.#windowCount++;
    if (backpressure) this.#windowBackpressure = true;
    const now = this.#now();
    if (now - this.#windowStart < Math.max(this.#minWindowMs, this.#pastRtt ?? 0)) return;

    const mean = this.#windowRttSum / this.#windowCount;
    const past = this.#pastRtt;
    const slower =
      past !== undefined &&
      mean > past + Math.max(this.#deviation * Math.sqrt(this.#pastVariance), past * 0.05);
    const before = this.#limit;
    if (this.#windowBackpressure || slower) {
      this.#limit = Math.max(1, Math.floor(this.#limit * this.#decreaseRatio));
    } else if (this.#windowReachedLimit) {
      this.#limit = Math.min(this.max, this.#limit + 1);
    }
    if (this.#limit < before) this.#decreases++;
    if (this.#limit > before) {
      this.#increases++;
      this.#waiters.wakeAll();
    }
    // Back-pressured round trips say little about the backend's normal speed: keep them out.
    if (!this.#windowBackpressure) {
      if (past === undefined) this.#pastRtt = mean;
      else {
        const diff = mean - past;
        this.#pastRtt = past + this.#alpha * diff;
        this.#pastVariance = (1 - this.#alpha) * (this.#pastVariance + this.#alpha * diff * diff);
      }
    }
    this.#windowStart = now;
    this.#windowRttSum = 0;
    this.#windowCount = 0;
    this.#windowBackpressure = false;
    this.#windowReachedLimit = this.#inFlight >= this.#limit;
  }
}

function performanceNow(): number {
  return performance.now();
}
