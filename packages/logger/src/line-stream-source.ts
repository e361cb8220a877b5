/**
 * A source fed by an async iterable of NDJSON lines — what a pino transport receives from
 * pino's own worker-thread stream. Lines are gathered into raw batches (one string
 * concatenation and one buffer per batch, never a batch per line).
 *
 * It never makes the iterable wait on the backend: pino's stream would then buffer in the
 * application's thread without a bound. When the pipeline has no room, the batch in hand is
 * dropped and counted (`drop`), unless the pipeline spills to disk (`wait`: then the wait is
 * for the disk, not for the backend).
 */
import { createRawBatch, defineSource } from '@spillway/core';

export interface LineStreamSourceOptions {
  lines: AsyncIterable<string> & { readonly readableLength?: number };
  /** `drop` (default) or `wait` — see above. */
  whenFull?: 'drop' | 'wait';
  /** Bytes per batch at most. Default 256 KiB. */
  maxBatchBytes?: number;
}

/** @internal the pino transport's source; its options hold a live stream, not config. */
export const lineStreamSource = defineSource<LineStreamSourceOptions>({
  type: 'line-stream',
  build: (o) => {
    const maxBytes = o.maxBatchBytes ?? 256 * 1024;
    let taken = 0;
    let dropped = 0;
    return {
      async run(ctx) {
        let text = '';
        let lines = 0;
        const flush = async () => {
          if (lines === 0) return;
          const batch = createRawBatch({ source: ctx.name, data: Buffer.from(text), lines });
          text = '';
          lines = 0;
          taken += batch.count;
          if (o.whenFull === 'wait') {
            await ctx.emit(batch);
            return;
          }
          const sent = ctx.tryEmit(batch);
          if (!sent.ok) {
            dropped += batch.count;
            ctx.counters.add('dropped_pipeline_full', batch.count);
            batch.ack.settle('dropped', `${ctx.name}:pipeline_full`);
          }
        };
        for await (const line of o.lines) {
          if (line.length === 0) continue;
          text += `${line}\n`;
          lines++;
          // Flush when the batch is big, or when nothing more is buffered right now.
          if (text.length >= maxBytes || !o.lines.readableLength) await flush();
        }
        await flush();
      },
      stats: () => ({ taken, dropped }),
    };
  },
});
