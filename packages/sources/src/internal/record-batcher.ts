/**
 * Turns records (one datagram, one TCP frame) into batches, for every network source: decodes
 * each record as the source's format says (raw line, or syslog event), and cuts a batch by
 * records, bytes and linger time.
 *
 * Bounds: the open batch never holds more than `maxEvents` records, nor more than `maxBytes`
 * bytes unless it is a single record larger than that. `add()` hands back the open batch,
 * sealed, *before* adding a record that would overflow it, so the caller (which decides whether
 * to wait, as TCP does, or to drop, as UDP does) never finds more than one sealed batch in hand.
 * The batcher does not send anything itself: sending is where the sources differ.
 *
 * Raw records are copied into one growable buffer at `add()`, so a record that is a slice of a
 * large socket read does not keep that read's memory alive until the batch leaves.
 */
import {
  type Batch,
  createEventBatch,
  createRawBatch,
  estimateEventBytes,
  type LogEvent,
} from '@spillway/core';
import { parseSyslog, type SyslogErrorCode } from '@spillway/parsers';
import type { BatchOptions, NetFormat } from '../net-source-options.js';

/** Attribute with the sender's address, set on every event of a `syslog`-format source. */
export const PEER_ATTRIBUTE = 'net.peer.address';

export interface RecordBatcherOptions {
  /** The source stage's name, stamped on each batch. */
  source: string;
  format: NetFormat;
  onParseError: 'keep-raw' | 'drop';
  rfc3164TimeZone: 'local' | 'utc';
  limits: Required<BatchOptions>;
  /** Called once a non-empty batch has waited `lingerMs`; the caller then `take()`s it. */
  onDue: () => void;
  /** Called for each record that is not valid syslog; `dropped` under `onParseError: 'drop'`. */
  onInvalid: (code: SyslogErrorCode, dropped: boolean) => void;
}

/** A batch ready to send, with the number of records in it (datagrams or frames). */
export interface SealedBatch {
  readonly batch: Batch;
  readonly records: number;
}

const INITIAL_RAW_BYTES = 16 * 1024;

export class RecordBatcher {
  readonly #o: RecordBatcherOptions;
  #records = 0;
  #bytes = 0;
  // raw format: lines copied into one buffer
  #raw: Buffer | undefined;
  #used = 0;
  #lines = 0;
  // syslog format
  #events: LogEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RecordBatcherOptions) {
    this.#o = options;
  }

  /** Records in the open batch. */
  get records(): number {
    return this.#records;
  }

  /** Bytes in the open batch (raw bytes, or the events' size estimate). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The open batch has reached a bound and should be taken now rather than at linger. */
  get full(): boolean {
    return this.#records >= this.#o.limits.maxEvents || this.#bytes >= this.#o.limits.maxBytes;
  }

  /**
   * Adds one record. Returns the open batch, sealed, when the record could not join it (the
   * record then starts the next batch); undefined otherwise. A record dropped for a parse error
   * is reported through `onInvalid` and not added.
   */
  add(record: Uint8Array, receivedAt: number, peer?: string): SealedBatch | undefined {
    if (this.#closed) return undefined;
    if (this.#o.format === 'raw') return this.#addRaw(record);
    const event = this.#decode(record, receivedAt, peer);
    if (!event) return undefined;
    const size = estimateEventBytes(event);
    const sealed = this.#fits(size) ? undefined : this.take();
    this.#events.push(event);
    this.#admitted(size);
    return sealed;
  }

  /** Seals and returns the open batch; undefined when it is empty. */
  take(): SealedBatch | undefined {
    if (this.#records === 0) return undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const records = this.#records;
    let batch: Batch;
    if (this.#o.format === 'raw') {
      const raw = this.#raw!;
      // Hand the buffer over when it is mostly used; copy when that would pin a mostly empty one.
      const data =
        this.#used * 2 >= raw.length
          ? raw.subarray(0, this.#used)
          : Buffer.from(raw.subarray(0, this.#used));
      batch = createRawBatch({ source: this.#o.source, data, lines: this.#lines });
      this.#raw = undefined;
      this.#used = 0;
      this.#lines = 0;
    } else {
      batch = createEventBatch({ source: this.#o.source, events: this.#events });
      this.#events = [];
    }
    this.#records = 0;
    this.#bytes = 0;
    return { batch, records };
  }

  /** Stops the linger timer and forgets the open batch; `take()` it first to keep it. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#raw = undefined;
    this.#events = [];
    this.#records = 0;
    this.#bytes = 0;
  }

  #fits(size: number): boolean {
    return (
      this.#records === 0 ||
      (this.#records < this.#o.limits.maxEvents && this.#bytes + size <= this.#o.limits.maxBytes)
    );
  }

  #admitted(size: number): void {
    if (this.#records === 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#o.onDue();
      }, this.#o.limits.lingerMs);
    }
    this.#records++;
    this.#bytes += size;
  }

  #addRaw(record: Uint8Array): SealedBatch | undefined {
    // A trailing line break is the record's terminator, not an empty line after it.
    let end = record.length;
    while (end > 0 && (record[end - 1] === 10 || record[end - 1] === 13)) end--;
    const size = end + 1;
    const sealed = this.#fits(size) ? undefined : this.take();
    if (!this.#raw || this.#raw.length - this.#used < size) {
      const capacity = Math.max(
        this.#used + size,
        Math.min(
          this.#o.limits.maxBytes,
          Math.max(INITIAL_RAW_BYTES, (this.#raw?.length ?? 0) * 2),
        ),
      );
      const grown = Buffer.allocUnsafe(capacity);
      if (this.#raw) this.#raw.copy(grown, 0, 0, this.#used);
      this.#raw = grown;
    }
    this.#raw.set(end === record.length ? record : record.subarray(0, end), this.#used);
    this.#used += end;
    this.#raw[this.#used++] = 10;
    // Line breaks inside a record (a datagram with several lines) make several lines.
    let lines = 1;
    for (let i = record.indexOf(10); i !== -1 && i < end; i = record.indexOf(10, i + 1)) lines++;
    this.#lines += lines;
    this.#admitted(size);
    return sealed;
  }

  #decode(record: Uint8Array, receivedAt: number, peer: string | undefined): LogEvent | undefined {
    const result = parseSyslog(record, {
      now: receivedAt,
      rfc3164TimeZone: this.#o.rfc3164TimeZone,
    });
    if (result.ok) {
      if (peer !== undefined) result.event.attributes![PEER_ATTRIBUTE] = peer;
      return result.event;
    }
    const drop = this.#o.onParseError === 'drop';
    this.#o.onInvalid(result.code, drop);
    if (drop) return undefined;
    let end = record.length;
    while (end > 0 && (record[end - 1] === 10 || record[end - 1] === 13)) end--;
    const attributes: Record<string, unknown> = {
      parse_error: result.error,
      parse_error_code: result.code,
    };
    if (peer !== undefined) attributes[PEER_ATTRIBUTE] = peer;
    return {
      timestamp: receivedAt,
      message: Buffer.from(record.buffer, record.byteOffset, end).toString('utf8'),
      attributes,
    };
  }
}
