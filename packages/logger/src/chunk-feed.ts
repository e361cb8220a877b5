/**
 * A bounded feed of raw NDJSON chunks, and the source that drains it — what a pino transport
 * receives from pino's worker-thread stream. pino hands over many lines per chunk; the source
 * joins whatever is queued into one raw batch, cut at the last newline (a partial line waits
 * for the rest), so there is no object, string or await per line.
 *
 * `push()` never waits: pino's stream would otherwise buffer in the application's thread,
 * without a bound. When the feed holds `maxBytes` already, the chunk is dropped and counted;
 * with a spilling pipeline behind it the feed drains at disk speed, so that happens only when
 * the disk cannot keep up.
 */
import { createRawBatch, defineSource, ParkingLot } from '@spillway/core';

export class ChunkFeed {
  readonly maxBytes: number;
  readonly #chunks: Buffer[] = [];
  readonly #waiting = new ParkingLot(1);
  #bytes = 0;
  #closed = false;
  #dropped = 0;
  #droppedBytes = 0;

  constructor(maxBytes = 8 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  /** Queues a chunk; false (counted) when the feed is full or closed. */
  push(chunk: Buffer): boolean {
    if (this.#closed || this.#bytes + chunk.byteLength > this.maxBytes) {
      this.#dropped++;
      this.#droppedBytes += chunk.byteLength;
      return false;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    this.#waiting.wakeOne();
    return true;
  }

  /** No more chunks: the source drains what is queued, then ends. */
  close(): void {
    this.#closed = true;
    this.#waiting.wakeAll();
  }

  /** @internal everything queued, as one buffer; undefined when empty. */
  take(): Buffer | undefined {
    if (this.#chunks.length === 0) return undefined;
    const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks.length = 0;
    this.#bytes = 0;
    return data;
  }

  /** @internal */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  wait(signal: AbortSignal): Promise<void> {
    return this.#waiting.park(signal);
  }

  stats(): { queuedBytes: number; droppedChunks: number; droppedBytes: number } {
    return {
      queuedBytes: this.#bytes,
      droppedChunks: this.#dropped,
      droppedBytes: this.#droppedBytes,
    };
  }
}

/** @internal the pino transport's source; its options hold a live feed, not config. */
export const chunkFeedSource = defineSource<{ feed: ChunkFeed }>({
  type: 'chunk-feed',
  build: ({ feed }) => {
    let carry: Buffer | undefined;
    let lines = 0;
    return {
      async run(ctx) {
        for (;;) {
          const taken = feed.take();
          if (taken) {
            const data = carry ? Buffer.concat([carry, taken]) : taken;
            const end = data.lastIndexOf(10) + 1;
            carry = end < data.byteLength ? data.subarray(end) : undefined;
            if (end > 0) {
              const batch = createRawBatch({ source: ctx.name, data: data.subarray(0, end) });
              lines += batch.count;
              await ctx.emit(batch);
            }
            continue;
          }
          if (feed.closed) break;
          try {
            await feed.wait(ctx.stopping);
          } catch {
            // Stopping: take what is queued first.
            if (!feed.closed) feed.close();
          }
        }
        // A last line without its newline is still a record.
        if (carry && carry.byteLength > 0) {
          await ctx.emit(createRawBatch({ source: ctx.name, data: carry }));
          lines++;
        }
      },
      stats: () => ({ lines, ...feed.stats() }),
    };
  },
});
