// decodeOtlpLogs on its own: what a malformed body raises (the `otlp` source's tests cover the
// mapping over HTTP), and the per-record bound that makes a partial success.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpillwayError } from '@spillway/core';
import { decodeOtlpLogs, encodeOtlpLogs, OtlpError } from '../src/index.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeOtlpLogs', () => {
  it('raises ERR_OTLP_MALFORMED naming the field of a JSON body', () => {
    const body = json({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'WARN' }] }] }],
    });
    assert.throws(
      () => decodeOtlpLogs(body, 'json'),
      (err) => {
        assert.ok(OtlpError.is(err, 'ERR_OTLP_MALFORMED'));
        assert.ok(SpillwayError.is(err as unknown), 'carries the spillway brand');
        assert.equal(err.field, 'resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber');
        assert.match(err.message, /^resourceLogs\[0\]\S+: expected an integer/);
        return true;
      },
    );
    assert.throws(
      () => decodeOtlpLogs(json([1]), 'json'),
      (err) => OtlpError.is(err, 'ERR_OTLP_MALFORMED') && err.field === 'request',
    );
  });

  it('names the field at fault at any depth of a JSON body', () => {
    const record = (fields: object) => ({
      resourceLogs: [{}, { scopeLogs: [{ logRecords: [{}, fields] }] }],
    });
    const at = 'resourceLogs[1].scopeLogs[0].logRecords[1]';
    const nested = (value: object) => ({
      attributes: [
        { key: 'ok', value: { stringValue: 'x' } },
        { key: 'map', value: { kvlistValue: { values: [{ key: 'list', value }] } } },
      ],
    });
    const cases: [unknown, string][] = [
      [record({ timeUnixNano: '17x' }), `${at}.timeUnixNano`],
      [record({ observedTimeUnixNano: '' }), `${at}.observedTimeUnixNano`],
      [record({ body: { stringValue: 1 } }), `${at}.body.stringValue`],
      [record({ body: { boolValue: 'yes' } }), `${at}.body.boolValue`],
      [
        record({ body: { arrayValue: { values: [{}, { intValue: '1.5' }] } } }),
        `${at}.body.arrayValue.values[1].intValue`,
      ],
      [
        record(nested({ arrayValue: { values: [{ doubleValue: 'x' }] } })),
        `${at}.attributes[1].value.kvlistValue.values[0].value.arrayValue.values[0].doubleValue`,
      ],
      [record({ attributes: [{ key: 2 }] }), `${at}.attributes[0].key`],
      [record({ attributes: {} }), `${at}.attributes`],
      [record({ traceId: 5 }), `${at}.traceId`],
      [record({ flags: -1 }), `${at}.flags`],
      [
        { resourceLogs: [{ resource: { attributes: [[]] } }] },
        'resourceLogs[0].resource.attributes[0]',
      ],
      [
        { resourceLogs: [{ scopeLogs: [{ scope: { version: false } }] }] },
        'resourceLogs[0].scopeLogs[0].scope.version',
      ],
      [{ resourceLogs: [{ scopeLogs: 'none' }] }, 'resourceLogs[0].scopeLogs'],
    ];
    for (const [body, field] of cases) {
      assert.throws(
        () => decodeOtlpLogs(json(body), 'json'),
        (err) => OtlpError.is(err, 'ERR_OTLP_MALFORMED') && err.field === field,
        field,
      );
    }
  });

  it('reads nanosecond times to the millisecond, also past 2^53 milliseconds', () => {
    const times = ['1735689600123999999', '999999', '0', `${'9'.repeat(20)}000000`];
    const body = json({
      resourceLogs: [
        { scopeLogs: [{ logRecords: times.map((timeUnixNano) => ({ timeUnixNano })) }] },
      ],
    });
    assert.deepStrictEqual(
      decodeOtlpLogs(body, 'json', { now: 5 }).events.map((e) => e.timestamp),
      [1_735_689_600_123, 5, 5, Number('9'.repeat(20))],
    );
  });

  it('raises ERR_OTLP_MALFORMED without a field for bytes that do not parse', () => {
    for (const [body, encoding] of [
      [Buffer.from('{"resourceLogs":'), 'json'],
      [Buffer.from([0x0a, 0xff]), 'protobuf'],
    ] as const) {
      assert.throws(
        () => decodeOtlpLogs(body, encoding),
        (err) =>
          OtlpError.is(err, 'ERR_OTLP_MALFORMED') &&
          err.field === undefined &&
          err.cause !== undefined,
      );
    }
  });

  it('rejects records above maxEventBytes one by one and keeps the rest', () => {
    const events = [0, 1, 2].map((i) => ({
      timestamp: 1,
      message: i === 1 ? 'x'.repeat(500) : `m${i}`,
    }));
    const decoded = decodeOtlpLogs(encodeOtlpLogs(events, 'protobuf'), 'protobuf', {
      maxEventBytes: 200,
    });
    assert.deepEqual(
      decoded.events.map((e) => e.message),
      ['m0', 'm2'],
    );
    assert.equal(decoded.rejected, 1);
    assert.match(
      decoded.rejections[0]!,
      /logRecords\[1\] is about \d+ bytes, above maxEventBytes 200/,
    );
  });

  it('gives records with neither timestamp the receipt time', () => {
    const body = json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}] }] }] });
    assert.deepEqual(decodeOtlpLogs(body, 'json', { now: 99 }).events, [
      { timestamp: 99, message: '' },
    ]);
    const before = Date.now();
    assert.ok(decodeOtlpLogs(body, 'json').events[0]!.timestamp >= before);
  });
});
