import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters, SpillwayError } from '@spillway/core';
import { parseJson } from '../src/index.js';
import { build, eventBatch, rawBatch, single } from './support.js';

const T0 = 1_700_000_000_000;

describe('parseJson', () => {
  it('promotes msg, time and level and keeps the other keys as attributes', async () => {
    const v = await build(parseJson({}));
    const line = JSON.stringify({
      level: 30,
      time: 1714564800123,
      pid: 7,
      hostname: 'web1',
      msg: 'listening',
      req: { id: 'r1', path: '/a' },
    });
    assert.deepEqual(await v.events(rawBatch([line])), [
      {
        timestamp: 1714564800123,
        message: 'listening',
        severity: 'info',
        attributes: { pid: 7, hostname: 'web1', req: { id: 'r1', path: '/a' } },
      },
    ]);
    assert.equal(v.counters.get('parse_errors'), 0);
  });

  it('keeps the batch id, acknowledgement, positions and source', async () => {
    const v = await build(parseJson({}));
    const input = rawBatch(['{"msg":"a"}', '{"msg":"b"}']);
    const out = single(await v.run(input));
    assert.equal(out.id, input.id);
    assert.equal(out.ack, input.ack);
    assert.deepEqual(out.positions, input.positions);
    assert.equal(out.source, input.source);
    assert.equal(out.count, 2);
  });

  it('reads numeric timestamps by magnitude, digit strings alike, and ISO 8601 strings', async () => {
    const v = await build(parseJson({}));
    const cases: [unknown, number][] = [
      [1_700_000_000, 1_700_000_000_000], // seconds
      [1_700_000_000.25, 1_700_000_000_250], // seconds with a fraction
      [1_700_000_000_123, 1_700_000_000_123], // milliseconds
      [1_700_000_000_123_456, 1_700_000_000_123.456], // microseconds
      [1_700_000_000_123_456_800, 1_700_000_000_123.4568], // nanoseconds
      ['1700000000', 1_700_000_000_000],
      ['2024-05-01T12:00:00.123Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
      ['2024-05-01T14:00:00+02:00', Date.UTC(2024, 4, 1, 12)],
    ];
    for (const [time, expected] of cases) {
      const [event] = await v.events(rawBatch([JSON.stringify({ time, msg: 'x' })]));
      assert.ok(event, `no event for ${time}`);
      assert.ok(Math.abs(event.timestamp - expected) < 0.01, `${time} → ${event.timestamp}`);
      assert.equal(event.attributes, undefined, `time ${time} should have been promoted`);
    }
  });

  it('tries the timestamp keys in order: time, timestamp, ts, @timestamp', async () => {
    const v = await build(parseJson({}));
    const [a] = await v.events(rawBatch(['{"@timestamp":"2024-05-01T00:00:00Z","ts":1}']));
    assert.equal(a?.timestamp, 1000);
    assert.deepEqual(a?.attributes, { '@timestamp': '2024-05-01T00:00:00Z' });
    const [b] = await v.events(rawBatch(['{"@timestamp":"2024-05-01T00:00:00Z"}']));
    assert.equal(b?.timestamp, Date.UTC(2024, 4, 1));
  });

  it('leaves values that are not timestamps as attributes and keeps the event time', async () => {
    const v = await build(parseJson({}));
    const [event] = await v.events(
      rawBatch(['{"time":"yesterday","timestamp":"1","ts":null,"msg":"m"}'], T0),
    );
    assert.deepEqual(event, {
      timestamp: 1000, // "1" is a digit string: one second after the epoch
      message: 'm',
      attributes: { time: 'yesterday', ts: null },
    });
  });

  it('maps level names in any case and pino numbers to severities', async () => {
    const v = await build(parseJson({}));
    const cases: [unknown, string][] = [
      ['INFO', 'info'],
      ['warning', 'warn'],
      ['Warn', 'warn'],
      ['err', 'error'],
      ['CRITICAL', 'fatal'],
      ['dbg', 'debug'],
      ['notice', 'info'],
      [10, 'trace'],
      [20, 'debug'],
      [30, 'info'],
      [35, 'info'],
      [40, 'warn'],
      [50, 'error'],
      [60, 'fatal'],
      ['50', 'error'],
    ];
    for (const [level, expected] of cases) {
      const [event] = await v.events(rawBatch([JSON.stringify({ level, msg: 'x' })]));
      assert.equal(event?.severity, expected, `level ${JSON.stringify(level)}`);
      assert.equal(event?.attributes, undefined);
    }
  });

  it('keeps unknown levels as attributes and then tries severity', async () => {
    const v = await build(parseJson({}));
    const [a] = await v.events(rawBatch(['{"level":"loud","msg":"x"}']));
    assert.equal(a?.severity, undefined);
    assert.deepEqual(a?.attributes, { level: 'loud' });
    const [b] = await v.events(rawBatch(['{"level":3,"severity":"error","msg":"x"}']));
    assert.equal(b?.severity, 'error');
    assert.deepEqual(b?.attributes, { level: 3 });
  });

  it('takes msg before message, keeps a non-string msg, and empties a message it consumed', async () => {
    const v = await build(parseJson({}));
    const [a] = await v.events(rawBatch(['{"message":"second","msg":"first"}']));
    assert.deepEqual(a, { timestamp: T0, message: 'first', attributes: { message: 'second' } });
    const [b] = await v.events(rawBatch(['{"msg":{"text":"hi"},"message":"fallback"}']));
    assert.deepEqual(b, {
      timestamp: T0,
      message: 'fallback',
      attributes: { msg: { text: 'hi' } },
    });
    const [c] = await v.events(rawBatch(['{"a":1}']));
    assert.deepEqual(c, { timestamp: T0, message: '', attributes: { a: 1 } });
  });

  it('uses the configured field names instead of the defaults', async () => {
    const v = await build(
      parseJson({ messageField: 'text', timestampField: 'at', severityField: 'lvl' }),
    );
    const [event] = await v.events(
      rawBatch(['{"text":"hello","at":1700000001,"lvl":"warn","msg":"not me","level":"error"}']),
    );
    assert.deepEqual(event, {
      timestamp: 1_700_000_001_000,
      message: 'hello',
      severity: 'warn',
      attributes: { msg: 'not me', level: 'error' },
    });
  });

  it('parses an attribute when field names one, and replaces it', async () => {
    const v = await build(parseJson({ field: 'body' }));
    const [event] = await v.events(
      eventBatch([
        {
          timestamp: 5,
          message: 'envelope',
          severity: 'debug',
          attributes: { body: '{"user":"bob","level":"error"}', host: 'h', user: 'old' },
        },
      ]),
    );
    assert.deepEqual(event, {
      timestamp: 5,
      message: 'envelope',
      severity: 'error',
      attributes: { host: 'h', user: 'bob' },
    });
  });

  it('is a parse error when the field is missing or not a string', async () => {
    const v = await build(parseJson({ field: 'body' }));
    const out = await v.events(
      eventBatch([
        { timestamp: 1, message: 'a' },
        { timestamp: 2, message: 'b', attributes: { body: 42 } },
      ]),
    );
    assert.deepEqual(
      out.map((e) => e.attributes?.error),
      ['parseJson: field "body" is not a string', 'parseJson: field "body" is not a string'],
    );
    assert.equal(v.counters.get('parse_errors'), 2);
  });

  it('keeps bad lines raw with an error attribute by default, and counts them', async () => {
    const v = await build(parseJson({}));
    const out = await v.events(rawBatch(['{"msg":"ok"}', 'not json', '42', '[1]', 'null', '']));
    assert.equal(out.length, 6);
    assert.equal(out[0]?.message, 'ok');
    assert.equal(out[1]?.message, 'not json');
    assert.match(String(out[1]?.attributes?.error), /^parseJson: \S/);
    for (const i of [2, 3, 4]) {
      assert.equal(out[i]?.attributes?.error, 'parseJson: not a JSON object');
    }
    assert.match(String(out[5]?.attributes?.error), /^parseJson: /);
    assert.equal(v.counters.get('parse_errors'), 5);
    assert.equal(v.counters.get('dropped_parse_error'), 0);
  });

  it('adds the error to the attributes an event already had, without modifying it', async () => {
    const v = await build(parseJson({}));
    const input = { timestamp: 3, message: 'nope', attributes: { kept: true } };
    const [event] = await v.events(eventBatch([input]));
    assert.deepEqual(event?.attributes, { kept: true, error: event?.attributes?.error });
    assert.deepEqual(input.attributes, { kept: true });
  });

  it('drops bad lines with onError: drop, counted; null when nothing is left', async () => {
    const v = await build(parseJson({ onError: 'drop' }));
    const out = await v.events(rawBatch(['{"msg":"ok"}', 'bad', '"str"']));
    assert.deepEqual(
      out.map((e) => e.message),
      ['ok'],
    );
    assert.equal(v.counters.get('parse_errors'), 2);
    assert.equal(v.counters.get('dropped_parse_error'), 2);
    assert.equal(await v.run(rawBatch(['x', 'y'])), null);
    assert.equal(v.counters.get('dropped_parse_error'), 4);
  });

  it('overwrites attributes the event had with parsed keys of the same name', async () => {
    const v = await build(parseJson({}));
    const [event] = await v.events(
      eventBatch([{ timestamp: 1, message: '{"a":2,"b":3}', attributes: { a: 1, c: 4 } }]),
    );
    assert.deepEqual(event?.attributes, { a: 2, c: 4, b: 3 });
  });

  it('stores a __proto__ key as an ordinary attribute', async () => {
    const v = await build(parseJson({}));
    const [event] = await v.events(rawBatch(['{"__proto__":{"polluted":true},"msg":"x"}']));
    const attributes = event?.attributes ?? {};
    assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value, {
      polluted: true,
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('validates every option, saying what was wrong', () => {
    assert.deepEqual(parseJson({}).validate(), []);
    assert.deepEqual(
      parseJson({
        onError: 'ignore' as 'keep',
        field: 42 as unknown as string,
        messageField: '',
        timestampField: [] as unknown as string,
      }).validate(),
      [
        'field must be a non-empty string, not 42',
        'onError must be "keep" or "drop", not "ignore"',
        'messageField must be a non-empty string, not an empty string',
        'timestampField must be a non-empty string, not an array',
      ],
    );
    assert.deepEqual(parseJson(null as never).validate(), ['parseJson options must be an object']);
  });

  it('refuses to build with invalid options', async () => {
    const definition = parseJson({ onError: 'maybe' as 'keep' });
    await assert.rejects(
      async () =>
        definition.build({
          name: 'p',
          signal: new AbortController().signal,
          counters: new Counters(),
        }),
      (err: unknown) =>
        SpillwayError.is(err, 'ERR_INVALID_OPTION') && /onError must be/.test(err.message),
    );
  });
});
