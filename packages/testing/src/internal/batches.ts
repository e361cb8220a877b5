/** Reading what a stage returned as batches. */
import type { Batch } from '@spillway/core';
import { preview } from './format.js';

/** True for a value shaped like a `Batch` (what a stage could have made with core's helpers). */
export function isBatch(value: unknown): value is Batch {
  if (value === null || typeof value !== 'object') return false;
  const batch = value as Partial<Batch>;
  return (
    typeof batch.id === 'string' &&
    typeof batch.count === 'number' &&
    (batch.payload?.kind === 'events' || batch.payload?.kind === 'raw') &&
    typeof batch.ack?.settle === 'function'
  );
}

/** The batches a `process()` result stands for, or a sentence saying why it is not valid. */
export function outputsOf(result: unknown): Batch[] | string {
  if (result === null || result === undefined) return [];
  const list: unknown[] = Array.isArray(result) ? result : [result];
  for (const out of list) {
    if (!isBatch(out)) {
      return `process() returned ${preview(out)}, which is not a batch (return a batch, an array of batches, or null)`;
    }
  }
  return list as Batch[];
}
