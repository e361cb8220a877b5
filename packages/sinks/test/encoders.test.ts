// The sink encoders: each body parsed back and checked, raw lines passed through as they are,
// the options each validate() reports, per-record results read from answers (and malformed
// answers read as none), and round trips as properties — messages with quotes, newlines and
// any Unicode, attributes of any JSON value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BatchPayload,
  type LogEvent,
  recordCount,
  type Severity,
  SpillwayError,
} from '@spillway/core';
import { decodeOtlpLogs, encodeOtlpResponse } from '@spillway/otlp';
import fc from 'fast-check';
import {
  type Encoder,
  elasticsearchBulk,
  envelope,
  jsonArray,
  loki,
  lokiLabelName,
  ndjson,
  otlp,
} from '../src/encoders/index.js';

/** The committed seed: a failure reproduces; change it to explore. */
const runs = { seed: 20_240_502, numRuns: 150 } as const;

const eventsPart = (...events: LogEvent[]): BatchPayload => ({ kind: 'events', events });
/** A raw part; `lines` counts newlines, as a raw batch's does. */
const rawPart = (text: string): BatchPayload => ({
  kind: 'raw',
  data: Buffer.from(text),
  lines: text.split('\n').length - 1,
});
const text = (body: Uint8Array) => Buffer.from(body).toString();
/** The body's lines, each parsed; the body must end with a newline. */
const ndjsonOf = (body: Uint8Array): unknown[] => {
  const lines = text(body).split('\n');
  assert.equal(lines.pop(), '', 'the body ends with a newline');
  return lines.map((line) => JSON.parse(line));
};
const encodeFails = (encoder: Encoder, parts: BatchPayload[], code: string, message: RegExp) =>
  assert.throws(
    () => encoder.encode(parts),
    (err) => SpillwayError.is(err) && err.code === code && message.test(err.message),
  );

const a: LogEvent = {
  timestamp: 1_714_564_800_123,
  message: 'disk "full"\n\tat /data ✗',
  severity: 'error',
  attributes: { disk: '/data', used: 0.91, 'service.name': 'store', message: 'shadowed' },
};
const b: LogEvent = { timestamp: 1_714_564_800_124, message: 'plain' };

/** The expected JSON shape of an event, written out here rather than taken from core. */
function shapeOf(event: LogEvent, flatten: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { timestamp: event.timestamp, message: event.message };
  if (event.severity !== undefined) out.severity = event.severity;
  if (event.attributes === undefined) return out;
  if (!flatten) return { ...out, attributes: event.attributes };
  const attributes = { ...event.attributes };
  for (const key of ['timestamp', 'message', 'severity']) delete attributes[key];
  return { ...attributes, ...out };
}

// Events whose JSON reads back as they are: messages with quotes, backslashes, line breaks
// (U+2028 too) and any Unicode; attributes of any JSON value, `__proto__` among the keys.
const messageArb = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\r', '\u2028', '\u0000', '✗', '😀', 'a') }),
);
const keyArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', 'message', 'a.b'),
);
const eventArb: fc.Arbitrary<LogEvent> = fc
  .record(
    {
      timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      message: messageArb,
      severity: fc.constantFrom<Severity>('trace', 'debug', 'info', 'warn', 'error', 'fatal'),
      attributes: fc.dictionary(keyArb, fc.jsonValue({ maxDepth: 2 }), {
        minKeys: 1,
        maxKeys: 4,
        noNullPrototype: true,
      }),
    },
    { requiredKeys: ['timestamp', 'message'] },
  )
  .map((event) => event as LogEvent);
const partsArb = fc.array(
  fc.array(eventArb, { maxLength: 4 }).map((e) => eventsPart(...e)),
  {
    maxLength: 3,
  },
);
const allEvents = (parts: readonly BatchPayload[]) =>
  parts.flatMap((p) => (p.kind === 'events' ? p.events : []));

describe('ndjson', () => {
  it('writes one event per line in the JSON shape of an event, flattened or not', () => {
    const plain = ndjson();
    assert.equal(plain.contentType, 'application/x-ndjson');
    assert.deepEqual(ndjsonOf(plain.encode([eventsPart(a, b)])), [
      shapeOf(a, false),
      shapeOf(b, false),
    ]);
    const flat = ndjson({ flatten: true });
    assert.deepEqual(ndjsonOf(flat.encode([eventsPart(a), eventsPart(b)])), [
      { ...shapeOf(a, true), message: a.message },
      shapeOf(b, true),
    ]);
    assert.deepEqual(flat.counters?.(), { flatten_conflicts: 1 }, 'the shadowed attribute');
  });

  it('passes raw lines through byte for byte, adding only a missing final newline', () => {
    const encoder = ndjson();
    const terminated = rawPart('{"a":1}\nnot json at all\n');
    const body = encoder.encode([terminated]);
    assert.equal(body, (terminated as { data: Uint8Array }).data, 'one raw part: not copied');
    const unterminated = rawPart('{"b":2}\n{"c":3}');
    assert.equal(text(encoder.encode([unterminated])), '{"b":2}\n{"c":3}\n');
    assert.equal(
      text(encoder.encode([unterminated, rawPart(''), terminated, rawPart('last')])),
      '{"b":2}\n{"c":3}\n{"a":1}\nnot json at all\nlast\n',
    );
    // Numbered as core's recordCount numbers them, which per-record results index.
    const parts = [unterminated, rawPart(''), terminated, rawPart('last')];
    assert.equal(
      parts.reduce((n, p) => n + recordCount(p), 0),
      5,
    );
  });

  it('keeps the order of mixed parts', () => {
    const body = ndjson().encode([eventsPart(b), rawPart('{"raw":true}'), eventsPart(b)]);
    assert.deepEqual(ndjsonOf(body), [shapeOf(b, false), { raw: true }, shapeOf(b, false)]);
  });

  it("rawLines 'message' makes each raw line an event stamped with the time of encoding", () => {
    const before = Date.now();
    const lines = ndjsonOf(ndjson({ rawLines: 'message' }).encode([rawPart('one "1"\r\ntwo')]));
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map((l) => (l as LogEvent).message),
      ['one "1"\r', 'two'],
    );
    for (const line of lines) assert.ok((line as LogEvent).timestamp >= before);
  });

  it('names the record it cannot encode, counting raw lines before it', () => {
    const bad: LogEvent = { timestamp: 1, message: 'x', attributes: { n: 1n } };
    encodeFails(
      ndjson(),
      [rawPart('r0\nr1'), eventsPart(b, bad)],
      'ERR_STAGE_FAILED',
      /^record 3 cannot be encoded/,
    );
  });

  it('reports wrong options', () => {
    assert.deepEqual(ndjson().validate(), []);
    const problems = ndjson({ rawLines: 'json' as 'message', flatten: 'yes' as unknown as boolean })
      .validate()
      .join('\n');
    assert.match(problems, /rawLines must be "verbatim" or "message", not "json"/);
    assert.match(problems, /flatten must be true or false/);
  });

  it('round trips any events (property)', () => {
    for (const flatten of [false, true]) {
      const encoder = ndjson({ flatten });
      fc.assert(
        fc.property(partsArb, (parts) => {
          const events = allEvents(parts);
          assert.equal(
            parts.reduce((n, p) => n + recordCount(p), 0),
            events.length,
          );
          const body = encoder.encode(parts);
          assert.deepStrictEqual(
            events.length === 0 ? [] : ndjsonOf(body),
            events.map((e) => shapeOf(e, flatten)),
          );
        }),
        runs,
      );
    }
  });
});

describe('jsonArray', () => {
  it('writes one JSON array, raw lines as events', () => {
    const encoder = jsonArray();
    assert.equal(encoder.contentType, 'application/json');
    const parsed = JSON.parse(text(encoder.encode([eventsPart(a), rawPart('line\n')])));
    assert.deepEqual(parsed[0], shapeOf(a, false));
    assert.equal(parsed[1].message, 'line');
    assert.equal(text(encoder.encode([])), '[]');
  });

  it('round trips any events (property)', () => {
    for (const flatten of [false, true]) {
      const encoder = jsonArray({ flatten });
      fc.assert(
        fc.property(partsArb, (parts) => {
          assert.deepStrictEqual(
            JSON.parse(text(encoder.encode(parts))),
            allEvents(parts).map((e) => shapeOf(e, flatten)),
          );
        }),
        runs,
      );
    }
  });
});

describe('envelope', () => {
  const template = {
    sourcetype: 'spillway',
    time: '{{timestamp}}',
    event: '{{record}}',
    fields: {
      message: '{{ message }}',
      level: '{{severity}}',
      service: '{{attributes.service.name}}',
      missing: '{{attributes.nope}}',
      constants: [1, 'two', null, true, { deep: '{{attributes.used}}' }],
    },
    note: 'braces alone are fine: {{',
  };

  it('fills each placeholder with its value and JSON type, the record as a JSON string', () => {
    const encoder = envelope({ template });
    assert.deepEqual(encoder.validate(), []);
    const [doc] = ndjsonOf(encoder.encode([eventsPart(a)])) as Record<string, unknown>[];
    assert.deepEqual(doc, {
      sourcetype: 'spillway',
      time: a.timestamp,
      event: JSON.stringify(shapeOf(a, false)),
      fields: {
        message: a.message,
        level: 'error',
        service: 'store',
        missing: null,
        constants: [1, 'two', null, true, { deep: 0.91 }],
      },
      note: 'braces alone are fine: {{',
    });
    const [plain] = ndjsonOf(encoder.encode([eventsPart(b)])) as Record<string, unknown>[];
    assert.equal((plain!.fields as Record<string, unknown>).level, null, 'no severity: null');
  });

  it("framing 'array' writes one JSON array", () => {
    const encoder = envelope({ template: { m: '{{message}}' }, framing: 'array' });
    assert.equal(encoder.contentType, 'application/json');
    assert.deepEqual(JSON.parse(text(encoder.encode([eventsPart(a, b)]))), [
      { m: a.message },
      { m: b.message },
    ]);
  });

  it('reports every problem of a template, and refuses to encode with it', () => {
    const bad = envelope({
      template: {
        text: 'at {{timestamp}}',
        unknown: '{{host}}',
        '{{message}}': 1,
        when: new Date(0),
        nan: Number.NaN,
      },
    });
    const problems = bad.validate().join('\n');
    assert.match(problems, /template\.text mixes a placeholder with other text/);
    assert.match(problems, /template\.unknown is an unknown placeholder "\{\{host\}\}"/);
    assert.match(problems, /the key "\{\{message\}\}" holds a placeholder; only values can/);
    assert.match(problems, /template\.when must be JSON/);
    assert.match(problems, /template\.nan must be JSON/);
    encodeFails(bad, [eventsPart(a)], 'ERR_INVALID_OPTION', /^envelope: /);
    assert.match(
      envelope({ template: { a: 1 } })
        .validate()
        .join(),
      /has no placeholder/,
    );
    assert.match(
      envelope({ template: 'x' as unknown as Record<string, unknown> })
        .validate()
        .join(),
      /template must be an object/,
    );
  });

  it('round trips any events (property)', () => {
    const encoder = envelope({
      template: { r: '{{record}}', m: '{{message}}', t: '{{timestamp}}', s: '{{severity}}' },
    });
    fc.assert(
      fc.property(partsArb, (parts) => {
        const events = allEvents(parts);
        const docs = events.length === 0 ? [] : ndjsonOf(encoder.encode(parts));
        assert.deepStrictEqual(
          docs,
          events.map((e) => ({
            r: JSON.stringify(shapeOf(e, false)),
            m: e.message,
            t: e.timestamp,
            s: e.severity ?? null,
          })),
        );
        docs.forEach((doc, i) => {
          assert.deepStrictEqual(JSON.parse((doc as { r: string }).r), shapeOf(events[i]!, false));
        });
      }),
      runs,
    );
  });
});

describe('loki', () => {
  interface Push {
    streams: { stream: Record<string, string>; values: [string, string][] }[];
  }
  const push = (encoder: Encoder, parts: BatchPayload[]) =>
    JSON.parse(text(encoder.encode(parts))) as Push;
  const at = (ms: number, message: string, attributes?: Record<string, unknown>): LogEvent =>
    attributes === undefined ? { timestamp: ms, message } : { timestamp: ms, message, attributes };

  it('sanitises attribute keys into label names', () => {
    assert.equal(lokiLabelName('service.name'), 'service_name');
    assert.equal(lokiLabelName('2xx'), '_2xx');
    assert.equal(lokiLabelName('k8s/pod-name ✗'), 'k8s_pod_name__');
    assert.equal(lokiLabelName('ok_Name9'), 'ok_Name9');
  });

  it('groups records into streams by label values, in order, times in nanoseconds', () => {
    const encoder = loki({ labels: ['service.name', 'env', 'code'], staticLabels: { job: 'sw' } });
    assert.deepEqual(encoder.validate(), []);
    const body = push(encoder, [
      eventsPart(
        at(1_700_000_000_001, 'a1', { 'service.name': 'a', env: 'prod', code: 200 }),
        at(1_700_000_000_002.5, 'b1', { 'service.name': 'b', env: '' }),
        at(1_700_000_000_003, 'a2', { 'service.name': 'a', env: 'prod', code: 200, other: 1 }),
        at(1_700_000_000_004, 'n1', { code: { nested: true } }),
      ),
      rawPart('raw line'),
    ]);
    assert.deepEqual(body.streams.slice(0, 3), [
      {
        stream: { job: 'sw', service_name: 'a', env: 'prod', code: '200' },
        values: [
          ['1700000000001000000', 'a1'],
          ['1700000000003000000', 'a2'],
        ],
      },
      { stream: { job: 'sw', service_name: 'b' }, values: [['1700000000002500000', 'b1']] },
      { stream: { job: 'sw', code: '{"nested":true}' }, values: [['1700000000004000000', 'n1']] },
    ]);
    assert.deepEqual(body.streams[3]!.stream, { job: 'sw' });
    assert.equal(body.streams[3]!.values[0]![1], 'raw line');
    assert.match(body.streams[3]!.values[0]![0], /^\d{19}$/, 'a raw line: the time of encoding');
  });

  it("line 'json' sends the record in the JSON shape of an event", () => {
    const body = push(loki({ labels: [], staticLabels: { job: 'x' }, line: 'json' }), [
      eventsPart(a),
    ]);
    assert.deepEqual(JSON.parse(body.streams[0]!.values[0]![1]), shapeOf(a, false));
  });

  it('refuses a request over maxStreams with ERR_ITEM_TOO_LARGE, so the sink splits it', () => {
    const encoder = loki({ labels: ['id'], maxStreams: 2 });
    const parts = [eventsPart(at(1, 'x', { id: 1 }), at(2, 'y', { id: 2 }), at(3, 'z', { id: 1 }))];
    assert.equal(push(encoder, parts).streams.length, 2);
    encodeFails(
      encoder,
      [eventsPart(at(1, 'x', { id: 1 }), at(2, 'y', { id: 2 }), at(3, 'z', { id: 3 }))],
      'ERR_ITEM_TOO_LARGE',
      /more than maxStreams \(2\)/,
    );
  });

  it('reports labels that collide, invalid static labels, and no labels at all', () => {
    const problems = loki({
      labels: ['service.name', 'service_name', ''],
      staticLabels: { 'bad-name': 'x', job: '' },
      maxStreams: 0,
      line: 'text' as 'json',
    })
      .validate()
      .join('\n');
    assert.match(problems, /labels\[1\] is the label "service_name", as labels\[0\] is/);
    assert.match(problems, /labels\[2\] must be a non-empty string/);
    assert.match(problems, /staticLabels\.bad-name is not a Loki label name/);
    assert.match(problems, /staticLabels\.job must be a non-empty string/);
    assert.match(problems, /maxStreams must be a positive integer/);
    assert.match(problems, /line must be "message" or "json"/);
    assert.match(loki({ labels: [] }).validate().join(), /at least one label/);
    const reserved = loki({ labels: ['__tenant', 'ok'], staticLabels: { __name__: 'x' } })
      .validate()
      .join('\n');
    assert.match(reserved, /labels\[0\] is the label "__tenant", which begins with "__"/);
    assert.match(reserved, /staticLabels\.__name__ begins with "__"/);
    assert.match(
      loki({ labels: ['job'], staticLabels: { job: 'x' } })
        .validate()
        .join(),
      /labels\[0\] is the label "job", as staticLabels\.job is/,
    );
  });
});

describe('elasticsearchBulk', () => {
  const encoder = elasticsearchBulk({ index: 'logs-app' });
  const answer = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('writes an action line and a flattened document with @timestamp per record', () => {
    assert.equal(encoder.contentType, 'application/x-ndjson');
    const clash: LogEvent = { timestamp: 0, message: 'c', attributes: { '@timestamp': 'x', n: 1 } };
    const lines = ndjsonOf(encoder.encode([eventsPart(a, clash), rawPart('raw')]));
    assert.equal(lines.length, 6);
    assert.deepEqual(lines[0], { create: { _index: 'logs-app' } });
    assert.deepEqual(lines[1], {
      '@timestamp': '2024-05-01T12:00:00.123Z',
      message: a.message,
      severity: 'error',
      disk: '/data',
      used: 0.91,
      'service.name': 'store',
    });
    assert.deepEqual(lines[3], { '@timestamp': '1970-01-01T00:00:00.000Z', message: 'c', n: 1 });
    assert.equal((lines[5] as { message: string }).message, 'raw');
    assert.deepEqual(encoder.counters?.(), { flatten_conflicts: 2 }, 'message and @timestamp');
    const index = elasticsearchBulk({ index: 'x', action: 'index' });
    assert.deepEqual(ndjsonOf(index.encode([eventsPart(b)]))[0], { index: { _index: 'x' } });
    const nan = ndjsonOf(encoder.encode([eventsPart({ timestamp: Number.NaN, message: '' })]));
    assert.equal((nan[1] as Record<string, unknown>)['@timestamp'], null);
  });

  it('reads the failed items of an answer with errors, reasons bounded', () => {
    const long = 'r'.repeat(500);
    const results = encoder.itemResults!(
      answer({
        took: 3,
        errors: true,
        items: [
          { create: { status: 201 } },
          {
            create: {
              status: 429,
              error: { type: 'es_rejected_execution_exception', reason: 'busy' },
            },
          },
          { create: { status: 400, error: { type: 'document_parsing_exception', reason: long } } },
          { create: { error: 'no status' } },
          { create: { status: 500 } },
          'not an item',
          { create: { status: 400, error: { type: 'beyond', reason: 'the request' } } },
        ],
      }),
      6,
    );
    assert.ok(results && results !== 'unreadable');
    const { failed } = results;
    assert.deepEqual(
      failed.map((f) => [f.index, f.status]),
      [
        [1, 429],
        [2, 400],
        [3, 500],
        [4, 500],
      ],
    );
    assert.equal(failed[0]!.reason, 'es_rejected_execution_exception: busy');
    assert.equal(failed[1]!.reason.length, 200);
    assert.ok(failed[1]!.reason.startsWith('document_parsing_exception: rrr'));
    assert.equal(failed[2]!.reason, 'no status');
    assert.equal(failed[3]!.reason, 'no error given');
  });

  it('reads nothing from a successful answer, whichever order its keys are in', () => {
    const ok = { took: 1, errors: false, items: [{ create: { status: 201 } }] };
    assert.equal(encoder.itemResults!(answer(ok), 1), undefined);
    const itemsFirst = { items: [{ create: { status: 201 } }], errors: false };
    assert.equal(encoder.itemResults!(answer(itemsFirst), 1), undefined);
  });

  it('reads a malformed answer as unreadable, without throwing', () => {
    for (const body of [
      '',
      'not json',
      '[]',
      'null',
      '{"errors":true}',
      '{"errors":true,"items":{}}',
      '{"errors":true,"items":[{"create":{"status":400',
      '{"errors":"true","items":[]}',
    ]) {
      assert.equal(encoder.itemResults!(Buffer.from(body), 1), 'unreadable', body);
    }
  });

  it('reports a missing index and an unknown action', () => {
    const problems = elasticsearchBulk({ action: 'update' } as unknown as { index: string })
      .validate()
      .join('\n');
    assert.match(problems, /index is missing/);
    assert.match(problems, /action must be "create" or "index", not "update"/);
  });
});

describe('otlp', () => {
  it('encodes a request that @spillway/otlp decodes back into the events, both encodings', () => {
    for (const [encoding, contentType] of [
      ['protobuf', 'application/x-protobuf'],
      ['json', 'application/json'],
    ] as const) {
      const encoder = otlp({ encoding });
      assert.equal(encoder.contentType, contentType);
      assert.deepEqual(encoder.validate(), []);
      const body = encoder.encode([eventsPart(a), eventsPart(b), rawPart('raw\n')]);
      const { events } = decodeOtlpLogs(body, encoding);
      assert.deepEqual(events.slice(0, 2), [a, b]);
      assert.equal(events[2]!.message, 'raw');
    }
  });

  it('reads a partial success as records rejected without index', () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      const encoder = otlp({ encoding });
      const partial = Buffer.from(encodeOtlpResponse(encoding, 2, ['too old']));
      assert.deepEqual(encoder.itemResults!(partial, 5), {
        failed: [],
        rejectedWithoutIndex: { count: 2, message: '2 log record(s) rejected: too old' },
      });
      const full = Buffer.from(encodeOtlpResponse(encoding, 0, []));
      assert.equal(encoder.itemResults!(full, 5), undefined);
      assert.equal(encoder.itemResults!(Buffer.from('\xff{'), 5), undefined);
    }
  });

  it('names a record it cannot encode', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    encodeFails(
      otlp({ encoding: 'protobuf' }),
      [rawPart('r0\n'), eventsPart({ timestamp: 1, message: 'x', attributes: { cyclic } })],
      'ERR_STAGE_FAILED',
      /^record 1 cannot be encoded: events\[1\]/,
    );
  });

  it('reports a missing encoding', () => {
    assert.match(
      otlp({} as { encoding: 'json' })
        .validate()
        .join(),
      /encoding is missing: it must be "protobuf" or "json"/,
    );
  });
});
