/**
 * Spillway events into an OTLP logs request (`ExportLogsServiceRequest`), in either encoding:
 * the inverse of the mapping `decodeOtlpLogs` documents, so that decoding what this writes
 * gives the events back.
 *
 * | LogEvent                                             | OTLP                                       |
 * |------------------------------------------------------|--------------------------------------------|
 * | `attributes['resource.<key>']`                       | resource attribute `<key>`                 |
 * | `scope.name`, `scope.version` (non-empty strings)    | the scope's name and version               |
 * | `scope.<key>` (any other)                            | scope attribute `<key>`                    |
 * | `trace_id` / `span_id` (32 / 16 hex digits, not 0)   | `traceId` / `spanId` (bytes; hex in JSON)  |
 * | `trace_flags` (an integer 1–255)                     | `flags`                                    |
 * | `severity_text`, `event_name` (non-empty strings)    | `severityText`, `eventName`                |
 * | `severity` trace … fatal                             | `severityNumber` 1, 5, 9, 13, 17, 21       |
 * | `message`                                            | `body` as a string                         |
 * | `timestamp` (ms)                                     | `timeUnixNano` (a decimal string in JSON)  |
 * | other attributes                                     | record attributes, nested values nested    |
 *
 * Grouping: a run of consecutive events with the same resource attributes (same keys, values
 * and order) shares one `ResourceLogs`, and a run with the same scope within it one
 * `ScopeLogs`. Runs rather than one group per resource, so that the records keep their order:
 * the decoder reads them back in the order they were given. Events of one source come in long
 * runs, so the resource is rarely repeated.
 *
 * A key the table maps to a field, with a value that does not fit the field (a `trace_id` that
 * is not hex, an empty `scope.name`), is sent as an ordinary attribute of the same key, which
 * decodes back to that key: it survives the round trip too.
 *
 * Attribute values become AnyValues: strings, booleans; a safe integer is an `intValue`, any
 * other number a `doubleValue` (NaN and ±Infinity as the proto3 JSON strings in JSON); a
 * `bigint` in the int64 range an `intValue` (beyond it, its decimal string); `null` the empty
 * AnyValue; arrays an `arrayValue`; a `Uint8Array` a `bytesValue`; an object with `toJSON` (a
 * `Date`) what `toJSON` returns; other objects a `kvlistValue`. `undefined`, functions and
 * symbols are left out, as JSON leaves them out (inside arrays they become the empty AnyValue).
 */
import { type LogEvent, unixNanos } from '@spillway/core';
import type { OtlpEncoding } from './encoding.js';
import { OtlpError } from './errors.js';
import { ExportLogsServiceRequest } from './internal/schema.js';
import { severityNumberOf } from './internal/severity.js';

/**
 * Containers (maps and arrays) nested in one attribute value at most. A map level costs three
 * protobuf message levels (AnyValue, KeyValueList, KeyValue) and a record's attributes start
 * five levels deep, so this keeps every request within the 100 levels protobuf readers (and
 * `decodeOtlpLogs`) accept.
 */
const MAX_NESTING = 30;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const HEX = /^[0-9a-fA-F]+$/;
const ZEROS = /^0+$/;

type Obj = Record<string, unknown>;
interface KeyValue {
  readonly key: string;
  readonly value: Obj;
}

/**
 * An `ExportLogsServiceRequest` holding `events`, by the table above.
 *
 * When to use: to send events to an OTLP/HTTP receiver (`POST /v1/logs`) with
 * `Content-Type: OTLP_MEDIA_TYPES[encoding]`.
 *
 * Gotchas:
 * - Throws an {@link OtlpError} `ERR_OTLP_UNENCODABLE`, with the event's `index`, for an
 *   attribute value nested deeper than 30 maps or arrays (a cycle is one).
 * - Not everything comes back exactly: hex ids come back lower case; a timestamp below 1 ms,
 *   past April 2262 or not finite is left out (the receiver uses its own time) and fractions of
 *   a millisecond are cut by the decoder; `-0` comes back as `0`, a `bigint` as a number or
 *   decimal string, bytes as base64; a `severity_text` without a `severity` may give the
 *   decoded event a severity read from that text.
 * - An empty list of events gives a request with no `resourceLogs`, which is valid OTLP.
 *
 * @example
 * ```ts
 * await fetch(url, {
 *   method: 'POST',
 *   headers: { 'content-type': OTLP_MEDIA_TYPES.protobuf },
 *   body: encodeOtlpLogs(events, 'protobuf'),
 * });
 * ```
 */
export function encodeOtlpLogs(events: readonly LogEvent[], encoding: OtlpEncoding): Uint8Array {
  const builder = new RequestBuilder(encoding === 'json');
  for (let i = 0; i < events.length; i++) builder.add(events[i]!, i);
  return builder.finish();
}

/** The request under construction, and the run of resource and scope it is adding to. */
class RequestBuilder {
  readonly #json: boolean;
  readonly #resourceLogs: Obj[] = [];
  #resourceKey: string | undefined;
  #scopeLogs: Obj[] = [];
  #scopeKey: string | undefined;
  #logRecords: Obj[] = [];
  /** The event being added, for the error that names it. */
  #index = 0;

  constructor(json: boolean) {
    this.#json = json;
  }

  add(event: LogEvent, index: number): void {
    this.#index = index;
    const resourceAttributes: KeyValue[] = [];
    const scopeAttributes: KeyValue[] = [];
    const attributes: KeyValue[] = [];
    const record: Obj = {};
    let scopeName: string | undefined;
    let scopeVersion: string | undefined;
    const source = event.attributes;
    for (const key in source) {
      const value = source[key];
      if (key.startsWith('resource.')) this.#push(resourceAttributes, key.slice(9), value);
      else if (key.startsWith('scope.')) {
        if (key === 'scope.name' && isFilled(value)) scopeName = value;
        else if (key === 'scope.version' && isFilled(value)) scopeVersion = value;
        else this.#push(scopeAttributes, key.slice(6), value);
      } else if (!this.#recordField(record, key, value)) this.#push(attributes, key, value);
    }

    const time = unixNanos(event.timestamp);
    if (time !== undefined) record.timeUnixNano = time;
    const severityNumber = event.severity === undefined ? 0 : severityNumberOf(event.severity);
    if (severityNumber !== 0) record.severityNumber = severityNumber;
    record.body = { stringValue: event.message };
    if (attributes.length > 0) record.attributes = attributes;

    const scope: Obj = {};
    if (scopeName !== undefined) scope.name = scopeName;
    if (scopeVersion !== undefined) scope.version = scopeVersion;
    if (scopeAttributes.length > 0) scope.attributes = scopeAttributes;
    this.#continueRun(resourceAttributes, scope);
    this.#logRecords.push(record);
  }

  finish(): Uint8Array {
    const request = { resourceLogs: this.#resourceLogs };
    return this.#json
      ? Buffer.from(JSON.stringify(request))
      : ExportLogsServiceRequest.encode(request).finish();
  }

  /** Starts a new ResourceLogs, or ScopeLogs, unless the event has the previous one's. */
  #continueRun(resourceAttributes: KeyValue[], scope: Obj): void {
    // The AnyValues as they will be sent are the identity of a resource or scope: two that
    // serialise alike are alike on the wire.
    const resourceKey = JSON.stringify(resourceAttributes);
    const scopeKey = JSON.stringify(scope);
    if (resourceKey !== this.#resourceKey) {
      this.#resourceKey = resourceKey;
      this.#scopeKey = undefined;
      this.#scopeLogs = [];
      const resourceLogs: Obj = { scopeLogs: this.#scopeLogs };
      if (resourceAttributes.length > 0) resourceLogs.resource = { attributes: resourceAttributes };
      this.#resourceLogs.push(resourceLogs);
    }
    if (scopeKey !== this.#scopeKey) {
      this.#scopeKey = scopeKey;
      this.#logRecords = [];
      this.#scopeLogs.push({ scope, logRecords: this.#logRecords });
    }
  }

  /** Sets the record field `key` maps to and returns true, when `value` fits that field. */
  #recordField(record: Obj, key: string, value: unknown): boolean {
    switch (key) {
      case 'trace_id':
      case 'span_id': {
        if (!isId(value, key === 'trace_id' ? 32 : 16)) return false;
        const id = this.#json ? value.toLowerCase() : Buffer.from(value, 'hex');
        record[key === 'trace_id' ? 'traceId' : 'spanId'] = id;
        return true;
      }
      case 'trace_flags':
        if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 255)) {
          return false;
        }
        record.flags = value;
        return true;
      case 'severity_text':
      case 'event_name':
        if (!isFilled(value)) return false;
        record[key === 'severity_text' ? 'severityText' : 'eventName'] = value;
        return true;
      default:
        return false;
    }
  }

  #push(into: KeyValue[], key: string, value: unknown): void {
    const any = this.#anyValue(value, 0);
    if (any !== undefined) into.push({ key, value: any });
  }

  /** The AnyValue of a value; undefined for what JSON leaves out. */
  #anyValue(value: unknown, depth: number): Obj | undefined {
    switch (typeof value) {
      case 'string':
        return { stringValue: value };
      case 'boolean':
        return { boolValue: value };
      case 'number':
        // proto3 JSON writes int64 as a decimal string, and a double's special values as names.
        if (Number.isSafeInteger(value)) return { intValue: this.#json ? String(value) : value };
        return { doubleValue: this.#json && !Number.isFinite(value) ? String(value) : value };
      case 'bigint':
        return value >= INT64_MIN && value <= INT64_MAX
          ? { intValue: String(value) }
          : { stringValue: String(value) };
      case 'object':
        break;
      default:
        return undefined;
    }
    if (value === null) return {};
    if (depth >= MAX_NESTING) {
      throw new OtlpError(
        'ERR_OTLP_UNENCODABLE',
        `events[${this.#index}] has an attribute nested deeper than ${MAX_NESTING} levels (or a cycle)`,
        { index: this.#index },
      );
    }
    if (value instanceof Uint8Array) {
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      // protobufjs writes a base64 string as the bytes it encodes: one form for both encodings.
      return { bytesValue: bytes.toString('base64') };
    }
    if (Array.isArray(value)) {
      return { arrayValue: { values: value.map((v) => this.#anyValue(v, depth + 1) ?? {}) } };
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.#anyValue(toJSON.call(value), depth + 1);
    const values: KeyValue[] = [];
    const object = value as Obj;
    for (const key in object) {
      const any = this.#anyValue(object[key], depth + 1);
      if (any !== undefined) values.push({ key, value: any });
    }
    return { kvlistValue: { values } };
  }
}

function isFilled(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A trace or span id the decoder reads back: `digits` hex digits, not all zero. */
function isId(value: unknown, digits: number): value is string {
  return (
    typeof value === 'string' && value.length === digits && HEX.test(value) && !ZEROS.test(value)
  );
}
