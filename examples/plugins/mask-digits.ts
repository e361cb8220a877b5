// A transform plugin: masks digits — card numbers, phone numbers, account ids — in the message
// and in chosen attributes, e.g. `card 4111111111111111` → `card ############1111`.
//
// A transform is a verb: it takes a batch and returns what to pass on. The contract in full is
// in docs/plugins.md; the parts this file shows:
//
//   1. Acknowledgements: `withEvents(batch, events)` makes the output from the input, keeping
//      its id (receivers de-duplicate by it) and its acknowledgement (the source learns of the
//      delivery when the sinks report). The transform itself never settles an acknowledgement.
//   2. Inputs are not modified: the same batch may have been routed to other consumers too, so
//      changed events are copies.
//   3. process() is synchronous and short, so it cannot hang: it needs nothing from its
//      AbortSignal. A transform that waits (I/O, a worker) must pass the signal to each wait.
//   4. It can run in worker threads, because:
//        - its spec sets `module: import.meta.url`, so the definition says where it came from;
//        - the factory is exported under its type name (`maskDigits`) and as default;
//        - its options are plain data that survive `structuredClone`;
//        - build() validates again: in a worker, the pipeline's validation ran on another
//          thread, and a transform must not run on options it would refuse.
//      So it works in `workers({ steps: [maskDigits({ keepLast: 4 })] })` from
//      @spillway/workers, or loaded by path with `await loadTransform('./mask-digits.js', …)`.
//
// Check it with the conformance kit (test/plugins.test.ts does):
//
//   assertConformance(await checkTransform(() => maskDigits({}), { input: () => sampleBatch() }));

import {
  defineTransform,
  eventsOf,
  type LogEvent,
  SpillwayError,
  withEvents,
} from '@spillway/core';

/** Options of {@link maskDigits}. Plain data: they are cloned into worker threads. */
export interface MaskDigitsOptions {
  /** Where to mask: `message` and attribute names. Default `['message']`. */
  fields?: readonly string[];
  /** What each masked digit becomes: one character. Default `#`. */
  mask?: string;
  /**
   * Digits left visible at the end of each run of digits (4 shows a card's last four). A run no
   * longer than this stays as it is. Default 0.
   */
  keepLast?: number;
}

/** Every problem with `o`, as sentences. Shared by validate() and build(). */
function problemsOf(o: unknown): string[] {
  if (o === null || typeof o !== 'object') return ['options must be an object'];
  const { fields, mask, keepLast } = o as MaskDigitsOptions;
  const problems: string[] = [];
  if (fields !== undefined) {
    if (!Array.isArray(fields) || fields.length === 0) {
      problems.push('fields must be a non-empty list of field names');
    } else if (fields.some((f) => typeof f !== 'string' || f === '')) {
      problems.push('each field must be a non-empty string: `message` or an attribute name');
    }
  }
  if (mask !== undefined && (typeof mask !== 'string' || [...mask].length !== 1)) {
    problems.push('mask must be exactly one character');
  }
  if (keepLast !== undefined && !(Number.isInteger(keepLast) && keepLast >= 0)) {
    problems.push('keepLast must be a whole number ≥ 0');
  }
  return problems;
}

/**
 * Replaces each digit in the message (or in `fields`) with `mask`, leaving the last `keepLast`
 * digits of every run of digits as they are. Only string values are looked at: a numeric
 * attribute such as `seq: 42` is left alone.
 *
 * Metrics: `digits_masked`, next to the `batches_in` / `events_in` / … every transform has.
 */
export const maskDigits = defineTransform<MaskDigitsOptions>({
  type: 'maskDigits',
  // Where this factory can be imported from again: a worker thread imports this module and
  // calls the export named like `type` (or the default) with a copy of the options.
  module: import.meta.url,
  validate: problemsOf,
  build(options, { counters }) {
    const problems = problemsOf(options);
    if (problems.length > 0) {
      throw new SpillwayError('ERR_INVALID_OPTION', `maskDigits: ${problems.join('; ')}`);
    }
    const fields = options.fields ?? ['message'];
    const mask = options.mask ?? '#';
    const keep = options.keepLast ?? 0;

    // Built once per instance (per thread in workers), reused for every batch. The `g` flag
    // keeps state only between calls of exec(); replace() resets it, so sharing is safe.
    const digitRuns = /\d+/g;
    let masked = 0;
    const maskText = (text: string): string =>
      text.replace(digitRuns, (run) => {
        const hidden = Math.max(0, run.length - keep);
        masked += hidden;
        return mask.repeat(hidden) + run.slice(hidden);
      });

    const maskEvent = (event: LogEvent): LogEvent => {
      let out = event;
      for (const field of fields) {
        if (field === 'message') {
          const message = maskText(event.message);
          if (message !== event.message) out = { ...out, message };
          continue;
        }
        const value = event.attributes?.[field];
        if (typeof value !== 'string') continue;
        const replaced = maskText(value);
        // Copy on write: the input event may be seen by other consumers of the same batch.
        if (replaced !== value)
          out = { ...out, attributes: { ...out.attributes, [field]: replaced } };
      }
      return out;
    };

    return {
      process(batch) {
        masked = 0;
        const events = eventsOf(batch).map(maskEvent);
        counters.add('digits_masked', masked);
        // Same id, same acknowledgement, new events.
        return withEvents(batch, events);
      },
    };
  },
});

// Exported under its type name (above) and as default: loaders look for either.
export default maskDigits;
