// Fixture stages for the conformance kit's own tests: for each kind, stages that honour the
// contract in different ways (all must pass), and stages that each break one rule the way real
// plugins do (each must fail the check for that rule, and only that one).
//
// Fixtures that would otherwise run, hang or hold a timer forever take a `lifetime` signal: the
// test aborts it when done, so the process can exit.
import { open } from 'node:fs/promises';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import {
  type Batch,
  createEventBatch,
  defineSink,
  defineSource,
  defineTransform,
  eventsOf,
  withEvents,
} from '@spillway/core';
import { sampleBatch } from '../src/index.js';

const everyMsProblems = (o: { everyMs: number }) =>
  Number.isInteger(o.everyMs) && o.everyMs > 0 ? [] : ['everyMs must be a positive integer'];

/** Runs `body` until `lifetime` aborts; for fixtures that misbehave on purpose. */
function until(lifetime: AbortSignal, ms: number): Promise<void> {
  return delay(ms, undefined, { signal: lifetime }).catch(() => {});
}

// ─── sources ────────────────────────────────────────────────────────────────────────────────

/** Good: a batch every `everyMs`; waits in emit(); stops reading at `stopping`. */
export const steady = defineSource<{ everyMs: number }>({
  type: 'steady',
  validate: everyMsProblems,
  build: (o) => ({
    async run(ctx) {
      while (!ctx.stopping.aborted) {
        try {
          await delay(o.everyMs, undefined, { signal: ctx.stopping });
        } catch {
          return;
        }
        try {
          // No stopping signal: a batch in hand is still delivered while the pipeline drains.
          await ctx.emit(sampleBatch({ events: 4 }));
        } catch (err) {
          if (ctx.signal.aborted) return;
          throw err;
        }
      }
    },
  }),
});

/** Good when `count` (drops what tryEmit() refuses and counts it); bad without. */
export const dropper = defineSource<{ count: boolean }>({
  type: 'dropper',
  build: (o) => ({
    async run(ctx) {
      while (!ctx.stopping.aborted) {
        const result = ctx.tryEmit(sampleBatch({ events: 2 }));
        if (!result.ok && o.count) ctx.counters.add('batches_dropped');
        await delay(1);
      }
    },
  }),
});

/** Bad: never looks at `stopping`; only a rejected emit (the hard stop) ends it. */
export const ignoresStopping = defineSource<Record<string, never>>({
  type: 'ignores-stopping',
  build: () => ({
    async run(ctx) {
      for (;;) {
        await delay(2);
        await ctx.emit(sampleBatch({ events: 4 }));
      }
    },
  }),
});

/** Bad: when emit() rejects it retries forever, hard stop or not. */
export const swallowsHardStop = defineSource<{ lifetime: AbortSignal }>({
  type: 'swallows-hard-stop',
  build: (o) => ({
    async run(ctx) {
      while (!ctx.stopping.aborted) {
        const batch = sampleBatch({ events: 4 });
        for (;;) {
          try {
            await ctx.emit(batch);
            break;
          } catch {
            if (o.lifetime.aborted) return;
            await until(o.lifetime, 10);
          }
        }
        await delay(2);
      }
    },
  }),
});

/** Bad: emits without awaiting, so unsent batches pile up in pending emit() calls. */
export const firesAndForgets = defineSource<Record<string, never>>({
  type: 'fires-and-forgets',
  build: () => ({
    async run(ctx) {
      while (!ctx.stopping.aborted) {
        ctx.emit(sampleBatch({ events: 4 })).catch(() => {});
        await nextTurn();
      }
    },
  }),
});

/** Bad: reads ahead into an unbounded backlog while one emit() at a time waits. */
export const hoards = defineSource<Record<string, never>>({
  type: 'hoards',
  build: () => ({
    async run(ctx) {
      const backlog: Batch[] = [];
      const reader = (async () => {
        while (!ctx.stopping.aborted) {
          backlog.push(sampleBatch({ events: 128 }));
          await delay(1);
        }
      })();
      while (!ctx.stopping.aborted) {
        const next = backlog.shift();
        if (!next) {
          await delay(1);
          continue;
        }
        try {
          await ctx.emit(next, ctx.stopping);
        } catch {
          break;
        }
      }
      await reader;
    },
  }),
});

/** Bad: settles the acknowledgement of each batch it emitted. */
export const settlesOwnAcks = defineSource<Record<string, never>>({
  type: 'settles-own-acks',
  build: () => ({
    async run(ctx) {
      while (!ctx.stopping.aborted) {
        const batch = sampleBatch({ events: 4 });
        try {
          await ctx.emit(batch, ctx.stopping);
        } catch {
          return;
        }
        batch.ack.settle('delivered');
        await delay(2);
      }
    },
  }),
});

/** Bad: accepts any options. */
export const lax = defineSource<{ everyMs: number }>({
  type: 'lax',
  build: (o, ctx) => steady(o).build(ctx),
});

/** Bad: its validate() throws on options that are not an object. */
export const throwsOnGarbage = defineSource<{ everyMs: number } | null>({
  type: 'throws-on-garbage',
  validate: (o) => everyMsProblems(o!),
  build: (o, ctx) => steady({ everyMs: o!.everyMs }).build(ctx),
});

// ─── transforms ─────────────────────────────────────────────────────────────────────────────

/** Good: upper-cases messages; keeps id and acknowledgement. Can run in a worker. */
export const upper = defineTransform<Record<string, never>>({
  type: 'upper',
  module: import.meta.url,
  build: () => ({
    process: (batch) =>
      withEvents(
        batch,
        eventsOf(batch).map((e) => ({ ...e, message: e.message.toUpperCase() })),
      ),
  }),
});

/** Good: one batch per event, all sharing the input's id and acknowledgement. */
export const split = defineTransform<Record<string, never>>({
  type: 'split',
  build: () => ({
    process: (batch) => eventsOf(batch).map((event) => withEvents(batch, [event])),
  }),
});

/** Good: passes the input on and adds a new batch (own id and ack) with a summary. */
export const summarise = defineTransform<Record<string, never>>({
  type: 'summarise',
  build: () => ({
    process: (batch) => [
      batch,
      createEventBatch({
        source: batch.source,
        events: [{ timestamp: Date.now(), message: `${batch.count} events` }],
      }),
    ],
  }),
});

/** Good: filters everything out (the pipeline then settles the input as delivered). */
export const dropAll = defineTransform<Record<string, never>>({
  type: 'drop-all',
  build: () => ({ process: () => null }),
});

/** Good: asynchronous, and gives up when its signal aborts. */
export const slowUpper = defineTransform<Record<string, never>>({
  type: 'slow-upper',
  build: () => ({
    async process(batch, signal) {
      await delay(1, undefined, { signal });
      return withEvents(
        batch,
        eventsOf(batch).map((e) => ({ ...e, message: e.message.toUpperCase() })),
      );
    },
  }),
});

/** Bad: filters everything out and settles the input's acknowledgement itself. */
export const settlesInput = defineTransform<Record<string, never>>({
  type: 'settles-input',
  build: () => ({
    process(batch) {
      batch.ack.settle('delivered');
      return null;
    },
  }),
});

/** Bad: passes the acknowledgement on under a new id. */
export const renumbers = defineTransform<Record<string, never>>({
  type: 'renumbers',
  build: () => ({
    process: (batch) =>
      createEventBatch({ source: batch.source, ack: batch.ack, events: eventsOf(batch) }),
  }),
});

/** Bad: passes the id on with a new acknowledgement. */
export const reacks = defineTransform<Record<string, never>>({
  type: 'reacks',
  build: () => ({
    process: (batch) =>
      createEventBatch({ source: batch.source, id: batch.id, events: eventsOf(batch) }),
  }),
});

/** Bad: waits (until `lifetime`) when called with an aborted signal. */
export const hangsWhenAborted = defineTransform<{ lifetime: AbortSignal }>({
  type: 'hangs-when-aborted',
  build: (o) => ({
    async process(batch, signal) {
      if (signal.aborted) await until(o.lifetime, 60_000);
      return batch;
    },
  }),
});

/** Bad: keeps every batch it sees. */
export const caches = defineTransform<Record<string, never>>({
  type: 'caches',
  build: () => {
    const seen: Batch[] = [];
    return {
      process(batch) {
        seen.push(batch);
        return batch;
      },
    };
  },
});

/** Bad: starts an interval at build that close() does not clear. */
export const leaksInterval = defineTransform<{ lifetime: AbortSignal }>({
  type: 'leaks-interval',
  build: (o) => {
    const timer = setInterval(() => {}, 1000);
    o.lifetime.addEventListener('abort', () => clearInterval(timer));
    return { process: (batch) => batch, close() {} };
  },
});

/** Bad: names this module, which exports no factory under its type (nor a default). */
export const unportable = defineTransform<Record<string, never>>({
  type: 'not-exported',
  module: import.meta.url,
  build: () => ({ process: (batch) => batch }),
});

// ─── sinks ──────────────────────────────────────────────────────────────────────────────────

/** Good: takes a millisecond per write; its wait rejects when the signal aborts. */
export const nullSink = defineSink<Record<string, never>>({
  type: 'null',
  build: () => ({
    async write(_batch, signal) {
      await delay(1, undefined, { signal });
      return undefined;
    },
  }),
});

/** Good: finishes within the call (nothing to cut short). */
export const syncSink = defineSink<Record<string, never>>({
  type: 'sync',
  build: () => {
    let events = 0;
    return {
      async write(batch) {
        events += batch.count;
        return undefined;
      },
      stats: () => ({ events }),
    };
  },
});

/** Bad: its wait ignores the signal, and it reports delivered whatever happened meanwhile. */
export const deliveredAnyway = defineSink<Record<string, never>>({
  type: 'delivered-anyway',
  build: () => ({
    async write() {
      await delay(1);
      return undefined;
    },
  }),
});

/** Bad: once its signal has aborted, waits (until `lifetime`) instead of giving up. */
export const ignoresSignal = defineSink<{ lifetime: AbortSignal }>({
  type: 'ignores-signal',
  build: (o) => ({
    async write(_batch, signal) {
      await delay(1);
      if (signal.aborted) await until(o.lifetime, 60_000);
      return undefined;
    },
  }),
});

/** Bad: starts a flush timer at build that close() does not clear. */
export const leaksTimer = defineSink<{ lifetime: AbortSignal }>({
  type: 'leaks-timer',
  build: (o) => {
    const timer = setInterval(() => {}, 1000);
    o.lifetime.addEventListener('abort', () => clearInterval(timer));
    return { write: async () => undefined, async close() {} };
  },
});

/** Bad: opens a file at its first write and never closes it. */
export const leaksFd = defineSink<{ path: string; lifetime: AbortSignal }>({
  type: 'leaks-fd',
  build: (o) => {
    let file: ReturnType<typeof open> | undefined;
    return {
      async write(batch, signal) {
        if (!file) {
          file = open(o.path, 'a');
          const opened = file;
          o.lifetime.addEventListener('abort', () => {
            opened.then((handle) => handle.close()).catch(() => {});
          });
        }
        const handle = await file;
        await handle.write(`${batch.count}\n`);
        signal.throwIfAborted();
        return undefined;
      },
      async close() {},
    };
  },
});

/** Bad: keeps every batch it was given. */
export const hoardsBatches = defineSink<Record<string, never>>({
  type: 'hoards-batches',
  build: () => {
    const kept: Batch[] = [];
    return {
      async write(batch) {
        kept.push(batch);
        return undefined;
      },
    };
  },
});

/** Bad: settles the batch's acknowledgement itself. */
export const settlesAck = defineSink<Record<string, never>>({
  type: 'settles-ack',
  build: () => ({
    async write(batch) {
      batch.ack.settle('delivered');
      return undefined;
    },
  }),
});
