/**
 * The byte budget of a push source (OTLP/HTTP, HTTP, TCP): how many bytes it may have accepted
 * and not yet seen acknowledged end to end. A receiver reserves a request's declared size
 * *before* reading its body; when the budget has no room, it refuses at once (HTTP 429) with a
 * `Retry-After` worked out from how fast acknowledgements have been releasing bytes lately.
 *
 * ```
 *   reserve(len) ─▶ read, parse, emit ─▶ … sinks … ─▶ ack settles ─▶ release(len)
 *        │ no room                                                     │
 *        └─▶ 429, Retry-After = ceil(excess / drain rate)  ◀── drain rate over the last window
 * ```
 *
 * Counting unacknowledged bytes, rather than the fill of the first channel, bounds everything a
 * source has let in, wherever it sits in the pipeline (channels, transforms, sink retries).
 */
import type { Acknowledgement } from './acknowledgement.js';

export interface IntakeBudgetOptions {
  /** Bytes accepted and not yet acknowledged, at most. */
  maxBytes: number;
  /** The drain rate is averaged over this many seconds. Default 10. */
  windowSec?: number;
  /** Bounds of the advised retry delay, in seconds. Default 1 and 60. */
  minRetryAfterSec?: number;
  maxRetryAfterSec?: number;
  /** The clock, in milliseconds; tests pass a fake one. Default `Date.now`. */
  now?: () => number;
}

export interface IntakeBudgetStats {
  readonly usedBytes: number;
  readonly maxBytes: number;
  /** Bytes released per second, averaged over the window. */
  readonly drainBytesPerSec: number;
  readonly reserved: number;
  readonly refused: number;
}

/**
 * When to use: in a source whose clients can retry (HTTP, OTLP), to refuse work up front
 * instead of accepting it and then blocking or dropping it.
 *
 * Gotchas: every successful `tryReserve(n)` must be paired with exactly one give-back:
 * `refund(n)` when the request fails before its data was emitted, else `releaseOnSettle()`.
 * When the budget is empty a reservation always succeeds, even above `maxBytes`, so that a
 * single request larger than the budget (but within the body limit) is not refused forever.
 *
 * @example
 * ```ts
 * const budget = new IntakeBudget({ maxBytes: 64 << 20 });
 * if (!budget.tryReserve(contentLength)) return reply(429, { 'retry-after': budget.retryAfterSec(contentLength) });
 * budget.releaseOnSettle(batch.ack, contentLength);
 * ```
 */
export class IntakeBudget {
  readonly maxBytes: number;
  readonly #now: () => number;
  readonly #minRetry: number;
  readonly #maxRetry: number;
  /** Bytes released per one-second slot over the window: a fixed ring, never grows. */
  readonly #slots: Float64Array;
  #slotSecond: number;
  #used = 0;
  #reserved = 0;
  #refused = 0;

  constructor(options: IntakeBudgetOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError('maxBytes must be > 0');
    this.maxBytes = options.maxBytes;
    this.#now = options.now ?? Date.now;
    this.#minRetry = options.minRetryAfterSec ?? 1;
    this.#maxRetry = options.maxRetryAfterSec ?? 60;
    this.#slots = new Float64Array(Math.max(1, Math.floor(options.windowSec ?? 10)));
    this.#slotSecond = Math.floor(this.#now() / 1000);
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** Reserves `bytes` if they fit (or if nothing is reserved at all); false means refuse. */
  tryReserve(bytes: number): boolean {
    if (this.#used > 0 && this.#used + bytes > this.maxBytes) {
      this.#refused++;
      return false;
    }
    this.#used += bytes;
    this.#reserved++;
    return true;
  }

  /** Gives back bytes reserved earlier; they count towards the drain rate. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    this.#advance();
    this.#slots[this.#slotSecond % this.#slots.length]! += bytes;
  }

  /**
   * Gives back bytes of a request that failed before its data entered the pipeline (malformed,
   * client gone): unlike `release()`, they do not count as drained, so a burst of bad requests
   * cannot make `Retry-After` look shorter than the pipeline's real pace.
   */
  refund(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }

  /** Releases `bytes` once `ack` settles, whatever the outcome. */
  releaseOnSettle(ack: Acknowledgement, bytes: number): void {
    ack.onSettled(() => this.release(bytes));
  }

  /** Bytes released per second over the window. */
  drainRate(): number {
    this.#advance();
    let sum = 0;
    for (const value of this.#slots) sum += value;
    return sum / this.#slots.length;
  }

  /**
   * Whole seconds after which a request of `bytes` should fit, if acknowledgements keep
   * releasing bytes at the recent rate; the maximum when nothing drained lately (a stalled
   * backend), clamped to the configured bounds.
   */
  retryAfterSec(bytes: number): number {
    const excess = this.#used + bytes - this.maxBytes;
    const rate = this.drainRate();
    if (rate <= 0) return this.#maxRetry;
    const seconds = Math.ceil(Math.max(0, excess) / rate);
    return Math.min(this.#maxRetry, Math.max(this.#minRetry, seconds));
  }

  stats(): IntakeBudgetStats {
    return {
      usedBytes: this.#used,
      maxBytes: this.maxBytes,
      drainBytesPerSec: Math.round(this.drainRate()),
      reserved: this.#reserved,
      refused: this.#refused,
    };
  }

  /** Clears the slots of the seconds that passed since the last call. */
  #advance(): void {
    const second = Math.floor(this.#now() / 1000);
    const passed = second - this.#slotSecond;
    if (passed <= 0) return;
    const n = this.#slots.length;
    for (let i = 1; i <= Math.min(passed, n); i++) this.#slots[(this.#slotSecond + i) % n] = 0;
    this.#slotSecond = second;
  }
}
