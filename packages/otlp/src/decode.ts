/**
 * OTLP logs requests into spillway events, from both encodings the OTLP/HTTP specification
 * defines.
 *
 * - Binary protobuf: decoded with protobufjs against `internal/schema.ts` (which bounds nesting
 *   at 100 levels).
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
/** Nesting bound for JSON bodies, matching protobufjs's bound for binary ones. */
const MAX_DEPTH = 100;
const HEX = /^[0-9a-fA-F]*$/;
const DIGITS = /^[0-9]+$/;
const INTEGER = /^-?[0-9]+$/;

type Obj = Record<string, unknown>;

/**
 * Walks a decoded request (protobufjs output or parsed JSON) into events. Binary input is
 * already typed; JSON input is checked as it is read, and any value of the wrong type is a
 * malformed body naming the field.
 */
class Walker {
  readonly #json: boolean;
  readonly #maxEventBytes: number;
  readonly #now: number;
  readonly events: LogEvent[] = [];
  #rejected = 0;
  readonly #rejections: string[] = [];

  constructor(encoding: OtlpEncoding, maxEventBytes: number, now: number) {
    this.#json = encoding === 'json';
    this.#maxEventBytes = maxEventBytes;
    this.#now = now;
  }

  request(value: unknown): OtlpDecodedLogs {
    const request = this.#object(value, '');
    if (request === undefined) throw this.#bad('', 'the body must be a JSON object');
    const resourceLogs = this.#array(request.resourceLogs, 'resourceLogs');
    for (let r = 0; r < resourceLogs.length; r++) {
      const path = `resourceLogs[${r}]`;
      const rl = this.#object(resourceLogs[r], path) ?? {};
      const resource = this.#object(rl.resource, `${path}.resource`) ?? {};
      const derived: Obj = {};
      this.#attributes(resource.attributes, `${path}.resource.attributes`, derived, 'resource.', 0);
      const scopeLogs = this.#array(rl.scopeLogs, `${path}.scopeLogs`);
      for (let s = 0; s < scopeLogs.length; s++) {
        const sPath = `${path}.scopeLogs[${s}]`;
        const sl = this.#object(scopeLogs[s], sPath) ?? {};
        const scope = this.#object(sl.scope, `${sPath}.scope`) ?? {};
        const withScope: Obj = { ...derived };
        const name = this.#string(scope.name, `${sPath}.scope.name`);
        const version = this.#string(scope.version, `${sPath}.scope.version`);
        if (name) withScope['scope.name'] = name;
        if (version) withScope['scope.version'] = version;
        this.#attributes(scope.attributes, `${sPath}.scope.attributes`, withScope, 'scope.', 0);
        const records = this.#array(sl.logRecords, `${sPath}.logRecords`);
        for (let i = 0; i < records.length; i++) {
          this.#record(records[i], `${sPath}.logRecords[${i}]`, withScope);
        }
      }
    }
    return { events: this.events, rejected: this.#rejected, rejections: this.#rejections };
  }

  #record(value: unknown, path: string, derived: Obj): void {
    const record = this.#object(value, path) ?? {};
    const time =
      this.#nanosToMs(record.timeUnixNano, `${path}.timeUnixNano`) ||
      this.#nanosToMs(record.observedTimeUnixNano, `${path}.observedTimeUnixNano`) ||
      this.#now;
    const severityNumber = this.#enum(record.severityNumber, `${path}.severityNumber`);
    const severityText = this.#string(record.severityText, `${path}.severityText`);
    const body = this.#anyValue(record.body, `${path}.body`, 0);
    const attributes: Obj = {};
    this.#attributes(record.attributes, `${path}.attributes`, attributes, '', 0);
    for (const key in derived) {
      if (!Object.hasOwn(attributes, key)) setField(attributes, key, derived[key]);
    }
    const traceId = this.#id(record.traceId, `${path}.traceId`, 16);
    const spanId = this.#id(record.spanId, `${path}.spanId`, 8);
    const flags = this.#uint(record.flags, `${path}.flags`) & 0xff;
    const eventName = this.#string(record.eventName, `${path}.eventName`);
    const extra: Obj = {
      trace_id: traceId,
      span_id: spanId,
      trace_flags: flags || undefined,
      severity_text: severityText || undefined,
      event_name: eventName || undefined,
    };
    for (const key in extra) {
      if (extra[key] !== undefined && !Object.hasOwn(attributes, key)) attributes[key] = extra[key];
    }

    const message =
      body === null || body === undefined
        ? ''
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    const event: LogEvent = { timestamp: time, message };
    const severity = severityOf(severityNumber, severityText);
    if (severity) event.severity = severity;
    if (Object.keys(attributes).length > 0) event.attributes = attributes;
    const size = estimateEventBytes(event);
    if (size > this.#maxEventBytes) {
      this.#rejected++;
      if (this.#rejections.length < MAX_REPORTED) {
        this.#rejections.push(
          `${path} is about ${size} bytes, above maxEventBytes ${this.#maxEventBytes}`,
        );
      }
      return;
    }
    this.events.push(event);
  }

  /** Adds `key → value` pairs of a KeyValue list to `into`, keys prefixed. */
  #attributes(value: unknown, path: string, into: Obj, prefix: string, depth: number): void {
    const list = this.#array(value, path);
    for (let i = 0; i < list.length; i++) {
      const kv = this.#object(list[i], `${path}[${i}]`) ?? {};
      const key = this.#string(kv.key, `${path}[${i}].key`) ?? '';
      setField(
        into,
        prefix + key,
        this.#anyValue(kv.value, `${path}[${i}].value`, depth + 1) ?? null,
      );
    }
  }

  /** An AnyValue as a plain value: string, boolean, number, decimal string, array, object or null. */
  #anyValue(value: unknown, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw this.#bad(path, `nested deeper than ${MAX_DEPTH} levels`);
    const any = this.#object(value, path);
    if (any === undefined) return undefined;
    if (any.stringValue != null) return this.#string(any.stringValue, `${path}.stringValue`);
    if (any.boolValue != null) {
      if (typeof any.boolValue !== 'boolean')
        throw this.#bad(`${path}.boolValue`, 'expected a boolean');
      return any.boolValue;
    }
    if (any.intValue != null) return this.#int64(any.intValue, `${path}.intValue`);
    if (any.doubleValue != null) return this.#double(any.doubleValue, `${path}.doubleValue`);
    if (any.arrayValue != null) {
      const array = this.#object(any.arrayValue, `${path}.arrayValue`) ?? {};
      const values = this.#array(array.values, `${path}.arrayValue.values`);
      return values.map(
        (v, i) => this.#anyValue(v, `${path}.arrayValue.values[${i}]`, depth + 1) ?? null,
      );
    }
    if (any.kvlistValue != null) {
      const kvlist = this.#object(any.kvlistValue, `${path}.kvlistValue`) ?? {};
      const out: Obj = {};
      this.#attributes(kvlist.values, `${path}.kvlistValue.values`, out, '', depth + 1);
      return out;
    }
    if (any.bytesValue != null) return this.#bytes(any.bytesValue, `${path}.bytesValue`);
    return null;
  }

  #object(value: unknown, path: string): Obj | undefined {
    if (value == null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value))
      throw this.#bad(path, 'expected an object');
    return value as Obj;
  }

  #array(value: unknown, path: string): readonly unknown[] {
    if (value == null) return [];
    if (!Array.isArray(value)) throw this.#bad(path, 'expected an array');
    return value;
  }

  #string(value: unknown, path: string): string | undefined {
    if (value == null) return undefined;
    if (typeof value !== 'string') throw this.#bad(path, 'expected a string');
    return value;
  }

  /** OTLP/JSON writes enums as integers only; names are not allowed. */
  #enum(value: unknown, path: string): number {
    if (value == null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.#bad(path, 'expected an integer (OTLP/JSON encodes enums as integers)');
    }
    return value;
  }

  #uint(value: unknown, path: string): number {
    if (value == null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw this.#bad(path, 'expected a non-negative integer');
    }
    return value;
  }

  /** A fixed64 nanosecond time as milliseconds; 0 when absent or zero (unknown). */
  #nanosToMs(value: unknown, path: string): number {
    if (value == null) return 0;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      return Math.floor(value / 1e6);
    }
    if (typeof value === 'string' && DIGITS.test(value)) {
      // Cut the last six digits rather than divide: a nanosecond count is past 2^53.
      return value.length <= 6 ? 0 : Number(value.slice(0, -6));
    }
    throw this.#bad(path, 'expected an unsigned 64-bit integer (a decimal string or a number)');
  }

  #int64(value: unknown, path: string): number | string {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && INTEGER.test(value)) {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    throw this.#bad(path, 'expected a 64-bit integer (a decimal string or a number)');
  }

  #double(value: unknown, path: string): number | string {
    if (typeof value === 'number') return value;
    // proto3 JSON spells the special values as strings; JSON cannot carry them as numbers.
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      return Number(value);
    }
    throw this.#bad(path, 'expected a number');
  }

  #bytes(value: unknown, path: string): string {
    if (!this.#json) return Buffer.from(value as Uint8Array).toString('base64');
    if (typeof value !== 'string') throw this.#bad(path, 'expected a base64 string');
    return value;
  }

  /** A trace or span id as lower-case hex; undefined when absent or invalid (treated as absent). */
  #id(value: unknown, path: string, bytes: number): string | undefined {
    if (value == null) return undefined;
    let hex: string;
    if (this.#json) {
      if (typeof value !== 'string') throw this.#bad(path, 'expected a hex string');
      if (!HEX.test(value)) return undefined;
      hex = value.toLowerCase();
    } else {
      hex = Buffer.from(value as Uint8Array).toString('hex');
    }
    if (hex.length !== bytes * 2 || /^0+$/.test(hex)) return undefined;
    return hex;
  }

  #bad(path: string, description: string): OtlpError {
    const where = path === '' ? 'request' : path;
    return new OtlpError('ERR_OTLP_MALFORMED', `${where}: ${description}`, { field: where });
  }
}
