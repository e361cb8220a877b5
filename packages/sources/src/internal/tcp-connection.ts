/**
 * One accepted TCP (or TLS) connection of the tcp source: socket → frame decoder → record
 * batcher → `await ctx.emit()`.
 *
 * Backpressure: while an emit is pending the socket is paused. Node then stops reading from the
 * kernel once its readable buffer reaches its high-water mark, the kernel's receive buffer fills,
 * the TCP window closes, and the sender's writes back up — the pipeline's pressure reaches the
 * sending application with nothing dropped and no memory growth here. Held per connection, at
 * most: the partial frame and the unread rest of one chunk (decoder), the open batch (batcher),
 * the batch being emitted, and the socket's readable buffer (its high-water mark plus a chunk).
 *
 * The idle timer is suspended while paused: silence caused by our own backpressure is not the
 * peer's idleness.
 *
 * One pump at a time per connection (`#pumping`): socket events (data, end, close), the linger
 * timer and stop requests only set flags and kick the pump, which re-checks them after every
 * await, so frames are decoded and emitted strictly in arrival order.
 */
import type { Socket } from 'node:net';
import { type SourceContext, SpillwayError, type WaitClock } from '@spillway/core';
import type { BatchOptions, NetFormat } from '../net-source-options.js';
import { FrameDecoder, type Framing } from './frame-decoder.js';
import { RecordBatcher, type SealedBatch } from './record-batcher.js';

/** Why the tcp source dropped frames; the keys of its `drops` stat. */
export type TcpDropReason =
  | 'oversize'
  | 'parse_error'
  | 'incomplete_frame'
  | 'framing_error'
  | 'batch_too_large'
  | 'shutdown';

/** Counters shared by every connection of one tcp source. */
export interface TcpCounters {
  bytesReceived: number;
  framesReceived: number;
  framesAccepted: number;
  framesTruncated: number;
  parseErrors: number;
  framingErrors: number;
  idleTimeouts: number;
  connectionErrors: number;
  connectionsPaused: number;
  peakConnectionBufferedBytes: number;
  drops: Partial<Record<TcpDropReason, number>>;
  paused: WaitClock;
}

export interface TcpConnectionOptions {
  format: NetFormat;
  framing: Framing | 'auto';
  maxFrameBytes: number;
  onOversize: 'truncate' | 'drop';
  onParseError: 'keep-raw' | 'drop';
  rfc3164TimeZone: 'local' | 'utc';
  batch: Required<BatchOptions>;
  /** 0: no idle timeout. */
  idleTimeoutMs: number;
}

export class TcpConnection {
  readonly #socket: Socket;
  readonly #ctx: SourceContext;
  readonly #o: TcpConnectionOptions;
  readonly #c: TcpCounters;
  readonly #decoder: FrameDecoder;
  readonly #batcher: RecordBatcher;
  readonly #peer: string | undefined;
  #emittingBytes = 0;
  #pumping = false;
  #lingerDue = false;
  #eof = false;
  #closed = false;
  #stopping = false;
  /** Bytes Node had already read from the kernel when the stop began: still to be decoded. */
  #drainBudget = 0;
  #framingError = false;
  #finished = false;
  #resolveDone!: () => void;
  /** Resolves once everything received has been emitted (or counted) and the socket is closed. */
  readonly done = new Promise<void>((resolve) => (this.#resolveDone = resolve));

  constructor(
    socket: Socket,
    ctx: SourceContext,
    options: TcpConnectionOptions,
    counters: TcpCounters,
  ) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#o = options;
    this.#c = counters;
    this.#peer = options.format === 'syslog' ? socket.remoteAddress : undefined;
    this.#decoder = new FrameDecoder({
      framing: options.framing,
      maxFrameBytes: options.maxFrameBytes,
      onOversize: options.onOversize,
      onOversizeFrame: (action) => {
        if (action === 'truncated') {
          counters.framesTruncated++;
        } else {
          // Never returned by the decoder, but received all the same: count it in and out.
          counters.framesReceived++;
          this.#drop('oversize', 1);
        }
      },
    });
    this.#batcher = new RecordBatcher({
      source: ctx.name,
      format: options.format,
      onParseError: options.onParseError,
      rfc3164TimeZone: options.rfc3164TimeZone,
      limits: options.batch,
      onDue: () => {
        this.#lingerDue = true;
        this.#kick();
      },
      onInvalid: (_code, dropped) => {
        counters.parseErrors++;
        if (dropped) this.#drop('parse_error', 1);
      },
    });

    if (options.idleTimeoutMs > 0) socket.setTimeout(options.idleTimeoutMs);
    socket.on('timeout', () => {
      counters.idleTimeouts++;
      this.stop();
    });
    socket.on('data', (chunk: Buffer) => {
      counters.bytesReceived += chunk.length;
      this.#decoder.push(chunk);
      this.#notePeak();
      this.#kick();
    });
    socket.on('end', () => {
      this.#eof = true;
      this.#kick();
    });
    socket.on('error', () => {
      counters.connectionErrors++;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#kick();
    });
  }

  /** Bytes this connection holds in memory now. */
  get bufferedBytes(): number {
    return (
      this.#decoder.bufferedBytes +
      this.#batcher.bytes +
      this.#emittingBytes +
      this.#socket.readableLength
    );
  }

  /**
   * Closes the connection gracefully: stops reading from the kernel, decodes and emits what is
   * already in memory, then closes the socket. Bytes still in the kernel's buffers are not read.
   */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#socket.pause();
    this.#socket.setTimeout(0);
    this.#drainBudget = this.#socket.readableLength;
    this.#kick();
  }

  #kick(): void {
    if (this.#pumping || this.#finished) return;
    this.#pumping = true;
    this.#pump().then(
      () => {
        this.#pumping = false;
      },
      () => {
        // #pump does not throw; if it ever did, the connection must not linger half-alive.
        this.#pumping = false;
        this.#socket.destroy();
        this.#finish();
      },
    );
  }

  async #pump(): Promise<void> {
    for (;;) {
      const frame = this.#decoder.next();
      if (frame) {
        this.#c.framesReceived++;
        const sealed = this.#batcher.add(frame.data, Date.now(), this.#peer);
        if (sealed) await this.#emit(sealed);
        if (this.#batcher.full) await this.#emit(this.#batcher.take()!);
        continue;
      }
      if (this.#lingerDue) {
        this.#lingerDue = false;
        const sealed = this.#batcher.take();
        if (sealed) await this.#emit(sealed);
        continue;
      }
      if (this.#decoder.error !== undefined && !this.#framingError) {
        // A malformed octet count: the stream cannot be resynchronised.
        this.#framingError = true;
        this.#c.framingErrors++;
        this.#stopping = true;
      }
      // Stopping: what Node had already read from the kernel when the stop began is in hand;
      // decode it too (no more: a fast sender would refill the buffer forever). read() emits
      // the bytes as 'data', which pushes them into the decoder.
      if (this.#stopping && this.#drainBudget > 0 && this.#decoder.error === undefined) {
        const n = Math.min(this.#drainBudget, this.#socket.readableLength);
        this.#drainBudget = n > 0 && this.#socket.read(n) !== null ? this.#drainBudget - n : 0;
        continue;
      }
      if (this.#eof || this.#closed || this.#stopping) await this.#close();
      return;
    }
  }

  /** Emits what is left and closes the socket. Runs once, at the end of the pump. */
  async #close(): Promise<void> {
    if (this.#finished) return;
    // An unterminated last line is a message only when the peer ended the stream cleanly.
    const { frame, incomplete } = this.#decoder.finish(this.#eof);
    if (incomplete) {
      this.#c.framesReceived++;
      this.#drop(this.#framingError ? 'framing_error' : 'incomplete_frame', 1);
    }
    if (frame) {
      this.#c.framesReceived++;
      const sealed = this.#batcher.add(frame.data, Date.now(), this.#peer);
      if (sealed) await this.#emit(sealed);
    }
    const last = this.#batcher.take();
    if (last) await this.#emit(last);
    this.#batcher.close();
    if (this.#framingError || this.#ctx.signal.aborted) this.#socket.destroy();
    else this.#socket.destroySoon();
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#batcher.close();
    if (this.#closed || this.#socket.destroyed) this.#resolveDone();
    else this.#socket.once('close', () => this.#resolveDone());
  }

  /** Waits for room downstream with the socket paused: the pause is the backpressure. */
  async #emit(sealed: SealedBatch): Promise<void> {
    const socket = this.#socket;
    socket.pause();
    socket.setTimeout(0);
    this.#emittingBytes = sealed.batch.bytes;
    this.#notePeak();
    this.#c.connectionsPaused++;
    this.#c.paused.enter();
    try {
      await this.#ctx.emit(sealed.batch);
      this.#c.framesAccepted += sealed.records;
    } catch (err) {
      // The stop deadline passed (the runtime counted the batch as undelivered), or the batch
      // can never fit downstream. Count its frames so the books balance.
      this.#drop(
        SpillwayError.is(err, 'ERR_ITEM_TOO_LARGE') ? 'batch_too_large' : 'shutdown',
        sealed.records,
      );
      if (this.#ctx.signal.aborted) this.#stopping = true;
    } finally {
      this.#c.paused.exit();
      this.#c.connectionsPaused--;
      this.#emittingBytes = 0;
      if (!this.#stopping && !this.#closed) {
        if (this.#o.idleTimeoutMs > 0) socket.setTimeout(this.#o.idleTimeoutMs);
        socket.resume();
      }
    }
  }

  #drop(reason: TcpDropReason, frames: number): void {
    this.#c.drops[reason] = (this.#c.drops[reason] ?? 0) + frames;
  }

  #notePeak(): void {
    const held = this.bufferedBytes;
    if (held > this.#c.peakConnectionBufferedBytes) this.#c.peakConnectionBufferedBytes = held;
  }
}
