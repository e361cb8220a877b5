/**
 * rxjs interop. rxjs has no backpressure: an Observable pushes whether or not anyone can take
 * it. So a source fed by one must name what happens when the pipeline is full — `drop-newest`
 * or `drop-oldest` over a bounded queue of batches — and counts every event it drops.
 */
import { Observable } from 'rxjs';
import { Channel } from '../channel/channel.js';
import type { ChannelReceiver } from '../channel/types.js';
import { type Batch, createEventBatch } from '../event/batch.js';
import type { LogEvent } from '../event/log-event.js';
import { defineSource, type SourceDefinition } from '../stage/contracts.js';

export interface FromObservableOptions<T> {
  /** What to do when the queue of batches waiting for the pipeline is full. */
  whenFull: 'drop-newest' | 'drop-oldest';
  /** Batches waiting for the pipeline, at most. Default 16. */
  capacity?: number;
  /** Events per batch. Default 1024. */
  batchSize?: number;
  /** How long a partial batch may wait before it is sent. Default 100 ms. */
  lingerMs?: number;
  /** Turns a value into an event. Default: strings become the message, objects are events. */
  toEvent?: (value: T) => LogEvent;
}

const defaultToEvent = (value: unknown): LogEvent =>
  typeof value === 'string' ? { timestamp: Date.now(), message: value } : (value as LogEvent);

/**
 * A source fed by an Observable. It ends when the Observable completes (after sending what it
 * holds) or when the pipeline stops; an Observable error ends it and is counted.
 *
 * Gotcha: there is no `block` policy, on purpose: blocking a push source would only move the
 * unbounded queue into rxjs.
 *
 * @example
 * ```ts
 * sources: { clicks: fromObservable(click$, { whenFull: 'drop-oldest' }) }
 * ```
 */
export function fromObservable<T>(
  observable: Observable<T>,
  options: FromObservableOptions<T>,
): SourceDefinition<FromObservableOptions<T>> {
  return defineSource<FromObservableOptions<T>>({
    type: 'observable',
    validate: (o) => {
      const problems: string[] = [];
      if (o.whenFull !== 'drop-newest' && o.whenFull !== 'drop-oldest') {
        problems.push('whenFull must be "drop-newest" or "drop-oldest"');
      }
      if (o.batchSize !== undefined && !(o.batchSize >= 1)) problems.push('batchSize must be ≥ 1');
      return problems;
    },
    build: (o) => {
      const batchSize = o.batchSize ?? 1024;
      const lingerMs = o.lingerMs ?? 100;
      const toEvent = o.toEvent ?? (defaultToEvent as (value: T) => LogEvent);
      let droppedEvents = 0;
      return {
        stats: () => ({ dropped_events: droppedEvents }),
        async run(ctx) {
          const queue = new Channel<Batch>({
            name: `${ctx.name}.queue`,
            capacity: o.capacity ?? 16,
            maxBytes: Infinity,
            whenFull: o.whenFull,
            onDrop: (batch, reason) => {
              droppedEvents += batch.count;
              ctx.counters.add(`dropped_${reason}`, batch.count);
              batch.ack.settle('dropped', `${ctx.name}:${reason}`);
            },
          });
          let pending: LogEvent[] = [];
          let timer: NodeJS.Timeout | undefined;
          const flush = () => {
            clearTimeout(timer);
            timer = undefined;
            if (pending.length === 0) return;
            queue.trySend(createEventBatch({ source: ctx.name, events: pending }));
            pending = [];
          };
          const subscription = observable.subscribe({
            next: (value) => {
              pending.push(toEvent(value));
              if (pending.length >= batchSize) flush();
              else timer ??= setTimeout(flush, lingerMs);
            },
            error: () => {
              ctx.counters.add('observable_errors');
              flush();
              queue.close();
            },
            complete: () => {
              flush();
              queue.close();
            },
          });
          const onStop = () => {
            subscription.unsubscribe();
            flush();
            queue.close();
          };
          ctx.stopping.addEventListener('abort', onStop, { once: true });
          try {
            for await (const batch of queue) await ctx.emit(batch);
          } finally {
            ctx.stopping.removeEventListener('abort', onStop);
            subscription.unsubscribe();
            clearTimeout(timer);
          }
        },
      };
    },
  })(options);
}

/**
 * An Observable of what a receiver yields; it completes when the channel ends. Unsubscribing
 * stops pulling (the item being awaited, if any, stays in the channel).
 */
export function toObservable<T>(receiver: ChannelReceiver<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    (async () => {
      for (;;) {
        const item = await receiver.recv(controller.signal);
        if (item === undefined) break;
        subscriber.next(item);
      }
      subscriber.complete();
    })().catch((err: unknown) => {
      if (!controller.signal.aborted) subscriber.error(err);
    });
    return () => controller.abort();
  });
}
