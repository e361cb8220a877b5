// The generic http source over real sockets: a JSON object, a JSON array and NDJSON (with a
// bad line rejected alone), gzip, field mapping, and 429 with a numeric Retry-After while the
// sink is stalled, then acceptance once it recovers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { type HttpSourceOptions, http } from '../src/http/http.js';
import { request, runSource } from './http-fixtures.js';
import { waitFor } from './support.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const NDJSON_TYPE = { 'content-type': 'application/x-ndjson' };

const start = (options: Partial<HttpSourceOptions> = {}) =>
  runSource((onListening) => http({ port: 0, path: '/logs', ...options, onListening }));

const parse = (body: Buffer) => JSON.parse(body.toString()) as Record<string, unknown>;

describe('http source', () => {
  it('takes a JSON array of objects: message, timestamp and the rest as attributes', async () => {
    const run = await start();
    try {
      const res = await request(run.url, {
        path: '/logs',
        headers: JSON_TYPE,
        body: JSON.stringify([
          { message: 'started', timestamp: '2024-05-01T10:00:00.250Z', level: 'info', pid: 42 },
          { message: { nested: true }, timestamp: 1_714_557_600_500, user: { id: 7 } },
          { timestamp: 'not a time', msg: 'no message field' },
        ]),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(parse(res.body), { accepted: 3 });
      const [first, second, third] = run.events;
      assert.deepEqual(first, {
        timestamp: Date.parse('2024-05-01T10:00:00.250Z'),
        message: 'started',
        attributes: { level: 'info', pid: 42 },
      });
      assert.deepEqual(second, {
        timestamp: 1_714_557_600_500,
        message: '{"nested":true}',
        attributes: { user: { id: 7 } },
      });
      // An unreadable time keeps the receipt time and stays among the attributes.
      assert.equal(third!.message, '');
      assert.deepEqual(third!.attributes, { timestamp: 'not a time', msg: 'no message field' });
      assert.ok(Math.abs(third!.timestamp - Date.now()) < 60_000);
      assert.equal(run.stats().events_in, 3);
    } finally {
      await run.stop();
    }
  });

  it('takes a single JSON object, with configurable fields', async () => {
    const run = await start({ messageField: 'msg', timestampField: 'time' });
    try {
      const res = await request(run.url, {
        path: '/logs',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ msg: 'hello', time: 1000, message: 'kept as an attribute' }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(run.events, [
        { timestamp: 1000, message: 'hello', attributes: { message: 'kept as an attribute' } },
      ]);
    } finally {
      await run.stop();
    }
  });

  it('takes NDJSON, gzip-compressed, rejecting a bad line alone (partial success)', async () => {
    const run = await start();
    try {
      const lines = [
        JSON.stringify({ message: 'one', n: 1 }),
        '',
        '{"message": "two", "n": 2}\r',
        '{not json',
        '[1, 2]',
        JSON.stringify({ message: 'three', n: 3 }),
      ];
      const res = await request(run.url, {
        path: '/logs',
        headers: { ...NDJSON_TYPE, 'content-encoding': 'gzip' },
        body: zlib.gzipSync(lines.join('\n')),
      });
      assert.equal(res.status, 200);
      const answer = parse(res.body);
      assert.equal(answer.accepted, 3);
      assert.equal(answer.rejected, 2);
      const errors = answer.errors as string[];
      assert.match(errors[0]!, /^line 4: invalid JSON/);
      assert.equal(errors[1], 'line 5: not a JSON object');
      assert.deepEqual(
        run.events.map((e) => [e.message, e.attributes?.n]),
        [
          ['one', 1],
          ['two', 2],
          ['three', 3],
        ],
      );
      const stats = run.stats();
      assert.equal(stats.records_rejected, 2);
      assert.ok(stats.bytes_inflated! > stats.bytes_in!, 'inflated as it was read');
    } finally {
      await run.stop();
    }
  });

  it('answers 400 for a body that is not JSON, 404 elsewhere', async () => {
    const run = await start();
    try {
      const bad = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: '[{"a":' });
      assert.equal(bad.status, 400);
      assert.equal((parse(bad.body).error as { code: string }).code, 'ERR_MALFORMED_BODY');
      const scalar = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: '42' });
      assert.equal(scalar.status, 400);
      const elsewhere = await request(run.url, { path: '/', headers: JSON_TYPE, body: '{}' });
      assert.equal(elsewhere.status, 404);
      assert.equal(run.events.length, 0);
    } finally {
      await run.stop();
    }
  });

  it('answers 429 with a numeric Retry-After while the sink is stalled, 200 after it recovers', async () => {
    const run = await runSource((onListening) =>
      http({ port: 0, path: '/logs', maxInFlightBytes: 1024, onListening }),
    );
    const body = (i: number) => JSON.stringify([{ message: `batch ${i}`, pad: 'x'.repeat(600) }]);
    try {
      run.gate.close();
      const first = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: body(1) });
      assert.equal(first.status, 200, 'queued, though not yet delivered');
      assert.ok(run.stats().budget_used_bytes! > 0);

      // 600+ bytes held and unacknowledged: a second request of the same size does not fit.
      const refused = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: body(2) });
      assert.equal(refused.status, 429);
      const retryAfter = refused.headers['retry-after'];
      assert.match(String(retryAfter), /^\d+$/);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 5, `Retry-After ${retryAfter}`);
      assert.equal((parse(refused.body).error as { code: string }).code, 'ERR_BUDGET_EXHAUSTED');
      const stats = run.stats();
      assert.equal(stats.responses_429, 1);
      assert.equal(stats.rejected_budget_exhausted, 1);
      assert.equal(stats.bytes_in, Buffer.byteLength(body(1)), 'the refused body was not read');

      run.gate.open();
      await waitFor(() => run.stats().budget_used_bytes === 0, 'the budget to drain');
      const retried = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: body(2) });
      assert.equal(retried.status, 200);
      await waitFor(() => run.events.length === 2, 'both events delivered');
      assert.deepEqual(
        run.events.map((e) => e.message),
        ['batch 1', 'batch 2'],
      );
    } finally {
      await run.stop();
    }
  });

  it('admits one request larger than the whole budget while nothing else is held', async () => {
    const run = await runSource((onListening) =>
      http({ port: 0, path: '/logs', maxInFlightBytes: 100, onListening }),
    );
    try {
      const big = JSON.stringify([{ message: 'big', pad: 'x'.repeat(5000) }]);
      const sized = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: big });
      assert.equal(sized.status, 200);
      await waitFor(() => run.stats().budget_used_bytes === 0, 'the budget to drain');
      // Chunked: charged as it arrives, past the bound, because it is alone.
      const chunks = [Buffer.from(big.slice(0, 2500)), Buffer.from(big.slice(2500))];
      const chunked = await request(run.url, { path: '/logs', headers: JSON_TYPE, body: chunks });
      assert.equal(chunked.status, 200);
      await waitFor(() => run.events.length === 2, 'both delivered');
      await waitFor(() => run.stats().budget_used_bytes === 0, 'the budget to drain');
    } finally {
      await run.stop();
    }
  });

  it('validates its options and claims its port', () => {
    const bad = http({ port: 70_000, path: 'logs', maxBodyBytes: 0, messageField: '' });
    assert.deepEqual(bad.validate(), [
      'port must be an integer between 0 and 65535, not 70000',
      'maxBodyBytes must be a positive integer, not 0',
      'path must start with "/"',
      'messageField must be a non-empty string',
    ]);
    assert.deepEqual(http({ port: 8080 }).resources(), [
      { kind: 'port', id: 'tcp:127.0.0.1:8080' },
    ]);
    assert.deepEqual(http({ port: 0 }).resources(), []);
  });
});
