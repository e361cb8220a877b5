// The official OpenTelemetry JS OTLP/HTTP log exporters (JSON and protobuf, the latter gzip-
// compressed) against the otlp source while its sink is stalled: the receiver answers 429 with
// Retry-After from its byte budget, the exporter backs off and retries on its own, and once the
// sink recovers every record arrives exactly once, in order.
//
// What the exporter does on 429 (@opentelemetry/otlp-exporter-base 0.223.1,
// build/src/retrying-transport.js and is-export-retryable.js): 429, 502, 503 and 504 are
// retryable; `Retry-After` is honoured (seconds or an HTTP date) and replaces the backoff; at
// most 5 retries after the first attempt; it stops early when the next wait would pass the
// export timeout (10 s by default). Without Retry-After it backs off 1 s × 1.5ⁿ ±20 %, capped 5 s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { otlp } from '../src/http/otlp.js';
import { OTEL_TIME_MS, otelRecords, runSource } from './http-fixtures.js';
import { waitFor } from './support.js';

type Exporter = JsonExporter | ProtoExporter;

/** `SUCCESS` of @opentelemetry/core. */
const SUCCESS = 0;

/** `exporter.export()` as a promise of its result code (the callback the SDK processors use). */
const exportAll = (exporter: Exporter, records: ReadableLogRecord[]) =>
  new Promise<number>((resolve) => exporter.export(records, (r) => resolve(r.code)));

const cases: { name: string; make: (url: string) => Exporter }[] = [
  { name: 'OTLP/HTTP JSON', make: (url) => new JsonExporter({ url }) },
  {
    name: 'OTLP/HTTP protobuf, gzip',
    make: (url) => new ProtoExporter({ url, compression: CompressionAlgorithm.GZIP }),
  },
];

describe('otlp source with the OpenTelemetry exporters', () => {
  for (const { name, make } of cases) {
    it(`${name}: 429 while the sink is stalled, every record after it recovers`, async () => {
      // A 1-byte budget: while one request's data is unacknowledged, every other is refused.
      // Retry-After is pinned to 1 s so the exporter's retries fit its 10 s export timeout.
      const run = await runSource((onListening) =>
        otlp({ port: 0, maxInFlightBytes: 1, retryAfterSec: { min: 1, max: 1 }, onListening }),
      );
      const exporter = make(`${run.url}/v1/logs`);
      try {
        run.gate.close();
        const first = await otelRecords(5);
        assert.equal(await exportAll(exporter, first), SUCCESS);
        assert.equal(run.events.length, 0, 'accepted (queued) while the sink is stalled');

        const second = exportAll(exporter, await otelRecords(5, { first: 5 }));
        // The exporter must retry on its own: wait for two refusals before letting the sink go.
        await waitFor(() => (run.stats().rejected_budget_exhausted ?? 0) >= 2, 'two 429s');
        run.gate.open();
        assert.equal(await second, SUCCESS);

        assert.deepEqual(
          run.events.map((e) => [e.timestamp, e.message, e.severity]),
          Array.from({ length: 10 }, (_, i) => [OTEL_TIME_MS + i, `record ${i}`, 'warn']),
        );
        assert.deepEqual(
          run.events.map((e) => e.attributes!.i),
          Array.from({ length: 10 }, (_, i) => i),
        );
        assert.equal(run.events[9]!.attributes!['resource.service.name'], 'checkout');
        assert.equal(run.events[9]!.attributes!['http.route'], '/items');
        const stats = run.stats();
        const refused = stats.rejected_budget_exhausted!;
        assert.equal(stats.responses_429, refused);
        assert.equal(stats.responses_200, 2);
        assert.equal(stats.requests, 2 + refused, 'each refusal was followed by a retry');
        assert.ok(refused <= 5, 'within the exporter’s retry limit');
        assert.equal(stats.events_in, 10);
      } finally {
        await exporter.shutdown();
        await run.stop();
      }
    });
  }
});
