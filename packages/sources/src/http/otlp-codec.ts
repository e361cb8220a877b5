/**
 * OTLP logs on the wire, both encodings the OTLP/HTTP specification defines, and the mapping
 * of a LogRecord to a spillway {@link LogEvent}.
 *
 * - Binary protobuf: the messages below, declared from the field numbers of the
 *   opentelemetry-proto definitions (`collector/logs/v1`, `logs/v1`, `common/v1`,
 *   `resource/v1`) and `google.rpc.Status`, decoded with protobufjs (which bounds nesting at
 *   100 levels).
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
import { estimateEventBytes, type LogEvent, type Severity } from '@spillway/core';
import protobuf from 'protobufjs/light.js';
import { type DecodedBody, ReceiverError, setField } from './receiver.js';

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const field = (type: string, id: number) => ({ type, id });

/** The OTLP logs messages, by the field numbers of opentelemetry-proto. */
const root = protobuf.Root.fromJSON({
  nested: {
    AnyValue: {
      oneofs: {
        value: {
          oneof: [
            'stringValue',
            'boolValue',
            'intValue',
            'doubleValue',
            'arrayValue',
            'kvlistValue',
            'bytesValue',
          ],
        },
      },
      fields: {
        stringValue: field('string', 1),
        boolValue: field('bool', 2),
        intValue: field('int64', 3),
        doubleValue: field('double', 4),
        arrayValue: field('ArrayValue', 5),
        kvlistValue: field('KeyValueList', 6),
        bytesValue: field('bytes', 7),
      },
    },
    ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
    KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
    KeyValue: { fields: { key: field('string', 1), value: field('AnyValue', 2) } },
    InstrumentationScope: {
      fields: {
        name: field('string', 1),
        version: field('string', 2),
        attributes: repeated('KeyValue', 3),
        droppedAttributesCount: field('uint32', 4),
      },
    },
    Resource: {
      fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: field('uint32', 2) },
    },
    LogRecord: {
      fields: {
        timeUnixNano: field('fixed64', 1),
        // An enum on the wire is a varint; the integer is what the mapping needs.
        severityNumber: field('int32', 2),
        severityText: field('string', 3),
        body: field('AnyValue', 5),
        attributes: repeated('KeyValue', 6),
        droppedAttributesCount: field('uint32', 7),
        flags: field('fixed32', 8),
        traceId: field('bytes', 9),
        spanId: field('bytes', 10),
        observedTimeUnixNano: field('fixed64', 11),
        eventName: field('string', 12),
      },
    },
    ScopeLogs: {
      fields: {
        scope: field('InstrumentationScope', 1),
        logRecords: repeated('LogRecord', 2),
        schemaUrl: field('string', 3),
      },
    },
    ResourceLogs: {
      fields: {
        resource: field('Resource', 1),
        scopeLogs: repeated('ScopeLogs', 2),
        schemaUrl: field('string', 3),
      },
    },
    ExportLogsServiceRequest: { fields: { resourceLogs: repeated('ResourceLogs', 1) } },
    ExportLogsPartialSuccess: {
      fields: { rejectedLogRecords: field('int64', 1), errorMessage: field('string', 2) },
    },
    ExportLogsServiceResponse: { fields: { partialSuccess: field('ExportLogsPartialSuccess', 1) } },
    // google.protobuf.Any, google.rpc.Status and google.rpc.BadRequest, for error bodies.
    Any: { fields: { typeUrl: field('string', 1), value: field('bytes', 2) } },
    Status: {
      fields: { code: field('int32', 1), message: field('string', 2), details: repeated('Any', 3) },
    },
    FieldViolation: { fields: { field: field('string', 1), description: field('string', 2) } },
    BadRequest: { fields: { fieldViolations: repeated('FieldViolation', 1) } },
  },
});

const ExportLogsServiceRequest = root.lookupType('ExportLogsServiceRequest');
const ExportLogsServiceResponse = root.lookupType('ExportLogsServiceResponse');
const Status = root.lookupType('Status');
const BadRequest = root.lookupType('BadRequest');

/** The two OTLP/HTTP body encodings. */
export type OtlpEncoding = 'protobuf' | 'json';

export interface OtlpDecodeOptions {
  /** Records whose event is estimated above this many bytes are rejected (partial success). */
  maxEventBytes: number;
  /** Receipt time, for records with neither timestamp. */
  now: number;
}

/** Decodes an `ExportLogsServiceRequest` and maps its records to events. */
export function decodeOtlpLogs(
  body: Buffer,
  encoding: OtlpEncoding,
  options: OtlpDecodeOptions,
): DecodedBody {
  let request: unknown;
  if (encoding === 'protobuf') {
    try {
      const message = ExportLogsServiceRequest.decode(body);
      // 64-bit values as decimal strings, the same shape as JSON's; bytes stay buffers.
      request = ExportLogsServiceRequest.toObject(message, { longs: String });
    } catch (err) {
      throw new ReceiverError(
        'ERR_MALFORMED_BODY',
        `invalid protobuf ExportLogsServiceRequest: ${(err as Error).message}`,
        { cause: err },
      );
    }
  } else {
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new ReceiverError('ERR_MALFORMED_BODY', `invalid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return new Walker(encoding, options).request(request);
}

/** `{}`, or a partial success with the count and reasons of the rejected records. */
export function encodeOtlpResponse(
  encoding: OtlpEncoding,
  rejected: number,
  rejections: readonly string[],
): Uint8Array | string {
  const partial =
    rejected > 0
      ? {
          rejectedLogRecords: rejected,
          errorMessage: `${rejected} log record(s) rejected: ${rejections.join('; ')}`,
        }
      : undefined;
  if (encoding === 'protobuf') {
    // The full success is the empty message: zero bytes.
    return ExportLogsServiceResponse.encode(
      ExportLogsServiceResponse.fromObject(partial ? { partialSuccess: partial } : {}),
    ).finish();
  }
  // proto3 JSON writes int64 as a decimal string.
  return JSON.stringify(
    partial
      ? {
          partialSuccess: {
            rejectedLogRecords: String(partial.rejectedLogRecords),
            errorMessage: partial.errorMessage,
          },
        }
      : {},
  );
}

/** google.rpc.Code for an HTTP status; the specification lets clients ignore it. */
const rpcCode: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/**
 * A `google.rpc.Status` for a failure, with a `google.rpc.BadRequest` detail naming the field
 * when one is known. The message starts with the stable code, e.g. `ERR_MALFORMED_BODY: …`.
 */
export function encodeOtlpStatus(
  encoding: OtlpEncoding,
  status: number,
  code: string,
  message: string,
  fieldPath: string | undefined,
): Uint8Array | string {
  const text = `${code}: ${message}`;
  const violation =
    fieldPath === undefined ? undefined : { field: fieldPath, description: message };
  if (encoding === 'protobuf') {
    const details = violation
      ? [
          {
            typeUrl: BAD_REQUEST_TYPE,
            value: BadRequest.encode(
              BadRequest.fromObject({ fieldViolations: [violation] }),
            ).finish(),
          },
        ]
      : [];
    return Status.encode(
      Status.fromObject({ code: rpcCode[status] ?? 2, message: text, details }),
    ).finish();
  }
  return JSON.stringify({
    code: rpcCode[status] ?? 2,
    message: text,
    ...(violation
      ? { details: [{ '@type': BAD_REQUEST_TYPE, fieldViolations: [violation] }] }
      : {}),
  });
}

const severities: readonly Severity[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const severityNames = new Map<string, Severity>([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['information', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['fatal', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
]);

/** Severity from `severityNumber` (1–24, four per level), else from a conventional text. */
function severityOf(number: number, text: string | undefined): Severity | undefined {
  if (number >= 1 && number <= 24) return severities[Math.floor((number - 1) / 4)];
  return text ? severityNames.get(text.toLowerCase()) : undefined;
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
 * malformed body (400) naming the field.
 */
class Walker {
  readonly #json: boolean;
  readonly #options: OtlpDecodeOptions;
  readonly events: LogEvent[] = [];
  #rejected = 0;
  readonly #rejections: string[] = [];

  constructor(encoding: OtlpEncoding, options: OtlpDecodeOptions) {
    this.#json = encoding === 'json';
    this.#options = options;
  }

  request(value: unknown): DecodedBody {
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
      this.#options.now;
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
    if (size > this.#options.maxEventBytes) {
      this.#rejected++;
      if (this.#rejections.length < MAX_REPORTED) {
        this.#rejections.push(
          `${path} is about ${size} bytes, above maxEventBytes ${this.#options.maxEventBytes}`,
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

  #bad(path: string, description: string): ReceiverError {
    const where = path === '' ? 'request' : path;
    return new ReceiverError('ERR_MALFORMED_BODY', `${where}: ${description}`, {
      field: path === '' ? 'request' : path,
    });
  }
}
