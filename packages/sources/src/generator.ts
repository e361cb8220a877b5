/**
 * The generator source: synthetic log events at a chosen rate, for demos, benchmarks and tests.
 *
 * Under backpressure it simply waits in `emit()`: a generator has nothing to lose by waiting,
 * and its `blocked_ms` counter shows exactly how long the pipeline held it back.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createEventBatch, createRawBatch, defineSource, type LogEvent } from '@spillway/core';

export interface GeneratorOptions {
  /** Events to make in all; default unbounded (until the pipeline stops). */
  count?: number;
  /** Events per batch. Default 1024. */
  batchSize?: number;
  /** Events per second at most; default as fast as the pipeline takes them. */
  ratePerSec?: number;
  /**
   * `events` (default) makes structured events with a `seq` attribute; `raw` makes
   * newline-delimited JSON bytes, as a file tail would.
   */
  format?: 'events' | 'raw';
  /** The message of event number `seq`. */
  message?: (seq: number) => string;
}

const defaultMessage = (seq: number) => `GET /api/items/${seq % 1000} 200 ${seq % 97}ms`;

/**
 * @example
 * ```ts
 * sources: { gen: generator({ count: 100_000, batchSize: 512, ratePerSec: 50_000 }) }
 * ```
 */
export const generator = defineSource<GeneratorOptions>({
  type: 'generator',
  validate(o) {
    const problems: string[] = [];
    if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 0)) {
      problems.push('count must be a non-negative integer');
    }
    if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
      problems.push('batchSize must be a positive integer');
    }
    if (o.ratePerSec !== undefined && !(o.ratePerSec > 0)) problems.push('ratePerSec must be > 0');
    if (o.format !== undefined && o.format !== 'events' && o.format !== 'raw') {
      problems.push('format must be "events" or "raw"');
    }
    return problems;
  },
  build(o) {
    const count = o.count ?? Number.POSITIVE_INFINITY;
    const batchSize = o.batchSize ?? 1024;
    const message = o.message ?? defaultMessage;
    const encoder = new TextEncoder();
    let generated = 0;
    return {
      stats: () => ({ generated }),
      async run(ctx) {
        const started = performance.now();
        while (generated < count && !ctx.stopping.aborted) {
          if (o.ratePerSec) {
            const due = started + (generated / o.ratePerSec) * 1000;
            const wait = due - performance.now();
            if (wait > 0) await delay(wait, undefined, { signal: ctx.stopping }).catch(() => {});
            if (ctx.stopping.aborted) break;
          }
          const n = Math.min(batchSize, count - generated);
          const now = Date.now();
          const events: LogEvent[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const seq = generated + i;
            events[i] = { timestamp: now, message: message(seq), attributes: { seq } };
          }
          const batch =
            o.format === 'raw'
              ? createRawBatch({
                  source: ctx.name,
                  data: encoder.encode(
                    events
                      .map((e) => `${JSON.stringify({ seq: e.attributes!.seq, msg: e.message })}\n`)
                      .join(''),
                  ),
                  lines: n,
                })
              : createEventBatch({ source: ctx.name, events });
          generated += n;
          await ctx.emit(batch);
        }
      },
    };
  },
});
