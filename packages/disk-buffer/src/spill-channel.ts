/**
 * The spill channel: memory first, disk when memory is full, replay in order when the consumer
 * catches up. A pipeline gets one per stage through `buffer: spill({ dir })`.
 *
 * ```
 *  send ─┬─ no disk backlog and memory has room ──▶ [ memory Channel ] ──┐
 *        └─ otherwise ──▶ DiskBuffer.append ──▶ [ segments on disk ] ───┴─▶ recv: memory first,
 *                                                                            then disk, in order
 * ```
 *
 * Order: once anything is on disk, every new batch goes to disk too until the backlog is
 * replayed, so memory only ever holds batches older than those on disk and receivers take
 * memory first. Delivery order per sender is FIFO across both.
 *
 * Acknowledgements: a batch written to disk is settled `delivered` toward its source right
 * away (the disk owns it now — a file source may checkpoint past it), and the copy read back
 * carries a new acknowledgement tied to its record: the record's space returns only when every
 * sink settled that one. A batch still in memory keeps its source's acknowledgement: if the
 * process dies, the source replays it.
 *
 * Shutdown: `abort()` (the pipeline's deadline) returns nothing — what memory holds is written
 * to disk by `shutdown()`, along with batches the sinks were cut off from (`reclaim`); replayed
 * batches that were cut off are not acknowledged, so the next start replays them.
 */
import { join } from 'node:path';
import {
  Acknowledgement,
  type Batch,
  type BufferChannel,
  type BufferSpec,
  Channel,
  type ChannelStats,
  optionChecks,
  SpillwayError,
  type TrySendResult,
} from '@spillway/core';
import {
  DiskBuffer,
  type DiskBufferOptions,
  type DiskBufferStats,
  diskBufferProblems,
} from './disk-buffer.js';

export interface SpillOptions extends Omit<DiskBufferOptions, 'dir'> {
  /** Parent directory: each stage's buffer lives in `<dir>/<stage>.in`. */
  dir: string;
  /** The memory part. Default 16 batches, 16 MiB. */
  memory?: { capacity?: number; maxBytes?: number };
}

/** Channel stats plus the disk part's, as the metrics registry shows them. */
export interface SpillChannelStats extends ChannelStats {
  readonly disk: DiskBufferStats | undefined;
  readonly spilledBatches: number;
  readonly replayedBatches: number;
  /** Batches their sink gave back after its retries ran out, written to disk for later. */
  readonly requeuedBatches: number;
}

/**
 * A pipeline buffer that spills to disk: `buffer: spill({ dir: '/var/lib/spillway' })` on a
 * sink or transform, or as `defaultBuffer`.
 *
 * When to use: in front of a sink whose backend can be down for longer than memory covers,
 * when the data must not be lost and the source cannot hold it back (UDP, an application
 * logger) or should not (a file that may rotate away).
 *
 * Gotchas: call `pipeline.stop()` (or `await using`) — that is when memory is persisted and
 * the disk buffer's lock released. Each stage needs its own directory; two pipelines must not
 * share one (the lock refuses the second).
 */
export function spill(options: SpillOptions): BufferSpec {
  return {
    create: (name, onDrop) => new SpillChannel(name, options, onDrop),
    validate: () => spillProblems(options),
  };
}

/** Every problem with spill options, as sentences: checked with the pipeline, before any file. */
function spillProblems(o: SpillOptions): string[] {
  if (typeof o !== 'object' || o === null) return ['spill() needs options: { dir, … }'];
  const { dir, memory, ...disk } = o;
  const problems = diskBufferProblems(disk);
  const check = optionChecks(problems);
  check.nonEmptyString('dir', dir, true);
  check.positiveInteger('memory.capacity', memory?.capacity);
  check.positiveNumber('memory.maxBytes', memory?.maxBytes);
  return problems;
}

type Wake = () => void;

export class SpillChannel implements BufferChannel<Batch> {
  readonly name: string;
  readonly #memory: Channel<Batch>;
  readonly #opening: Promise<DiskBuffer>;
  readonly #onDrop: (batch: Batch, reason: string) => void;
  #disk: DiskBuffer | undefined;
  #openError: unknown;
  /** Receivers waiting for a send, an append or close: one entry per parked receiver. */
  readonly #waiting = new Set<Wake>();
  /** Batches taken back from sinks cut off at the deadline: at most one per pool worker. */
  readonly #reclaimed: Batch[] = [];
  #appending = 0;
  #reading = false;
  #closed = false;
  #aborted = false;
  #spilled = 0;
  #replayed = 0;
  #requeued = 0;

  constructor(name: string, options: SpillOptions, onDrop: (batch: Batch, reason: string) => void) {
    this.name = name;
    this.#onDrop = onDrop;
    this.#memory = new Channel<Batch>({
      name,
      capacity: options.memory?.capacity ?? 16,
      maxBytes: options.memory?.maxBytes ?? 16 * 1024 * 1024,
    });
    const { memory: _memory, ...disk } = options;
    this.#opening = DiskBuffer.open({ ...disk, dir: join(options.dir, name) });
    this.#opening.then(
      (d) => {
        this.#disk = d;
        this.#wake();
      },
      (err: unknown) => {
        this.#openError = err;
        this.#wake();
      },
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  async send(batch: Batch, signal?: AbortSignal): Promise<'queued' | 'dropped'> {
    signal?.throwIfAborted();
    if (this.#closed) throw this.#closedError();
    const disk = this.#disk ?? (await this.#opening);
    if (this.#appending === 0 && disk.unread === 0 && this.#memory.trySend(batch).ok) {
      this.#wake();
      return 'queued';
    }
    this.#appending++;
    try {
      if ((await disk.append(batch, signal)) === 'dropped') {
        this.#onDrop(batch, 'disk_write_error');
        return 'dropped';
      }
    } finally {
      this.#appending--;
    }
    this.#spilled++;
    batch.ack.settle('delivered');
    this.#wake();
    return 'queued';
  }

  trySend(batch: Batch): TrySendResult<Batch> {
    if (this.#closed) return { ok: false, reason: 'closed', item: batch };
    const idle = this.#disk !== undefined && this.#appending === 0 && this.#disk.unread === 0;
    if (idle && this.#memory.trySend(batch).ok) {
      this.#wake();
      return { ok: true, outcome: 'queued' };
    }
    // Spilling is asynchronous: the caller's `send` does it.
    return { ok: false, reason: 'full', item: batch };
  }

  async recv(signal?: AbortSignal): Promise<Batch | undefined> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#aborted) throw this.#abortedError();
      if (this.#openError !== undefined) throw this.#openError;
      const fromMemory = this.#memory.tryRecv();
      if (fromMemory) return fromMemory;
      const disk = this.#disk;
      if (disk && disk.unread > 0 && !this.#reading) {
        const batch = await this.#readDisk(disk, signal);
        if (batch) return batch;
        continue;
      }
      if (this.#closed && this.#appending === 0 && (!disk || disk.unread === 0)) {
        if (this.#disk || this.#openError !== undefined) return undefined;
      }
      await this.#changed(signal);
    }
  }

  tryRecv(): Batch | undefined {
    return this.#memory.tryRecv();
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return {
      next: async () => {
        const value = await this.recv();
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
    };
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** Ends receiving now. Returns nothing: `shutdown()` persists what memory still holds. */
  abort(_reason?: unknown): Batch[] {
    this.#closed = true;
    this.#aborted = true;
    this.#wake();
    return [];
  }

  /**
   * Appends a batch its sink gave back (retries ran out) to the disk part, to be replayed
   * after what is already there. False when the disk cannot take it without waiting (full
   * under `block`: the room would have to come from the very sink giving it back), on a write
   * error, or after the hard stop: the sink then holds it.
   */
  async requeue(batch: Batch, signal: AbortSignal): Promise<boolean> {
    if (this.#aborted) return false;
    this.#appending++;
    try {
      const disk = this.#disk ?? (await this.#opening);
      if ((await disk.append(batch, signal, { wait: false })) !== 'written') return false;
    } catch {
      return false;
    } finally {
      this.#appending--;
    }
    this.#requeued++;
    // The disk owns it now; for a batch that was itself replayed, this acknowledges the old
    // record, whose place the new one takes.
    batch.ack.settle('delivered');
    this.#wake();
    return true;
  }

  reclaim(batch: Batch): boolean {
    // A replayed batch's record is still on disk and unacknowledged: leaving its acknowledgement
    // unsettled is what gets it replayed. Everything else is persisted by shutdown().
    if (this.#aborted && !replayed.has(batch) && this.#reclaimed.length < 65_536) {
      this.#reclaimed.push(batch);
    }
    return this.#aborted;
  }

  async shutdown(signal: AbortSignal): Promise<void> {
    this.#closed = true;
    let disk: DiskBuffer;
    try {
      disk = await this.#opening;
    } catch {
      for (const b of this.#drainMemory()) this.#onDrop(b, 'disk_unavailable');
      return;
    }
    for (const batch of [...this.#reclaimed.splice(0), ...this.#drainMemory()]) {
      try {
        if ((await disk.append(batch, signal)) === 'written') batch.ack.settle('delivered');
        else this.#onDrop(batch, 'disk_write_error');
      } catch {
        this.#onDrop(batch, 'shutdown_persist_failed');
      }
    }
    await disk.close();
  }

  stats(): SpillChannelStats {
    return {
      ...this.#memory.stats(),
      disk: this.#disk?.stats(),
      spilledBatches: this.#spilled,
      replayedBatches: this.#replayed,
      requeuedBatches: this.#requeued,
    };
  }

  async #readDisk(disk: DiskBuffer, signal: AbortSignal | undefined): Promise<Batch | undefined> {
    this.#reading = true;
    try {
      const record = await disk.read(signal);
      if (!record) return undefined;
      this.#replayed++;
      // The batch that travels on gets its own acknowledgement, so a cut-off delivery at the
      // deadline (settled `dropped`) does not acknowledge the record: it is replayed next start.
      const inner = record.batch.ack;
      const outer = new Acknowledgement((outcome) => {
        if (this.#aborted && outcome.status !== 'delivered') return;
        inner.settle(outcome.status, outcome.reasons[0]);
      });
      const batch: Batch = { ...record.batch, ack: outer };
      replayed.add(batch);
      return batch;
    } finally {
      this.#reading = false;
      this.#wake();
    }
  }

  *#drainMemory(): Generator<Batch> {
    for (let b = this.#memory.tryRecv(); b; b = this.#memory.tryRecv()) yield b;
  }

  #changed(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(wake);
        reject(signal!.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wake(): void {
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
  }

  #closedError(): SpillwayError {
    return new SpillwayError('ERR_CHANNEL_CLOSED', `channel ${this.name} is closed`);
  }

  #abortedError(): SpillwayError {
    return new SpillwayError('ERR_CHANNEL_ABORTED', `channel ${this.name} was aborted`);
  }
}

/** Batches read back from disk, so `reclaim` can tell them from batches that never were. */
const replayed = new WeakSet<Batch>();
