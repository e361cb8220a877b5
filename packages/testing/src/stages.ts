/**
 * Real stages for tests: sources that emit batches you give them (and record how each was
 * acknowledged), and a sink that records what it was given. Built with the public define*
 * helpers, so they exercise the same pipeline paths as production stages.
 */
import {
  type AckOutcome,
  type Batch,
  createEventBatch,
  defineSink,
  defineSource,
  eventsOf,
  type LogEvent,
  type SourceContext,
} from '@spillway/core';

/** What a {@link listSource} did: the outcome of each batch, in emit order, once settled. */
export interface ListSourceLog {
  readonly outcomes: AckOutcome[];
  readonly emitted: Batch[];
}

/**
 * Emits one event batch per entry of `batches`, waiting on backpressure, then ends. Each batch's
 * acknowledgement outcome is pushed to `log.outcomes` when it settles. A stop while it waits
 * withdraws that batch and ends `run()` quietly.
 *
 * @example
 * ```ts
 * const log = { outcomes: [], emitted: [] };
 * sources: { list: listSource({ batches: [[{ timestamp: 0, message: 'a' }]], log }) }
 * ```
 */
export const listSource = defineSource<{
  batches: readonly (readonly LogEvent[])[];
  log?: ListSourceLog;
}>({
  type: 'list',
  build: (o) => ({
    run: (ctx) =>
      emitEach(
        ctx,
        o.batches.length,
        (i) => createEventBatch({ source: ctx.name, events: o.batches[i]! }),
        o.log,
      ),
  }),
});

/** Options of {@link batchSource}. */
export interface BatchSourceOptions {
  /** Makes each batch; called once per batch, so every batch is new (and so is its ack). */
  readonly make: () => Batch;
  /** Batches in all. Default: until stopped. */
  readonly count?: number;
  /** Filled in as {@link listSource} does. */
  readonly log?: ListSourceLog;
}

/**
 * Emits batches made by `make()` — events or raw bytes, as you build them — waiting on
 * backpressure, until `count` or a stop.
 *
 * When to use: feeding a transform or sink under test with batches of a shape `listSource`
 * cannot make (raw batches, batches with positions), or with an endless stream.
 *
 * Gotchas: the batch's `source` is whatever `make()` sets, not the stage's name. A stop while
 * it waits in `emit()` withdraws that batch and ends `run()` quietly.
 *
 * @example
 * ```ts
 * sources: { feed: batchSource({ make: () => sampleBatch(), count: 100 }) }
 * ```
 */
export const batchSource = defineSource<BatchSourceOptions>({
  type: 'batches',
  validate: (o) =>
    o.count === undefined || (Number.isInteger(o.count) && o.count >= 0)
      ? []
      : ['count must be a whole number ≥ 0'],
  build: (o) => ({ run: (ctx) => emitEach(ctx, o.count ?? Infinity, () => o.make(), o.log) }),
});

/**
 * The loop of both sources above: `count` batches from `next`, each logged, each awaited. A stop
 * while it waits withdraws that batch and ends the loop quietly — a graceful stop must end
 * `run()` by returning, not by rejecting.
 */
async function emitEach(
  ctx: SourceContext,
  count: number,
  next: (i: number) => Batch,
  log: ListSourceLog | undefined,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (ctx.stopping.aborted) return;
    const batch = next(i);
    log?.emitted.push(batch);
    batch.ack.onSettled((outcome) => log?.outcomes.push(outcome));
    try {
      await ctx.emit(batch, ctx.stopping);
    } catch (err) {
      if (ctx.stopping.aborted) return;
      throw err;
    }
  }
}

/** What a {@link recordingSink} was given. */
export interface Recording {
  readonly batches: Batch[];
  readonly events: LogEvent[];
  /** Raw batches as text, concatenated. */
  text: string;
}

export function newRecording(): Recording {
  return { batches: [], events: [], text: '' };
}

/** Records every batch (and its events, or its raw text) and reports it delivered. */
export const recordingSink = defineSink<{ into: Recording }>({
  type: 'recording',
  build: (o) => ({
    async write(batch) {
      o.into.batches.push(batch);
      if (batch.payload.kind === 'raw') o.into.text += Buffer.from(batch.payload.data).toString();
      else o.into.events.push(...eventsOf(batch));
      return undefined;
    },
  }),
});
