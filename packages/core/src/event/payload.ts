/**
 * Records of a batch payload without the batch around it: what an output needs when it packs
 * the payloads of several batches (or pieces of them) into one request.
 *
 * A raw payload's records are its lines: newline-terminated, except that the last line may
 * lack its newline and is a record all the same. An empty payload has no records; a payload
 * of one `\n` has one, an empty line.
 */
import type { BatchPayload } from './batch.js';
import type { LogEvent } from './log-event.js';

/**
 * The payload as events: its own events, or one event per raw line with `timestamp` as its
 * time and the line (UTF-8, without its `\n`) as its message.
 *
 * When to use: in an output that needs structure for a raw payload (a JSON encoder, a
 * protocol with fields); pass the time of encoding as `timestamp`, since a payload does not
 * know when its batch was made (`eventsOf(batch)` uses the batch's creation time).
 *
 * Gotchas: a `\r` before the `\n` stays in the message, and an unterminated last line is an
 * event too (so there can be one event more than the payload's `lines`).
 *
 * @example
 * ```ts
 * const now = Date.now();
 * for (const part of parts) for (const event of eventsOfPayload(part, now)) write(event);
 * ```
 */
export function eventsOfPayload(payload: BatchPayload, timestamp: number): readonly LogEvent[] {
  if (payload.kind === 'events') return payload.events;
  const { data } = payload;
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const events: LogEvent[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    events.push({ timestamp, message: text.slice(start, nl) });
    start = nl + 1;
  }
  if (start < text.length) events.push({ timestamp, message: text.slice(start) });
  return events;
}

/**
 * How many records the payload holds, as {@link eventsOfPayload} numbers them: its events, or
 * its lines — the payload's `lines` (the newlines, as `createRawBatch` counts them) plus one
 * for a last line without its newline. Constant time: nothing is scanned.
 *
 * When to use: to number records across the payloads of one request, as per-record results
 * of a response index them.
 *
 * Gotchas: trusts `lines`; a producer that sets it to anything but the number of newlines
 * (a JSON array written as one raw line, say) makes this disagree with the bytes.
 */
export function recordCount(payload: BatchPayload): number {
  if (payload.kind === 'events') return payload.events.length;
  const { data, lines } = payload;
  return data.byteLength > 0 && data[data.byteLength - 1] !== 10 ? lines + 1 : lines;
}
