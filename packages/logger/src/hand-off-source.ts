/**
 * The source of the shipping thread: takes NDJSON records from the hand-off ring in batches
 * (one copy per drain, raw bytes, no object per record) and emits them into the pipeline.
 *
 * Backpressure: `emit()` waits while the pipeline's buffer is full; meanwhile nothing is taken
 * from the ring, which fills, and the application's side applies its policy there (counted).
 * Drops are never silent: when the ring's drop count has grown, a notice record saying how
 * many were dropped, and why, is shipped before the next records.
 *
 * Stop: when a graceful stop begins, whatever the ring still holds is taken and emitted first:
 * records written before `exit` are shipped or, at the deadline, persisted with the rest.
 */
import { createRawBatch, defineSource, type SourceContext } from '@spillway/core';

/** The consumer side of the hand-off, as this source uses it. */
export interface HandOffReader {
  /** Every whole record available, up to `maxBytes`, each followed by a newline. */
  drainLines(maxBytes: number): { data: Uint8Array; records: number } | undefined;
  /** Resolves when records may be available; rejects when `signal` aborts. */
  waitForData(signal?: AbortSignal): Promise<void>;
  /** Records dropped on the application's side so far, by reason. */
  drops(): Readonly<Record<string, number>>;
}

export interface HandOffSourceOptions {
  reader: HandOffReader;
  /** Bytes per batch at most. Default 1 MiB. */
  maxBatchBytes?: number;
}

/** @internal the shipping thread's source; its options hold a live object, not config. */
export const handOffSource = defineSource<HandOffSourceOptions>({
  type: 'hand-off',
  build: (o) => {
    const maxBytes = o.maxBatchBytes ?? 1024 * 1024;
    let reported: Record<string, number> = {};
    let taken = 0;
    const drain = async (ctx: SourceContext): Promise<boolean> => {
      const notice = dropNotice(o.reader.drops(), reported);
      if (notice) {
        reported = { ...o.reader.drops() };
        await ctx.emit(createRawBatch({ source: ctx.name, data: notice }));
      }
      const lines = o.reader.drainLines(maxBytes);
      if (!lines) return false;
      taken += lines.records;
      await ctx.emit(createRawBatch({ source: ctx.name, data: lines.data, lines: lines.records }));
      return true;
    };
    return {
      async run(ctx) {
        while (!ctx.stopping.aborted) {
          if (await drain(ctx)) continue;
          try {
            await o.reader.waitForData(ctx.stopping);
          } catch {
            break;
          }
        }
        // Stopping: what the application wrote before the stop is taken too.
        while (await drain(ctx)) {}
      },
      stats: () => ({ taken, drops: o.reader.drops() }),
    };
  },
});

/** A record saying how many were dropped since the last notice, or undefined when none were. */
function dropNotice(
  now: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Uint8Array | undefined {
  const since: Record<string, number> = {};
  let total = 0;
  for (const [reason, count] of Object.entries(now)) {
    const n = count - (before[reason] ?? 0);
    if (n > 0) {
      since[reason] = n;
      total += n;
    }
  }
  if (total === 0) return undefined;
  const notice = {
    time: new Date().toISOString(),
    level: 'warn',
    msg: `spillway: ${total} log record(s) dropped before shipping`,
    spillway_dropped: since,
  };
  return Buffer.from(`${JSON.stringify(notice)}\n`);
}
