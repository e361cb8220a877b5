/**
 * A bounded feed of NDJSON text written in chunks of any size — what a pino transport's stream
 * is given by pino's worker thread — and the source that ships it.
 *
 * ```
 *   write(chunk) ─▶ cut at the last newline ─▶ [ channel: pieces of whole lines, maxBytes ] ─▶ source ─▶ raw batches
 *                   (the partial line waits for the rest)   full: block | drop-newest | drop-oldest (counted, whole lines)
 * ```
 *
 * Nothing here touches a line on its own: a chunk is cut once at its last newline and queued as
 * it is (several thousand lines each when pino is busy), and the source joins what is queued into
 * raw batches of up to `batchBytes`. That is what lets the feed take lines faster than pino
 * writes them, so pino's own buffer in the application's thread stays empty unless the owner
 * chose `block` and the pipeline behind cannot keep up.
 */
import { Buffer } from 'node:buffer';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Channel, createRawBatch, defineSource, type FullPolicyName } from '@spillway/core';

export interface LineFeedOptions {
  /** Bytes of whole lines queued at most. Default 8 MiB. */
  maxBytes?: number;
  /**
   * When the queue is full: `drop-newest` (default) drops the incoming lines, `drop-oldest`
   * the longest-queued ones, both counted; `block` holds the writer until the source has taken
   * some (see `blockTimeoutMs`).
   */
  whenFull?: FullPolicyName;
  /** With `block`: give up on a piece (dropped, counted) after this long. Default: never. */
  blockTimeoutMs?: number;
  /** Bytes per batch the source emits at most (a longer line makes a batch of its own). Default 256 KiB. */
  batchBytes?: number;
}

/** What a feed has seen. Lines are counted only where it costs nothing extra (drops). */
export interface LineFeedStats {
  queuedBytes: number;
  acceptedBytes: number;
  droppedLines: number;
  droppedBytes: number;
}

const NEWLINE = 0x0a;

function countLines(data: Buffer): number {
  let lines = 0;
  for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, i + 1)) lines++;
  return lines;
}

/**
 * When to use: to turn a stream of text chunks that are not cut at line boundaries into
 * batches of whole lines for a pipeline, with a byte bound and a named full-policy.
 *
 * Gotchas: one writer at a time — `write()`'s callback must have been called before the next
 * `write()` (as a `Writable` guarantees). A line longer than `maxBytes` cannot be queued and is
 * dropped, counted, under either policy. A last line without its newline is shipped by `end()`.
 */
export class LineFeed {
  readonly maxBytes: number;
  readonly batchBytes: number;
  readonly #queue: Channel<Buffer>;
  readonly #blockTimeoutMs: number | undefined;
  #partial: Buffer | undefined;
  /** Dropping the rest of a line longer than `maxBytes`, up to its newline. */
  #skipping = false;
  #acceptedBytes = 0;
  #droppedLines = 0;
  #droppedBytes = 0;

  constructor(options: LineFeedOptions = {}) {
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.batchBytes = Math.min(options.batchBytes ?? 256 * 1024, this.maxBytes);
    this.#blockTimeoutMs = options.blockTimeoutMs;
    this.#queue = new Channel<Buffer>({
      name: 'line-feed',
      // The byte bound is the one that matters; chunks are never smaller than a line.
      capacity: 1 << 20,
      maxBytes: this.maxBytes,
      whenFull: options.whenFull ?? 'drop-newest',
      sizeOf: (piece) => piece.byteLength,
      onDrop: (piece) => this.#countDrop(piece),
    });
  }

  /**
   * Queues the whole lines of `chunk` and keeps its partial last line for the next one.
   * `done` is called once they are queued or dropped (counted) — at once, unless the policy
   * is `block` and the queue is full.
   */
  write(chunk: Buffer, done: (error?: Error | null) => void): void {
    let data = chunk;
    if (this.#skipping) {
      // The rest of a line too long to queue, already counted: up to its newline, it goes.
      const newline = data.indexOf(NEWLINE);
      this.#droppedBytes += newline === -1 ? data.byteLength : newline + 1;
      if (newline === -1) {
        done();
        return;
      }
      this.#skipping = false;
      data = data.subarray(newline + 1);
    }
    if (this.#partial !== undefined) {
      data = Buffer.concat([this.#partial, data]);
      this.#partial = undefined;
    }
    const end = data.lastIndexOf(NEWLINE) + 1;
    if (end < data.byteLength) {
      const rest = data.subarray(end);
      if (rest.byteLength > this.maxBytes) {
        this.#countDrop(rest, 1);
        this.#skipping = true;
      } else {
        // A copy: the partial line must not pin the whole chunk it came in.
        this.#partial = Buffer.from(rest);
      }
    }
    this.#queueLines(data.subarray(0, end), done);
  }

  /** No more writes: the partial last line (if any) is queued as a line, then the source ends. */
  end(done: (error?: Error | null) => void): void {
    const last = this.#partial;
    this.#partial = undefined;
    this.#skipping = false;
    const close = (error?: Error | null) => {
      this.#queue.close();
      done(error);
    };
    if (last === undefined) close();
    else this.#queueLines(Buffer.concat([last, Buffer.of(NEWLINE)]), close);
  }

  stats(): LineFeedStats {
    return {
      queuedBytes: this.#queue.stats().bytes,
      acceptedBytes: this.#acceptedBytes,
      droppedLines: this.#droppedLines,
      droppedBytes: this.#droppedBytes,
    };
  }

  /** The source that ships the feed's lines; it ends after `end()` once everything is taken. */
  source() {
    return lineFeedSource({ feed: this });
  }

  /**
   * @internal the next batch's bytes: one queued piece, or several joined. Waits while the
   * feed is empty, unless `signal` has fired; undefined at the end, or when empty and stopping.
   */
  async take(signal: AbortSignal): Promise<Buffer | undefined> {
    let first = this.#queue.tryRecv();
    if (first === undefined && !signal.aborted) {
      try {
        first = await this.#queue.recv(signal);
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    }
    if (first === undefined || first.byteLength >= this.batchBytes) return first;
    const pieces = [first];
    let bytes = first.byteLength;
    // No peeking: the piece that fills the batch may overflow it, by less than one piece.
    for (let next = this.#queue.tryRecv(); next !== undefined; next = this.#queue.tryRecv()) {
      pieces.push(next);
      bytes += next.byteLength;
      if (bytes >= this.batchBytes) break;
    }
    return pieces.length === 1 ? first : Buffer.concat(pieces, bytes);
  }

  /** Queues whole lines, in pieces of at most `batchBytes` cut at newlines. */
  #queueLines(lines: Buffer, done: (error?: Error | null) => void): void {
    let start = 0;
    const next = (): void => {
      while (start < lines.byteLength) {
        const piece = lines.subarray(start, this.#cut(lines, start));
        start += piece.byteLength;
        if (piece.byteLength > this.maxBytes) {
          this.#countDrop(piece);
          continue;
        }
        const sent = this.#queue.trySend(piece);
        if (sent.ok) {
          if (sent.outcome === 'queued') this.#acceptedBytes += piece.byteLength;
          continue;
        }
        if (sent.reason === 'closed') {
          this.#countDrop(piece);
          continue;
        }
        // Full under `block`: hold the writer until there is room, then go on. (A timer of
        // our own, not `AbortSignal.timeout()`: a writer held here is work, and keeps the
        // event loop alive.)
        const giveUp = new AbortController();
        const timer = this.#blockTimeoutMs
          ? setTimeout(() => giveUp.abort(), this.#blockTimeoutMs)
          : undefined;
        this.#queue.send(piece, giveUp.signal).then(
          () => {
            clearTimeout(timer);
            this.#acceptedBytes += piece.byteLength;
            next();
          },
          (error: unknown) => {
            if (!giveUp.signal.aborted) return done(error as Error);
            this.#countDrop(piece);
            next();
          },
        );
        return;
      }
      done();
    };
    next();
  }

  /** Where the piece starting at `start` ends: at most `batchBytes` on, after a newline. */
  #cut(lines: Buffer, start: number): number {
    const limit = start + this.batchBytes;
    if (limit >= lines.byteLength) return lines.byteLength;
    const before = lines.lastIndexOf(NEWLINE, limit - 1);
    // One line longer than a batch: it is a piece of its own.
    return before >= start ? before + 1 : lines.indexOf(NEWLINE, limit) + 1;
  }

  #countDrop(piece: Buffer, lines = countLines(piece)): void {
    this.#droppedLines += lines;
    this.#droppedBytes += piece.byteLength;
  }
}

/** @internal the source of a {@link LineFeed}; its options hold a live feed, not config. */
export const lineFeedSource = defineSource<{ feed: LineFeed }>({
  type: 'line-feed',
  build: ({ feed }) => {
    let lines = 0;
    return {
      async run(ctx) {
        // At a stop, what is queued still goes into the pipeline (to be delivered or persisted
        // by the stop's deadline); only the waiting for more ends.
        for (let data = await feed.take(ctx.stopping); data; data = await feed.take(ctx.stopping)) {
          const batch = createRawBatch({ source: ctx.name, data });
          lines += batch.count;
          await ctx.emit(batch);
          // A turn of the event loop per batch: with room downstream, the pipeline's stages run
          // on promise callbacks and could go on without one, while whoever writes to the feed
          // (pino's thread-stream reader runs in `setImmediate`) waits — and pino's buffer in
          // the application's thread grows. Measured: its peak fell from 4–7 MiB to 1–2 MiB.
          await yieldToLoop();
        }
      },
      stats: () => ({ lines, ...feed.stats() }),
    };
  },
});
