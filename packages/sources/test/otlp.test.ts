// The otlp source over real sockets: encodings and the LogRecord → LogEvent mapping, partial
// success, every refusal (400, 401, 404, 405, 413, 415) with the body it promises, a gzip bomb
// stopped while inflating, TLS, and a graceful stop that answers what is in flight.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import zlib from 'node:zlib';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import protobuf from 'protobufjs/light.js';
import { type OtlpOptions, otlp } from '../src/http/otlp.js';
import {
  fillStalledSink,
  OTEL_TIME_MS,
  otelRecords,
  type Running,
  request,
  runSource,
} from './http-fixtures.js';
import { waitFor } from './support.js';

const MiB = 1024 * 1024;
const PATH = '/v1/logs';
const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO_TYPE = { 'content-type': 'application/x-protobuf' };

const start = (options: OtlpOptions = {}, sink?: Parameters<typeof runSource>[1]) =>
  runSource((onListening) => otlp({ port: 0, ...options, onListening }), sink);

/** Posts an OTLP/JSON request of one record whose body is `m<i>`, so delivery order shows. */
const postRecord = (run: Running, i: number) =>
  request(run.url, {
    path: PATH,
    headers: JSON_TYPE,
    body: JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: `m${i}` } }] }] }],
    }),
  });

/** google.rpc.Status, declared here independently of the source's own schema. */
const Status = protobuf.Root.fromJSON({
  nested: {
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
  },
}).lookupType('Status');
const decodeStatus = (body: Buffer) =>
  Status.toObject(Status.decode(body)) as { code?: number; message: string };

const attribute = (key: string, value: object) => ({ key, value });

/** An OTLP/JSON request exercising every AnyValue kind, ids, both timestamps and the scope. */
const jsonRequest = {
  resourceLogs: [
    {
      resource: {
        attributes: [
          attribute('service.name', { stringValue: 'checkout' }),
          attribute('host.cores', { intValue: '8' }),
        ],
      },
      scopeLogs: [
        {
          scope: { name: 'app.logger', version: '2.0.1' },
          logRecords: [
            {
              timeUnixNano: '1700000000123456789',
              observedTimeUnixNano: '1700000000999000000',
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: 'payment failed' },
              attributes: [
                attribute('order.id', { intValue: '9007199254740993' }),
                attribute('retry', { boolValue: false }),
                attribute('ratio', { doubleValue: 0.25 }),
                attribute('tags', {
                  arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] },
                }),
                attribute('blob', { bytesValue: 'AQID' }),
                attribute('resource.service.name', { stringValue: 'the record wins' }),
              ],
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'EEE19B7EC3C1B174',
              flags: 1,
              dropped_attributes_count: 'snake_case keys are unknown fields and ignored',
            },
            {
              observedTimeUnixNano: 1_700_000_001_000_000_000,
              severityNumber: 9,
              body: {
                kvlistValue: {
                  values: [
                    attribute('user', { stringValue: 'ada' }),
                    attribute('n', { intValue: 3 }),
                  ],
                },
              },
              traceId: '',
              spanId: '0000000000000000',
              eventName: 'login',
            },
          ],
        },
      ],
    },
  ],
};

const derived = {
  'resource.host.cores': 8,
  'scope.name': 'app.logger',
  'scope.version': '2.0.1',
};

describe('otlp source', () => {
  let certDir: string;
  let key: Buffer;
  let cert: Buffer;

  before(() => {
    // A self-signed certificate for 127.0.0.1, made for this run.
    certDir = mkdtempSync(join(tmpdir(), 'spillway-otlp-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')],
        ...['-subj', '/CN=127.0.0.1', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(certDir, 'key.pem'));
    cert = readFileSync(join(certDir, 'cert.pem'));
  });

  after(() => rmSync(certDir, { recursive: true, force: true }));

  it('maps an OTLP/JSON request to events and answers an empty ExportLogsServiceResponse', async () => {
    const run = await start();
    try {
      const res = await request(run.url, {
        path: PATH,
        headers: JSON_TYPE,
        body: JSON.stringify(jsonRequest),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(res.body.toString()), {});
      assert.deepEqual(run.events, [
        {
          timestamp: 1_700_000_000_123,
          message: 'payment failed',
          severity: 'error',
          attributes: {
            'order.id': '9007199254740993', // past 2^53: kept exact as a decimal string
            retry: false,
            ratio: 0.25,
            tags: ['a', 2],
            blob: 'AQID',
            'resource.service.name': 'the record wins',
            ...derived,
            trace_id: '5b8efff798038103d269b633813fc60c',
            span_id: 'eee19b7ec3c1b174',
            trace_flags: 1,
            severity_text: 'ERROR',
          },
        },
        {
          timestamp: 1_700_000_001_000, // observedTimeUnixNano, as timeUnixNano is unset
          message: '{"user":"ada","n":3}',
          severity: 'info',
          attributes: { 'resource.service.name': 'checkout', ...derived, event_name: 'login' },
        },
      ]);
      const stats = run.stats();
      assert.equal(stats.requests, 1);
      assert.equal(stats.responses_200, 1);
      assert.equal(stats.events_in, 2);
      assert.equal(stats.bytes_in, Buffer.byteLength(JSON.stringify(jsonRequest)));
      assert.equal(stats.budget_used_bytes, 0, 'released once the sink acknowledged');
    } finally {
      await run.stop();
    }
  });

  it('decodes binary protobuf and reports rejected records as a partial success', async () => {
    const run = await start({ maxEventBytes: 2000 });
    try {
      const records = await otelRecords(3, {
        bodyOf: (i) => (i === 1 ? 'x'.repeat(5000) : `record ${i}`),
      });
      const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
      const res = await request(run.url, { path: PATH, headers: PROTO_TYPE, body });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      const response = ProtobufLogsSerializer.deserializeResponse(res.body);
      assert.equal(Number(response.partialSuccess?.rejectedLogRecords), 1);
      assert.match(
        response.partialSuccess?.errorMessage ?? '',
        /1 log record\(s\) rejected: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\] is about \d+ bytes, above maxEventBytes 2000/,
      );
      assert.deepEqual(
        run.events.map((e) => [e.timestamp, e.message, e.severity]),
        [
          [OTEL_TIME_MS, 'record 0', 'warn'],
          [OTEL_TIME_MS + 2, 'record 2', 'warn'],
        ],
      );
      assert.equal(run.events[0]!.attributes!['resource.service.name'], 'checkout');
      assert.equal(run.events[0]!.attributes!['scope.version'], '1.2.3');
      assert.equal(run.stats().records_rejected, 1);
    } finally {
      await run.stop();
    }
  });

  it('answers 400 with a google.rpc.Status in the request encoding for malformed bodies', async () => {
    const run = await start();
    try {
      // Field 1 (resourceLogs), length-delimited, claiming 4 GiB that are not there.
      const broken = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const proto = await request(run.url, { path: PATH, headers: PROTO_TYPE, body: broken });
      assert.equal(proto.status, 400);
      assert.equal(proto.headers['content-type'], 'application/x-protobuf');
      const status = decodeStatus(proto.body);
      assert.equal(status.code, 3);
      assert.match(
        status.message,
        /^ERR_MALFORMED_BODY: invalid protobuf ExportLogsServiceRequest/,
      );

      const wrongType = structuredClone(jsonRequest) as typeof jsonRequest & Record<string, never>;
      (
        wrongType.resourceLogs[0]!.scopeLogs[0]!.logRecords[0] as Record<string, unknown>
      ).severityNumber = 'SEVERITY_NUMBER_ERROR';
      const json = await request(run.url, {
        path: PATH,
        headers: JSON_TYPE,
        body: JSON.stringify(wrongType),
      });
      assert.equal(json.status, 400);
      const field = 'resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber';
      assert.deepEqual(JSON.parse(json.body.toString()), {
        code: 3,
        message: `ERR_MALFORMED_BODY: ${field}: expected an integer (OTLP/JSON encodes enums as integers)`,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [
              {
                field,
                description: `${field}: expected an integer (OTLP/JSON encodes enums as integers)`,
              },
            ],
          },
        ],
      });

      const notJson = await request(run.url, {
        path: PATH,
        headers: JSON_TYPE,
        body: '{"resourceLogs":',
      });
      assert.equal(notJson.status, 400);
      assert.match(
        JSON.parse(notJson.body.toString()).message,
        /^ERR_MALFORMED_BODY: invalid JSON/,
      );

      assert.equal(run.events.length, 0);
      assert.equal(run.stats().rejected_malformed_body, 3);
      assert.equal(run.stats().responses_400, 3);
      assert.equal(run.stats().budget_used_bytes, 0);
    } finally {
      await run.stop();
    }
  });

  it('answers 415 for other content types and encodings, 404 and 405 elsewhere', async () => {
    const run = await start();
    try {
      const text = await request(run.url, {
        path: PATH,
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      });
      assert.equal(text.status, 415);
      assert.match(JSON.parse(text.body.toString()).message, /^ERR_UNSUPPORTED_MEDIA_TYPE/);

      const brotli = await request(run.url, {
        path: PATH,
        headers: { ...PROTO_TYPE, 'content-encoding': 'br' },
        body: Buffer.alloc(8),
      });
      assert.equal(brotli.status, 415);
      assert.equal(brotli.headers['content-type'], 'application/x-protobuf');
      assert.match(decodeStatus(brotli.body).message, /^ERR_UNSUPPORTED_ENCODING/);

      const traces = await request(run.url, { path: '/v1/traces', headers: JSON_TYPE, body: '{}' });
      assert.equal(traces.status, 404);
      const get = await request(run.url, { method: 'GET', path: PATH });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      const stats = run.stats();
      assert.equal(stats.rejected_unsupported_media_type, 1);
      assert.equal(stats.rejected_unsupported_encoding, 1);
      assert.equal(stats.rejected_not_found, 1);
      assert.equal(stats.rejected_method_not_allowed, 1);
      assert.equal(stats.bytes_in ?? 0, 0, 'no body was read');
    } finally {
      await run.stop();
    }
  });

  it('answers 413 on an oversize Content-Length without reading the body', async () => {
    const run = await start({ maxBodyBytes: MiB });
    try {
      // The headers promise 1 GiB; no body byte is ever sent.
      const res = await request(run.url, {
        path: PATH,
        headers: { ...PROTO_TYPE, 'content-length': 1024 * MiB },
      });
      assert.equal(res.status, 413);
      assert.match(decodeStatus(res.body).message, /^ERR_CONTENT_LENGTH_TOO_LARGE/);
      const stats = run.stats();
      assert.equal(stats.rejected_content_length_too_large, 1);
      assert.equal(stats.bytes_in ?? 0, 0);
      assert.equal(stats.budget_used_bytes, 0);
    } finally {
      await run.stop();
    }
  });

  it('answers 413 once a chunked body passes the limit, having read no more than one chunk past it', async () => {
    const limit = 64 * 1024;
    const run = await start({ maxBodyBytes: limit });
    try {
      const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 0x41));
      const res = await request(run.url, { path: PATH, headers: JSON_TYPE, body: chunks });
      assert.equal(res.status, 413);
      assert.match(JSON.parse(res.body.toString()).message, /^ERR_BODY_TOO_LARGE/);
      const stats = run.stats();
      assert.equal(stats.rejected_body_too_large, 1);
      assert.ok(stats.bytes_in! > limit, 'the limit was passed');
      assert.ok(
        stats.bytes_in! <= limit + 64 * 1024,
        `read ${stats.bytes_in}: one socket read past the limit at most`,
      );
      assert.equal(stats.budget_used_bytes, 0);
      assert.equal(run.events.length, 0);
    } finally {
      await run.stop();
    }
  });

  it('stops inflating a gzip bomb at the limit: 413, memory stays low', async () => {
    // 1 GiB of zeros, compressed as it is generated: about 1 MB on the wire.
    const zero = Buffer.alloc(MiB);
    let produced = 0;
    const zeros = new Readable({
      read() {
        this.push(produced++ < 1024 ? zero : null);
      },
    });
    const bomb = await buffer(zeros.pipe(zlib.createGzip()));
    assert.ok(bomb.length < 2 * MiB, `bomb is ${bomb.length} bytes`);

    const run = await start(); // default limit: 10 MiB
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 2);
    try {
      const rssBefore = process.memoryUsage().rss;
      const res = await request(run.url, {
        path: PATH,
        headers: { ...PROTO_TYPE, 'content-encoding': 'gzip' },
        body: bomb,
      });
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      assert.equal(res.status, 413);
      assert.match(decodeStatus(res.body).message, /^ERR_INFLATED_TOO_LARGE/);
      const stats = run.stats();
      assert.equal(stats.rejected_inflated_too_large, 1);
      // Inflation stopped at the first output chunk past 10 MiB (zlib chunks are 16 KiB).
      assert.ok(stats.bytes_inflated! > 10 * MiB);
      assert.ok(stats.bytes_inflated! <= 10 * MiB + 64 * 1024, `inflated ${stats.bytes_inflated}`);
      assert.ok(
        peakRss - rssBefore < 128 * MiB,
        `rss grew by ${Math.round((peakRss - rssBefore) / MiB)} MiB`,
      );
      assert.equal(stats.budget_used_bytes, 0);
    } finally {
      clearInterval(sampler);
      await run.stop();
    }
  });

  it('requires the bearer token when one is set, and never echoes it', async () => {
    const token = 's3cret-token-value';
    const run = await start({ authToken: token });
    try {
      const body = JSON.stringify(jsonRequest);
      const missing = await request(run.url, { path: PATH, headers: JSON_TYPE, body });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers['www-authenticate'], 'Bearer');
      assert.match(JSON.parse(missing.body.toString()).message, /^ERR_MISSING_TOKEN/);
      const wrong = await request(run.url, {
        path: PATH,
        headers: { ...JSON_TYPE, authorization: 'Bearer s3cret-token-valuf' },
        body,
      });
      assert.equal(wrong.status, 401);
      assert.match(JSON.parse(wrong.body.toString()).message, /^ERR_INVALID_TOKEN/);
      assert.ok(!wrong.body.toString().includes('s3cret'));
      const right = await request(run.url, {
        path: PATH,
        headers: { ...JSON_TYPE, authorization: `Bearer ${token}` },
        body,
      });
      assert.equal(right.status, 200);
      assert.equal(run.events.length, 2);
      const stats = run.stats();
      assert.equal(stats.rejected_missing_token, 1);
      assert.equal(stats.rejected_invalid_token, 1);
      assert.equal(stats.responses_401, 2);
      assert.ok(!JSON.stringify(stats).includes('s3cret'));
    } finally {
      await run.stop();
    }
  });

  it('serves HTTPS with the given key and certificate', async () => {
    const run = await start({ tls: { key, cert } });
    try {
      assert.match(run.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await request(run.url, {
        path: PATH,
        headers: JSON_TYPE,
        body: JSON.stringify(jsonRequest),
        ca: cert,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        run.events.map((e) => e.message),
        ['payment failed', '{"user":"ada","n":3}'],
      );
      await assert.rejects(
        request(run.url.replace('https:', 'http:'), { path: PATH, headers: JSON_TYPE, body: '{}' }),
        'plain HTTP is not served on a TLS port',
      );
    } finally {
      await run.stop();
    }
  });

  it('on stop, answers the request in flight once it is queued, then refuses connections', async () => {
    const run = await start({}, { buffer: { capacity: 1 }, pool: { maxWorkers: 1 } });
    try {
      const sent = await fillStalledSink(run, (i) => postRecord(run, i));
      // The buffer is full: this request waits in emit().
      const last = sent;
      const third = postRecord(run, last);
      await waitFor(() => run.stats().in_flight_requests === 1, 'the last request in flight');
      assert.equal(run.stats().events_in, last, 'the last request is not queued yet');
      // stop() fires `stopping` at once; the third request is past the receiver's checks.
      const stopped = run.pipeline.stop({ deadline: 10_000 });
      run.gate.open();
      const res = await third;
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, 'close');
      const result = await stopped;
      assert.equal(result.drained, true);
      assert.deepEqual(
        run.events.map((e) => e.message),
        Array.from({ length: sent + 1 }, (_, i) => `m${i}`),
      );
      await assert.rejects(
        new Promise((resolve, reject) =>
          http.get(`${run.url}${PATH}`, resolve).on('error', reject),
        ),
        /ECONNREFUSED/,
      );
    } finally {
      await run.stop();
    }
  });

  it('answers 503 with Retry-After when the pipeline has no room within emitTimeoutMs', async () => {
    const run = await start(
      { emitTimeoutMs: 200 },
      { buffer: { capacity: 1 }, pool: { maxWorkers: 1 } },
    );
    try {
      const sent = await fillStalledSink(run, (i) => postRecord(run, i));
      const held = run.stats().budget_used_bytes;
      const res = await postRecord(run, sent);
      assert.equal(res.status, 503);
      assert.match(String(res.headers['retry-after']), /^\d+$/);
      assert.match(JSON.parse(res.body.toString()).message, /^ERR_PIPELINE_FULL/);
      assert.equal(run.stats().rejected_pipeline_full, 1);
      assert.equal(run.stats().budget_used_bytes, held, 'the refused request holds nothing');
      run.gate.open();
      await waitFor(() => run.events.length === sent, 'the queued requests delivered');
      await waitFor(() => run.stats().budget_used_bytes === 0, 'the budget to drain');
    } finally {
      await run.stop();
    }
  });

  it('times out no waiting request before emitTimeoutMs, whether it shares a timer or not', async () => {
    const run = await start(
      { emitTimeoutMs: 300 },
      { buffer: { capacity: 1 }, pool: { maxWorkers: 1 } },
    );
    try {
      const sent = await fillStalledSink(run, (i) => postRecord(run, i));
      const timed = async (i: number) => {
        const began = performance.now();
        const res = await postRecord(run, i);
        return { status: res.status, waited: performance.now() - began };
      };
      // Two at once share one timer; one starting well past the slack (15 ms) gets its own.
      const together = [timed(sent), timed(sent + 1)];
      await delay(100);
      const answers = [...(await Promise.all(together)), await timed(sent + 2)];
      for (const { status, waited } of answers) {
        assert.equal(status, 503);
        assert.ok(waited >= 300, `answered after ${waited} ms, before emitTimeoutMs`);
      }
      assert.equal(run.stats().rejected_pipeline_full, 3);
      run.gate.open();
      await waitFor(() => run.events.length === sent, 'the queued requests delivered');
    } finally {
      await run.stop();
    }
  });

  it('releases the budget of a client that goes away mid-body', async () => {
    const run = await start();
    try {
      const req = http.request(`${run.url}${PATH}`, {
        method: 'POST',
        headers: { ...JSON_TYPE, 'content-length': 100_000 },
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(10_000, 0x20));
      await waitFor(() => (run.stats().bytes_in ?? 0) > 0, 'the first bytes read');
      assert.equal(run.stats().budget_used_bytes, 100_000, 'the declared size is reserved');
      req.destroy();
      await waitFor(() => run.stats().rejected_client_aborted === 1, 'the abort noticed');
      assert.equal(run.stats().budget_used_bytes, 0);
      assert.equal(run.stats().in_flight_requests, 0);
    } finally {
      await run.stop();
    }
  });
});
