/**
 * The `ndjson` encoder: one JSON object per line, in core's JSON shape of an event, or raw
 * lines passed through as they are.
 *
 *     {"timestamp":1714564800123,"message":"disk full","severity":"error","attributes":{"disk":"/data"}}\n
 *     <a raw line, byte for byte>\n
 *
 * Raw parts in `verbatim` mode are the fast path of a pass-through pipeline (tail a file, ship
 * it): their bytes are not decoded, split or copied one by one — a request of raw parts is one
 * `Buffer.concat` of them, with a newline added only after a part whose last line lacks one.
 */
import {
  type BatchPayload,
  eventToJson,
  type FlattenConflicts,
  optionChecks,
  recordCount,
} from '@spillway/core';
import { conflictCounters, forEachEvent } from './each-event.js';
import type { Encoder } from './encoder.js';

/** Options of {@link ndjson}. */
export interface NdjsonOptions {
  /**
   * What a raw line becomes: `verbatim` (default) its bytes as they are — the line is expected
   * to be JSON already, or the receiver to take any text — or `message`, an event
   * `{"timestamp":<time of encoding>,"message":"<the line>"}`.
   */
  readonly rawLines?: 'verbatim' | 'message';
  /** Attributes beside `timestamp`, `message` and `severity` instead of under `attributes`. */
  readonly flatten?: boolean;
}

const NEWLINE = Buffer.from('\n');

/**
 * An encoder of newline-delimited JSON (`application/x-ndjson`).
 *
 * When to use: the default of the HTTP sink, for any backend that takes NDJSON (Vector, Fluent
 * Bit's HTTP input, Logstash, most "send us your logs" endpoints); and to forward raw lines
 * with one copy of their bytes per request and no work per line.
 *
 * Gotchas:
 * - `verbatim` does not check that a raw line is JSON: a plain-text line is sent as it is.
 *   Use `rawLines: 'message'` when the receiver needs JSON on every line.
 * - In `message` mode a raw line's time is the time of encoding (a payload does not know when
 *   its lines were read), and a `\r` before the newline stays in the message.
 * - `flatten` leaves out attributes named `timestamp`, `message` or `severity`, counted as
 *   `flatten_conflicts`.
 *
 * @example
 * ```ts
 * http({ url: 'https://logs.example.com/ingest', encoder: ndjson({ flatten: true }) })
 * ```
 */
export function ndjson(options: NdjsonOptions = {}): Encoder {
  const verbatim = options.rawLines !== 'message';
  const flatten = options.flatten ?? false;
  const conflicts: FlattenConflicts = { count: 0 };
  return {
    name: 'ndjson',
    contentType: 'application/x-ndjson',
    validate() {
      const problems: string[] = [];
      const check = optionChecks(problems);
      check.oneOf('rawLines', options.rawLines, ['verbatim', 'message']);
      check.boolean('flatten', options.flatten);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      const chunks: Uint8Array[] = [];
      const now = Date.now();
      let text = '';
      let index = 0;
      for (const part of parts) {
        if (part.kind === 'raw' && verbatim) {
          if (text !== '') chunks.push(Buffer.from(text));
          text = '';
          const { data } = part;
          if (data.byteLength === 0) continue;
          chunks.push(data);
          if (data[data.byteLength - 1] !== 0x0a) chunks.push(NEWLINE);
          index += recordCount(part);
        } else {
          index = forEachEvent(
            [part],
            now,
            (event) => {
              text += `${eventToJson(event, flatten, conflicts)}\n`;
            },
            index,
          );
        }
      }
      if (text !== '') chunks.push(Buffer.from(text));
      // One chunk is sent as it is: a single raw part needs no copy at all.
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    },
    counters: conflictCounters(conflicts),
  };
}
