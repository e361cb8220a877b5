// Fixture stages shared by the pipeline tests: a counting source, sinks that record, stall or
// hang, and transforms that filter, split or throw. They are real stages built with the public
// define* helpers, not mocks of the runtime.
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Batch,
  createEventBatch,
  defineSink,
  defineSource,
  defineTransform,
  eventsOf,
  type Resource,
  withEvents,
} from '../src/index.js';

/** Emits `batches` batches of `batchSize` events whose `seq` attributes count from 0. */
export const counter = defineSource<{ batches: number; batchSize?: number; claims?: Resource[] }>({
  type: 'counter',
  validate: (o) => (o.batches >= 0 ? [] : ['batches must be ≥ 0']),
  resources: (o) => o.claims ?? [],
  build: (o) => ({
    async run(ctx) {
      const size = o.batchSize ?? 10;
      for (let b = 0; b < o.batches && !ctx.stopping.aborted; b++) {
        const events = Array.from({ length: size }, (_, i) => ({
          timestamp: 0,
          message: `m${b * size + i}`,
          attributes: { seq: b * size + i },
        }));
        await ctx.emit(createEventBatch({ source: ctx.name, events }));
      }
    },
  }),
});

/** Records the `seq` of every event it is given; `gate` (if any) must resolve before each write. */
export interface Recorder {
  seqs: number[];
  batches: Batch[];
  gate?: () => Promise<void>;
}

export const recorder = defineSink<{ into: Recorder; delayMs?: number }>({
  type: 'recorder',
  build: (o) => ({
    async write(batch, signal) {
      await o.into.gate?.();
      if (o.delayMs) await delay(o.delayMs, undefined, { signal });
      o.into.batches.push(batch);
      for (const event of eventsOf(batch)) o.into.seqs.push(event.attributes!.seq as number);
      return undefined;
    },
  }),
});

/** A sink whose writes never finish until aborted. */
export const hang = defineSink<Record<string, never>>({
  type: 'hang',
  build: () => ({
    write: (_batch, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  }),
});

/** Keeps events whose seq satisfies the predicate; drops whole batches that end up empty. */
export const keep = defineTransform<{ when: (seq: number) => boolean }>({
  type: 'keep',
  build: (o) => ({
    process(batch) {
      const events = eventsOf(batch).filter((e) => o.when(e.attributes!.seq as number));
      return events.length === 0 ? null : withEvents(batch, events);
    },
  }),
});

/** Splits each batch into one batch per event, sharing the acknowledgement. */
export const explode = defineTransform<Record<string, never>>({
  type: 'explode',
  build: () => ({
    process: (batch) => eventsOf(batch).map((event) => withEvents(batch, [event])),
  }),
});

/** Throws for batches containing `seq`. */
export const failOn = defineTransform<{ seq: number }>({
  type: 'fail-on',
  build: (o) => ({
    process(batch) {
      if (eventsOf(batch).some((e) => e.attributes!.seq === o.seq)) throw new Error('bad batch');
      return batch;
    },
  }),
});
