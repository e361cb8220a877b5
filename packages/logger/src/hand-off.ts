/**
 * The hand-off between the application and the shipping thread: the record ring, seen from
 * each side as the shipper uses it.
 */
import type { HandOffPolicy } from './options.js';
import { RecordRing } from './ring/index.js';

export interface HandOffWriter {
  /** What the shipping thread is given to read from. */
  readonly buffer: SharedArrayBuffer;
  /** True when the record went in; false when the policy dropped it (counted). */
  writeString(text: string): boolean;
  written(): number;
  drops(): Readonly<Record<string, number>>;
}

/** The application's side: a new ring. */
export function openHandOff(
  o: { bytes?: number; whenFull?: HandOffPolicy; blockTimeoutMs?: number } = {},
): HandOffWriter {
  const ring = RecordRing.create({
    bytes: o.bytes ?? 8 * 1024 * 1024,
    whenFull: o.whenFull ?? 'drop-newest',
    ...(o.blockTimeoutMs === undefined ? {} : { blockTimeoutMs: o.blockTimeoutMs }),
  });
  return {
    buffer: ring.buffer,
    writeString: (text) => ring.writeString(text) === 'written',
    written: () => ring.stats().recordsWritten,
    drops: () => nonZero(ring.dropped()),
  };
}

/** The shipping thread's side of the ring in `buffer`. */
export function handOffReader(buffer: SharedArrayBuffer) {
  const consumer = RecordRing.consumer(buffer);
  return {
    drainLines: (maxBytes: number) => consumer.drainLines(maxBytes),
    waitForData: (signal?: AbortSignal) => consumer.waitForData(signal),
    // dropped(), not stats(): the source asks before every drain, and stats() walks the queue.
    drops: () => nonZero(consumer.dropped()),
  };
}

function nonZero(dropped: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, count] of Object.entries(dropped)) if (count > 0) out[reason] = count;
  return out;
}
