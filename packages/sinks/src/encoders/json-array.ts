/**
 * The `jsonArray` encoder: the request as one JSON array of events, in core's JSON shape.
 *
 *     [{"timestamp":1714564800123,"message":"a"},{"timestamp":1714564800124,"message":"b"}]
 */
import {
  type BatchPayload,
  eventToJson,
  type FlattenConflicts,
  optionChecks,
} from '@spillway/core';
import { conflictCounters, forEachEvent } from './each-event.js';
import type { Encoder } from './encoder.js';

/** Options of {@link jsonArray}. */
export interface JsonArrayOptions {
  /** Attributes beside `timestamp`, `message` and `severity` instead of under `attributes`. */
  readonly flatten?: boolean;
}

/**
 * An encoder of one JSON array per request (`application/json`).
 *
 * When to use: for backends whose ingest endpoint takes a JSON array of records rather than
 * NDJSON (many webhooks and SaaS "bulk" endpoints).
 *
 * Gotchas: a raw line becomes an event `{"timestamp":<time of encoding>,"message":"<the
 * line>"}`: each line is decoded, unlike `ndjson`'s verbatim path. `flatten` leaves out
 * attributes named `timestamp`, `message` or `severity`, counted as `flatten_conflicts`. An
 * empty request is `[]`.
 *
 * @example
 * ```ts
 * http({ url: 'https://hooks.example.com/logs', encoder: jsonArray({ flatten: true }) })
 * ```
 */
export function jsonArray(options: JsonArrayOptions = {}): Encoder {
  const flatten = options.flatten ?? false;
  const conflicts: FlattenConflicts = { count: 0 };
  return {
    name: 'jsonArray',
    contentType: 'application/json',
    validate() {
      const problems: string[] = [];
      optionChecks(problems).boolean('flatten', options.flatten);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      let text = '[';
      forEachEvent(parts, Date.now(), (event, index) => {
        if (index > 0) text += ',';
        text += eventToJson(event, flatten, conflicts);
      });
      return Buffer.from(`${text}]`);
    },
    counters: conflictCounters(conflicts),
  };
}
