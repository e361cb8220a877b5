/**
 * The disk buffer: an append-only queue of batches in segment files, with at-least-once replay.
 *
 * ```
 *  dir/
 *    lock                      pid of the process that has the buffer open
 *    ledger                    acknowledged position (two CRC'd slots, see internal/ledger.ts)
 *    seg-0000000000000000.log  records seq 0 … (see internal/record.ts for the framing)
 *    seg-0000000000000412.log  records seq 412 …            ◀── the writer appends here
 *
 *   seq:   ackedSeq ≤ readSeq ≤ writeSeq
 *          [ acked: space to reclaim ][ read, in flight ][ unread backlog ]
 * ```
 *
 * - `append()` frames a batch as one record (length, CRC32C, msgpackr body) and writes it at the
 *   end of the newest segment; a segment that would pass `segmentBytes` is sealed and a new one
 *   started. Records are numbered by `seq`, +1 per record, never reused.
 * - `read()` hands out the next unread record as a batch whose acknowledgement, once settled by
 *   every sink, acknowledges the record. Acknowledgements may arrive in any order: the acked
 *   position only moves over a contiguous settled prefix (core's `AckWatermark`), and a segment
 *   is deleted once every record in it is acknowledged. That is the only way space comes back.
 * - On `open()` every segment is scanned: a torn tail (a partial record from a crash) is
 *   truncated, damaged records are skipped and counted, and when the ledger is missing or both
 *   of its slots are damaged the acked position is rebuilt as the first record still on disk.
 *   Everything not acknowledged is replayed: duplicates are possible, loss of accepted data is
 *   not, and no state on disk ever stops the buffer from opening.
 *
 * Durability (`fsync`):
 * - `always`: each append resolves after `fdatasync` of its segment. Survives a power loss.
 * - `interval` (default, every `fsyncIntervalMs` = 1000 ms): appends resolve once the bytes are
 *   written to the OS. A process crash (SIGKILL, OOM) loses nothing; a power loss or kernel
 *   crash loses at most the last interval of appends.
 * - `never`: the OS decides when to write back. A process crash loses nothing; a power loss
 *   may lose anything not yet written back.
 * The ledger is synced on the same schedule; a stale ledger only means records are replayed
 * again (duplicates), because it is written after the data it describes.
 */
import { join } from 'node:path';
import {
  type Acknowledgement,
  AckWatermark,
  type Batch,
  decodeBatch,
  encodeBatch,
  optionChecks,
  SpillwayError,
  sleep,
} from '@spillway/core';
import { DiskBufferError } from './errors.js';
import { errorCode, type FileHandle, type FileSystem, nodeFileSystem } from './file-system.js';
import { Ledger } from './internal/ledger.js';
import { recordBytes, scanRecord, writeRecord } from './internal/record.js';
import { hooks } from './internal/testing.js';

export type FsyncMode = 'always' | 'interval' | 'never';

/** What `append` does when `maxBytes` on disk is reached. */
export type DiskFullPolicy = 'block' | 'drop-oldest';

export interface DiskBufferOptions {
  /** Directory of the buffer; created if missing. One process at a time (see `lock`). */
  dir: string;
  /** Most bytes of segment files on disk. Default 1 GiB. */
  maxBytes?: number;
  /** Size at which a segment is sealed; also the largest record. Default 16 MiB. */
  segmentBytes?: number;
  /** Default `interval`. */
  fsync?: FsyncMode;
  /** Default 1000 ms. */
  fsyncIntervalMs?: number;
  /**
   * When the disk bound is reached, or a write fails (ENOSPC, EIO): `block` (default) makes
   * `append` wait (retrying failed writes with backoff) — pressure goes upstream; `drop-oldest`
   * deletes the oldest sealed segment to make room (its unread records are counted as dropped),
   * and drops the new batch when a write fails.
   */
  whenFull?: DiskFullPolicy;
  /** Records handed out by `read()` and not yet acknowledged, at most. Default 1024. */
  maxInFlight?: number;
  /** The file layer. Default `node:fs/promises`. */
  fs?: FileSystem;
  /** Sees every counted write error (its `cause` is the file system's error). */
  onError?: (err: DiskBufferError) => void;
}

export interface DiskBufferStats {
  readonly bytesOnDisk: number;
  /** Records not yet acknowledged (unread + in flight). */
  readonly recordsOnDisk: number;
  readonly eventsOnDisk: number;
  /** Records written and not yet handed out by `read()`. */
  readonly unread: number;
  readonly inFlight: number;
  readonly segments: number;
  readonly writtenRecords: number;
  readonly writtenEvents: number;
  readonly writtenBytes: number;
  readonly replayedRecords: number;
  readonly replayedEvents: number;
  readonly replayedBytes: number;
  readonly ackedRecords: number;
  /**
   * Records found damaged (CRC mismatch, unreadable region) and skipped by `read()`, each counted
   * once, from the gap it leaves in the record numbers.
   */
  readonly corruptRecords: number;
  /** Bytes cut off torn segment tails at open. */
  readonly truncatedBytes: number;
  /** True when the last open rebuilt the positions because the ledger was missing or damaged. */
  readonly ledgerRebuilt: boolean;
  readonly writeErrors: number;
  /** Records dropped by the full-policy, by reason (`disk_full_drop_oldest`, `write_error`). */
  readonly drops: Readonly<Record<string, number>>;
  readonly fsyncs: number;
}

/** A batch read back from disk, with the record number it was stored under. */
export interface ReadRecord {
  readonly seq: number;
  readonly batch: Batch;
}

interface Segment {
  readonly firstSeq: number;
  /** One past the last record's seq (as far as known). */
  endSeq: number;
  readonly path: string;
  size: number;
  /** Events in the records of this segment that are not acknowledged (approximate after damage). */
  events: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const READ_CHUNK = 1 * MiB;
/** Records up to this size are framed in a buffer kept between appends; larger ones get their own. */
const MAX_KEPT_FRAME = 4 * MiB;
const SEGMENT_RE = /^seg-(\d{16})\.log$/;
const MAX_RETRY_MS = 5_000;
/** Directories opened by this process: a lock holding our own pid is live only if listed here. */
const openDirs = new Set<string>();

const segmentName = (firstSeq: number) => `seg-${String(firstSeq).padStart(16, '0')}.log`;

/**
 * When to use: behind a channel that must not lose data when its consumer is down for longer
 * than memory can cover — through `spill()` (a pipeline buffer) rather than directly.
 *
 * Gotchas: one process per directory (a second `open` fails with `ERR_DISK_BUFFER_LOCKED`; a
 * lock left by a dead process is taken over). `read()` never waits for data: callers poll it
 * after `append`s (the spill channel does). Always `close()`: it syncs and writes the ledger,
 * so the next open replays less.
 *
 * @example
 * ```ts
 * const disk = await DiskBuffer.open({ dir: '/var/lib/spillway/http', fsync: 'interval' });
 * await disk.append(batch);
 * const rec = await disk.read();      // { seq, batch } or undefined
 * rec?.batch.ack.settle('delivered'); // frees the space once every earlier record is acked too
 * await disk.close();
 * ```
 */
export class DiskBuffer {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: FsyncMode;
  readonly whenFull: DiskFullPolicy;

  readonly #fs: FileSystem;
  readonly #onError: (err: DiskBufferError) => void;
  readonly #ledger: Ledger;
  readonly #segments: Segment[];
  readonly #watermark: AckWatermark<number>;
  readonly #spaceWaiters: Waiter[] = [];
  readonly #timer: NodeJS.Timeout | undefined;
  #active: { segment: Segment; handle: FileHandle } | undefined;
  /** The buffer records are framed in, kept between appends (see #writeRecord). */
  #frame = Buffer.alloc(0);
  #writing: Promise<unknown> | undefined;
  #dirty = false;
  #closed = false;

  #writeSeq: number;
  #readSeq: number;
  #ackedSeq: number;
  #read: { index: number; offset: number; chunk: Buffer; chunkAt: number; chunkEnd: number };
  /** Records found in the read chunk and not decoded yet (see #fill). */
  #chunkViews = 0;
  #readHandle: { index: number; handle: FileHandle } | undefined;

  #bytesOnDisk = 0;
  #writtenRecords = 0;
  #writtenEvents = 0;
  #writtenBytes = 0;
  #replayedRecords = 0;
  #replayedEvents = 0;
  #replayedBytes = 0;
  #ackedRecords = 0;
  #corruptRecords = 0;
  #truncatedBytes: number;
  readonly #ledgerRebuilt: boolean;
  #writeErrors = 0;
  #fsyncs = 0;
  readonly #drops: Record<string, number> = {};

  private constructor(
    options: DiskBufferOptions,
    init: {
      ledger: Ledger;
      segments: Segment[];
      writeSeq: number;
      ackedSeq: number;
      truncated: number;
      rebuilt: boolean;
    },
  ) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? GiB;
    this.segmentBytes = options.segmentBytes ?? 16 * MiB;
    this.fsync = options.fsync ?? 'interval';
    this.whenFull = options.whenFull ?? 'block';
    this.#fs = options.fs ?? nodeFileSystem;
    this.#onError = options.onError ?? (() => {});
    this.#ledger = init.ledger;
    this.#segments = init.segments;
    this.#writeSeq = init.writeSeq;
    this.#ackedSeq = init.ackedSeq;
    this.#readSeq = init.ackedSeq;
    this.#truncatedBytes = init.truncated;
    this.#ledgerRebuilt = init.rebuilt;
    for (const s of init.segments) this.#bytesOnDisk += s.size;
    this.#read = { index: 0, offset: 0, chunk: Buffer.alloc(0), chunkAt: 0, chunkEnd: 0 };
    this.#watermark = new AckWatermark<number>({
      maxInFlight: options.maxInFlight ?? 1024,
      onCommit: (position) => this.#committed(position),
    });
    if (this.fsync !== 'always') {
      this.#timer = setInterval(() => {
        this.#exclusive(() => this.#checkpoint(this.fsync === 'interval')).catch((err) =>
          this.#writeFailed(err),
        );
      }, options.fsyncIntervalMs ?? 1000);
      this.#timer.unref();
    }
  }

  /**
   * Opens (creating if needed) the buffer in `options.dir`, repairing what a crash left: see the
   * module header. Rejects only when the directory cannot be used at all (locked by a live
   * process, unreadable) — never because of what is inside the files.
   */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const fs = options.fs ?? nodeFileSystem;
    const segmentBytes = options.segmentBytes ?? 16 * MiB;
    const problems = diskBufferProblems(options);
    if (problems.length > 0) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        `disk buffer ${options.dir}: ${problems.join('; ')}`,
      );
    }
    await fs.mkdir(options.dir, { recursive: true });
    await takeLock(fs, options.dir);
    try {
      const { ledger, state } = await Ledger.open((flags) =>
        fs.open(join(options.dir, 'ledger'), flags),
      );
      const scan = await scanSegments(fs, options.dir, segmentBytes, state?.ackedSeq ?? 0);
      const firstOnDisk = scan.segments[0]?.firstSeq;
      const writeSeq = Math.max(scan.endSeq, state?.writeSeq ?? 0);
      // Records below the first one on disk were acknowledged and their segment deleted (the
      // ledger may be older than that deletion, or gone).
      const ackedSeq = Math.min(writeSeq, Math.max(state?.ackedSeq ?? 0, firstOnDisk ?? writeSeq));
      const buffer = new DiskBuffer(options, {
        ledger,
        segments: scan.segments,
        writeSeq,
        ackedSeq,
        truncated: scan.truncated,
        rebuilt: state === undefined && scan.segments.length > 0,
      });
      await buffer.#reclaim();
      await buffer.#ledger.write(buffer.#positions(), true);
      return buffer;
    } catch (err) {
      openDirs.delete(options.dir);
      await fs.unlink(join(options.dir, 'lock')).catch(() => {});
      throw err;
    }
  }

  /** Records not yet handed out by `read()`. */
  get unread(): number {
    return this.#writeSeq - this.#readSeq;
  }

  /**
   * Writes `batch` as one record. Resolves `written` once it is stored as `fsync` promises, or
   * `dropped` when a write failed under `drop-oldest` (counted). Waits while the disk is full
   * under `block`. Rejects with `ERR_ITEM_TOO_LARGE` for a batch larger than a segment, with
   * `ERR_DISK_BUFFER_CLOSED` after `close()`, or with the signal's reason.
   *
   * The batch's own acknowledgement is not touched: the caller decides what storing it means.
   */
  async append(batch: Batch, signal?: AbortSignal): Promise<'written' | 'dropped'>;
  /**
   * With `{ wait: false }`: resolves `full` instead of waiting for room under `block` — for a
   * caller that would itself have to make that room (a sink giving a batch back).
   */
  async append(
    batch: Batch,
    signal: AbortSignal | undefined,
    options: { wait: false },
  ): Promise<'written' | 'dropped' | 'full'>;
  async append(
    batch: Batch,
    signal?: AbortSignal,
    options: { wait: boolean } = { wait: true },
  ): Promise<'written' | 'dropped' | 'full'> {
    const id = Buffer.from(batch.id, 'utf8');
    const payload = encodeBatch(batch);
    const size = recordBytes({ id, payload, events: batch.count });
    if (size > this.segmentBytes) {
      throw new SpillwayError(
        'ERR_ITEM_TOO_LARGE',
        `disk buffer ${this.dir}: a record of ${size} bytes exceeds segmentBytes ${this.segmentBytes}`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      this.#assertOpen();
      if (!(await this.#makeRoom(size, signal, options.wait))) return 'full';
      const outcome = await this.#exclusive(async () => {
        this.#assertOpen();
        if (this.#bytesOnDisk + size > this.maxBytes) return 'full' as const;
        try {
          await this.#writeRecord(size, { id, payload, events: batch.count });
          return 'written' as const;
        } catch (err) {
          this.#writeFailed(err);
          return 'failed' as const;
        }
      });
      if (outcome === 'written') return 'written';
      if (outcome === 'failed' && this.whenFull === 'drop-oldest') {
        this.#countDrop('write_error');
        return 'dropped';
      }
      if (outcome === 'failed') await sleep(Math.min(MAX_RETRY_MS, 50 * 2 ** attempt), signal);
    }
  }

  /**
   * The next unread record as a batch (with a new acknowledgement tied to the record), or
   * undefined when there is nothing unread. Waits only while `maxInFlight` records are out.
   * Damaged records are skipped and counted, never returned.
   */
  async read(signal?: AbortSignal): Promise<ReadRecord | undefined> {
    this.#assertOpen();
    while (this.#readSeq < this.#writeSeq) {
      const found = await this.#exclusive(() => this.#nextRecord());
      if (found === 'again') continue;
      if (found === undefined) return undefined;
      // Records between readSeq and the one found were lost to damage: they are counted, and
      // settled so that the acknowledged position can move past them.
      const from = this.#readSeq;
      if (found.seq > from) {
        const gap = await this.#watermark.track(found.seq, signal);
        this.#corruptRecords += found.seq - from;
        this.#readSeq = found.seq;
        gap.settle('rejected', 'disk_buffer:corrupt');
      }
      if (found.kind === 'gap') continue;
      const { seq, events, payload } = found;
      const reader = this.#read;
      // `payload` is a view of the read chunk: no #fill() may reuse the chunk until it is decoded.
      this.#chunkViews++;
      let batch: Batch | undefined;
      try {
        const ack = await this.#watermark.track(seq + 1, signal);
        if (reader !== this.#read || this.#readSeq !== seq) {
          // The reader was moved while we waited (drop-oldest removed this record's segment).
          ack.settle('dropped', 'disk_buffer:dropped_while_reading');
          continue;
        }
        reader.offset = found.next;
        this.#readSeq = seq + 1;
        batch = decodeOrSkip(payload, ack);
        if (!batch) {
          this.#corruptRecords++;
          ack.settle('rejected', 'disk_buffer:undecodable');
          continue;
        }
      } finally {
        this.#chunkViews--;
      }
      const segment = this.#segmentOf(seq);
      batch.ack.onSettled(() => {
        this.#ackedRecords++;
        if (segment) segment.events -= events;
      });
      this.#replayedRecords++;
      this.#replayedEvents += batch.count;
      this.#replayedBytes += payload.byteLength;
      return { seq, batch };
    }
    return undefined;
  }

  stats(): DiskBufferStats {
    let eventsOnDisk = 0;
    for (const s of this.#segments) eventsOnDisk += Math.max(0, s.events);
    return {
      bytesOnDisk: this.#bytesOnDisk,
      recordsOnDisk: this.#writeSeq - this.#ackedSeq,
      eventsOnDisk,
      unread: this.unread,
      inFlight: this.#readSeq - this.#ackedSeq,
      segments: this.#segments.length,
      writtenRecords: this.#writtenRecords,
      writtenEvents: this.#writtenEvents,
      writtenBytes: this.#writtenBytes,
      replayedRecords: this.#replayedRecords,
      replayedEvents: this.#replayedEvents,
      replayedBytes: this.#replayedBytes,
      ackedRecords: this.#ackedRecords,
      corruptRecords: this.#corruptRecords,
      truncatedBytes: this.#truncatedBytes,
      ledgerRebuilt: this.#ledgerRebuilt,
      writeErrors: this.#writeErrors,
      drops: { ...this.#drops },
      fsyncs: this.#fsyncs,
    };
  }

  /**
   * Syncs, writes the ledger and releases the directory. Records read and not acknowledged by
   * then are replayed by the next open. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const err = new DiskBufferError('ERR_DISK_BUFFER_CLOSED', `disk buffer ${this.dir} is closed`);
    for (const w of this.#spaceWaiters.splice(0)) w.reject(err);
    await this.#exclusive(async () => {
      try {
        await this.#checkpoint(this.fsync !== 'never');
      } catch (cause) {
        this.#writeFailed(cause);
      }
      await this.#active?.handle.close();
      await this.#readHandle?.handle.close();
      await this.#ledger.close();
    });
    openDirs.delete(this.dir);
    await this.#fs.unlink(join(this.dir, 'lock')).catch(() => {});
  }

  static {
    hooks.crash = (buffer) => buffer.#crash();
  }

  /** See `simulateCrash` in internal/testing.ts: `close()` without syncing or the ledger. */
  async #crash(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#exclusive(async () => {
      await this.#active?.handle.close();
      await this.#readHandle?.handle.close();
      await this.#ledger.close();
    });
    openDirs.delete(this.dir);
  }

  /** Runs `work` after every earlier exclusive section (writes, reads, syncs) has finished. */
  async #exclusive<R>(work: () => Promise<R>): Promise<R> {
    // Each caller waits for the section running now and re-checks: at most one waiter per
    // concurrent caller, no chain that grows with the number of operations.
    while (this.#writing) await this.#writing.catch(() => {});
    const running = work();
    this.#writing = running;
    try {
      return await running;
    } finally {
      if (this.#writing === running) this.#writing = undefined;
    }
  }

  /** Frames and writes one record of `size` bytes; callers hold #exclusive. */
  async #writeRecord(size: number, input: Parameters<typeof writeRecord>[3]): Promise<void> {
    let active = this.#active;
    if (!active || active.segment.size + size > this.segmentBytes) {
      if (active) await this.#seal(active);
      active = await this.#startSegment();
    }
    // Framed in one buffer kept for the next record (writes are one at a time): a fresh one per
    // record is counted against V8's heap and sets off full collections every few megabytes.
    let frame = this.#frame;
    if (size > frame.byteLength) {
      frame = Buffer.allocUnsafe(size);
      if (size <= MAX_KEPT_FRAME) this.#frame = frame;
    }
    const record = frame.subarray(0, size);
    writeRecord(record, 0, this.#writeSeq, input);
    const at = active.segment.size;
    try {
      for (let done = 0; done < size; ) {
        done += (await active.handle.write(record, done, size - done, at + done)).bytesWritten;
      }
      if (this.fsync === 'always') {
        await active.handle.datasync();
        this.#fsyncs++;
      }
    } catch (err) {
      // Never leave a partial record behind a failed write: the next one goes where it began.
      await active.handle.truncate(at).catch(() => {});
      throw err;
    }
    active.segment.size += size;
    active.segment.endSeq = ++this.#writeSeq;
    active.segment.events += input.events;
    this.#bytesOnDisk += size;
    this.#writtenRecords++;
    this.#writtenEvents += input.events;
    this.#writtenBytes += size;
    this.#dirty = true;
    if (this.fsync === 'always') await this.#ledger.write(this.#positions(), true);
  }

  async #startSegment(): Promise<{ segment: Segment; handle: FileHandle }> {
    const path = join(this.dir, segmentName(this.#writeSeq));
    const handle = await this.#fs.open(path, 'w+');
    const segment: Segment = {
      firstSeq: this.#writeSeq,
      endSeq: this.#writeSeq,
      path,
      size: 0,
      events: 0,
    };
    this.#segments.push(segment);
    this.#active = { segment, handle };
    if (this.fsync !== 'never') await this.#syncDir();
    return this.#active;
  }

  async #seal(active: { segment: Segment; handle: FileHandle }): Promise<void> {
    if (this.fsync !== 'never') {
      await active.handle.datasync();
      this.#fsyncs++;
    }
    this.#active = undefined;
    await active.handle.close();
    if (active.segment.size === 0) await this.#removeSegment(active.segment);
  }

  /** Makes the data durable (when `sync`) and records the positions in the ledger. */
  async #checkpoint(sync: boolean): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    if (sync && this.#active) {
      await this.#active.handle.datasync();
      this.#fsyncs++;
    }
    await this.#ledger.write(this.#positions(), sync);
  }

  #positions() {
    return { writeSeq: this.#writeSeq, readSeq: this.#ackedSeq, ackedSeq: this.#ackedSeq };
  }

  async #syncDir(): Promise<void> {
    const dir = await this.#fs.open(this.dir, 'r');
    try {
      await dir.sync();
    } catch (err) {
      // Some file systems refuse fsync on a directory (EINVAL); the data files are still synced.
      if (errorCode(err) !== 'EINVAL') throw err;
    } finally {
      await dir.close();
    }
  }

  /**
   * Waits (block) or drops the oldest sealed segments (drop-oldest) until `size` fits. False
   * when it would have to wait and `wait` is false.
   */
  async #makeRoom(size: number, signal: AbortSignal | undefined, wait = true): Promise<boolean> {
    while (this.#bytesOnDisk + size > this.maxBytes) {
      this.#assertOpen();
      // Space only comes back from sealed segments. When freeing all of them could not make room
      // (maxBytes close to segmentBytes), the bytes in the way are in the segment being written:
      // seal it, so that acknowledgements (or drop-oldest) can free it like any other.
      if (this.#active && this.#active.segment.size + size > this.maxBytes) {
        await this.#exclusive(async () => {
          if (this.#active && this.#active.segment.size + size > this.maxBytes) {
            await this.#seal(this.#active);
            await this.#reclaim();
          }
        });
        continue;
      }
      if (this.whenFull === 'drop-oldest') {
        const dropped = await this.#exclusive(() => this.#dropOldestSegment());
        if (dropped) continue;
      }
      if (!wait) return false;
      await this.#waitForSpace(signal);
    }
    return true;
  }

  async #dropOldestSegment(): Promise<boolean> {
    const oldest = this.#segments[0];
    if (!oldest || oldest === this.#active?.segment) return false;
    const lost = oldest.endSeq - Math.max(this.#readSeq, oldest.firstSeq);
    if (lost > 0) this.#countDrop('disk_full_drop_oldest', lost);
    // Records of it still in flight are acknowledged by nobody now: move every position past it.
    if (this.#readSeq < oldest.endSeq) this.#moveReaderTo(oldest.endSeq);
    this.#ackedSeq = Math.max(this.#ackedSeq, oldest.endSeq);
    await this.#removeSegment(oldest);
    this.#dirty = true;
    return true;
  }

  #moveReaderTo(seq: number): void {
    this.#readSeq = seq;
    this.#read = { index: 0, offset: 0, chunk: Buffer.alloc(0), chunkAt: 0, chunkEnd: 0 };
  }

  #waitForSpace(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#spaceWaiters.length >= 65_536) {
      return Promise.reject(new SpillwayError('ERR_INVALID_OPTION', 'too many parked appends'));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#spaceWaiters.indexOf(waiter);
        if (i >= 0) this.#spaceWaiters.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.#spaceWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The watermark committed up to `position`: delete segments that are fully acknowledged. */
  #committed(position: number): void {
    // After close the files belong to the next open, which replays what was not acknowledged by
    // then: a late acknowledgement must not move positions or delete a segment under it.
    if (this.#closed) return;
    if (position <= this.#ackedSeq) return; // a record of a dropped segment, acked late
    this.#ackedSeq = position;
    this.#dirty = true;
    if (this.#segments[0] && this.#segments[0].endSeq <= position) {
      this.#exclusive(() => this.#reclaim()).catch((err) => this.#writeFailed(err));
    }
  }

  async #reclaim(): Promise<void> {
    for (let s = this.#segments[0]; s && s.endSeq <= this.#ackedSeq; s = this.#segments[0]) {
      if (s === this.#active?.segment) break;
      await this.#removeSegment(s);
    }
  }

  async #removeSegment(segment: Segment): Promise<void> {
    const i = this.#segments.indexOf(segment);
    if (i < 0) return;
    if (this.#readHandle && this.#readHandle.index === i) {
      await this.#readHandle.handle.close();
      this.#readHandle = undefined;
    } else if (this.#readHandle && this.#readHandle.index > i) this.#readHandle.index--;
    if (this.#read.index > i) this.#read.index--;
    else if (this.#read.index === i) this.#moveReaderTo(this.#readSeq);
    this.#segments.splice(i, 1);
    this.#bytesOnDisk -= segment.size;
    await this.#fs.unlink(segment.path).catch((err) => {
      if (errorCode(err) !== 'ENOENT') throw err;
    });
    for (const w of this.#spaceWaiters.splice(0)) w.resolve();
  }

  #segmentOf(seq: number): Segment | undefined {
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      if (this.#segments[i]!.firstSeq <= seq) return this.#segments[i];
    }
    return undefined;
  }

  /**
   * Finds the record at the read position: a valid record with seq ≥ readSeq, or undefined
   * when the reader has caught up with the writer. `again` after skipping damage or a segment.
   */
  async #nextRecord(): Promise<
    | { kind: 'record'; seq: number; events: number; payload: Buffer; next: number }
    | { kind: 'gap'; seq: number }
    | 'again'
    | undefined
  > {
    const r = this.#read;
    // Position the reader on the segment holding readSeq (after open, or a dropped segment).
    while (
      r.index < this.#segments.length - 1 &&
      this.#segments[r.index]!.endSeq <= this.#readSeq
    ) {
      r.index++;
      r.offset = 0;
      r.chunkEnd = r.chunkAt = 0;
    }
    const segment = this.#segments[r.index];
    if (!segment) return undefined;
    if (r.offset >= segment.size) {
      if (r.index === this.#segments.length - 1) {
        // At the end of everything written: records still counted as unread were lost.
        return { kind: 'gap', seq: this.#writeSeq };
      }
      r.index++;
      r.offset = 0;
      r.chunkEnd = r.chunkAt = 0;
      return 'again';
    }
    const within = r.offset - r.chunkAt;
    let step = scanRecord(r.chunk, within, r.chunkEnd - r.chunkAt, this.segmentBytes);
    if (step.kind === 'partial') {
      await this.#fill(segment, r.index, Math.max(READ_CHUNK, step.need));
      step = scanRecord(r.chunk, 0, r.chunkEnd - r.chunkAt, this.segmentBytes);
      if (step.kind === 'partial') {
        // The segment ends inside a record. Writers never leave one, so this is damage: the
        // records lost with it show up as a gap in seq.
        r.offset = segment.size;
        return 'again';
      }
    }
    const base = r.chunkAt;
    if (step.kind === 'corrupt') {
      r.offset = base + step.next;
      return 'again';
    }
    if (step.seq < this.#readSeq) {
      r.offset = base + step.next; // acknowledged before a restart
      return 'again';
    }
    // The offset moves only once read() has tracked the record (it may wait for room).
    return { ...step, next: base + step.next };
  }

  /** Reads `length` bytes of segment `index` from the read position into a fresh chunk. */
  async #fill(segment: Segment, index: number, length: number): Promise<void> {
    const r = this.#read;
    if (this.#readHandle?.index !== index) {
      await this.#readHandle?.handle.close();
      this.#readHandle = { index, handle: await this.#fs.open(segment.path, 'r') };
    }
    const want = Math.min(length, segment.size - r.offset);
    // The chunk is read into again when nothing still points into it (decoded batches own
    // their bytes: the codec copies): a fresh megabyte per fill would set off a full garbage
    // collection every few megabytes replayed, as V8 counts each against the heap.
    const chunk =
      this.#chunkViews === 0 && r.chunk.byteLength >= want
        ? r.chunk
        : Buffer.allocUnsafe(Math.max(want, READ_CHUNK));
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await this.#readHandle.handle.read(
        chunk,
        filled,
        want - filled,
        r.offset + filled,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    r.chunk = chunk;
    r.chunkAt = r.offset;
    r.chunkEnd = r.offset + filled;
  }

  #writeFailed(cause: unknown): void {
    this.#writeErrors++;
    this.#onError(
      new DiskBufferError(
        'ERR_DISK_BUFFER_IO',
        `disk buffer ${this.dir}: write failed (${errorCode(cause) ?? 'error'})`,
        { cause },
      ),
    );
  }

  #countDrop(reason: string, n = 1): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + n;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new DiskBufferError('ERR_DISK_BUFFER_CLOSED', `disk buffer ${this.dir} is closed`);
    }
  }
}

/** Every problem with disk buffer options, as sentences (`dir` aside: any path may be made). */
export function diskBufferProblems(o: Omit<DiskBufferOptions, 'dir'>): string[] {
  const problems: string[] = [];
  const check = optionChecks(problems);
  check.integerAtLeast('segmentBytes', o.segmentBytes, 4096);
  check.integerAtLeast('maxBytes', o.maxBytes, 4096);
  if ((o.maxBytes ?? GiB) < (o.segmentBytes ?? 16 * MiB)) {
    problems.push('maxBytes must be at least segmentBytes (default 16 MiB)');
  }
  check.oneOf('fsync', o.fsync, ['always', 'interval', 'never']);
  check.positiveNumber('fsyncIntervalMs', o.fsyncIntervalMs);
  check.oneOf('whenFull', o.whenFull, ['block', 'drop-oldest']);
  check.positiveInteger('maxInFlight', o.maxInFlight);
  return problems;
}

function decodeOrSkip(payload: Buffer, ack: Acknowledgement): Batch | undefined {
  try {
    return decodeBatch(payload, ack);
  } catch {
    return undefined;
  }
}

/** Takes the directory's lock file, or fails when a live process (or this one) holds it. */
async function takeLock(fs: FileSystem, dir: string): Promise<void> {
  const path = join(dir, 'lock');
  if (openDirs.has(dir)) {
    throw new DiskBufferError('ERR_DISK_BUFFER_LOCKED', `disk buffer ${dir} is open already`);
  }
  try {
    const holder = Number(
      Buffer.from(await fs.readFile(path))
        .toString('utf8')
        .trim(),
    );
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new DiskBufferError(
        'ERR_DISK_BUFFER_LOCKED',
        `disk buffer ${dir} is held by live process ${holder} (see ${path})`,
      );
    }
  } catch (err) {
    if (DiskBufferError.is(err) || errorCode(err) !== 'ENOENT') throw err;
  }
  // A lock from a dead process (or our own, from an instance never closed) is taken over.
  await fs.writeFile(path, `${process.pid}\n`);
  openDirs.add(dir);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Scans every segment: finds each one's seq range and valid end, truncates torn tails, deletes
 * segments with no valid record. Damaged records are not counted here: `read()` counts each one
 * from the gap in seq when it skips it, and counting here as well counted every record twice or
 * three times (once per corrupt step, again for the gap after it), torn tails included.
 */
async function scanSegments(
  fs: FileSystem,
  dir: string,
  segmentBytes: number,
  ackedFloor: number,
): Promise<{ segments: Segment[]; endSeq: number; truncated: number }> {
  const names = (await fs.readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
  const segments: Segment[] = [];
  let truncated = 0;
  let endSeq = 0;
  for (const name of names) {
    const path = join(dir, name);
    const handle = await fs.open(path, 'r+');
    try {
      const { size } = await handle.stat();
      let firstSeq: number | undefined;
      let lastSeq: number | undefined;
      let validEnd = 0;
      let events = 0;
      let chunk = Buffer.alloc(0);
      let chunkAt = 0;
      let pos = 0;
      while (pos < size) {
        let step = scanRecord(chunk, pos - chunkAt, chunk.length, segmentBytes);
        if (step.kind === 'partial') {
          const want = Math.min(size - pos, Math.max(READ_CHUNK, step.need));
          chunk = Buffer.allocUnsafe(want);
          chunkAt = pos;
          let filled = 0;
          while (filled < want) {
            const { bytesRead } = await handle.read(chunk, filled, want - filled, pos + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          chunk = chunk.subarray(0, filled);
          step = scanRecord(chunk, 0, chunk.length, segmentBytes);
          if (step.kind === 'partial') break; // torn tail
        }
        if (step.kind === 'corrupt') {
          pos = chunkAt + step.next;
          continue;
        }
        firstSeq ??= step.seq;
        lastSeq = step.seq;
        if (step.seq >= ackedFloor) events += step.events;
        pos = chunkAt + step.next;
        validEnd = pos;
      }
      if (validEnd < size) {
        truncated += size - validEnd;
        await handle.truncate(validEnd);
      }
      if (firstSeq === undefined || lastSeq === undefined) {
        await handle.close();
        await fs.unlink(path);
        continue;
      }
      segments.push({ firstSeq, endSeq: lastSeq + 1, path, size: validEnd, events });
      endSeq = Math.max(endSeq, lastSeq + 1);
    } finally {
      await handle.close().catch(() => {});
    }
  }
  return { segments, endSeq, truncated };
}
