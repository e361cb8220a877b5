/**
 * The binary form of a batch, shared by everything that moves batches out of the heap: the disk
 * buffer, worker threads and dead-letter files. msgpackr with records enabled: repeated event
 * shapes are encoded once per batch.
 *
 * What is encoded: id, source, payload, positions, createdAt. What is not: the acknowledgement,
 * which belongs to the running process; `decodeBatch` attaches a new one (or the caller's).
 */
import { Packr } from 'msgpackr';
import { Acknowledgement } from '../ack/acknowledgement.js';
import { type Batch, createEventBatch, createRawBatch, type SourcePosition } from './batch.js';
import type { LogEvent } from './log-event.js';

// copyBuffers: a raw batch's data must not be a view into the bytes it was decoded from. Those
// bytes are often a reused read buffer (the next read would rewrite the batch) or a whole disk
// segment (one small batch would pin all of it, outside every channel's byte bound).
const packr = new Packr({
  useRecords: true,
  moreTypes: false,
  bundleStrings: true,
  copyBuffers: true,
});

interface Encoded {
  v: 1;
  id: string;
  source: string;
  createdAt: number;
  positions: readonly SourcePosition[];
  events?: readonly LogEvent[];
  raw?: Uint8Array;
  lines?: number;
}

export function encodeBatch(batch: Batch): Uint8Array {
  const encoded: Encoded = {
    v: 1,
    id: batch.id,
    source: batch.source,
    createdAt: batch.createdAt,
    positions: batch.positions,
  };
  if (batch.payload.kind === 'events') encoded.events = batch.payload.events;
  else {
    encoded.raw = batch.payload.data;
    encoded.lines = batch.payload.lines;
  }
  return packr.pack(encoded);
}

/** Throws (msgpackr's error, or a TypeError for a foreign shape) when `bytes` is not a batch. */
export function decodeBatch(
  bytes: Uint8Array,
  ack: Acknowledgement = new Acknowledgement(),
): Batch {
  const decoded = packr.unpack(bytes) as Partial<Encoded> | null;
  if (
    decoded === null ||
    typeof decoded !== 'object' ||
    decoded.v !== 1 ||
    typeof decoded.id !== 'string' ||
    typeof decoded.source !== 'string'
  ) {
    throw new TypeError('bytes do not hold an encoded batch (version 1)');
  }
  const init = {
    id: decoded.id,
    source: decoded.source,
    ack,
    positions: decoded.positions ?? [],
    createdAt: decoded.createdAt ?? Date.now(),
  };
  if (decoded.raw instanceof Uint8Array) {
    return createRawBatch({ ...init, data: decoded.raw, lines: decoded.lines ?? 0 });
  }
  return createEventBatch({ ...init, events: decoded.events ?? [] });
}
