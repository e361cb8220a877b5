// The event on the wire: its JSON shape (text and object forms agree, flattening and its
// conflicts), nanosecond times, and the records of a payload without its batch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type BatchPayload,
  EVENT_FIELDS,
  eventsOfPayload,
  eventToJson,
  eventToObject,
  flatAttributesJson,
  type LogEvent,
  recordCount,
  type Severity,
  setField,
  unixNanos,
} from '../src/index.js';

const event: LogEvent = {
  timestamp: 1_714_564_800_123,
  message: 'a "quoted"\nline ✗',
  severity: 'info',
  attributes: { port: 80, message: 'shadowed', gone: undefined, tags: ['x'] },
};

describe('the JSON shape of an event', () => {
  it('writes timestamp and message first, then severity and attributes when present', () => {
    assert.equal(
      eventToJson(event),
      '{"timestamp":1714564800123,"message":"a \\"quoted\\"\\nline ✗","severity":"info",' +
        '"attributes":{"port":80,"message":"shadowed","tags":["x"]}}',
    );
    assert.equal(
      eventToJson({ timestamp: Number.NaN, message: '' }),
      '{"timestamp":null,"message":""}',
    );
  });

  it('flattens attributes beside the fields, leaving out and counting those named like one', () => {
    const conflicts = { count: 0 };
    assert.equal(
      eventToJson(event, true, conflicts),
      '{"timestamp":1714564800123,"message":"a \\"quoted\\"\\nline ✗","severity":"info","port":80,"tags":["x"]}',
    );
    const object = eventToObject(event, true, conflicts);
    assert.deepEqual(object, {
      timestamp: 1_714_564_800_123,
      message: event.message,
      severity: 'info',
      port: 80,
      gone: undefined,
      tags: ['x'],
    });
    assert.equal(conflicts.count, 2);
    assert.deepEqual([...EVENT_FIELDS], ['timestamp', 'message', 'severity']);
  });

  it('keeps a __proto__ attribute as a field when flattening to an object', () => {
    const attributes = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const object = eventToObject({ timestamp: 1, message: '', attributes }, true);
    assert.ok(Object.hasOwn(object, '__proto__'));
    assert.equal(Object.getPrototypeOf(object), Object.prototype);
    assert.equal(
      eventToJson({ timestamp: 1, message: '', attributes }, true).includes(
        '"__proto__":{"polluted":true}',
      ),
      true,
    );
  });

  it('writes flattened members for a shape of the caller’s own', () => {
    const conflicts = { count: 0 };
    const members = flatAttributesJson(
      { '@timestamp': 1, a: 'b', f: () => 1 },
      new Set(['@timestamp']),
      conflicts,
    );
    assert.equal(members, ',"a":"b"');
    assert.equal(conflicts.count, 1);
  });

  it('text and object forms read the same (property)', () => {
    const eventArb = fc.record(
      {
        timestamp: fc.double(),
        message: fc.string({ unit: 'grapheme' }),
        severity: fc.constantFrom<Severity>('trace', 'info', 'fatal'),
        attributes: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), {
          noNullPrototype: true,
        }),
      },
      { requiredKeys: ['timestamp', 'message'] },
    );
    fc.assert(
      fc.property(eventArb, fc.boolean(), (e, flatten) => {
        const fromText = JSON.parse(eventToJson(e as LogEvent, flatten));
        const fromObject = JSON.parse(JSON.stringify(eventToObject(e as LogEvent, flatten)));
        assert.deepStrictEqual(fromText, fromObject);
      }),
      { seed: 20_240_503, numRuns: 200 },
    );
  });
});

describe('setField', () => {
  it('stores __proto__ as an own field instead of changing the prototype', () => {
    const into: Record<string, unknown> = {};
    setField(into, '__proto__', { polluted: true });
    setField(into, 'a', 1);
    assert.equal(Object.getPrototypeOf(into), Object.prototype);
    assert.deepEqual(Object.keys(into), ['__proto__', 'a']);
  });
});

describe('unixNanos', () => {
  it('writes milliseconds as exact nanosecond digits', () => {
    assert.equal(unixNanos(1_714_564_800_123), '1714564800123000000');
    assert.equal(unixNanos(1_714_564_800_123.5), '1714564800123500000');
    assert.equal(unixNanos(1.000001), '1000001');
    assert.equal(unixNanos(1), '1000000');
  });

  it('is undefined for what a signed 64-bit nanosecond count cannot hold, or 0', () => {
    for (const ms of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 9_223_372_036_854]) {
      assert.equal(unixNanos(ms), undefined, String(ms));
    }
    assert.ok(BigInt(unixNanos(9_223_372_036_853)!) < 2n ** 63n);
  });
});

describe('records of a payload', () => {
  const raw = (text: string, lines = text.split('\n').length - 1): BatchPayload => ({
    kind: 'raw',
    data: Buffer.from(text),
    lines,
  });

  it('splits raw lines into events stamped with the given time, the last unterminated one too', () => {
    assert.deepEqual(eventsOfPayload(raw('a\r\n\nb'), 7), [
      { timestamp: 7, message: 'a\r' },
      { timestamp: 7, message: '' },
      { timestamp: 7, message: 'b' },
    ]);
    assert.deepEqual(eventsOfPayload(raw(''), 7), []);
    const events = [{ timestamp: 1, message: 'e' }];
    assert.equal(eventsOfPayload({ kind: 'events', events }, 7), events);
  });

  it('counts them as eventsOfPayload makes them, from lines (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'é', '\n', '\r')).map((c) => c.join('')),
        (text) => {
          const payload = raw(text);
          assert.equal(recordCount(payload), eventsOfPayload(payload, 0).length);
        },
      ),
      { seed: 20_240_504, numRuns: 200 },
    );
  });
});
