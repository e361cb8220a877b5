// Shared by the HTTP receiver tests: a receiver run by `startListening` (support.ts) with the
// handles these tests use, a raw HTTP(S) client with full control of headers and body chunks, a
// way to stall the sink with its buffer full, and log records as the OpenTelemetry SDK makes
// them. Real sockets on 127.0.0.1; no mocks.
import http from 'node:http';
import https from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import type {
  BufferSpec,
  LogEvent,
  OutputPoolOptions,
  Pipeline,
  SourceDefinition,
} from '@spillway/core';
import type { ReceiverAddress } from '../src/http/receiver.js';
import { type Gate, startListening, statsOf, waitFor } from './support.js';

export interface Running {
  readonly pipeline: Pipeline;
  readonly address: ReceiverAddress;
  readonly url: string;
  /** Events the sink has written, in order. */
  readonly events: LogEvent[];
  readonly gate: Gate;
  /** The source's metrics entry (its counters and `stats()`). */
  stats(): Record<string, number>;
  /** Another metrics entry, e.g. `out.in` (the sink's buffer) or `out.pool`. */
  entry(id: string): Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts `source(onListening)` → `collect` behind `gate` in a pipeline and resolves once the
 * receiver listens. The source must pass `onListening` on to its options.
 */
export async function runSource(
  source: (onListening: (address: ReceiverAddress) => void) => SourceDefinition,
  sink: { buffer?: BufferSpec; pool?: OutputPoolOptions } = {},
): Promise<Running> {
  const { pipeline, got, gate, address } = await startListening('in', source, {
    buffer: sink.buffer ?? { capacity: 16 },
    pool: sink.pool ?? {},
  });
  const entry = (id: string) => statsOf(pipeline, id) as Record<string, number>;
  return {
    pipeline,
    address,
    url: address.url,
    events: got.events,
    gate,
    stats: () => entry('in'),
    entry,
    async stop() {
      gate.open();
      await pipeline.stop({ deadline: 5000 });
    },
  };
}

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** One buffer (sent with a Content-Length unless the headers say otherwise) or chunks (chunked). */
  body?: Buffer | string | Buffer[];
  /** Trusted CA for HTTPS. */
  ca?: string | Buffer;
}

/**
 * One request on a fresh connection; resolves with the response. Errors after the response
 * has arrived (the server closing on a refused body) are ignored: the answer is what counts.
 */
export function request(base: string, o: RequestOptions): Promise<Response> {
  const url = new URL(o.path, base);
  const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  const headers: Record<string, string | number> = { ...o.headers };
  if (Buffer.isBuffer(body) && !hasHeader(headers, 'content-length')) {
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const options = { method: o.method ?? 'POST', headers, agent: false as const };
    const onResponse = (res: http.IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...options, ...(o.ca ? { ca: o.ca } : {}) }, onResponse)
        : http.request(url, options, onResponse);
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (Array.isArray(body)) {
      // Chunked: write while the server reads; stop once it has answered.
      void (async () => {
        for (const chunk of body) {
          if (answered || req.destroyed) break;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })();
    } else req.end(body);
  });
}

const hasHeader = (headers: Record<string, unknown>, name: string) =>
  Object.keys(headers).some((k) => k.toLowerCase() === name);

/**
 * With the gate closed and a sink of one worker behind a one-batch buffer, sends requests
 * (each must be answered 200: queued) until the buffer is full, so that the next request waits
 * in `emit()`. Returns how many were sent.
 */
export async function fillStalledSink(run: Running, send: (i: number) => Promise<Response>) {
  run.gate.close();
  let sent = 0;
  while ((run.entry('out.in').depth ?? 0) < (run.entry('out.in').capacity ?? 1)) {
    const res = await send(sent++);
    if (res.status !== 200) throw new Error(`request ${sent - 1} was answered ${res.status}`);
    await waitFor(() => run.entry('out.pool').busy === 1, 'the worker to take a batch');
    await delay(20); // lets the sink's dispatcher pull what it can, so `depth` is settled
  }
  return sent;
}

/** Log records as the OpenTelemetry SDK makes them, for its exporters and serializers. */
export async function otelRecords(
  count: number,
  options: { first?: number; bodyOf?: (i: number) => string } = {},
): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('spillway-test', '1.2.3');
  const first = options.first ?? 0;
  for (let i = first; i < first + count; i++) {
    logger.emit({
      timestamp: OTEL_TIME_MS + i,
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: options.bodyOf?.(i) ?? `record ${i}`,
      attributes: { i, 'http.route': '/items' },
    });
  }
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return [...records];
}

/** The `timestamp` of `otelRecords()` record `i` is `OTEL_TIME_MS + i`. */
export const OTEL_TIME_MS = 1_700_000_000_000;
