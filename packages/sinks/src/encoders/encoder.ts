/**
 * The encoder contract: how a sink turns the records of one request into a body, and — for
 * protocols that answer per record inside a 2xx response — which records failed.
 *
 * A request carries *parts*: the payloads of the batches (or pieces of batches) it was built
 * from, in order. A part is either events or raw newline-delimited bytes (see `BatchPayload`);
 * an encoder that needs structure turns raw lines into events with core's `eventsOfPayload`,
 * stamped with the time of encoding. Records are numbered across parts in order, from 0, as
 * core's `recordCount` counts them: that numbering is what {@link ItemResults} indexes.
 *
 * Errors `encode` throws, as core `SpillwayError`s with stable codes:
 * - `ERR_ITEM_TOO_LARGE`: the request exceeds a bound of the wire format (Loki's streams per
 *   push). Not the records' fault: split the request and encode each half.
 * - `ERR_STAGE_FAILED`: a record cannot be written (a `bigint` or a cycle in its attributes);
 *   the message names the record's index, `cause` is the underlying error.
 */
import type { BatchPayload } from '@spillway/core';

/** One record that a 2xx response says failed. */
export interface ItemFailure {
  /** The record's index across the request's parts, from 0. */
  readonly index: number;
  /** The per-item HTTP-like status, e.g. 429 or 400 from an Elasticsearch `_bulk` item. */
  readonly status: number;
  /** A short, bounded description from the response (the item's error type and reason). */
  readonly reason: string;
}

/** What a 2xx response says about individual records. */
export interface ItemResults {
  /** Records that failed, each with its own status: the sink retries or dead-letters each. */
  readonly failed: readonly ItemFailure[];
  /**
   * Records rejected without saying which (OTLP partial success gives only a count): counted
   * as rejected, and the message kept, but nothing can be retried or dead-lettered one by one.
   */
  readonly rejectedWithoutIndex?: { readonly count: number; readonly message: string };
}

/**
 * Encodes requests for one wire format. Encoders are plain objects made from options by a
 * factory (`ndjson()`, `elasticsearchBulk({ index })` …), validated by the sink that uses them.
 */
export interface Encoder {
  /** Shown in metrics and errors, e.g. `ndjson`. */
  readonly name: string;
  /** The request's `Content-Type`. */
  readonly contentType: string;
  /** Every problem with the encoder's options, as sentences; empty when valid. */
  validate(): string[];
  /**
   * The body for these parts, records in order. Throws only for a request over a bound of the
   * format (`ERR_ITEM_TOO_LARGE`) or a record that cannot be encoded (`ERR_STAGE_FAILED`).
   */
  encode(parts: readonly BatchPayload[]): Uint8Array;
  /**
   * Reads per-record results from a 2xx response body; `undefined` when the protocol has none
   * or everything succeeded. Must not throw. `unreadable` when the protocol promises per-record
   * results and the body does not hold them (cut short, not the expected shape): the sink then
   * cannot tell what was stored, so it sends the request again — a duplicate, never a loss.
   */
  itemResults?(body: Uint8Array, recordCount: number): ItemResults | 'unreadable' | undefined;
  /**
   * Running totals the encoder keeps, since it was made, of what it had to leave out — e.g.
   * `flatten_conflicts`, attributes dropped because they are named like a field the format
   * writes itself. The sink reports them with its own counters, so no loss is silent.
   */
  counters?(): Readonly<Record<string, number>>;
}
