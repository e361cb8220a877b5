/**
 * Records inside a payload, by index: what a sink needs to cut a request in half (413), to
 * keep a request under its event and byte bounds, and to resend only the records a `_bulk`
 * answer says failed. A raw payload's records are its lines; cutting it slices the bytes at
 * line ends, without decoding anything.
 */
import { type BatchPayload, type LogEvent, recordCount } from '@spillway/core';

/** Byte offsets where each line starts, plus the end: `lineStarts(d)[i]..[i+1]` is line i. */
function lineStarts(data: Uint8Array): number[] {
  const starts = [0];
  for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, nl + 1)) starts.push(nl + 1);
  if (starts[starts.length - 1] !== data.byteLength) starts.push(data.byteLength);
  return starts;
}

/** A raw payload holding `records` lines; `lines` counts newlines, as a raw batch's does. */
function rawPayload(data: Uint8Array, records: number): BatchPayload {
  const unterminated = data.byteLength > 0 && data[data.byteLength - 1] !== 10;
  return { kind: 'raw', data, lines: unterminated ? records - 1 : records };
}

/** Records `[start, end)` of the payload, sharing its memory. */
export function sliceRecords(payload: BatchPayload, start: number, end: number): BatchPayload {
  if (payload.kind === 'events')
    return { kind: 'events', events: payload.events.slice(start, end) };
  const starts = lineStarts(payload.data);
  const data = payload.data.subarray(starts[start], starts[end]);
  return rawPayload(data, end - start);
}

/**
 * Cuts the payload into pieces of at most `maxRecords` records and (for raw payloads) about
 * `maxBytes` bytes — a single line longer than `maxBytes` stays whole. One piece when it fits.
 */
export function splitRecords(
  payload: BatchPayload,
  maxRecords: number,
  maxBytes: number,
): BatchPayload[] {
  const count = recordCount(payload);
  if (payload.kind === 'events') {
    if (count <= maxRecords) return [payload];
    const pieces: BatchPayload[] = [];
    for (let i = 0; i < count; i += maxRecords) {
      pieces.push({ kind: 'events', events: payload.events.slice(i, i + maxRecords) });
    }
    return pieces;
  }
  if (count <= maxRecords && payload.data.byteLength <= maxBytes) return [payload];
  const starts = lineStarts(payload.data);
  const pieces: BatchPayload[] = [];
  let from = 0;
  for (let line = 1; line <= count; line++) {
    const tooMany = line - from > maxRecords;
    const tooBig = starts[line]! - starts[from]! > maxBytes && line - 1 > from;
    if (tooMany || tooBig) {
      pieces.push(
        rawPayload(payload.data.subarray(starts[from], starts[line - 1]), line - 1 - from),
      );
      from = line - 1;
    }
  }
  pieces.push(rawPayload(payload.data.subarray(starts[from], starts[count]), count - from));
  return pieces;
}

/** The records at `indexes` (ascending), as a payload of the same kind. */
export function pickRecords(payload: BatchPayload, indexes: readonly number[]): BatchPayload {
  if (payload.kind === 'events') {
    const events: LogEvent[] = [];
    for (const i of indexes) events.push(payload.events[i]!);
    return { kind: 'events', events };
  }
  const starts = lineStarts(payload.data);
  const parts: Uint8Array[] = [];
  for (const i of indexes) parts.push(payload.data.subarray(starts[i], starts[i + 1]));
  return rawPayload(Buffer.concat(parts), indexes.length);
}
