/**
 * The stdout sink: writes each batch to the process's standard output as lines — raw batches'
 * bytes as they are (a missing final newline added), event batches as NDJSON.
 *
 * Backpressure: one `stream.write()` per batch, in dispatch order. The next starts once the
 * previous one's callback has come (its bytes were handed to the OS), and not before `'drain'`
 * while the stream's buffer is over its high-water mark (another writer, `console.log`, may have
 * filled it). Nothing blocks the event loop: a slow reader makes `write()` wait, and through the
 * output pool the whole pipeline waits, down to the sources.
 *
 * A reader that goes away (`spillway run … | head`): the next write fails with EPIPE. From then
 * on every batch is dropped with reason `stdout_closed` and counted; the process does not crash,
 * since the sink listens for the stream's `'error'` while it is open.
 */
import type { Writable } from 'node:stream';
import { defineSink, isRecord, SpillwayError, wrong } from '@spillway/core';
import { batchLines } from './internal/batch-lines.js';
import { InOrder } from './internal/in-order.js';

/** Options of {@link stdout}. */
export interface StdoutOptions {
  /**
   * Write to this stream instead of `process.stdout` (tests, or another process's stdin). The
   * sink never ends it: whoever made it does.
   */
  stream?: Writable;
}

/** The reason of every batch dropped because the reader went away. */
export const STDOUT_CLOSED = 'stdout_closed';

/** Errors that mean the reader is gone and the stream takes nothing more. */
const CLOSED_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/**
 * Writes batches to standard output as NDJSON (events) or as their bytes (raw).
 *
 * When to use: a pipeline whose output another program reads (`| jq`, `| gzip > x`), a
 * container whose runtime collects stdout, or a look at what a pipeline produces.
 *
 * Gotchas:
 * - `write()` resolves once the batch's bytes were handed to the OS (the pipe or the terminal
 *   has them), not once the reader has read them.
 * - When the reader goes away (EPIPE), batches are dropped (`stdout_closed`), counted in
 *   `batchesDropped` / `eventsDropped` and in the pool's `dropped`; the pipeline goes on, for its
 *   other sinks. Stop the pipeline if nothing else is worth running for.
 * - Node itself writes to a terminal synchronously on Linux and macOS: on a terminal, a slow
 *   terminal blocks the process. Pipes and sockets are asynchronous.
 * - Anything else that writes to stdout (`console.log`) lands between batches, never inside one:
 *   each batch is one `write()`.
 * - Concurrency: writes are queued inside the sink and made one at a time in dispatch order, so
 *   any pool `maxWorkers` is safe; the queue is bounded by the pool (`maxWorkers` writes).
 *
 * Stats: `bytesWritten`, `batchesWritten`, `eventsWritten`, `batchesDropped`, `eventsDropped`,
 * `closed` (true once the reader went away).
 *
 * @example
 * ```ts
 * sinks: { out: { inputs: ['parse'], stage: stdout({}) } }
 * ```
 */
export const stdout = defineSink<StdoutOptions>({
  type: 'stdout',

  validate(o) {
    if (!isRecord(o)) return [wrong('options', 'an object', o)];
    if (
      o.stream !== undefined &&
      typeof (o.stream as { write?: unknown } | null)?.write !== 'function'
    ) {
      return [wrong('stream', 'a writable stream', o.stream)];
    }
    return [];
  },

  build(o, ctx) {
    const stream = o.stream ?? process.stdout;
    const queue = new InOrder();
    const stats = {
      bytesWritten: 0,
      batchesWritten: 0,
      eventsWritten: 0,
      batchesDropped: 0,
      eventsDropped: 0,
    };
    let readerGone = false;
    const closed = () => readerGone || stream.destroyed || stream.writableEnded;
    // Without a listener, the stream's 'error' (EPIPE) would crash the process. The write's
    // callback gets the same error: that is where it is handled.
    const onError = (err: unknown) => {
      if (CLOSED_CODES.has(codeOf(err))) readerGone = true;
    };
    let listening = false;

    /** Writes `data` as one `write()`; false when the stream is closed (nothing written). */
    const put = async (data: Uint8Array, signal: AbortSignal): Promise<boolean> => {
      // Checked first as well: a closed stream would never emit the 'drain' or 'close' awaited.
      if (closed()) return false;
      if (stream.writableNeedDrain) await drained(stream, signal);
      if (closed()) return false;
      const err = await new Promise<Error | null | undefined>((resolve) => {
        stream.write(data, resolve);
      });
      if (!err) return true;
      if (!CLOSED_CODES.has(codeOf(err))) throw err;
      readerGone = true;
      return false;
    };

    return {
      async write(batch, signal) {
        signal.throwIfAborted();
        if (!listening) {
          stream.on('error', onError);
          listening = true;
        }
        const data = batchLines(batch);
        if (data.byteLength === 0) return undefined;
        let written: boolean;
        try {
          written = await queue.run(async () => {
            const ok = await put(data, signal);
            // Counted here rather than after the wait: a caller cut short still wrote it.
            if (ok) {
              stats.bytesWritten += data.byteLength;
              stats.batchesWritten++;
              stats.eventsWritten += batch.count;
            } else {
              stats.batchesDropped++;
              stats.eventsDropped += batch.count;
            }
            return ok;
          }, signal);
        } catch (err) {
          signal.throwIfAborted();
          throw new SpillwayError(
            'ERR_STAGE_FAILED',
            `stdout "${ctx.name}": cannot write: ${codeOf(err) || String(err)}`,
            { cause: err },
          );
        }
        signal.throwIfAborted();
        return written ? undefined : { status: 'dropped', reason: STDOUT_CLOSED };
      },

      // The stream is left open: stdout belongs to the process, a given stream to its maker.
      async close(signal) {
        const idle = await queue.idle(signal).then(
          () => true,
          () => false,
        );
        // A write still in flight may yet fail with EPIPE: keep the listener until none is.
        if (idle && listening) {
          stream.off('error', onError);
          listening = false;
        }
      },

      stats: () => ({ ...stats, closed: closed() }),
    };
  },
});

/** Resolves at `'drain'`, or when the stream closes or fails; rejects when `signal` aborts. */
function drained(stream: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (abort: boolean) => {
      stream.off('drain', onEvent);
      stream.off('close', onEvent);
      stream.off('error', onEvent);
      signal.removeEventListener('abort', onAbort);
      if (abort) reject(signal.reason);
      else resolve();
    };
    const onEvent = () => settle(false);
    const onAbort = () => settle(true);
    if (signal.aborted) return onAbort();
    stream.on('drain', onEvent);
    stream.on('close', onEvent);
    stream.on('error', onEvent);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
