// A source plugin: a counter that emits a batch of events every `everyMs` milliseconds.
//
// It is small on purpose, so that what every source must do stands out. The contract in full is
// in docs/plugins.md; the parts this file shows:
//
//   1. The definition is a value (type, options, validate) apart from the running instance that
//      build() returns. A pipeline validates every definition before it builds anything.
//   2. Backpressure: it `await`s ctx.emit(). While the pipeline is full, emit() does not return,
//      so the ticker stops ticking — it never piles events up in memory of its own.
//   3. Graceful stop: ctx.stopping ends the wait between ticks at once. A batch already made is
//      still emitted (the pipeline drains after a stop begins), then run() returns.
//   4. Hard stop: when the stop deadline passes, ctx.signal aborts and a waiting emit() rejects;
//      run() then returns quietly. The pipeline has already counted that batch as undelivered.
//   5. Acknowledgements belong to the pipeline: the ticker never settles the `ack` of a batch it
//      emitted. (A source that can replay would listen with `batch.ack.onSettled()`.)
//   6. Nothing outlives run(): the only timer is the wait between ticks, and it is cancelled by
//      the same signal that ends the loop.
//
// Check it with the conformance kit (test/plugins.test.ts does):
//
//   assertConformance(await checkSource(() => ticker({ everyMs: 10 })));

import { setTimeout as sleep } from 'node:timers/promises';
import { createEventBatch, defineSource, type LogEvent } from '@spillway/core';

/** Options of {@link ticker}. Plain data, so they can come from a configuration file. */
export interface TickerOptions {
  /** Milliseconds between batches. */
  everyMs: number;
  /** Events per batch. Default 1. */
  batchSize?: number;
  /** Events in all; the source ends after them. Default: it never ends by itself. */
  count?: number;
}

const wholeNumber = (value: unknown, min: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min;

/**
 * Emits `{ message: 'tick <n>', attributes: { seq: n } }` events, `batchSize` per batch, one
 * batch every `everyMs` milliseconds. Under backpressure it waits: the next tick is scheduled
 * only after the previous batch was taken, so a stalled pipeline costs one batch, not a backlog.
 *
 * Metrics: `ticks` (batches made), next to the `batches_out` / `events_out` / `blocked_ms` that
 * the pipeline keeps for every source.
 */
export const ticker = defineSource<TickerOptions>({
  type: 'ticker',

  // validate() returns every problem as a sentence and never throws: options may come from a
  // configuration file, so even their shape is not to be trusted.
  validate(o) {
    if (o === null || typeof o !== 'object') return ['options must be an object'];
    const problems: string[] = [];
    if (!wholeNumber(o.everyMs, 1)) problems.push('everyMs must be a whole number ≥ 1');
    if (o.batchSize !== undefined && !wholeNumber(o.batchSize, 1)) {
      problems.push('batchSize must be a whole number ≥ 1');
    }
    if (o.count !== undefined && !wholeNumber(o.count, 0)) {
      problems.push('count must be a whole number ≥ 0');
    }
    return problems;
  },

  // build() runs when the pipeline is built, which may be long before it starts (or it may
  // never start). So it only prepares: no timer, socket or file is opened here. A source that
  // must open something early has to close it even when run() is never called.
  build(o) {
    const batchSize = o.batchSize ?? 1;
    return {
      async run(ctx) {
        let seq = 0;
        while (o.count === undefined || seq < o.count) {
          // The wait between ticks listens to `stopping`: a stop begins → the timer is cleared
          // and the promise rejects, which is our cue to return. (If `stopping` has already
          // aborted, it rejects at once.)
          try {
            await sleep(o.everyMs, undefined, { signal: ctx.stopping });
          } catch {
            return;
          }
          const events: LogEvent[] = [];
          const last = o.count === undefined ? seq + batchSize : Math.min(o.count, seq + batchSize);
          for (; seq < last; seq++) {
            events.push({ timestamp: Date.now(), message: `tick ${seq}`, attributes: { seq } });
          }
          // `source` names the stage that made the batch; the id and acknowledgement are new.
          const batch = createEventBatch({ source: ctx.name, events });
          try {
            // The backpressure: this waits while any consumer is full. No `stopping` signal is
            // passed, so the batch in hand still goes out while the pipeline drains; the hard
            // stop (`ctx.signal`) is always combined in by the pipeline.
            await ctx.emit(batch);
          } catch (err) {
            // Aborted by the hard stop: the pipeline settled and counted the batch. Anything
            // else is a real failure, which the pipeline counts as `stage_failures`.
            if (ctx.signal.aborted) return;
            throw err;
          }
          // The stage's own counters: the same object the build context gave; exported with
          // the pipeline's metrics under the stage's name.
          ctx.counters.add('ticks');
        }
      },
    };
  },
});

// Export the factory as default too, so the plugin can be named by path alone.
export default ticker;
