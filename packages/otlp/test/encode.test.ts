// encodeOtlpLogs: the mapping, field by field, against the decoder and against the wire (a
// schema declared here, independently of the package's own); then the round trip as a
// property: any events, encoded in either encoding and decoded, come back as they were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent, Severity } from '@spillway/core';
import fc from 'fast-check';
import protobuf from 'protobufjs/light.js';
import { decodeOtlpLogs, encodeOtlpLogs, type OtlpEncoding, OtlpError } from '../src/index.js';

const encodings: readonly OtlpEncoding[] = ['protobuf', 'json'];
/** The committed seed: a failure reproduces; change it to explore. */
const runs = { seed: 20_240_501, numRuns: 200 } as const;

const roundTrip = (events: readonly LogEvent[], encoding: OtlpEncoding) =>
  decodeOtlpLogs(encodeOtlpLogs(events, encoding), encoding, { now: 42 }).events;

/** The parts of LogRecord and ResourceLogs these tests read off the wire. */
const wire = protobuf.Root.fromJSON({
  nested: {
    KeyValue: { fields: { key: { type: 'string', id: 1 } } },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    Scope: { fields: { name: { type: 'string', id: 1 } } },
    LogRecord: {
      fields: {
        timeUnixNano: { type: 'fixed64', id: 1 },
        severityNumber: { type: 'int32', id: 2 },
        traceId: { type: 'bytes', id: 9 },
      },
    },
    ScopeLogs: {
      fields: {
        scope: { type: 'Scope', id: 1 },
        logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
      },
    },
    ResourceLogs: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
      },
    },
    Request: { fields: { resourceLogs: { rule: 'repeated', type: 'ResourceLogs', id: 1 } } },
  },
}).lookupType('Request');

interface WireRequest {
  resourceLogs: {
    resource?: { attributes?: { key: string }[] };
    scopeLogs: {
      scope?: { name?: string };
      logRecords: { timeUnixNano?: string; severityNumber?: number; traceId?: string }[];
    }[];
  }[];
}
const fromProtobuf = (body: Uint8Array) =>
  wire.toObject(wire.decode(body), { longs: String, bytes: String }) as WireRequest;
const fromJson = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString()) as WireRequest;

const checkout = { 'resource.service.name': 'checkout', 'scope.name': 'app' };
const billing = { 'resource.service.name': 'billing', 'scope.name': 'app' };

describe('encodeOtlpLogs', () => {
  it('writes the fields the decoder reads, in both encodings', () => {
    const event: LogEvent = {
      timestamp: 1_700_000_000_123,
      message: 'payment failed: "card" ✗',
      severity: 'error',
      attributes: {
        ...checkout,
        'scope.version': '2.0.1',
        'scope.team': 'payments',
        trace_id: '5B8EFFF798038103D269B633813FC60C',
        span_id: 'eee19b7ec3c1b174',
        trace_flags: 1,
        severity_text: 'ERROR',
        event_name: 'payment.failed',
        order: { id: 9, lines: [1, 2.5, 'x', true, null], ok: false },
        when: new Date(1_700_000_000_000),
        blob: new Uint8Array([1, 2, 3]),
        huge: 2n ** 62n,
      },
    };
    for (const encoding of encodings) {
      assert.deepEqual(roundTrip([event], encoding), [
        {
          ...event,
          attributes: {
            order: { id: 9, lines: [1, 2.5, 'x', true, null], ok: false },
            when: '2023-11-14T22:13:20.000Z',
            blob: 'AQID',
            huge: '4611686018427387904',
            ...checkout,
            'scope.version': '2.0.1',
            'scope.team': 'payments',
            trace_id: '5b8efff798038103d269b633813fc60c',
            span_id: 'eee19b7ec3c1b174',
            trace_flags: 1,
            severity_text: 'ERROR',
            event_name: 'payment.failed',
          },
        },
      ]);
    }
  });

  it('puts times, severities and ids where the specification says, in each encoding', () => {
    const events: LogEvent[] = [
      {
        timestamp: 1_700_000_000_123.5,
        message: 'm',
        severity: 'warn',
        attributes: { trace_id: 'ab'.repeat(16) },
      },
    ];
    const json = fromJson(encodeOtlpLogs(events, 'json')).resourceLogs[0]!.scopeLogs[0]!;
    assert.deepEqual(json.logRecords[0], {
      timeUnixNano: '1700000000123500000',
      severityNumber: 13,
      body: { stringValue: 'm' },
      traceId: 'ab'.repeat(16),
    });
    const binary = fromProtobuf(encodeOtlpLogs(events, 'protobuf')).resourceLogs[0]!;
    assert.deepEqual(binary.scopeLogs[0]!.logRecords[0], {
      timeUnixNano: '1700000000123500000',
      severityNumber: 13,
      traceId: Buffer.from('ab'.repeat(16), 'hex').toString('base64'),
    });
  });

  it('groups runs of one resource and scope, keeping the records in order', () => {
    const events: LogEvent[] = [
      { timestamp: 1, message: 'a', attributes: checkout },
      { timestamp: 2, message: 'b', attributes: { ...checkout } },
      { timestamp: 3, message: 'c', attributes: { ...checkout, 'scope.name': 'db' } },
      { timestamp: 4, message: 'd', attributes: billing },
      { timestamp: 5, message: 'e', attributes: checkout },
    ];
    for (const encoding of encodings) {
      const body = encodeOtlpLogs(events, encoding);
      const request = encoding === 'json' ? fromJson(body) : fromProtobuf(body);
      const shape = request.resourceLogs.map((rl) =>
        rl.scopeLogs.map((sl) => [sl.scope?.name, sl.logRecords.length]),
      );
      assert.deepEqual(shape, [
        [
          ['app', 2],
          ['db', 1],
        ],
        [['app', 1]],
        [['app', 1]],
      ]);
      assert.deepEqual(roundTrip(events, encoding), events);
    }
  });

  it('keeps a special key whose value does not fit its field as an attribute of that key', () => {
    const odd: LogEvent = {
      timestamp: 7,
      message: '',
      attributes: {
        trace_id: 'not hex at all, but 32 chars lon',
        span_id: '0000000000000000',
        trace_flags: 0,
        severity_text: '',
        event_name: 3,
        'scope.name': '',
        'scope.version': { major: 2 },
        'resource.': 'empty key',
      },
    };
    for (const encoding of encodings) assert.deepEqual(roundTrip([odd], encoding), [odd]);
  });

  it('leaves out a time it cannot write, so the receiver uses its own', () => {
    for (const timestamp of [0, -5, Number.NaN, 1e16]) {
      for (const encoding of encodings) {
        assert.equal(roundTrip([{ timestamp, message: 'x' }], encoding)[0]!.timestamp, 42);
      }
    }
  });

  it('writes non-finite doubles as proto3 JSON names, and any double exactly in protobuf', () => {
    const event: LogEvent = {
      timestamp: 1,
      message: 'x',
      attributes: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, big: 2 ** 60 },
    };
    assert.deepEqual(roundTrip([event], 'json')[0]!.attributes, {
      nan: 'NaN',
      inf: 'Infinity',
      big: 2 ** 60,
    });
    assert.deepEqual(roundTrip([event], 'protobuf')[0]!.attributes, event.attributes);
  });

  it('refuses an attribute nested deeper than 30 levels, naming the event', () => {
    const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { k: nested(depth - 1) });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const encoding of encodings) {
      const ok: LogEvent = { timestamp: 1, message: 'ok', attributes: { deep: nested(30) } };
      assert.deepEqual(roundTrip([ok], encoding), [ok]);
      for (const value of [nested(31), cyclic]) {
        assert.throws(
          () =>
            encodeOtlpLogs([ok, { timestamp: 1, message: 'x', attributes: { value } }], encoding),
          (err) => OtlpError.is(err, 'ERR_OTLP_UNENCODABLE') && err.index === 1,
        );
      }
    }
  });

  it('encodes no events as a request with no records', () => {
    for (const encoding of encodings) assert.deepEqual(roundTrip([], encoding), []);
    assert.equal(Buffer.from(encodeOtlpLogs([], 'json')).toString(), '{"resourceLogs":[]}');
  });
});

// Events built so that the round trip is exact: attribute values the mapping carries both
// ways, special keys with values that fit their field and values that do not, and no
// severity_text that the decoder would read as a severity for an event without one.
const text = fc.string({ unit: 'binary', maxLength: 12 });
const leaf = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(text, tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
}));
const hex = (digits: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${digits}}$`));
const special: Record<string, fc.Arbitrary<unknown>> = {
  trace_id: fc.oneof(hex(32), fc.constant('0'.repeat(32)), value),
  span_id: fc.oneof(hex(16), value),
  trace_flags: fc.oneof(fc.integer({ min: 0, max: 300 }), value),
  event_name: value,
  'scope.name': value,
  'scope.version': value,
};
const key = fc.oneof(
  text,
  fc.constantFrom('__proto__', 'resource.', 'scope.'),
  text.map((k) => `resource.${k}`),
  text.map((k) => `scope.${k}`),
);
const severity = fc.constantFrom<Severity>('trace', 'debug', 'info', 'warn', 'error', 'fatal');
const eventArb: fc.Arbitrary<LogEvent> = fc
  .record(
    {
      timestamp: fc.integer({ min: 1, max: 9_000_000_000_000 }),
      message: text,
      severity,
      plain: fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true }),
      special: fc.record(special, { requiredKeys: [] }),
      severityText: fc.string({ minLength: 1, maxLength: 8 }),
    },
    { requiredKeys: ['timestamp', 'message', 'plain', 'special'] },
  )
  .map(({ timestamp, message, severity, plain, special, severityText }) => {
    const event: LogEvent = { timestamp, message };
    const attributes: Record<string, unknown> = { ...plain, ...special };
    if (severity !== undefined) {
      event.severity = severity;
      if (severityText !== undefined) attributes.severity_text = severityText;
    }
    if (Object.keys(attributes).length > 0) event.attributes = attributes;
    return event;
  });

describe('encodeOtlpLogs round trip (property)', () => {
  for (const encoding of encodings) {
    it(`${encoding}: decoding what it encodes gives the events back`, () => {
      fc.assert(
        fc.property(fc.array(eventArb, { maxLength: 6 }), (events) => {
          assert.deepStrictEqual(roundTrip(events, encoding), events);
        }),
        runs,
      );
    });
  }
});
