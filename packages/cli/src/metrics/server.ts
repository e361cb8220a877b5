/**
 * The metrics endpoint: `GET /metrics` (Prometheus text format, see docs/metrics.md) and
 * `GET /health` (JSON), on a plain node:http server.
 *
 * Each request reads the pipeline the accessor returns at that moment, so a config reload that
 * swaps the pipeline needs nothing from this server: the next scrape shows the new one, and
 * between two pipelines `/metrics` has no samples and `/health` answers 503.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pipeline } from '@spillway/core';
import { healthOf } from './health.js';
import { type PipelineReading, readPipeline } from './pipeline-reading.js';
import { PrometheusExporter } from './prometheus.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The pipeline to report on now; `undefined` while none is loaded (between two reloads). */
  pipeline: () => Pipeline | undefined;
  /** Interface to listen on, e.g. `127.0.0.1` or `0.0.0.0`. */
  host: string;
  /** 0 picks a free port (read it from `url`). */
  port: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/** A running metrics server. */
export interface MetricsServer {
  /** `http://<address>:<port>`, the address and port actually bound. */
  readonly url: string;
  /** Stops listening and ends open connections; resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** How long `close()` lets a scrape in progress finish before cutting its connection. */
const CLOSE_GRACE_MS = 1000;

/**
 * Serves `GET /metrics` and `GET /health` for whatever pipeline `pipeline()` returns.
 *
 * - `/metrics`: every `spillway_*` metric of docs/metrics.md, read from one metrics snapshot per
 *   scrape. 200 always; without a pipeline, the metric families without samples.
 * - `/health`: `{ status, sinks }` (see `healthOf`): 200 when `ready` or `degraded`, 503 when
 *   `down` or when no pipeline is loaded.
 * - `HEAD` works as `GET`; other methods get 405, other paths 404.
 *
 * When to use: `spillway run --metrics <host:port>`, or next to a pipeline run from code.
 *
 * Gotchas: rejects with the listen error (`EADDRINUSE`, `EACCES`) when the port cannot be had,
 * and with the signal's reason when `signal` is already aborted. No authentication: bind it to
 * an address only the scraper reaches.
 *
 * @example
 * ```ts
 * const server = await startMetricsServer({ pipeline: () => pipeline, host: '127.0.0.1', port: 9464 });
 * // curl http://127.0.0.1:9464/metrics
 * await server.close();
 * ```
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  o.signal?.throwIfAborted();
  const exporter = new PrometheusExporter();

  const read = (): PipelineReading | undefined => {
    const pipeline = o.pipeline();
    return pipeline ? readPipeline(pipeline.metrics.snapshot()) : undefined;
  };

  const respond = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/health')
      return send(res, 404, 'text/plain', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'method not allowed\n');
    }
    try {
      const reading = read();
      if (path === '/metrics') {
        return send(res, 200, exporter.contentType, await exporter.scrape(reading));
      }
      const report = healthOf(reading);
      const body = `${JSON.stringify(report)}\n`;
      return send(res, report.status === 'down' ? 503 : 200, 'application/json', body);
    } catch (err) {
      // A stats reader that throws is a bug in a stage; the scraper sees a 500, the process lives.
      return send(res, 500, 'text/plain', `metrics unavailable: ${String(err)}\n`);
    }
  };

  const server = http.createServer(
    { requestTimeout: 10_000, headersTimeout: 10_000 },
    (req, res) => {
      respond(req, res).catch(() => res.destroy());
    },
  );
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      o.signal?.removeEventListener('abort', close);
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
    });
    return closed;
  };
  o.signal?.addEventListener('abort', close, { once: true });

  server.listen({ host: o.host, port: o.port });
  try {
    await once(server, 'listening');
  } catch (err) {
    o.signal?.removeEventListener('abort', close);
    throw err;
  }
  if (o.signal?.aborted) {
    // Aborted while binding: close() ran before there was anything to close.
    server.close();
    throw o.signal.reason;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
