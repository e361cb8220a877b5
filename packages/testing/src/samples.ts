/**
 * Sample data for checks and tests: batches of log events that look like real ones (a message
 * with digits, an address, a few attributes) and are large enough that keeping them shows.
 */
import { type Batch, createEventBatch, type LogEvent } from '@spillway/core';

/** Options of {@link sampleBatch}. */
export interface SampleBatchOptions {
  /** Events in the batch. Default 32. */
  readonly events?: number;
  /** The batch's `source`. Default `sample`. */
  readonly source?: string;
  /** `seq` of the first event. Default: continues from the previous sample batch. */
  readonly firstSeq?: number;
}

let nextSeq = 0;

/**
 * A new event batch with its own id and acknowledgement. Each event has a message of about 80
 * characters containing digits (`user 4711 logged in from 10.1.2.3 in 27 ms`), a `seq`, a
 * `user` and a `level` attribute.
 *
 * When to use: as the `input` of `checkTransform` / `checkSink` when your stage takes any
 * events, or as test data.
 *
 * Gotchas: `seq` keeps counting across calls (pass `firstSeq` for repeatable data); the
 * timestamps are fixed, so two batches with the same `seq` range are equal but for id and ack.
 *
 * @example
 * ```ts
 * const report = await checkTransform(() => maskDigits({}), { input: () => sampleBatch() });
 * ```
 */
export function sampleBatch(options: SampleBatchOptions = {}): Batch {
  const size = options.events ?? 32;
  const first = options.firstSeq ?? nextSeq;
  nextSeq = first + size;
  const events: LogEvent[] = [];
  for (let seq = first; seq < first + size; seq++) {
    const user = 1000 + (seq % 9000);
    events.push({
      timestamp: 1_700_000_000_000 + seq,
      message: `user ${user} logged in from 10.${seq % 256}.${(seq >> 8) % 256}.7 in ${seq % 97} ms (session ${seq})`,
      severity: 'info',
      attributes: { seq, user, level: 'info' },
    });
  }
  return createEventBatch({ source: options.source ?? 'sample', events });
}
