/**
 * The blackhole sink: acknowledges every batch as delivered and keeps nothing, only counts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defineSink, isRecord, optionChecks, wrong } from '@spillway/core';

/** Options of {@link blackhole}. */
export interface BlackholeOptions {
  /** Milliseconds each `write()` takes before it acknowledges, as a slow destination would. Default 0. */
  delayMs?: number;
}

/**
 * Counts batches, events and bytes, and acknowledges each batch as delivered.
 *
 * When to use: to measure what a pipeline costs without a destination (benchmarks), to discard
 * an input on purpose, or — with `delayMs` — as a slow sink in tests of backpressure and
 * shutdown.
 *
 * Gotchas:
 * - Every batch is "delivered": sources commit their checkpoints past what reached it.
 * - `bytes` counts `batch.bytes`: exact for raw batches, the channel's estimate for events.
 * - With `delayMs`, a write cut short by its signal throws the signal's reason and is not
 *   counted. Concurrency comes from the pool: `maxWorkers` writes wait at once.
 *
 * Stats: `batches`, `events`, `bytes`.
 *
 * @example
 * ```ts
 * sinks: { discard: { inputs: ['parse'], stage: blackhole({}) } }
 * sinks: { slow: { inputs: ['gen'], stage: blackhole({ delayMs: 50 }), pool: { maxWorkers: 1 } } }
 * ```
 */
export const blackhole = defineSink<BlackholeOptions>({
  type: 'blackhole',

  validate(o) {
    if (!isRecord(o)) return [wrong('options', 'an object', o)];
    const problems: string[] = [];
    optionChecks(problems).nonNegativeNumber('delayMs', o.delayMs);
    return problems;
  },

  build(o) {
    const delayMs = o.delayMs ?? 0;
    const stats = { batches: 0, events: 0, bytes: 0 };
    return {
      async write(batch, signal) {
        signal.throwIfAborted();
        if (delayMs > 0) {
          try {
            await sleep(delayMs, undefined, { signal });
          } catch (err) {
            // timers/promises rejects with its own AbortError; the contract is the signal's reason.
            signal.throwIfAborted();
            throw err;
          }
        }
        stats.batches++;
        stats.events += batch.count;
        stats.bytes += batch.bytes;
        return undefined;
      },
      stats: () => ({ ...stats }),
    };
  },
});
