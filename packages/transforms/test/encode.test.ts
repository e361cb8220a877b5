import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '@spillway/core';
import fc from 'fast-check';
import { unpack } from 'msgpackr';
import { encode } from '../src/index.js';
import { build, eventBatch, rawBatch, single } from './support.js';

const events: LogEvent[] = [
  {
    timestamp: 1,
    message: 'a "quoted"\nline',
    severity: 'info',
    attributes: { port: 80, tags: ['x'] },
  },
  { timestamp: 2.5, message: 'plain' },
];

const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');
const dataOf = (batch: ReturnType<typeof single>) => {
  assert.equal(batch.payload.kind, 'raw');
  return batch.payload.kind === 'raw' ? batch.payload.data : new Uint8Array();
};

describe('encode', () => {
  it('ndjson: one object per line, keeping id, ack, positions, source and createdAt', async () => {
    const v = await build(encode({ format: 'ndjson' }));
    const input = eventBatch(events);
    const out = single(await v.run(input));
    assert.equal(out.id, input.id);
    assert.equal(out.ack, input.ack);
    assert.equal(out.positions, input.positions);
    assert.equal(out.source, input.source);
    assert.equal(out.createdAt, input.createdAt);
    assert.equal(out.count, 2);
    assert.equal(
      text(dataOf(out)),
      '{"timestamp":1,"message":"a \\"quoted\\"\\nline","severity":"info","attributes":{"port":80,"tags":["x"]}}\n' +
        '{"timestamp":2.5,"message":"plain"}\n',
    );
    assert.equal(out.bytes, dataOf(out).byteLength);
  });

  it('ndjson with flatten: attributes next to the event fields; clashes left out, counted', async () => {
    const v = await build(encode({ format: 'ndjson', flatten: true }));
    const out = single(
      await v.run(
        eventBatch([
          {
            timestamp: 1,
            message: 'm',
            attributes: { port: 80, message: 'x', severity: 'y', f: undefined },
          },
        ]),
      ),
    );
    assert.equal(text(dataOf(out)), '{"timestamp":1,"message":"m","port":80}\n');
    assert.equal(v.counters.get('flatten_conflicts'), 2);
  });

  it('json: one array', async () => {
    const v = await build(encode({ format: 'json' }));
    const out = single(await v.run(eventBatch(events)));
    assert.deepEqual(JSON.parse(text(dataOf(out))), events);
  });

  it('msgpack: one array of plain maps, readable by any MessagePack reader', async () => {
    const v = await build(encode({ format: 'msgpack', flatten: true }));
    const out = single(await v.run(eventBatch(events)));
    assert.deepEqual(unpack(dataOf(out)), [
      { timestamp: 1, message: 'a "quoted"\nline', severity: 'info', port: 80, tags: ['x'] },
      { timestamp: 2.5, message: 'plain' },
    ]);
    const nested = await build(encode({ format: 'msgpack' }));
    assert.deepEqual(unpack(dataOf(single(await nested.run(eventBatch(events))))), events);
  });

  it('encodes a raw batch line by line, and an empty batch to null', async () => {
    const v = await build(encode({ format: 'ndjson' }));
    const out = single(await v.run(rawBatch(['one', 'two'], 7)));
    assert.equal(
      text(dataOf(out)),
      '{"timestamp":7,"message":"one"}\n{"timestamp":7,"message":"two"}\n',
    );
    assert.equal(await v.run(eventBatch([])), null);
  });

  it('writes a timestamp that is not finite as null', async () => {
    const v = await build(encode({ format: 'ndjson' }));
    const out = single(await v.run(eventBatch([{ timestamp: Number.NaN, message: '' }])));
    assert.equal(text(dataOf(out)), '{"timestamp":null,"message":""}\n');
  });

  it('ndjson round-trips through JSON.parse', async () => {
    const severity = fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal' as const);
    const event: fc.Arbitrary<LogEvent> = fc.record(
      {
        timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }),
        message: fc.string({ unit: 'binary' }),
        severity,
        attributes: fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 2 })),
      },
      { requiredKeys: ['timestamp', 'message'] },
    ) as fc.Arbitrary<LogEvent>;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 20 }), fc.boolean(), async (input, flatten) => {
        const v = await build(encode({ format: 'ndjson', flatten }));
        const result = await v.run(eventBatch(input));
        if (input.length === 0) return assert.equal(result, null);
        const lines = text(dataOf(single(result))).split('\n');
        assert.equal(lines.pop(), '', 'ends with a newline');
        assert.equal(lines.length, input.length);
        lines.forEach((line, i) => {
          const e = input[i]!;
          // What JSON itself would make of the event (e.g. -0 becomes 0, lone surrogates escaped).
          const expected: Record<string, unknown> = JSON.parse(
            JSON.stringify({ timestamp: e.timestamp, message: e.message, severity: e.severity }),
          );
          if (e.attributes !== undefined) {
            const attributes = JSON.parse(JSON.stringify(e.attributes));
            if (!flatten) expected.attributes = attributes;
            else
              for (const [k, val] of Object.entries(attributes)) {
                if (k !== 'timestamp' && k !== 'message' && k !== 'severity') {
                  Object.defineProperty(expected, k, {
                    value: val,
                    enumerable: true,
                    writable: true,
                    configurable: true,
                  });
                }
              }
          }
          assert.deepEqual(JSON.parse(line), expected);
        });
      }),
      { seed: 0xe4c0de, numRuns: 200 },
    );
  });

  it('validates format and flatten', () => {
    assert.deepEqual(encode({ format: 'csv' as never, flatten: 1 as never }).validate(), [
      'format must be "ndjson", "json" or "msgpack", not "csv"',
      'flatten must be true or false, not 1',
    ]);
    assert.deepEqual(encode({} as never).validate(), [
      'format is missing: it must be "ndjson", "json" or "msgpack"',
    ]);
  });
});
