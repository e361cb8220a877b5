/**
 * The bytes a line-oriented sink (file, stdout) writes for one batch: one record per line, and
 * always a final newline, so that the next batch starts on a line of its own.
 *
 * - Raw batches: their bytes as they are, not copied. Only a batch whose last line has no
 *   newline is copied, to add one.
 * - Event batches: NDJSON, one object per event, `severity` and `attributes` only when the event
 *   has them: `{"timestamp":1714564800123,"message":"…","severity":"info","attributes":{…}}`.
 *   One string per batch and one `Buffer.from`, not a buffer per event.
 */
import { type Batch, eventToJson, SpillwayError } from '@spillway/core';

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from([NEWLINE]);

/**
 * The newline-terminated bytes of `batch`; empty for a batch with no records.
 *
 * Throws `ERR_STAGE_FAILED` when an event cannot be written as JSON (a `bigint` or a cycle in its
 * attributes): the write of that batch is rejected, later ones are not affected.
 */
export function batchLines(batch: Batch): Uint8Array {
  const payload = batch.payload;
  if (payload.kind === 'raw') {
    const data = payload.data;
    if (data.byteLength === 0 || data[data.byteLength - 1] === NEWLINE) return data;
    return Buffer.concat([data, NEWLINE_BYTES]);
  }
  let text = '';
  try {
    for (const event of payload.events) text += `${eventToJson(event)}\n`;
  } catch (err) {
    throw new SpillwayError(
      'ERR_STAGE_FAILED',
      `batch ${batch.id} holds an event that cannot be written as JSON`,
      { cause: err },
    );
  }
  return Buffer.from(text);
}
