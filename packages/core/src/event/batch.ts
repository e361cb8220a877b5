/**
 * The unit that crosses every channel: a batch of events, or of raw newline-delimited bytes.
 *
 * Raw batches let pass-through pipelines (tail a file, ship it) move bytes without creating an
 * object per line. A batch carries its byte size (for channel bounds), the source positions it
 * covers (for checkpoints), and its acknowledgement. Its `id` is stable: it stays the same
 * through transforms, retries, spills and replays, so a receiver can de-duplicate.
 */
import { randomBytes } from 'node:crypto';
import { Acknowledgement } from '../ack/acknowledgement.js';
import { estimateEventBytes, type LogEvent } from './log-event.js';

export type BatchPayload =
  | { readonly kind: 'events'; readonly events: readonly LogEvent[] }
  | { readonly kind: 'raw'; readonly data: Uint8Array; readonly lines: number };

/** A position in a source stream that a batch covers up to (exclusive end). */
export interface SourcePosition {
  /** The stream within the source, e.g. a file identity. */
  readonly stream: string;
  readonly offset: number;
}

export interface Batch {
  readonly id: string;
  /** Name of the source stage that produced it. */
  readonly source: string;
  readonly payload: BatchPayload;
  /** Events, or lines in a raw batch. */
  readonly count: number;
  readonly bytes: number;
  readonly positions: readonly SourcePosition[];
  readonly ack: Acknowledgement;
  /** Milliseconds since the epoch when the source made it. */
  readonly createdAt: number;
}

/** Distinguishes this process's batch ids from those of earlier runs of the same pipeline. */
const bootId = randomBytes(4).toString('hex');
let sequence = 0;

/** A new id, unique across processes: `<boot>-<sequence>`. */
export function nextBatchId(): string {
  return `${bootId}-${(sequence++).toString(36)}`;
}

interface BatchInit {
  source: string;
  id?: string;
  ack?: Acknowledgement;
  positions?: readonly SourcePosition[];
  createdAt?: number;
}

export function createEventBatch(init: BatchInit & { events: readonly LogEvent[] }): Batch {
  let bytes = 0;
  for (const event of init.events) bytes += estimateEventBytes(event);
  return {
    id: init.id ?? nextBatchId(),
    source: init.source,
    payload: { kind: 'events', events: init.events },
    count: init.events.length,
    bytes,
    positions: init.positions ?? [],
    ack: init.ack ?? new Acknowledgement(),
    createdAt: init.createdAt ?? Date.now(),
  };
}

/** `lines` defaults to the number of newline bytes in `data`. */
export function createRawBatch(init: BatchInit & { data: Uint8Array; lines?: number }): Batch {
  const lines = init.lines ?? countNewlines(init.data);
  return {
    id: init.id ?? nextBatchId(),
    source: init.source,
    payload: { kind: 'raw', data: init.data, lines },
    count: lines,
    bytes: init.data.byteLength,
    positions: init.positions ?? [],
    ack: init.ack ?? new Acknowledgement(),
    createdAt: init.createdAt ?? Date.now(),
  };
}

/** The same batch (id, source, positions, acknowledgement) with a new set of events. */
export function withEvents(batch: Batch, events: readonly LogEvent[]): Batch {
  return createEventBatch({ ...batch, events });
}

/**
 * The batch as events: a raw batch is split on newlines into one event per line, with the
 * batch's creation time as timestamp. Transforms that need structure call this once.
 */
export function eventsOf(batch: Batch): readonly LogEvent[] {
  if (batch.payload.kind === 'events') return batch.payload.events;
  const text = Buffer.from(
    batch.payload.data.buffer,
    batch.payload.data.byteOffset,
    batch.payload.data.byteLength,
  ).toString('utf8');
  const events: LogEvent[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    events.push({ timestamp: batch.createdAt, message: text.slice(start, nl) });
    start = nl + 1;
  }
  if (start < text.length) events.push({ timestamp: batch.createdAt, message: text.slice(start) });
  return events;
}

function countNewlines(data: Uint8Array): number {
  let count = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) count++;
  return count;
}
