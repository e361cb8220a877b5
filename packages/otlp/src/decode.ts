/**
 * OTLP logs requests into spillway events, from both encodings the OTLP/HTTP specification
 * defines.
 *
 * - Binary protobuf: decoded with protobufjs against `internal/schema.ts` (nesting bounded at
 *   100 messages) into the shape JSON parses into.
 * - JSON: the proto3 JSON mapping with OTLP's deviations: lowerCamelCase keys only (others are
 *   unknown fields and ignored, as are all unknown fields), `traceId`/`spanId` as hex, enums as
 *   integers only, 64-bit integers as decimal strings or numbers, `bytesValue` as base64.
 *
 * Both encodings go through one walker, so they map identically. Flattening into an event:
 *
 * | OTLP                                   | LogEvent                                                |
 * |----------------------------------------|---------------------------------------------------------|
 * | `timeUnixNano`, else `observedTimeUnixNano`, else receipt time | `timestamp` (ms)                |
 * | `body` string / structured / absent    | `message`: the string / its JSON / `''`                |
 * | `severityNumber` 1–4 … 21–24 (else `severityText`) | `severity` trace … fatal                    |
 * | record attributes                      | `attributes`, keys as sent (nested maps stay nested)    |
 * | resource attributes                    | `attributes['resource.<key>']`, e.g. `resource.service.name` |
 * | scope name / version / attributes      | `scope.name`, `scope.version`, `scope.<key>`            |
 * | `traceId`, `spanId`, trace flags       | `trace_id`, `span_id` (lower-case hex), `trace_flags`   |
 * | `severityText`, `eventName`            | `severity_text`, `event_name`                           |
 *
 * A record's own attributes win over the derived keys on a clash. Values: `intValue` becomes a
 * number when it is a safe integer and a decimal string otherwise; `bytesValue` becomes base64;
 * an empty AnyValue becomes `null`. Invalid trace or span ids (wrong length, all zero) are left
 * out, as the specification says receivers should treat them as absent.
 */
import { estimateEventBytes, type LogEvent, setField } from '@spillway/core';
import type { OtlpEncoding } from './encoding.js';
import { OtlpError } from './errors.js';
import { ExportLogsServiceRequest } from './internal/schema.js';
import { severityOf } from './internal/severity.js';

/** Options of {@link decodeOtlpLogs}. */
export interface OtlpDecodeOptions {
  /**
   * Records whose event is estimated above this many bytes are rejected one by one (for a
   * partial success) instead of becoming events. Default: no limit.
   */
  readonly maxEventBytes?: number;
  /** Receipt time in ms, for records with neither timestamp. Default: `Date.now()`. */
  readonly now?: number;
}

/** What a request holds: its events, and the records rejected one by one and why. */
export interface OtlpDecodedLogs {
  readonly events: LogEvent[];
  /** Records rejected by `maxEventBytes` (the rest are events): a partial success. */
  readonly rejected: number;
  /** Why, one sentence per rejected record, the first few only (a response stays small). */
  readonly rejections: readonly string[];
}

/**
 * Decodes an `ExportLogsServiceRequest` and maps its records to events, by the table above.
 *
 * When to use: to receive OTLP logs (the `otlp` source), or to read back what
 * {@link encodeOtlpLogs} wrote.
 *
 * Gotchas: throws an {@link OtlpError} `ERR_OTLP_MALFORMED` for a body that is not a request —
 * its `field` names the offending field of a JSON body (`request` for the whole body) and is
 * undefined when the bytes do not parse at all. JSON bodies are checked field by field, binary
 * ones only as far as protobuf types go. Records with neither timestamp get `now`, so decoding
 * the same body twice gives different events unless `now` is passed.
 *
 * @example
 * ```ts
 * const { events, rejected } = decodeOtlpLogs(body, 'protobuf', { maxEventBytes: 1 << 20 });
 * ```
 */
export function decodeOtlpLogs(
  body: Uint8Array,
  encoding: OtlpEncoding,
  options: OtlpDecodeOptions = {},
): OtlpDecodedLogs {
  let request: unknown;
  if (encoding === 'protobuf') {
    try {
      const message = ExportLogsServiceRequest.decode(body);
      // 64-bit values as decimal strings, the same shape as JSON's; bytes stay buffers.
      request = ExportLogsServiceRequest.toObject(message, { longs: String });
    } catch (err) {
      throw new OtlpError(
        'ERR_OTLP_MALFORMED',
        `invalid protobuf ExportLogsServiceRequest: ${(err as Error).message}`,
        { cause: err },
      );
    }
  } else {
    try {
      request = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString());
    } catch (err) {
      throw new OtlpError('ERR_OTLP_MALFORMED', `invalid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const walker = new Walker(
    encoding,
    options.maxEventBytes ?? Number.POSITIVE_INFINITY,
    options.now ?? Date.now(),
  );
  return walker.request(request);
}

/** Rejection reasons kept per request, so an error message stays small. */
const MAX_REPORTED = 5;
/** Nesting bound for JSON bodies, matching the bound of binary ones. */
const MAX_DEPTH = 100;
const HEX = /^[0-9a-fA-F]*$/;
const NOT_UINT64 = 'expected an unsigned 64-bit integer (a decimal string or a number)';
const INTEGER = /^-?[0-9]+$/;
const ZEROS = /^0+$/;

type Obj = Record<string, unknown>;
/** A step on the way from the request to a value: a field name or an index. */
type Step = string | number;

const EMPTY: Obj = Object.freeze({});
const NONE: readonly unknown[] = Object.freeze([]);

/**
 * Walks a decoded request (protobufjs's `toObject` output or parsed JSON) into events. Binary
 * input is already typed; JSON input is checked as it is read, and any value of the wrong type
 * is a malformed body naming the field.
 *
 * The walk is the hot loop of a receiver, so it builds nothing it may not need: the path of a
 * field is kept as a stack of steps (`#trail`) and rendered only for an error, and the
 * attributes derived from the resource and scope are collected once per `ScopeLogs`.
 */
class Walker {
  readonly #json: boolean;
  readonly #maxEventBytes: number;
  readonly #now: number;
  readonly #events: LogEvent[] = [];
  #rejected = 0;
  readonly #rejections: string[] = [];
  /** The steps to the object being read; a checker's `step` is the field within it. */
  readonly #trail: Step[] = [];

  constructor(encoding: OtlpEncoding, maxEventBytes: number, now: number) {
    this.#json = encoding === 'json';
    this.#maxEventBytes = maxEventBytes;
    this.#now = now;
  }

  request(value: unknown): OtlpDecodedLogs {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.#bad(undefined, 'the body must be a JSON object');
    }
    const trail = this.#trail;
    const resourceLogs = this.#array((value as Obj).resourceLogs, 'resourceLogs');
    trail.push('resourceLogs');
    for (let r = 0; r < resourceLogs.length; r++) {
      const rl = this.#object(resourceLogs[r], r);
      trail.push(r);
      const resource = this.#object(rl.resource, 'resource');
      trail.push('resource');
      const derived: Obj = {};
      this.#attributes(resource.attributes, 'attributes', derived, 'resource.', 0);
      trail.pop();
      const scopeLogs = this.#array(rl.scopeLogs, 'scopeLogs');
      trail.push('scopeLogs');
      for (let s = 0; s < scopeLogs.length; s++) {
        const sl = this.#object(scopeLogs[s], s);
        trail.push(s);
        const scope = this.#object(sl.scope, 'scope');
        trail.push('scope');
        const withScope: Obj = { ...derived };
        const name = this.#string(scope.name, 'name');
        const version = this.#string(scope.version, 'version');
        if (name) withScope['scope.name'] = name;
        if (version) withScope['scope.version'] = version;
        this.#attributes(scope.attributes, 'attributes', withScope, 'scope.', 0);
        trail.pop();
        const records = this.#array(sl.logRecords, 'logRecords');
        trail.push('logRecords');
        const inherited = Object.keys(withScope);
        for (let i = 0; i < records.length; i++) this.#record(records[i], i, withScope, inherited);
        trail.pop();
        trail.pop();
      }
      trail.pop();
      trail.pop();
    }
    return { events: this.#events, rejected: this.#rejected, rejections: this.#rejections };
  }

  /** One record at `#trail` + `[index]`; `inherited` lists the keys of `derived`. */
  #record(value: unknown, index: number, derived: Obj, inherited: readonly string[]): void {
    const record = this.#object(value, index);
    this.#trail.push(index);
    const time =
      this.#nanosToMs(record.timeUnixNano, 'timeUnixNano') ||
      this.#nanosToMs(record.observedTimeUnixNano, 'observedTimeUnixNano') ||
      this.#now;
    const severityNumber = this.#enum(record.severityNumber, 'severityNumber');
    const severityText = this.#string(record.severityText, 'severityText');
    const body = this.#anyValue(record.body, 'body', 0);
    const attributes: Obj = {};
    const own = this.#attributes(record.attributes, 'attributes', attributes, '', 0);
    // The record's own attributes win over the derived ones; without any, nothing can clash.
    for (let k = 0; k < inherited.length; k++) {
      const key = inherited[k]!;
      if (own === 0 || !Object.hasOwn(attributes, key)) setField(attributes, key, derived[key]);
    }
    const traceId = this.#id(record.traceId, 'traceId', 16);
    const spanId = this.#id(record.spanId, 'spanId', 8);
    const flags = this.#uint(record.flags, 'flags') & 0xff;
    const eventName = this.#string(record.eventName, 'eventName');
    let count = own + inherited.length;
    count += this.#extra(attributes, 'trace_id', traceId);
    count += this.#extra(attributes, 'span_id', spanId);
    count += this.#extra(attributes, 'trace_flags', flags || undefined);
    count += this.#extra(attributes, 'severity_text', severityText || undefined);
    count += this.#extra(attributes, 'event_name', eventName || undefined);

    const message =
      body === null || body === undefined
        ? ''
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    const event: LogEvent = { timestamp: time, message };
    const severity = severityOf(severityNumber, severityText);
    if (severity) event.severity = severity;
    if (count > 0) event.attributes = attributes;
    const size = estimateEventBytes(event);
    if (size > this.#maxEventBytes) {
      this.#rejected++;
      if (this.#rejections.length < MAX_REPORTED) {
        this.#rejections.push(
          `${this.#path(undefined)} is about ${size} bytes, above maxEventBytes ${this.#maxEventBytes}`,
        );
      }
    } else {
      this.#events.push(event);
    }
    this.#trail.pop();
  }

  /** Sets a derived field unless it is absent or a record attribute took the key; 1 if set. */
  #extra(attributes: Obj, key: string, value: unknown): number {
    if (value === undefined || Object.hasOwn(attributes, key)) return 0;
    attributes[key] = value;
    return 1;
  }

  /**
   * Adds `key → value` pairs of the KeyValue list at `step` to `into`, keys prefixed; returns
   * how many pairs the list held.
   */
  #attributes(value: unknown, step: Step, into: Obj, prefix: string, depth: number): number {
    const list = this.#array(value, step);
    if (list.length === 0) return 0;
    const trail = this.#trail;
    trail.push(step);
    for (let i = 0; i < list.length; i++) {
      const kv = this.#object(list[i], i);
      trail.push(i);
      const key = this.#string(kv.key, 'key') ?? '';
      const anyValue = this.#anyValue(kv.value, 'value', depth + 1);
      setField(into, prefix === '' ? key : prefix + key, anyValue ?? null);
      trail.pop();
    }
    trail.pop();
    return list.length;
  }

  /**
   * The AnyValue at `step` as a plain value: string, boolean, number, decimal string, array,
   * object or null; undefined when absent.
   */
  #anyValue(value: unknown, step: Step, depth: number): unknown {
    if (depth > MAX_DEPTH) throw this.#bad(step, `nested deeper than ${MAX_DEPTH} levels`);
    if (value == null) return undefined;
    const any = this.#object(value, step);
    // The common kinds are checked inline; the trail grows only to name a bad field.
    const string = any.stringValue;
    if (string != null) {
      if (typeof string === 'string') return string;
      throw this.#badIn(step, 'stringValue', 'expected a string');
    }
    const bool = any.boolValue;
    if (bool != null) {
      if (typeof bool === 'boolean') return bool;
      throw this.#badIn(step, 'boolValue', 'expected a boolean');
    }
    const trail = this.#trail;
    trail.push(step);
    let out: unknown = null;
    if (any.intValue != null) out = this.#int64(any.intValue, 'intValue');
    else if (any.doubleValue != null) out = this.#double(any.doubleValue, 'doubleValue');
    else if (any.arrayValue != null) {
      const array = this.#object(any.arrayValue, 'arrayValue');
      trail.push('arrayValue');
      const values = this.#array(array.values, 'values');
      trail.push('values');
      const items = new Array<unknown>(values.length);
      for (let i = 0; i < values.length; i++) {
        items[i] = this.#anyValue(values[i], i, depth + 1) ?? null;
      }
      out = items;
      trail.pop();
      trail.pop();
    } else if (any.kvlistValue != null) {
      const kvlist = this.#object(any.kvlistValue, 'kvlistValue');
      trail.push('kvlistValue');
      const map: Obj = {};
      this.#attributes(kvlist.values, 'values', map, '', depth + 1);
      out = map;
      trail.pop();
    } else if (any.bytesValue != null) out = this.#bytes(any.bytesValue, 'bytesValue');
    trail.pop();
    return out;
  }

  /** The object at `step`, or an empty one when absent. */
  #object(value: unknown, step: Step): Obj {
    if (value == null) return EMPTY;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw this.#bad(step, 'expected an object');
    }
    return value as Obj;
  }

  #array(value: unknown, step: Step): readonly unknown[] {
    if (value == null) return NONE;
    if (!Array.isArray(value)) throw this.#bad(step, 'expected an array');
    return value;
  }

  #string(value: unknown, step: Step): string | undefined {
    if (value == null) return undefined;
    if (typeof value !== 'string') throw this.#bad(step, 'expected a string');
    return value;
  }

  /** OTLP/JSON writes enums as integers only; names are not allowed. */
  #enum(value: unknown, step: Step): number {
    if (value == null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.#bad(step, 'expected an integer (OTLP/JSON encodes enums as integers)');
    }
    return value;
  }

  #uint(value: unknown, step: Step): number {
    if (value == null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw this.#bad(step, 'expected a non-negative integer');
    }
    return value;
  }

  /**
   * A fixed64 nanosecond time as milliseconds; 0 when absent or zero (unknown).
   */
  #nanosToMs(value: unknown, step: Step): number {
    if (value == null) return 0;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      return Math.floor(value / 1e6);
    }
    if (typeof value === 'string' && value.length > 0) {
      // Drop the last six digits rather than divide: a nanosecond count is past 2^53. The
      // milliseconds are summed digit by digit (exact up to 15 digits, past the year 30000);
      // longer strings round as `Number()` does.
      const length = value.length;
      let ms = 0;
      for (let i = 0; i < length; i++) {
        const digit = value.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) throw this.#bad(step, NOT_UINT64);
        if (i < length - 6) ms = ms * 10 + digit;
      }
      return length <= 21 ? ms : Number(value.slice(0, -6));
    }
    throw this.#bad(step, NOT_UINT64);
  }

  #int64(value: unknown, step: Step): number | string {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && INTEGER.test(value)) {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    throw this.#bad(step, 'expected a 64-bit integer (a decimal string or a number)');
  }

  #double(value: unknown, step: Step): number | string {
    if (typeof value === 'number') return value;
    // proto3 JSON spells the special values as strings; JSON cannot carry them as numbers.
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      return Number(value);
    }
    throw this.#bad(step, 'expected a number');
  }

  #bytes(value: unknown, step: Step): string {
    if (!this.#json) return bufferOf(value as Uint8Array).toString('base64');
    if (typeof value !== 'string') throw this.#bad(step, 'expected a base64 string');
    return value;
  }

  /** A trace or span id as lower-case hex; undefined when absent or invalid (treated as absent). */
  #id(value: unknown, step: Step, bytes: number): string | undefined {
    if (value == null) return undefined;
    let hex: string;
    if (this.#json) {
      if (typeof value !== 'string') throw this.#bad(step, 'expected a hex string');
      if (!HEX.test(value)) return undefined;
      hex = value.toLowerCase();
    } else {
      hex = bufferOf(value as Uint8Array).toString('hex');
    }
    if (hex.length !== bytes * 2 || ZEROS.test(hex)) return undefined;
    return hex;
  }

  /** The path of `step` within the object at `#trail`, e.g. `resourceLogs[0].resource`. */
  #path(step: Step | undefined): string {
    let path = '';
    const steps = step === undefined ? this.#trail : [...this.#trail, step];
    for (const s of steps) path += typeof s === 'number' ? `[${s}]` : path === '' ? s : `.${s}`;
    return path;
  }

  #bad(step: Step | undefined, description: string): OtlpError {
    const where = this.#path(step) || 'request';
    return new OtlpError('ERR_OTLP_MALFORMED', `${where}: ${description}`, { field: where });
  }

  /** A bad `field` of the object at `step`. */
  #badIn(step: Step, field: string, description: string): OtlpError {
    this.#trail.push(step);
    return this.#bad(field, description);
  }
}

/** A Buffer over the same memory, for its string conversions. */
const bufferOf = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
