/**
 * The `encode` verb: turns events into the bytes a sink writes, as a raw batch.
 *
 * Each event is written in core's JSON shape of an event (`eventToJson` / `eventToObject`):
 *
 *     flatten: false  {"timestamp":1714564800123,"message":"…","severity":"info","attributes":{"port":8080}}
 *     flatten: true   {"timestamp":1714564800123,"message":"…","severity":"info","port":8080}
 *
 * Framing: `ndjson` — each object then `\n`; `json` — one array `[…,…]`, no newline;
 * `msgpack` — one MessagePack array of the objects, as plain maps (msgpackr's `pack` without
 * records, so any MessagePack reader can decode it).
 *
 * JSON text is built as one string per batch and converted with one `Buffer.from`: a string
 * per event and a buffer per batch, not a buffer per event.
 */
import {
  type Batch,
  createRawBatch,
  eventsOf,
  eventToJson,
  eventToObject,
  type FlattenConflicts,
  type LogEvent,
  optionChecks,
  type Transform,
} from '@spillway/core';
import { pack } from 'msgpackr';
import { defineVerb } from './internal/define-verb.js';

/** Options of {@link encode}. */
export interface EncodeOptions {
  readonly format: 'ndjson' | 'json' | 'msgpack';
  /**
   * Put attributes next to `timestamp`, `message` and `severity` instead of under `attributes`
   * (default false). Attributes named like those three are left out, counted.
   */
  readonly flatten?: boolean;
}

/**
 * Encodes the batch's events (a raw batch's lines become events first) into one raw batch with
 * the same id, acknowledgement, positions, source and creation time; its `lines` (and `count`)
 * is the number of events encoded. An empty batch becomes `null`.
 *
 * When to use: as the last transform before a sink that writes bytes (a file, an HTTP body, a
 * socket), so that the encoding runs where transforms run — in a worker thread, if the pipeline
 * puts it there — rather than in the sink.
 *
 * Gotchas:
 * - Terminal: its output is bytes. A verb after it would read the raw batch as lines (a `json`
 *   or `msgpack` batch as one unreadable line), so put nothing but sinks after it.
 * - Attribute values must be JSON- and msgpack-encodable: a `bigint` or a cycle throws, which
 *   rejects the batch (counted as the stage's `errors`). Keys whose value is `undefined` or a
 *   function are left out, as JSON.stringify leaves them out.
 * - A timestamp that is not a finite number is written as `null`.
 * - `flatten` with an attribute named `timestamp`, `message` or `severity`: the event's own
 *   field wins (even when the event has no severity), the attribute is left out and counted.
 *
 * Counters: `flatten_conflicts` (attributes left out by `flatten`).
 *
 * @example
 * ```ts
 * transforms: { out: { inputs: ['parse'], stage: encode({ format: 'ndjson', flatten: true }) } },
 * sinks: { file: { inputs: ['out'], stage: fileSink({ path: '/var/log/app.ndjson' }) } },
 * ```
 */
export const encode = defineVerb<EncodeOptions>({
  type: 'encode',
  validate(o) {
    const problems: string[] = [];
    const check = optionChecks(problems);
    check.oneOf('format', o.format, ['ndjson', 'json', 'msgpack'], true);
    check.boolean('flatten', o.flatten);
    return problems;
  },
  build(o, ctx): Transform {
    const flatten = o.flatten ?? false;
    const counters = ctx.counters;
    const encodeBatch = (events: readonly LogEvent[]): Uint8Array => {
      const conflicts: FlattenConflicts = { count: 0 };
      let data: Uint8Array;
      if (o.format === 'msgpack') {
        const objects = new Array<Record<string, unknown>>(events.length);
        for (let i = 0; i < events.length; i++)
          objects[i] = eventToObject(events[i]!, flatten, conflicts);
        // `pack` returns a view into msgpackr's reusable buffer; it is not overwritten by later
        // calls (they write after it, or into a new buffer), so the view can be passed on.
        data = pack(objects);
      } else {
        const ndjson = o.format === 'ndjson';
        let text = ndjson ? '' : '[';
        for (let i = 0; i < events.length; i++) {
          if (!ndjson && i > 0) text += ',';
          text += eventToJson(events[i]!, flatten, conflicts);
          if (ndjson) text += '\n';
        }
        if (!ndjson) text += ']';
        data = Buffer.from(text, 'utf8');
      }
      if (conflicts.count > 0) counters.add('flatten_conflicts', conflicts.count);
      return data;
    };
    return {
      process(batch: Batch) {
        const events = eventsOf(batch);
        if (events.length === 0) return null;
        return createRawBatch({ ...batch, data: encodeBatch(events), lines: events.length });
      },
    };
  },
});
