/**
 * The hand-off between an application thread and a shipping worker thread: a single-producer,
 * single-consumer ring of variable-length byte records in a SharedArrayBuffer.
 *
 * ```
 *   application thread            SharedArrayBuffer (data area)            worker thread
 *   ring.write(bytes) ──▶ [len|record|pad][len|record|pad]…[SKIP] ──▶ consumer.drainLines()
 *   copy, then one CAS        ▲ read offset             ▲ write offset    one copy per batch
 * ```
 *
 * Why a ring in shared memory rather than `postMessage`: a message costs a structured clone,
 * an allocation on both sides and a wake-up of the other thread per call; here a write is a copy
 * into memory both threads see and one compare-and-swap, and the consumer takes everything
 * queued in one go. The producer wakes the consumer only when it said it is about to sleep.
 *
 * Why so few atomics: in Node 20 every `Atomics` call costs 7–9 ns (V8 calls a builtin rather
 * than inlining it), as much as copying the 100-byte record. So the hot path has exactly one
 * (the CAS on the write word, which also tells whether to wake the consumer or whether the ring
 * is closed); counters that change per write are not published per write.
 *
 * Invariants (see `layout.ts` for the memory layout):
 * - one producer and one consumer: the producer alone moves the write offset, the consumer
 *   alone the read offset, except under `drop-oldest`, where the producer discards the oldest
 *   records by moving the read offset itself — holding a lock word the consumer holds while it
 *   reads, so it never copies a record that is being overwritten;
 * - a record never straddles the end of the data area, so every record is one contiguous slice;
 * - every record refused is counted under its reason; `write()` never throws on a full ring.
 */
import { Buffer } from 'node:buffer';
import { abortError, SpillwayError } from '@spillway/core';
import { waitAsync } from '../internal/wait-async.js';
import {
  BLOCK_TIMEOUT,
  CAPACITY,
  CLOSED,
  CLOSED_DROP,
  CounterWriter,
  DATA_START,
  DISCARDED_BYTES_LO,
  DRAIN_SEQ,
  DROP_NEWEST,
  DROP_OLDEST,
  DROP_REASONS,
  dropIndex,
  FULL_BUSY,
  FULL_NEWEST,
  FULL_OLDEST,
  footprint,
  HEADER_WORDS,
  LOCK,
  MAGIC,
  OFFSET,
  POLICIES,
  POLICY,
  PRODUCER_WAITING,
  placement,
  READ_OFF,
  RING_MAGIC,
  RING_VERSION,
  readCounter,
  SKIP,
  TAKEN_BYTES_LO,
  TAKEN_RECORDS_LO,
  TOO_LARGE,
  VERSION,
  WAITING,
  WRITE_WORD,
} from './layout.js';

/**
 * What `write()` does when the ring has no room for a record:
 * - `drop-newest`: the record being written is dropped (counted `full_newest`);
 * - `drop-oldest`: the oldest records not yet read are discarded to make room (each counted
 *   `full_oldest`); if the consumer is reading them at that moment and does not finish within
 *   a few microseconds, the new record is dropped instead (counted `full_busy`);
 * - `block`: the application thread waits (`Atomics.wait`) until the consumer makes room —
 *   **dangerous**: a stuck consumer stalls the application. Give `blockTimeoutMs` so that a
 *   write gives up (counted `block_timeout`).
 */
export type WhenFull = (typeof POLICIES)[number];

/** Why a record was refused; each reason has its own counter. See `RecordRingStats.dropped`. */
export type RingDropReason = (typeof DROP_REASONS)[number];

/** The outcome of a write: the record is in the ring, or it was dropped (and counted). */
export type WriteResult = 'written' | 'dropped';

/** Options of {@link RecordRing.create}. */
export interface RecordRingOptions {
  /**
   * Size of the data area in bytes, from 64 KiB to 1 GiB (rounded up to a multiple of 8). A
   * record may take at most a quarter of it; each record also takes 4 to 11 bytes of framing.
   */
  bytes: number;
  whenFull: WhenFull;
  /** With `block` only: how long one write may wait for room, in ms. Default: forever. */
  blockTimeoutMs?: number;
}

/** Counters of a ring, the same from either side. Counts are exact up to 2^53. */
export interface RecordRingStats {
  /** Bytes of the data area. */
  readonly capacity: number;
  /** Bytes of the data area in use: records with their framing, and a skipped tail if any. */
  readonly usedBytes: number;
  /** Records that went into the ring. */
  readonly recordsWritten: number;
  /** Payload bytes of those records. */
  readonly bytesWritten: number;
  /** Records refused or discarded, by reason. */
  readonly dropped: Readonly<Record<RingDropReason, number>>;
}

/** Records taken by `drain()`: record `i` is `data.subarray(offsets[i], offsets[i + 1])`. */
export interface RecordBatch {
  /**
   * The records' bytes, one after the other, in memory of their own (not shared with the ring).
   * It may be a view on a slightly larger `ArrayBuffer`: use `byteOffset` and `length`.
   */
  readonly data: Uint8Array;
  /** `records + 1` offsets into `data`: where each record starts, then where the last ends. */
  readonly offsets: Uint32Array;
  readonly records: number;
}

/** Records taken by `drainLines()`. */
export interface LineBatch {
  /** Each record followed by `\n`; like `RecordBatch.data`, possibly a view on a larger buffer. */
  readonly data: Uint8Array;
  readonly records: number;
}

const MIN_BYTES = 64 * 1024;
const MAX_BYTES = 1024 * 1024 * 1024;
const NEWLINE = 0x0a;
/** The data area starts 4 bytes past an 8-byte boundary (see layout.ts); so do its copies. */
const COPY_SHIFT = 4;

/**
 * How long a drop-oldest producer spins for the lock while the consumer copies records out.
 * Waiting is usually worth it — the consumer is freeing room as it goes — but the application
 * thread must not stall on it: past this, the newest record is dropped instead.
 */
const LOCK_PATIENCE_MS = 0.02;

/** Whether `value` is a ring's buffer: a SharedArrayBuffer with this layout's identity words. */
function ringWords(buffer: unknown): Int32Array | undefined {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < DATA_START + MIN_BYTES) {
    return undefined;
  }
  const ctl = new Int32Array(buffer, 0, HEADER_WORDS);
  const ok =
    Atomics.load(ctl, MAGIC) === RING_MAGIC &&
    Atomics.load(ctl, VERSION) === RING_VERSION &&
    Atomics.load(ctl, CAPACITY) === buffer.byteLength - DATA_START &&
    POLICIES[Atomics.load(ctl, POLICY)] !== undefined;
  return ok ? ctl : undefined;
}

function validate(options: RecordRingOptions): string[] {
  const problems: string[] = [];
  const { bytes, whenFull, blockTimeoutMs } = options;
  if (!(Number.isInteger(bytes) && bytes >= MIN_BYTES && bytes <= MAX_BYTES)) {
    problems.push(`bytes must be an integer from ${MIN_BYTES} to ${MAX_BYTES}, not ${bytes}`);
  }
  if (!POLICIES.includes(whenFull)) {
    problems.push(`whenFull must be one of ${POLICIES.join(', ')}, not ${String(whenFull)}`);
  }
  if (blockTimeoutMs !== undefined) {
    if (whenFull !== 'block') problems.push('blockTimeoutMs applies only to whenFull: block');
    if (!(typeof blockTimeoutMs === 'number' && blockTimeoutMs > 0 && blockTimeoutMs < Infinity)) {
      problems.push(`blockTimeoutMs must be a number > 0, not ${String(blockTimeoutMs)}`);
    }
  }
  return problems;
}

function dropCounts(read: (reason: number) => number): Record<RingDropReason, number> {
  const dropped = {} as Record<RingDropReason, number>;
  DROP_REASONS.forEach((reason, i) => {
    dropped[reason] = read(i);
  });
  return dropped;
}

/** Bytes in use between the read and write offsets. */
const used = (write: number, read: number, capacity: number): number =>
  write >= read ? write - read : capacity - read + write;

const isClosed = (ctl: Int32Array): boolean => (Atomics.load(ctl, WRITE_WORD) & CLOSED) !== 0;

/**
 * Closes the ring from either side and wakes whichever side sleeps. Setting the flag changes
 * the write word, so a consumer about to sleep on it does not.
 */
function closeRing(ctl: Int32Array): void {
  Atomics.or(ctl, WRITE_WORD, CLOSED);
  Atomics.notify(ctl, WRITE_WORD);
  Atomics.add(ctl, DRAIN_SEQ, 1);
  Atomics.notify(ctl, DRAIN_SEQ);
}

/**
 * The producer side of a record ring: the application thread writes records into it.
 *
 * When to use: to hand records from the application thread to a worker thread without the
 * application ever doing I/O, waiting (unless `block`) or allocating beyond encoding the record.
 * Create it on the application thread, post `ring.buffer` to the worker, and open the consumer
 * there with {@link RecordRing.consumer}.
 *
 * Gotchas:
 * - One producer: every method must be called from one thread (the one that created it).
 * - A record larger than a quarter of the ring is refused (`too_large`), whatever the policy.
 * - `write()` reports `'dropped'` rather than throwing; read why from `stats().dropped`.
 * - `block` can stall the application for as long as the consumer is stuck: use it only with
 *   `blockTimeoutMs`, or when losing a record is worse than stopping.
 *
 * @example
 * ```ts
 * const ring = RecordRing.create({ bytes: 8 * 1024 * 1024, whenFull: 'drop-newest' });
 * const worker = new Worker(new URL('./shipper.js', import.meta.url), { workerData: ring.buffer });
 * ring.writeString('{"level":"info","msg":"started"}');
 * process.on('exit', () => { ring.close(); ring.waitUntilEmpty(2000); });
 * ```
 */
export class RecordRing {
  /** The shared memory to post to the consumer's thread. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes of the data area. */
  readonly capacity: number;
  /** The largest record accepted: a quarter of the capacity. */
  readonly maxRecordBytes: number;
  readonly whenFull: WhenFull;

  readonly #ctl: Int32Array;
  // Two views of the data area: bytes for payloads (a Buffer, whose write() encodes a string
  // in place without allocating a view per call), int32 words for the length fields.
  readonly #bytes: Buffer;
  readonly #words: Int32Array;
  readonly #policy: number;
  readonly #blockTimeoutMs: number;
  readonly #drops: CounterWriter[];
  readonly #discardedBytes: CounterWriter;
  // Counted here only, not in the header: see RecordRingConsumer#stats.
  #recordsWritten = 0;
  #bytesWritten = 0;
  /** The write offset, as last published: this side alone moves it. */
  #write = 0;
  /**
   * The read offset as last seen. A stale value only underestimates the room (the read offset
   * only moves forward), so it is reloaded only when a record seems not to fit.
   */
  #read = 0;

  private constructor(options: RecordRingOptions) {
    this.capacity = (options.bytes + 7) & ~7;
    this.maxRecordBytes = Math.floor(this.capacity / 4);
    this.whenFull = options.whenFull;
    this.buffer = new SharedArrayBuffer(DATA_START + this.capacity);
    this.#ctl = new Int32Array(this.buffer, 0, HEADER_WORDS);
    this.#bytes = Buffer.from(this.buffer, DATA_START, this.capacity);
    this.#words = new Int32Array(this.buffer, DATA_START, this.capacity / 4);
    this.#policy = POLICIES.indexOf(options.whenFull);
    this.#blockTimeoutMs = options.blockTimeoutMs ?? Infinity;
    this.#drops = DROP_REASONS.map((_, i) => new CounterWriter(this.#ctl, dropIndex(i)));
    this.#discardedBytes = new CounterWriter(this.#ctl, DISCARDED_BYTES_LO);
    Atomics.store(this.#ctl, CAPACITY, this.capacity);
    Atomics.store(this.#ctl, POLICY, this.#policy);
    Atomics.store(this.#ctl, VERSION, RING_VERSION);
    // Last: a buffer with the magic word is a complete ring.
    Atomics.store(this.#ctl, MAGIC, RING_MAGIC);
  }

  /**
   * Allocates a ring (its header and `bytes` of data area) and returns its producer side.
   *
   * @throws SpillwayError `ERR_INVALID_OPTION` naming every problem with `options`.
   */
  static create(options: RecordRingOptions): RecordRing {
    const problems = validate(options);
    if (problems.length > 0) {
      throw new SpillwayError('ERR_INVALID_OPTION', `record ring: ${problems.join('; ')}`);
    }
    return new RecordRing(options);
  }

  /**
   * Opens the consumer side of the ring whose `buffer` was posted from the producer's thread.
   * Open one consumer per ring at a time.
   *
   * @throws SpillwayError `ERR_INVALID_OPTION` when `buffer` is not a ring's buffer.
   */
  static consumer(buffer: SharedArrayBuffer): RecordRingConsumer {
    const ctl = ringWords(buffer);
    if (ctl === undefined) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        'record ring: not the buffer of a RecordRing (or of another version)',
      );
    }
    return new RecordRingConsumer(buffer, ctl);
  }

  /** True once either side called `close()`. */
  get closed(): boolean {
    return isClosed(this.#ctl);
  }

  /** Bytes of the data area in use, framing included. */
  get usedBytes(): number {
    return used(this.#write, Atomics.load(this.#ctl, READ_OFF), this.capacity);
  }

  /**
   * Copies `bytes` into the ring as one record. Returns `'dropped'` (counted by reason) when
   * the record is too large, the ring is closed, or it is full and the policy drops.
   *
   * The ring keeps no reference to `bytes`: reuse the array as soon as this returns.
   */
  write(bytes: Uint8Array): WriteResult {
    const length = bytes.length;
    const at = this.#reserve(length);
    if (at < 0) return 'dropped';
    this.#bytes.set(bytes, at + 4);
    return this.#commit(at, length);
  }

  /**
   * Writes `text` as one UTF-8 record, encoded straight into the ring (no intermediate buffer).
   * Lone surrogates become U+FFFD, as with `Buffer.from(text)`.
   *
   * Gotcha: when the ring is nearly full, or the text is long, the text is measured before it
   * is encoded (so that the room check and the `too_large` limit use its exact size); otherwise
   * room for three bytes per UTF-16 unit is enough to skip that.
   */
  writeString(text: string): WriteResult {
    let length = text.length * 3;
    if (
      length > this.maxRecordBytes ||
      placement(this.#write, this.#read, footprint(length), this.capacity) !== this.#write
    ) {
      length = Buffer.byteLength(text, 'utf8');
    }
    const at = this.#reserve(length);
    if (at < 0) return 'dropped';
    return this.#commit(at, this.#bytes.write(text, at + 4, length, 'utf8'));
  }

  /**
   * Waits, blocking this thread, until the consumer has taken every record written so far, or
   * `timeoutMs` has passed; true when the ring is empty. For the application's exit path:
   * `close()`, then give the worker a bounded time to take what is queued.
   *
   * Gotcha: empty means taken by the consumer, not shipped. Blocks the event loop: never call it
   * on a hot path.
   */
  waitUntilEmpty(timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        Atomics.store(this.#ctl, PRODUCER_WAITING, 1);
        const seq = Atomics.load(this.#ctl, DRAIN_SEQ);
        if (Atomics.load(this.#ctl, READ_OFF) === this.#write) return true;
        const remaining = deadline - performance.now();
        if (remaining <= 0) return false;
        Atomics.wait(this.#ctl, DRAIN_SEQ, seq, remaining);
      }
    } finally {
      Atomics.store(this.#ctl, PRODUCER_WAITING, 0);
    }
  }

  /**
   * Closes the ring: later writes are dropped (counted `closed`); the consumer can still take
   * what is queued, then sees `closed` and an empty ring. Wakes the consumer if it sleeps.
   */
  close(): void {
    closeRing(this.#ctl);
  }

  /** The counters, exact (this side keeps them). */
  stats(): RecordRingStats {
    return {
      capacity: this.capacity,
      usedBytes: this.usedBytes,
      recordsWritten: this.#recordsWritten,
      bytesWritten: this.#bytesWritten,
      dropped: this.dropped(),
    };
  }

  /** The drop counters alone, by reason. */
  dropped(): Record<RingDropReason, number> {
    return dropCounts((i) => this.#drops[i]!.value);
  }

  /**
   * Where the record of `length` bytes goes (its length field), or -1 when it is dropped. A
   * closed ring is seen here only when the record does not fit; otherwise `#commit` sees it.
   */
  #reserve(length: number): number {
    if (length > this.maxRecordBytes) return this.#drop(TOO_LARGE);
    const size = footprint(length);
    const at = placement(this.#write, this.#read, size, this.capacity);
    if (at >= 0) return this.#place(at);
    if (isClosed(this.#ctl)) return this.#drop(CLOSED_DROP);
    this.#read = Atomics.load(this.#ctl, READ_OFF);
    const fresh = placement(this.#write, this.#read, size, this.capacity);
    if (fresh >= 0) return this.#place(fresh);
    if (this.#policy === DROP_NEWEST) return this.#drop(FULL_NEWEST);
    if (this.#policy === DROP_OLDEST) return this.#discardFor(size);
    return this.#waitForRoom(size);
  }

  /** Writes the skip marker when the record wraps to 0; returns `at`. */
  #place(at: number): number {
    if (at !== this.#write) this.#words[this.#write >> 2] = SKIP;
    return at;
  }

  /**
   * Publishes the record whose payload is in place: its length, then the write offset, with the
   * one atomic operation of the hot path. The consumer loads the write word before it reads, so
   * it sees the bytes written before the swap.
   */
  #commit(at: number, length: number): WriteResult {
    this.#words[at >> 2] = length;
    let next = at + footprint(length);
    if (next === this.capacity) next = 0;
    const seen = Atomics.compareExchange(this.#ctl, WRITE_WORD, this.#write, next);
    if (seen !== this.#write && !this.#commitFlagged(seen, next)) return 'dropped';
    this.#write = next;
    this.#recordsWritten++;
    this.#bytesWritten += length;
    return 'written';
  }

  /**
   * The write word carried a flag: wake the consumer (clearing WAITING with the same swap), or
   * refuse the record when the ring is closed. False when refused.
   */
  #commitFlagged(word: number, next: number): boolean {
    for (let seen = word; (seen & CLOSED) === 0; ) {
      const now = Atomics.compareExchange(this.#ctl, WRITE_WORD, seen, next);
      if (now === seen) {
        Atomics.notify(this.#ctl, WRITE_WORD);
        return true;
      }
      seen = now;
    }
    this.#drop(CLOSED_DROP);
    return false;
  }

  #drop(reason: number): number {
    this.#drops[reason]!.add(1);
    return -1;
  }

  /** drop-oldest: takes the lock, discards the oldest records until `size` fits. */
  #discardFor(size: number): number {
    if (Atomics.compareExchange(this.#ctl, LOCK, 0, 1) !== 0 && !this.#awaitLock(size)) {
      // The consumer released the lock but freed room meanwhile, or held it too long.
      this.#read = Atomics.load(this.#ctl, READ_OFF);
      const at = placement(this.#write, this.#read, size, this.capacity);
      return at >= 0 ? this.#place(at) : this.#drop(FULL_BUSY);
    }
    let at: number;
    try {
      let read = Atomics.load(this.#ctl, READ_OFF);
      let discarded = 0;
      let discardedBytes = 0;
      // Terminates: an empty ring (read === write) has room for any record accepted.
      while ((at = placement(this.#write, read, size, this.capacity)) < 0) {
        const length = this.#words[read >> 2]!;
        if (length === SKIP) {
          read = 0;
          continue;
        }
        read += footprint(length);
        if (read === this.capacity) read = 0;
        discarded++;
        discardedBytes += length;
      }
      Atomics.store(this.#ctl, READ_OFF, read);
      this.#read = read;
      // Counted before the lock is released: the consumer's stats() holds it to read a
      // read offset and discard counts that agree.
      if (discarded > 0) {
        this.#drops[FULL_OLDEST]!.add(discarded);
        this.#discardedBytes.add(discardedBytes);
      }
    } finally {
      Atomics.store(this.#ctl, LOCK, 0);
    }
    return this.#place(at);
  }

  /**
   * Spins briefly for the lock the consumer holds while it copies records out. False when the
   * lock was not taken: the patience ran out, or the consumer's drain made room for `size`.
   */
  #awaitLock(size: number): boolean {
    const until = performance.now() + LOCK_PATIENCE_MS;
    for (let spins = 1; ; spins++) {
      if (Atomics.load(this.#ctl, LOCK) === 0) {
        const read = Atomics.load(this.#ctl, READ_OFF);
        if (placement(this.#write, read, size, this.capacity) >= 0) return false;
        if (Atomics.compareExchange(this.#ctl, LOCK, 0, 1) === 0) return true;
      }
      // performance.now() costs more than a load of the lock word: look at the clock seldom.
      if ((spins & 63) === 0 && performance.now() > until) return false;
    }
  }

  /** block: sleeps until the consumer makes room for `size`, the ring closes or time is up. */
  #waitForRoom(size: number): number {
    const deadline = performance.now() + this.#blockTimeoutMs;
    try {
      for (;;) {
        // Announce, then look: a drain that lands after the look sees the flag and wakes us.
        Atomics.store(this.#ctl, PRODUCER_WAITING, 1);
        const seq = Atomics.load(this.#ctl, DRAIN_SEQ);
        if (isClosed(this.#ctl)) return this.#drop(CLOSED_DROP);
        this.#read = Atomics.load(this.#ctl, READ_OFF);
        const at = placement(this.#write, this.#read, size, this.capacity);
        if (at >= 0) return this.#place(at);
        const remaining = deadline - performance.now();
        if (remaining <= 0) return this.#drop(BLOCK_TIMEOUT);
        Atomics.wait(this.#ctl, DRAIN_SEQ, seq, remaining);
      }
    } finally {
      Atomics.store(this.#ctl, PRODUCER_WAITING, 0);
    }
  }
}

/**
 * The consumer side of a record ring: the worker thread takes records from it in batches.
 * Open it with {@link RecordRing.consumer} on the buffer posted from the producer's thread.
 *
 * When to use: the shipping thread's loop — drain a batch, hand it on, and when the ring is
 * empty `await waitForData()`; stop once `closed` is true and a drain returns `undefined`.
 *
 * Gotchas:
 * - One consumer, on one thread; one `waitForData()` at a time.
 * - Under `drop-oldest` the producer cannot discard while a drain copies records out (it drops
 *   the newest instead, counted `full_busy`): keep `maxBytes` modest (64 KiB to 1 MiB) there.
 * - A drain always takes at least one record, even one larger than `maxBytes`.
 *
 * @example
 * ```ts
 * const ring = RecordRing.consumer(workerData.buffer);
 * for (;;) {
 *   const batch = ring.drainLines(1024 * 1024);
 *   if (batch) await pipeline.push(batch.data);
 *   else if (ring.closed) break;
 *   else await ring.waitForData(signal);
 * }
 * ```
 */
export class RecordRingConsumer {
  /** The ring's shared memory. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes of the data area. */
  readonly capacity: number;
  readonly whenFull: WhenFull;

  readonly #ctl: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  /** drop-oldest: the producer may move the read offset too, so reads take the lock. */
  readonly #locking: boolean;
  readonly #takenRecords: CounterWriter;
  readonly #takenBytes: CounterWriter;

  /** @internal use {@link RecordRing.consumer}. */
  constructor(buffer: SharedArrayBuffer, ctl: Int32Array) {
    this.buffer = buffer;
    this.#ctl = ctl;
    this.capacity = Atomics.load(ctl, CAPACITY);
    const policy = Atomics.load(ctl, POLICY);
    this.whenFull = POLICIES[policy]!;
    this.#bytes = new Uint8Array(buffer, DATA_START, this.capacity);
    this.#words = new Int32Array(buffer, DATA_START, this.capacity / 4);
    this.#locking = policy === DROP_OLDEST;
    this.#takenRecords = new CounterWriter(ctl, TAKEN_RECORDS_LO);
    this.#takenBytes = new CounterWriter(ctl, TAKEN_BYTES_LO);
  }

  /** True once either side called `close()`. Records may still be queued: drain them. */
  get closed(): boolean {
    return isClosed(this.#ctl);
  }

  /** Bytes of the data area in use, framing included. */
  get usedBytes(): number {
    return used(
      Atomics.load(this.#ctl, WRITE_WORD) & OFFSET,
      Atomics.load(this.#ctl, READ_OFF),
      this.capacity,
    );
  }

  /** The oldest record, in memory of its own, or undefined when the ring is empty. */
  read(): Uint8Array | undefined {
    return this.#take(Infinity, 1, false)?.data;
  }

  /**
   * Takes every whole record available, oldest first, as long as their bytes add up to at most
   * `maxBytes` (at least one record), with the offset of each; undefined when the ring is
   * empty. For consumers whose records are not lines.
   */
  drain(maxBytes = Infinity): RecordBatch | undefined {
    const taken = this.#take(maxBytes, Infinity, false);
    return taken && { data: taken.data, offsets: taken.offsets!, records: taken.records };
  }

  /**
   * Takes every whole record available, oldest first, each followed by `\n`, as long as that
   * adds up to at most `maxBytes` (at least one record); undefined when the ring is empty. For
   * NDJSON records: the result is a ready batch of lines. The ring does not check that records
   * contain no newline: a record with one becomes two lines.
   */
  drainLines(maxBytes = Infinity): LineBatch | undefined {
    const taken = this.#take(maxBytes, Infinity, true);
    return taken && { data: taken.data, records: taken.records };
  }

  /**
   * Resolves when records are available or the ring is closed, at once if they already are.
   * Rejects when `signal` aborts. Keeps the event loop alive while it waits (a pending
   * `Atomics.waitAsync` alone does not, and a worker with nothing else to do would exit).
   */
  async waitForData(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    // Aborting wakes the pending wait, whose loop then sees the signal.
    const wake = () => Atomics.notify(this.#ctl, WRITE_WORD);
    signal?.addEventListener('abort', wake, { once: true });
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      for (let word = this.#announce(); !this.#ready(word); word = this.#announce()) {
        if (signal?.aborted) throw abortError(signal);
        await waitAsync(this.#ctl, WRITE_WORD, word);
      }
    } finally {
      Atomics.and(this.#ctl, WRITE_WORD, ~WAITING);
      clearInterval(keepAlive);
      signal?.removeEventListener('abort', wake);
    }
  }

  /**
   * Blocks this thread until records are available or the ring is closed (true), or
   * `timeoutMs` passes (false). For tests and exit paths; a running consumer uses
   * `waitForData()`.
   */
  waitForDataSync(timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    try {
      for (let word = this.#announce(); !this.#ready(word); word = this.#announce()) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) return false;
        Atomics.wait(this.#ctl, WRITE_WORD, word, remaining);
      }
      return true;
    } finally {
      Atomics.and(this.#ctl, WRITE_WORD, ~WAITING);
    }
  }

  /**
   * Closes the ring from this side: the producer's later writes are dropped (counted `closed`)
   * and a producer blocked in `write()` or `waitUntilEmpty()` wakes. Queued records stay
   * readable.
   */
  close(): void {
    closeRing(this.#ctl);
  }

  /**
   * The counters. Records and bytes written are not published per write (that would cost the
   * producer two more atomic stores each time): they are added up here from what this side
   * took, what drop-oldest discarded and what is queued — exact, but the queued records are
   * walked, so this costs time in proportion to how many are queued (and holds the lock under
   * drop-oldest meanwhile). For the drop counts alone, `dropped()` is cheap.
   */
  stats(): RecordRingStats {
    if (this.#locking) this.#lock();
    let write: number;
    let queuedRecords = 0;
    let queuedBytes = 0;
    let discardedBytes: number;
    let dropped: Record<RingDropReason, number>;
    try {
      write = Atomics.load(this.#ctl, WRITE_WORD) & OFFSET;
      for (let at = Atomics.load(this.#ctl, READ_OFF); at !== write; ) {
        const length = this.#words[at >> 2]!;
        if (length === SKIP) {
          at = 0;
          continue;
        }
        queuedRecords++;
        queuedBytes += length;
        at += footprint(length);
        if (at === this.capacity) at = 0;
      }
      discardedBytes = readCounter(this.#ctl, DISCARDED_BYTES_LO);
      dropped = this.dropped();
    } finally {
      if (this.#locking) Atomics.store(this.#ctl, LOCK, 0);
    }
    return {
      capacity: this.capacity,
      usedBytes: used(write, Atomics.load(this.#ctl, READ_OFF), this.capacity),
      recordsWritten: this.#takenRecords.value + dropped.full_oldest + queuedRecords,
      bytesWritten: this.#takenBytes.value + discardedBytes + queuedBytes,
      dropped,
    };
  }

  /**
   * The drop counters alone, by reason: cheap (no walk over the queue, no lock), so fit to be
   * read before every drain, e.g. to report drops downstream as they happen.
   */
  dropped(): Record<RingDropReason, number> {
    return dropCounts((i) => readCounter(this.#ctl, dropIndex(i)));
  }

  /**
   * Sets WAITING on the write word and returns the word: the value to sleep on. A record
   * published after this changes the word (and the producer, seeing the flag, notifies).
   */
  #announce(): number {
    return Atomics.or(this.#ctl, WRITE_WORD, WAITING) | WAITING;
  }

  /** Whether the write word says there are records to take or the ring is closed. */
  #ready(word: number): boolean {
    return (word & CLOSED) !== 0 || (word & OFFSET) !== Atomics.load(this.#ctl, READ_OFF);
  }

  /**
   * Copies out up to `maxRecords` whole records within `maxBytes` (a newline counted after
   * each when `lines`), and frees their room. The first pass over the length words picks the
   * records; the copy is then one `set()` per contiguous span (two when the records wrap), and
   * the framing is squeezed out in place: a call per record on memory of our own, cheaper than
   * a view and a copy per record out of the shared buffer.
   */
  #take(
    maxBytes: number,
    maxRecords: number,
    lines: boolean,
  ): { data: Uint8Array; offsets: Uint32Array | undefined; records: number } | undefined {
    const words = this.#words;
    const capacity = this.capacity;
    const extra = lines ? 1 : 0;
    if (this.#locking) this.#lock();
    let start: number;
    let end: number;
    let records = 0;
    let total = 0;
    let data: Uint8Array | undefined;
    let offsets: Uint32Array | undefined;
    try {
      // The write word first: the records before its offset are complete (RecordRing#commit).
      const write = Atomics.load(this.#ctl, WRITE_WORD) & OFFSET;
      start = Atomics.load(this.#ctl, READ_OFF);
      end = start;
      // Where the records wrap to 0 (a skip marker or the very end), when they do.
      let wrapAt = -1;
      while (end !== write && records < maxRecords) {
        const length = words[end >> 2]!;
        if (length === SKIP) {
          wrapAt = end;
          end = 0;
          continue;
        }
        if (records > 0 && total + length + extra > maxBytes) break;
        total += length + extra;
        records++;
        end += footprint(length);
        if (end === capacity) {
          wrapAt = capacity;
          end = 0;
        }
      }
      if (records > 0) {
        data = wrapAt < 0 ? this.#copy(start, end, 0) : this.#copy(start, wrapAt, end);
        if (!lines) offsets = new Uint32Array(records + 1);
        // Squeeze the framing out, front to back: a record's bytes and its newline always land
        // before the frame of the next one, so nothing is overwritten before it is moved.
        let from = COPY_SHIFT;
        let to = 0;
        let at = start;
        for (let i = 1; i <= records; i++) {
          if (at === wrapAt) at = 0;
          const length = words[at >> 2]!;
          data.copyWithin(to, from + 4, from + 4 + length);
          to += length;
          if (lines) data[to++] = NEWLINE;
          if (offsets) offsets[i] = to;
          from += footprint(length);
          at += footprint(length);
        }
      }
      if (end !== start) Atomics.store(this.#ctl, READ_OFF, end);
    } finally {
      if (this.#locking) Atomics.store(this.#ctl, LOCK, 0);
    }
    if (end === start) return undefined;
    this.#takenRecords.add(records);
    this.#takenBytes.add(total - records * extra);
    this.#drained();
    return data && { data: data.subarray(0, total), offsets, records };
  }

  /**
   * A copy of the ring's bytes `[from, to)` followed by `[0, headEnd)`, from `COPY_SHIFT` on:
   * there, the copy is aligned as the data area is, so that V8 copies it word by word.
   */
  #copy(from: number, to: number, headEnd: number): Uint8Array {
    const data = new Uint8Array(COPY_SHIFT + to - from + headEnd);
    data.set(this.#bytes.subarray(from, to), COPY_SHIFT);
    if (headEnd > 0) data.set(this.#bytes.subarray(0, headEnd), COPY_SHIFT + to - from);
    return data;
  }

  /** Tells a producer waiting for room (block) or for an empty ring that room was made. */
  #drained(): void {
    Atomics.add(this.#ctl, DRAIN_SEQ, 1);
    if (
      Atomics.load(this.#ctl, PRODUCER_WAITING) !== 0 &&
      Atomics.exchange(this.#ctl, PRODUCER_WAITING, 0) !== 0
    ) {
      Atomics.notify(this.#ctl, DRAIN_SEQ);
    }
  }

  /**
   * drop-oldest: the lock against the producer discarding what is being copied. The producer
   * holds it only while it moves the read offset over a few records: spin, and nap (1 ms) only
   * if that takes long (its thread was descheduled while holding it).
   */
  #lock(): void {
    for (let spins = 1; Atomics.compareExchange(this.#ctl, LOCK, 0, 1) !== 0; spins++) {
      if ((spins & 1023) === 0) Atomics.wait(this.#ctl, LOCK, 1, 1);
    }
  }
}
