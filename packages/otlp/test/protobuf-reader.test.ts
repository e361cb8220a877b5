// The hand-written protobuf reader against protobufjs, its reference: any request protobufjs
// writes reads back the same (as a property), and the wire-format corners one by one — unknown
// fields of every wire type, a known field with another wire type, 64-bit values, nesting, and
// bytes that are not a request, which are malformed bodies and never another kind of error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeOtlpLogs, OtlpError } from '../src/index.js';
import { readLogsRequest } from '../src/internal/protobuf-reader.js';
import { ExportLogsServiceRequest } from '../src/internal/schema.js';

/** The committed seed: a failure reproduces; change it to explore. */
const runs = { seed: 20_250_101, numRuns: 300 } as const;

type Obj = Record<string, unknown>;

const encode = (request: Obj) =>
  ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(request)).finish();

/**
 * protobufjs's reading of `bytes`, in the reader's shape: times in whole milliseconds, int64
 * as a number when safe, bytes and absent values normalised (see `normalise`).
 */
function reference(bytes: Uint8Array): unknown {
  const object = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), {
    longs: String,
  });
  return normalise(object, '');
}

/**
 * A shape both readers can be compared in: bytes as hex, undefined members and empty arrays
 * left out, the fields the reader does not read (dropped counts, schema URLs) left out, and
 * protobufjs's decimal strings as the reader gives them.
 */
function normalise(value: unknown, key: string): unknown {
  if (value instanceof Uint8Array) return `hex:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map((v) => normalise(v, ''));
  if (value === null || typeof value !== 'object') {
    if (typeof value !== 'string') return value;
    if (key === 'timeUnixNano' || key === 'observedTimeUnixNano') {
      return Number(BigInt(value) / 1_000_000n);
    }
    if (key === 'intValue') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    return value;
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    if (k === 'droppedAttributesCount' || k === 'schemaUrl') continue;
    out[k] = normalise(v, k);
  }
  return out;
}

const text = fc.string({ unit: 'grapheme', maxLength: 16 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const uint64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  // Around whole milliseconds of today's times, where an inexact division would show.
  fc.bigInt({ min: 1_735_689_599_999_999_000n, max: 1_735_689_600_000_001_000n }),
);
const bytes = fc.uint8Array({ maxLength: 20 });
const { anyValue } = fc.letrec<{ anyValue: Obj; keyValue: Obj }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({}),
    text.map((stringValue) => ({ stringValue })),
    fc.boolean().map((boolValue) => ({ boolValue })),
    int64.map((intValue) => ({ intValue })),
    fc.double().map((doubleValue) => ({ doubleValue })),
    bytes.map((bytesValue) => ({ bytesValue })),
    fc.array(tie('anyValue'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc.array(tie('keyValue'), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
  ),
  keyValue: fc.record({ key: text, value: tie('anyValue') }, { requiredKeys: ['key'] }),
}));
const keyValue = fc.record({ key: text, value: anyValue }, { requiredKeys: ['key'] });
const attributes = fc.array(keyValue, { maxLength: 3 });
const logRecord = fc.record(
  {
    timeUnixNano: uint64.map(String),
    observedTimeUnixNano: uint64.map(String),
    severityNumber: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    severityText: text,
    body: anyValue,
    attributes,
    droppedAttributesCount: fc.nat(),
    flags: fc.nat({ max: 2 ** 32 - 1 }),
    traceId: bytes,
    spanId: bytes,
    eventName: text,
  },
  { requiredKeys: [] },
);
const request = fc.record({
  resourceLogs: fc.array(
    fc.record(
      {
        resource: fc.record({ attributes, droppedAttributesCount: fc.nat() }, { requiredKeys: [] }),
        scopeLogs: fc.array(
          fc.record(
            {
              scope: fc.record(
                { name: text, version: text, attributes, droppedAttributesCount: fc.nat() },
                { requiredKeys: [] },
              ),
              logRecords: fc.array(logRecord, { maxLength: 4 }),
              schemaUrl: text,
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        schemaUrl: text,
      },
      { requiredKeys: [] },
    ),
    { maxLength: 3 },
  ),
});

/** A varint, for writing wire bytes by hand. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}
/** A length-delimited field. */
const field = (number: number, body: readonly number[]) => [
  ...varint((number << 3) | 2),
  ...varint(body.length),
  ...body,
];
/** A request of one record whose LogRecord body (its fields) is `record`. */
const oneRecord = (record: readonly number[]) =>
  new Uint8Array(field(1, field(2, field(2, record))));
const str = (s: string) => [...Buffer.from(s)];

describe('readLogsRequest', () => {
  it('reads every request protobufjs writes as protobufjs reads it (property)', () => {
    fc.assert(
      fc.property(request, (req) => {
        const bytes = encode(req);
        assert.deepStrictEqual(normalise(readLogsRequest(bytes), ''), reference(bytes));
      }),
      runs,
    );
  });

  it('raises only ERR_OTLP_MALFORMED for bytes that are not a request (property)', () => {
    const damaged = fc.tuple(request, fc.nat(), fc.nat({ max: 255 })).map(([req, at, byte]) => {
      const bytes = Buffer.from(encode(req));
      if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes.subarray(0, bytes.length - (at % 3));
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), damaged), (bytes) => {
        try {
          decodeOtlpLogs(bytes, 'protobuf', { now: 1 });
        } catch (err) {
          assert.ok(OtlpError.is(err, 'ERR_OTLP_MALFORMED'), String(err));
        }
      }),
      runs,
    );
  });

  it('skips unknown fields of every wire type, groups included, and mistyped known fields', () => {
    const unknown = [
      ...[0xf8, 0x01, 0x96, 0x01], // field 31, varint
      ...[0xf9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // field 31, 64-bit
      ...[0xfd, 0x01, 1, 2, 3, 4], // field 31, 32-bit
      ...field(31, [1, 2, 3]),
      ...[0xfb, 0x01, 0x08, 0x01, 0xfb, 0x01, 0xfc, 0x01, 0xfc, 0x01], // a group in a group
      ...[0x18, 0x05], // severityText (3) as a varint: not the field, skipped
    ];
    const bytes = oneRecord([...unknown, ...field(5, field(1, str('kept')))]);
    const { events } = decodeOtlpLogs(bytes, 'protobuf', { now: 7 });
    assert.deepStrictEqual(events, [{ timestamp: 7, message: 'kept' }]);
  });

  it('reads 64-bit values exactly: times to the millisecond, int64 beyond 2^53 as text', () => {
    const nanos = 1_735_689_600_000_999_999n;
    const fixed64 = [...Buffer.from(new BigUint64Array([nanos]).buffer)];
    const int64 = (n: bigint) => {
      const out: number[] = [];
      for (let v = BigInt.asUintN(64, n); ; v >>= 7n) {
        if (v < 0x80n) return [...out, Number(v)];
        out.push(Number(v & 0x7fn) | 0x80);
      }
    };
    const attribute = (key: string, n: bigint) =>
      field(6, [...field(1, str(key)), ...field(2, [0x18, ...int64(n)])]);
    const bytes = oneRecord([
      0x09,
      ...fixed64,
      ...attribute('big', 2n ** 53n + 1n),
      ...attribute('negative', -5n),
      ...attribute('min', -(2n ** 63n)),
    ]);
    const [event] = decodeOtlpLogs(bytes, 'protobuf').events;
    assert.equal(event!.timestamp, 1_735_689_600_000);
    assert.deepStrictEqual(event!.attributes, {
      big: '9007199254740993',
      negative: -5,
      min: '-9223372036854775808',
    });
  });

  it('keeps the last member of an AnyValue sent with two', () => {
    const bytes = oneRecord(field(5, [...field(1, str('first')), 0x10, 0x01]));
    const [event] = decodeOtlpLogs(bytes, 'protobuf').events;
    assert.equal(event!.message, 'true');
  });

  it('decodes long and non-ASCII strings whole', () => {
    const message = `héllo ${'x'.repeat(40)} ✓`;
    const bytes = oneRecord([...field(5, field(1, str(message))), ...field(3, str('Ünïcode'))]);
    const [event] = decodeOtlpLogs(bytes, 'protobuf').events;
    assert.equal(event!.message, message);
    assert.equal(event!.attributes?.severity_text, 'Ünïcode');
  });

  it('refuses nesting past 100 messages and lengths past the end, as malformed', () => {
    // An AnyValue holding an array holding an AnyValue …, 60 times: 120 messages deep.
    let value: number[] = field(1, str('leaf'));
    for (let i = 0; i < 60; i++) value = field(5, field(1, value));
    const deep = oneRecord(field(5, value));
    const past = new Uint8Array([0x0a, 0x05, 0x12, 0x10, 0x00]);
    for (const bytes of [deep, past]) {
      assert.throws(
        () => decodeOtlpLogs(bytes, 'protobuf'),
        (err) => OtlpError.is(err, 'ERR_OTLP_MALFORMED') && err.field === undefined,
      );
    }
  });
});
