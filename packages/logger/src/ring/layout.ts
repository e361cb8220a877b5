/**
 * The shared memory layout of a record ring, and the counters kept in it. Internal: both sides
 * of the ring (and white-box tests) use these offsets; nothing else should.
 *
 * ```
 *  SharedArrayBuffer
 *  ┌─────────── header: 6 lines × 128 bytes, 4 spare ───────────┐┌───────── data ──────────┐
 *  │ identity │ write │ producer │ consumer │ p.wait │ lock │ 4 ││ [len|payload|pad]… SKIP │
 *  └────────────────────────────────────────────────────────────┘└─────────────────────────┘
 * ```
 *
 * Words written by different threads live on different 128-byte lines (two cache lines, so the
 * adjacent-line prefetcher does not pair them): the producer's hot word bounces to the consumer
 * only when it looks, not on every write.
 *
 * The write word is the whole of the producer's hot path: the write offset (a multiple of 8)
 * in its high bits, plus two flags in its low bits — `WAITING`, set by the consumer before it
 * sleeps, and `CLOSED`. The producer publishes a record with one compare-and-swap from the offset
 * it last stored: it succeeds when neither flag is set, and when it fails the producer learns in
 * the same operation that it must wake the consumer or that the ring is closed.
 *
 * Data area: records one after the other, each `[length: int32][payload][pad]`, starting at a
 * multiple of 8. The data area starts 4 bytes past an 8-byte boundary, so that every payload
 * starts on one: V8 copies into shared memory word by word only when source and destination
 * are aligned alike (a 100-byte `set()` costs 14 ns so, 34 ns byte by byte), and the arrays
 * written are 8-aligned as a rule. A record never straddles the end: when it does not fit
 * before the end, the producer writes `SKIP` as the length and puts the record at 0. Offsets
 * are kept within `[0, capacity)`; `read == write` means empty, so the producer never lets
 * `write` catch up with `read` from behind (it always leaves at least 8 bytes free).
 *
 * Counters are 53-bit, kept as two words: `lo` in [0, 2^31) and `hi`. The single writer adds to
 * `lo` with one store; on a carry it stores `BUSY` in `lo`, then `hi`, then the new `lo`. A
 * reader that sees `hi` twice the same around a `lo` that is not `BUSY` has a consistent value
 * (see {@link readCounter}). The producer's counters (drops) change only off its hot path; the
 * consumer's (records and bytes taken) once per drain. Records and bytes written are not
 * counted per write: the producer counts them in its own fields, and the consumer adds up what
 * was taken, what was discarded and what is queued (see `RecordRingConsumer#stats`).
 */

/** Identifies a ring's buffer, so that the consumer refuses anything else. */
export const RING_MAGIC = 0x52_49_4e_47; // "RING"
/** Bumped on any layout change: both sides must agree. */
export const RING_VERSION = 1;

const LINE = 32; // words per line: 128 bytes

// Line 0: identity, written once by create().
export const MAGIC = 0;
export const VERSION = 1;
export const CAPACITY = 2;
export const POLICY = 3;

// Line 1: the write word, see above.
export const WRITE_WORD = LINE;
/** Flag of the write word: the consumer is about to sleep, wake it after the next record. */
export const WAITING = 1;
/** Flag of the write word: the ring is closed. */
export const CLOSED = 2;
/** Masks the flags off the write word. */
export const OFFSET = ~3;

// Line 2: the producer's counters, lo/hi pairs: drops per reason in DROP_REASONS order, then
// the payload bytes of the records discarded by drop-oldest.
export const DROPS_LO = 2 * LINE;

// Line 3: the consumer's words. READ_OFF is also moved by the producer under drop-oldest,
// holding LOCK. DRAIN_SEQ changes after each drain and on close (the producer waits on it).
export const READ_OFF = 3 * LINE;
export const DRAIN_SEQ = 3 * LINE + 1;
export const TAKEN_RECORDS_LO = 3 * LINE + 2;
export const TAKEN_BYTES_LO = 3 * LINE + 4;

// Line 4: set by the producer before it sleeps; the consumer reads it after every drain.
export const PRODUCER_WAITING = 4 * LINE;
// Line 5: held by the consumer while it reads, by the producer while it discards (drop-oldest).
export const LOCK = 5 * LINE;

export const HEADER_WORDS = 6 * LINE;
/** Where the data area starts: 4 bytes past the header, see above. */
export const DATA_START = HEADER_WORDS * 4 + 4;

/** The length word of a skip marker: the rest of the data area is unused, continue at 0. */
export const SKIP = -1;

/** The policies, as stored in the header's POLICY word. */
export const POLICIES = ['drop-newest', 'drop-oldest', 'block'] as const;
export const DROP_NEWEST = 0;
export const DROP_OLDEST = 1;

/**
 * Why records were dropped, in the order of their counters in the header.
 * - `full_newest`: drop-newest, the ring was full.
 * - `full_oldest`: drop-oldest, queued records discarded to make room.
 * - `full_busy`: drop-oldest, the ring was full and the consumer was reading (holding the
 *   lock) for longer than the producer may spin, so the newest was dropped instead.
 * - `too_large`: a record larger than a quarter of the ring.
 * - `block_timeout`: block, no room within `blockTimeoutMs`.
 * - `closed`: written after `close()`.
 */
export const DROP_REASONS = [
  'full_newest',
  'full_oldest',
  'full_busy',
  'too_large',
  'block_timeout',
  'closed',
] as const;
export const FULL_NEWEST = 0;
export const FULL_OLDEST = 1;
export const FULL_BUSY = 2;
export const TOO_LARGE = 3;
export const BLOCK_TIMEOUT = 4;
export const CLOSED_DROP = 5;

/** Where the lo word of the drop counter of `reason` (an index in DROP_REASONS) is. */
export const dropIndex = (reason: number): number => DROPS_LO + 2 * reason;
/** The payload bytes of the records drop-oldest discarded. */
export const DISCARDED_BYTES_LO = dropIndex(DROP_REASONS.length);

const LO_LIMIT = 0x8000_0000;
const BUSY = -1;

/** The bytes a record of `length` payload bytes takes in the data area: a multiple of 8. */
export const footprint = (length: number): number => (length + 11) & ~7;

/**
 * Where a record of `size` bytes (its footprint) goes, given the write and read offsets, or -1
 * when it does not fit. `write` when it fits there (possibly ending exactly at the end); 0 when
 * it must wrap (the caller writes a skip marker at `write`). Never lets `write` reach `read`.
 */
export function placement(write: number, read: number, size: number, capacity: number): number {
  if (write >= read) {
    const end = write + size;
    if (end < capacity || (end === capacity && read !== 0)) return write;
    return size < read ? 0 : -1;
  }
  return write + size < read ? write : -1;
}

/**
 * A counter written by one thread, readable by any with {@link readCounter}. The writer keeps
 * the value in its own fields too, so reading its own counters costs nothing.
 */
export class CounterWriter {
  readonly #words: Int32Array;
  readonly #index: number;
  #lo = 0;
  #hi = 0;

  /** Continues from the value in the header (a consumer may take over from a previous one). */
  constructor(words: Int32Array, index: number) {
    this.#words = words;
    this.#index = index;
    this.#lo = Atomics.load(words, index);
    this.#hi = Atomics.load(words, index + 1);
  }

  get value(): number {
    return this.#hi * LO_LIMIT + this.#lo;
  }

  /** Adds `n` (0 ≤ n < 2^31). One atomic store, three on the rare carry. */
  add(n: number): void {
    const lo = this.#lo + n;
    if (lo < LO_LIMIT) {
      this.#lo = lo;
      Atomics.store(this.#words, this.#index, lo);
      return;
    }
    Atomics.store(this.#words, this.#index, BUSY);
    this.#hi++;
    this.#lo = lo - LO_LIMIT;
    Atomics.store(this.#words, this.#index + 1, this.#hi);
    Atomics.store(this.#words, this.#index, this.#lo);
  }
}

/**
 * Reads a counter written by a {@link CounterWriter} on any thread. If `hi` is the same before
 * and after reading a non-`BUSY` `lo`, no carry happened in between, so the pair is consistent.
 * Spins only while a carry is in progress: three stores, once per 2^31 added.
 */
export function readCounter(words: Int32Array, index: number): number {
  for (;;) {
    const hi = Atomics.load(words, index + 1);
    const lo = Atomics.load(words, index);
    if (lo !== BUSY && Atomics.load(words, index + 1) === hi) return hi * LO_LIMIT + lo;
  }
}
