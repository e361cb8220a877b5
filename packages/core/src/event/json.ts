/**
 * The JSON shape of an event: one shape for everything that writes events as JSON (the
 * `encode` verb, the sink encoders), so a record reads the same whichever stage wrote it.
 *
 *     flatten: false  {"timestamp":1714564800123,"message":"…","severity":"info","attributes":{"port":8080}}
 *     flatten: true   {"timestamp":1714564800123,"message":"…","severity":"info","port":8080}
 *
 * Invariants:
 * - `timestamp` and `message` always come first, in that order; `severity` and `attributes`
 *   only when the event has them.
 * - A timestamp that is not a finite number is written as `null` (JSON has no NaN).
 * - Attribute values are written by `JSON.stringify`: keys whose value is `undefined` or a
 *   function are left out, a `bigint` or a cycle throws.
 * - Flattened, an attribute named like one of the event's own fields ({@link EVENT_FIELDS})
 *   is left out — the event's field wins, even when the event has no severity — and counted in
 *   the caller's {@link FlattenConflicts}, so the loss is visible in a counter.
 */
import { setField } from './fields.js';
import type { LogEvent } from './log-event.js';

/** The event's own fields in its JSON shape; flattened attributes by these names give way. */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(['timestamp', 'message', 'severity']);

/** A running count of attributes left out by flattening, kept by the caller (e.g. per batch). */
export interface FlattenConflicts {
  count: number;
}

/**
 * The event as JSON text, in the shape above.
 *
 * When to use: to write events as NDJSON or inside a JSON document; it builds the text
 * directly, with no intermediate object. Use {@link eventToObject} for encoders that take
 * objects (MessagePack).
 *
 * Gotchas: throws what `JSON.stringify` throws (a `bigint` attribute, a cycle). Pass
 * `conflicts` to learn how many attributes `flatten` left out.
 *
 * @example
 * ```ts
 * const conflicts = { count: 0 };
 * let text = '';
 * for (const event of events) text += `${eventToJson(event, true, conflicts)}\n`;
 * if (conflicts.count > 0) counters.add('flatten_conflicts', conflicts.count);
 * ```
 */
export function eventToJson(
  event: LogEvent,
  flatten = false,
  conflicts?: FlattenConflicts,
): string {
  const t = event.timestamp;
  let text = `{"timestamp":${Number.isFinite(t) ? t : 'null'},"message":${JSON.stringify(event.message)}`;
  if (event.severity !== undefined) text += `,"severity":${JSON.stringify(event.severity)}`;
  const attributes = event.attributes;
  if (attributes === undefined) return `${text}}`;
  if (!flatten) return `${text},"attributes":${JSON.stringify(attributes)}}`;
  return `${text}${flatAttributesJson(attributes, EVENT_FIELDS, conflicts)}}`;
}

/**
 * The event as a plain object, in the same shape as {@link eventToJson}.
 *
 * When to use: for encoders that take objects rather than text (MessagePack), or to adjust the
 * shape before writing it.
 *
 * Gotchas: unflattened, `attributes` is the event's own object, not a copy: do not modify it.
 *
 * @example
 * ```ts
 * const body = pack(events.map((e) => eventToObject(e, true)));
 * ```
 */
export function eventToObject(
  event: LogEvent,
  flatten = false,
  conflicts?: FlattenConflicts,
): Record<string, unknown> {
  const t = event.timestamp;
  const out: Record<string, unknown> = {
    timestamp: Number.isFinite(t) ? t : null,
    message: event.message,
  };
  if (event.severity !== undefined) out.severity = event.severity;
  const attributes = event.attributes;
  if (attributes === undefined) return out;
  if (!flatten) {
    out.attributes = attributes;
    return out;
  }
  for (const key in attributes) {
    if (EVENT_FIELDS.has(key)) {
      if (conflicts) conflicts.count++;
    } else setField(out, key, attributes[key]);
  }
  return out;
}

/**
 * Attributes as flattened JSON members, each preceded by a comma (`,"port":8080,"tags":["x"]`),
 * leaving out — and counting — those whose key is in `reserved`.
 *
 * When to use: to write a JSON shape whose fixed fields differ from the event's own (an
 * Elasticsearch document with `@timestamp`): write those fields, then these members, then `}`.
 *
 * Gotchas: `reserved` must hold every key the caller writes itself, or the document gets a
 * duplicate key (which strict readers, Elasticsearch among them, refuse).
 *
 * @example
 * ```ts
 * const reserved = new Set(['@timestamp', 'message']);
 * const doc = `{"@timestamp":"${iso}","message":${JSON.stringify(e.message)}${flatAttributesJson(e.attributes ?? {}, reserved)}}`;
 * ```
 */
export function flatAttributesJson(
  attributes: Readonly<Record<string, unknown>>,
  reserved: ReadonlySet<string>,
  conflicts?: FlattenConflicts,
): string {
  let text = '';
  for (const key in attributes) {
    if (reserved.has(key)) {
      if (conflicts) conflicts.count++;
      continue;
    }
    const value = JSON.stringify(attributes[key]);
    if (value !== undefined) text += `,${JSON.stringify(key)}:${value}`;
  }
  return text;
}
