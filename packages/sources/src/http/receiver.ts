/**
 * The HTTP receiver shared by the push sources (`otlp`, `http`): the server, its limits, the
 * byte budget, bounded body reading and inflation, bearer-token auth, TLS, error responses and
 * a graceful stop. A source only says which path and media types it serves, how a body becomes
 * events, and how its responses are encoded (a {@link ReceiverProtocol}).
 *
 * Behaviour under pressure — every request is refused as early as the protocol allows, and
 * nothing is answered 200 before it is in the pipeline:
 *
 * ```
 *  request ─▶ path/method ─▶ auth ─▶ media type ─▶ Content-Length > maxBodyBytes? ─▶ 413
 *                                                         │
 *                     budget has no room for Content-Length (or, chunked: is full)? ─▶ 429 + Retry-After
 *                                                         │        (nothing read, inflated or parsed)
 *   read ─▶ gunzip ─▶ each chunk raises the reservation to max(declared, read, inflated):
 *      │     read > maxBodyBytes ─▶ 413 · inflated > maxBodyBytes ─▶ 413 (stops inflating at once)
 *      │     budget filled meanwhile ─▶ 429
 *   decode ─▶ 400 (malformed) ─▶ await ctx.emit() per batch ─▶ queued: 200 · dropped/failed: 503
 *                                                                 │
 *   the reservation is released when every batch's acknowledgement settles (end to end)
 * ```
 *
 * Invariants:
 * - Bytes this receiver has let in and the pipeline has not acknowledged stay within
 *   `maxInFlightBytes`, except for one request larger than the whole budget while nothing
 *   else is held (as {@link IntakeBudget} allows, so it is not refused forever).
 * - A gzip body is inflated as it streams in and abandoned on the first output chunk past the
 *   limit: a bomb costs at most `maxBodyBytes` plus one zlib chunk of memory.
 * - Once a response is sent before the body was read in full, the rest of the body is read and
 *   discarded (at most `maxBodyBytes`, for at most two seconds) so that the client reads the
 *   response instead of a connection reset; past that the socket is destroyed.
 * - `run()` returns only after every request it accepted has been answered, so no `emit()`
 *   happens after the source has ended.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import {
  Acknowledgement,
  Counters,
  createEventBatch,
  IntakeBudget,
  type LogEvent,
  optionChecks,
  type Resource,
  type SourceContext,
  SpillwayError,
} from '@spillway/core';

/** Where a receiver listens, once it does. */
export interface ReceiverAddress {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:4318` or `https://…`; IPv6 hosts are bracketed. */
  readonly url: string;
}

/** TLS material for an HTTPS receiver (PEM strings or buffers). */
export interface ReceiverTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** CA certificates to trust for client certificates, if clients present any. */
  ca?: string | Buffer | (string | Buffer)[];
}

/** Options every HTTP push source takes. */
export interface HttpReceiverOptions {
  /** Interface to listen on. Default `127.0.0.1`; `0.0.0.0` or `::` to accept remote clients. */
  host?: string;
  /** TCP port; `0` picks a free one (tests), reported through `onListening`. */
  port?: number;
  /**
   * Largest request body in bytes, enforced on `Content-Length`, on the bytes read and on the
   * inflated size of a gzip body. Default 10 MiB. Above it: 413.
   */
  maxBodyBytes?: number;
  /**
   * Bytes accepted and not yet acknowledged end to end, at most (the {@link IntakeBudget}).
   * Default 64 MiB. Above it: 429 with `Retry-After`. Keep it below the bytes your buffers
   * hold, so that requests are refused rather than held waiting in `emit()`.
   */
  maxInFlightBytes?: number;
  /**
   * Bounds of the advised `Retry-After`, in seconds. Default 1 and 5: a client waits at most
   * this long before asking again, which keeps retries inside short client deadlines (the
   * OpenTelemetry JS exporter gives up at once when `Retry-After` exceeds what is left of its
   * 10 s export timeout).
   */
  retryAfterSec?: { min?: number; max?: number };
  /**
   * Require `Authorization: Bearer <token>`; compared in constant time, never logged or
   * echoed. Missing or wrong: 401.
   */
  authToken?: string;
  /** Serve HTTPS with this key and certificate. */
  tls?: ReceiverTlsOptions;
  /**
   * How long a request may wait in `emit()` for room in the pipeline before it is answered
   * 503 with `Retry-After`. Default 5000 ms (below common client timeouts, so the client hears
   * 503 rather than timing out). Requests share their timers, so the wait may run up to 5%
   * longer.
   */
  emitTimeoutMs?: number;
  /** Time to receive a whole request (headers and body); Node answers 408 after it. Default 30 s. */
  requestTimeoutMs?: number;
  /** Open connections at most; further ones are closed at once. Default 1024. */
  maxConnections?: number;
  /** Events per batch: a large request becomes several batches. Default 1024. */
  batchSize?: number;
  /** Called once the server listens, with the bound address (the way to learn a port-0 port). */
  onListening?: (address: ReceiverAddress) => void;
}

/** Stable codes of the ways a request is refused; each has a counter `rejected_<code>`. */
export type ReceiverErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_MISSING_TOKEN'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_UNSUPPORTED_ENCODING'
  | 'ERR_CONTENT_LENGTH_TOO_LARGE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_INFLATED_TOO_LARGE'
  | 'ERR_BATCH_TOO_LARGE'
  | 'ERR_BUDGET_EXHAUSTED'
  | 'ERR_INVALID_GZIP'
  | 'ERR_MALFORMED_BODY'
  | 'ERR_PIPELINE_FULL'
  | 'ERR_DROPPED'
  | 'ERR_UNAVAILABLE'
  | 'ERR_INTERNAL'
  | 'ERR_CLIENT_ABORTED';

const statusOf: Record<ReceiverErrorCode, number> = {
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_MISSING_TOKEN: 401,
  ERR_INVALID_TOKEN: 401,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_UNSUPPORTED_ENCODING: 415,
  ERR_CONTENT_LENGTH_TOO_LARGE: 413,
  ERR_BODY_TOO_LARGE: 413,
  ERR_INFLATED_TOO_LARGE: 413,
  ERR_BATCH_TOO_LARGE: 413,
  ERR_BUDGET_EXHAUSTED: 429,
  ERR_INVALID_GZIP: 400,
  ERR_MALFORMED_BODY: 400,
  ERR_PIPELINE_FULL: 503,
  ERR_DROPPED: 503,
  ERR_UNAVAILABLE: 503,
  ERR_INTERNAL: 500,
  // Never answered: the client is gone. 499 as nginx logs it.
  ERR_CLIENT_ABORTED: 499,
};

/**
 * Why a request was refused: a stable `code`, the HTTP `status` it is answered with, and for
 * 400s the offending `field` (e.g. `resourceLogs[0].scopeLogs[0].logRecords[3].timeUnixNano`).
 * Protocols throw it from `decode()` for bodies that cannot be decoded.
 */
export class ReceiverError extends Error {
  readonly code: ReceiverErrorCode;
  readonly status: number;
  /** The path of the field at fault, for malformed bodies. */
  readonly field: string | undefined;
  /** Seconds the client should wait before retrying (429 and 503). */
  retryAfterSec: number | undefined;

  constructor(
    code: ReceiverErrorCode,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReceiverError';
    this.code = code;
    this.status = statusOf[code];
    this.field = options.field;
  }
}

/** What a protocol makes of a body: the events to emit and the records it refused. */
export interface DecodedBody {
  readonly events: LogEvent[];
  /** Records refused one by one (the rest is accepted): reported as a partial success. */
  readonly rejected: number;
  /** Why, one sentence per rejected record, the first few only (a response stays small). */
  readonly rejections: readonly string[];
}

/** What a 200 reports: events queued, records rejected one by one and why. */
export interface SuccessOutcome {
  readonly accepted: number;
  readonly rejected: number;
  readonly rejections: readonly string[];
}

/** A response body and its media type. */
export interface Reply {
  readonly contentType: string;
  readonly body: Uint8Array | string;
}

/**
 * What a push source adds to the receiver: where it listens, which media types it reads, how a
 * body becomes events and how its responses are encoded.
 */
export interface ReceiverProtocol<E extends string> {
  /** The one path served, e.g. `/v1/logs`; other paths are 404. */
  readonly path: string;
  /** The body encoding for a media type (lower case, without parameters); undefined: 415. */
  encodingFor(mediaType: string): E | undefined;
  /** Throws a {@link ReceiverError} (`ERR_MALFORMED_BODY`) for a body it cannot decode. */
  decode(body: Buffer, encoding: E): DecodedBody;
  /** The 200 response once every event is queued (`rejected` > 0: a partial success). */
  success(encoding: E, outcome: SuccessOutcome): Reply;
  /** An error response; `encoding` is undefined when the media type was not understood. */
  failure(encoding: E | undefined, error: ReceiverError): Reply;
}

const MiB = 1024 * 1024;
const DEFAULTS = {
  host: '127.0.0.1',
  maxBodyBytes: 10 * MiB,
  maxInFlightBytes: 64 * MiB,
  retryAfterMin: 1,
  retryAfterMax: 5,
  emitTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
  maxConnections: 1024,
  batchSize: 1024,
};
/** How much later than `emitTimeoutMs` a request may be timed out (see `SharedTimeout`). */
const TIMEOUT_SLACK = 0.05;
/** The `Content-Encoding`s read: none, or gzip. */
const CONTENT_ENCODINGS: ReadonlySet<string> = new Set(['identity', '', 'gzip', 'x-gzip']);
/** How long a refused request's remaining body is drained before the socket is destroyed. */
const LINGER_MS = 2000;

/** Every problem with the receiver options, as sentences (shared by the sources' `validate`). */
export function validateReceiverOptions(o: HttpReceiverOptions): string[] {
  const problems: string[] = [];
  const check = optionChecks(problems);
  check.integerBetween('port', o.port, 0, 65535);
  check.nonEmptyString('host', o.host);
  check.positiveInteger('maxBodyBytes', o.maxBodyBytes);
  check.positiveInteger('maxInFlightBytes', o.maxInFlightBytes);
  check.positiveInteger('emitTimeoutMs', o.emitTimeoutMs);
  check.positiveInteger('requestTimeoutMs', o.requestTimeoutMs);
  check.positiveInteger('maxConnections', o.maxConnections);
  check.positiveInteger('batchSize', o.batchSize);
  const min = o.retryAfterSec?.min ?? DEFAULTS.retryAfterMin;
  const max = o.retryAfterSec?.max ?? DEFAULTS.retryAfterMax;
  if (!(Number.isInteger(min) && min >= 0 && Number.isInteger(max) && max >= min)) {
    problems.push('retryAfterSec must have integer bounds with 0 ≤ min ≤ max');
  }
  check.nonEmptyString('authToken', o.authToken);
  if (o.tls !== undefined && (!o.tls.key || !o.tls.cert)) {
    problems.push('tls needs both key and cert');
  }
  return problems;
}

/**
 * The port a receiver claims, for clash checks before anything starts. Port 0 claims nothing:
 * each such receiver gets its own free port.
 */
export function receiverResources(o: HttpReceiverOptions, defaultPort: number): Resource[] {
  const port = o.port ?? defaultPort;
  return port === 0 ? [] : [{ kind: 'port', id: `tcp:${o.host ?? DEFAULTS.host}:${port}` }];
}

/**
 * A request's share of the intake budget. It starts at the declared `Content-Length` and is
 * raised as bytes are read and inflated, so it covers max(declared, read, inflated); it is
 * released once, either at once (the request failed before its events were queued) or when the
 * acknowledgement of its batches settles.
 */
class Reservation {
  readonly #budget: IntakeBudget;
  #held = 0;
  #released = false;

  constructor(budget: IntakeBudget) {
    this.#budget = budget;
  }

  /** Raises the reservation to `total` bytes; false when the budget has no room left. */
  raiseTo(total: number): boolean {
    const extra = total - this.#held;
    if (extra <= 0 || this.#released) return true;
    const budget = this.#budget;
    // Alone in the budget and past its bound: admit, as an empty budget admits any request, so
    // a request larger than the whole budget (but within the body limit) can ever get through.
    // The excess is not counted; the bound is then maxInFlightBytes + one body.
    if (this.#held > 0 && budget.usedBytes === this.#held && this.#held + extra > budget.maxBytes) {
      return true;
    }
    if (!budget.tryReserve(extra)) return false;
    this.#held += extra;
    return true;
  }

  /** The request failed before its data entered the pipeline: not counted as drained. */
  refund(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#held > 0) this.#budget.refund(this.#held);
  }

  releaseOnSettle(ack: Acknowledgement): void {
    ack.onSettled(() => {
      if (this.#released) return;
      this.#released = true;
      if (this.#held > 0) this.#budget.release(this.#held);
    });
  }
}

/**
 * Timeout signals shared by the requests that start waiting within the same slice of time: an
 * `AbortController` and a timer per request cost several microseconds in Node 20, a measurable
 * share of a small request. A shared signal fires no earlier than the deadline of any request
 * given it, and at most {@link TIMEOUT_SLACK} of the timeout later.
 *
 * ```
 *   controller made at c ── shared by requests starting in [c, c + slack] ── fires at c + ms + slack
 * ```
 */
class SharedTimeout {
  readonly #ms: number;
  readonly #slack: number;
  #current: AbortController | undefined;
  /** The last start time that may still share `#current`. */
  #shareUntil = 0;

  constructor(ms: number) {
    this.#ms = ms;
    this.#slack = Math.ceil(ms * TIMEOUT_SLACK);
  }

  /** A signal that aborts between `ms` and `ms` + slack from now. */
  signal(): AbortSignal {
    const now = performance.now();
    if (this.#current === undefined || now > this.#shareUntil) {
      const controller = new AbortController();
      // Every request parked in `emit()` listens to it: as many as the receiver lets in.
      setMaxListeners(0, controller.signal);
      // Unreferenced: requests that finish waiting leave it behind, and it must not hold a
      // stopping process open.
      setTimeout(() => controller.abort(), this.#ms + this.#slack).unref();
      this.#current = controller;
      this.#shareUntil = now + this.#slack;
    }
    return this.#current.signal;
  }
}

interface ResolvedOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  emitTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  batchSize: number;
  tokenDigest: Buffer | undefined;
  tls: ReceiverTlsOptions | undefined;
  onListening: ((address: ReceiverAddress) => void) | undefined;
}

/** The constant-time comparison works on fixed-length digests, so a token's length leaks nothing. */
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The running receiver behind an HTTP push source: build one per source instance, expose
 * `stats()`, and call `run(ctx)` from the source's `run`.
 *
 * Gotchas: one receiver serves one `run()`; the budget and counters live as long as it does.
 */
export class HttpReceiver<E extends string> {
  readonly #o: ResolvedOptions;
  readonly #protocol: ReceiverProtocol<E>;
  readonly #budget: IntakeBudget;
  readonly #emitTimeout: SharedTimeout;
  readonly #counters = new Counters();
  #inFlight = 0;
  #whenIdle: (() => void) | undefined;
  #stopping = false;

  constructor(options: HttpReceiverOptions, defaultPort: number, protocol: ReceiverProtocol<E>) {
    this.#protocol = protocol;
    this.#o = {
      host: options.host ?? DEFAULTS.host,
      port: options.port ?? defaultPort,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      emitTimeoutMs: options.emitTimeoutMs ?? DEFAULTS.emitTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      tokenDigest: options.authToken === undefined ? undefined : digest(options.authToken),
      tls: options.tls,
      onListening: options.onListening,
    };
    this.#emitTimeout = new SharedTimeout(this.#o.emitTimeoutMs);
    this.#budget = new IntakeBudget({
      maxBytes: options.maxInFlightBytes ?? DEFAULTS.maxInFlightBytes,
      minRetryAfterSec: options.retryAfterSec?.min ?? DEFAULTS.retryAfterMin,
      maxRetryAfterSec: options.retryAfterSec?.max ?? DEFAULTS.retryAfterMax,
    });
  }

  /**
   * Counters (`requests`, `responses_<status>`, `rejected_<code>`, `bytes_in` read from the
   * wire, `bytes_inflated`, `bytes_discarded`, `events_in` queued, `records_rejected` in partial
   * successes, `server_errors`, `tls_handshake_errors`) and gauges (`in_flight_requests`,
   * `budget_used_bytes`, `budget_max_bytes`, `budget_drain_bytes_per_sec`).
   */
  stats(): Record<string, unknown> {
    const budget = this.#budget.stats();
    return {
      ...this.#counters.toJSON(),
      in_flight_requests: this.#inFlight,
      budget_used_bytes: budget.usedBytes,
      budget_max_bytes: budget.maxBytes,
      budget_drain_bytes_per_sec: budget.drainBytesPerSec,
    };
  }

  /** Listens until `ctx.stopping` fires, then stops accepting and answers what is in flight. */
  async run(ctx: SourceContext): Promise<void> {
    if (ctx.stopping.aborted) return;
    const o = this.#o;
    const serverOptions: http.ServerOptions = {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: Math.min(60_000, o.requestTimeoutMs),
      keepAliveTimeout: 5000,
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) =>
      void this.#serve(ctx, req, res, false);
    const server = o.tls
      ? https.createServer({ ...serverOptions, ...o.tls }, onRequest)
      : http.createServer(serverOptions, onRequest);
    // With this listener Node no longer answers `Expect: 100-continue` by itself: a request we
    // refuse up front never makes the client send its body.
    server.on('checkContinue', (req, res) => void this.#serve(ctx, req, res, true));
    server.maxConnections = o.maxConnections;

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Past listening, a server error (e.g. accept failing with EMFILE) must not crash the
    // process: count it and warn; the connections already open carry on.
    server.on('error', (err) => {
      this.#counters.add('server_errors');
      process.emitWarning(err);
    });
    // Failed TLS handshakes never become requests; count them so a misconfigured client shows.
    server.on('tlsClientError', () => this.#counters.add('tls_handshake_errors'));
    const bound = server.address() as AddressInfo;
    const hostForUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    o.onListening?.({
      host: bound.address,
      port: bound.port,
      url: `${o.tls ? 'https' : 'http'}://${hostForUrl}:${bound.port}`,
    });

    await new Promise<void>((resolve) => {
      if (ctx.stopping.aborted) resolve();
      else ctx.stopping.addEventListener('abort', () => resolve(), { once: true });
    });
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A hard stop cuts the connections still open; their emits are aborted by ctx.signal.
    const onHard = () => server.closeAllConnections();
    ctx.signal.addEventListener('abort', onHard, { once: true });
    try {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#whenIdle = resolve));
      server.closeAllConnections();
      await closed;
    } finally {
      ctx.signal.removeEventListener('abort', onHard);
    }
  }

  async #serve(
    ctx: SourceContext,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    expectContinue: boolean,
  ): Promise<void> {
    this.#inFlight++;
    this.#counters.add('requests');
    // Known before any check, so that every answer is in the request's own encoding.
    const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    const encoding = this.#protocol.encodingFor(mediaType);
    let reservation: Reservation | undefined;
    let continued = false;
    try {
      const admitted = this.#admit(req, mediaType, encoding);
      reservation = this.#reserve(req);
      if (expectContinue) {
        res.writeContinue();
        continued = true;
      }
      const body = await this.#readBody(req, reservation);
      const decoded = this.#protocol.decode(body, admitted);
      const accepted = await this.#emit(ctx, decoded.events, reservation);
      if (decoded.rejected > 0) this.#counters.add('records_rejected', decoded.rejected);
      const reply = this.#protocol.success(admitted, {
        accepted,
        rejected: decoded.rejected,
        rejections: decoded.rejections,
      });
      this.#send(res, 200, reply);
    } catch (err) {
      reservation?.refund();
      const error =
        err instanceof ReceiverError
          ? err
          : new ReceiverError('ERR_INTERNAL', 'the receiver failed to handle the request', {
              cause: err,
            });
      this.#counters.add(`rejected_${error.code.slice(4).toLowerCase()}`);
      // A bug, not a client's fault: make it visible, as the pipeline does for stage failures.
      if (error.code === 'ERR_INTERNAL') process.emitWarning(error);
      if (error.code === 'ERR_CLIENT_ABORTED' || res.headersSent || req.socket.destroyed) return;
      const headers: Record<string, string> = {};
      if (error.retryAfterSec !== undefined) headers['retry-after'] = String(error.retryAfterSec);
      if (error.code === 'ERR_METHOD_NOT_ALLOWED') headers.allow = 'POST';
      if (error.status === 401) headers['www-authenticate'] = 'Bearer';
      // The client of an `Expect: 100-continue` request refused up front never sends its body,
      // so the connection cannot carry another request.
      if (expectContinue && !continued) headers.connection = 'close';
      this.#send(res, error.status, this.#protocol.failure(encoding, error), headers);
      if (!expectContinue || continued) this.#discardRest(req);
    } finally {
      if (--this.#inFlight === 0) this.#whenIdle?.();
    }
  }

  /** The checks that need no body: state, path, method, token, media type, encoding. */
  #admit(req: http.IncomingMessage, mediaType: string, encoding: E | undefined): E {
    if (this.#stopping) throw new ReceiverError('ERR_UNAVAILABLE', 'the receiver is stopping');
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== this.#protocol.path) {
      throw new ReceiverError('ERR_NOT_FOUND', `no such path; send to ${this.#protocol.path}`);
    }
    if (req.method !== 'POST') {
      throw new ReceiverError('ERR_METHOD_NOT_ALLOWED', `method ${req.method} is not allowed`);
    }
    const expected = this.#o.tokenDigest;
    if (expected) {
      const header = req.headers.authorization;
      if (header === undefined) {
        throw new ReceiverError('ERR_MISSING_TOKEN', 'a bearer token is required');
      }
      const match = /^bearer\s+(.+)$/i.exec(header.trim());
      // Never echo or log the presented value.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        throw new ReceiverError('ERR_INVALID_TOKEN', 'the bearer token is not valid');
      }
    }
    if (encoding === undefined) {
      throw new ReceiverError(
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        `content type "${mediaType}" is not supported`,
      );
    }
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!CONTENT_ENCODINGS.has(contentEncoding)) {
      throw new ReceiverError(
        'ERR_UNSUPPORTED_ENCODING',
        `content encoding "${contentEncoding}" is not supported; use gzip or none`,
      );
    }
    return encoding;
  }

  /** Refuses by size or budget before a byte of the body is read. */
  #reserve(req: http.IncomingMessage): Reservation {
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    const limit = this.#o.maxBodyBytes;
    if (length !== undefined && length > limit) {
      throw new ReceiverError(
        'ERR_CONTENT_LENGTH_TOO_LARGE',
        `Content-Length ${length} is above the limit of ${limit} bytes`,
      );
    }
    const budget = this.#budget;
    const reservation = new Reservation(budget);
    // A chunked body declares no size: it is refused only when the budget is already full,
    // and then charged chunk by chunk as it arrives.
    const admitted =
      length === undefined ? budget.usedBytes < budget.maxBytes : reservation.raiseTo(length);
    if (!admitted) throw this.#busy('ERR_BUDGET_EXHAUSTED', length ?? 0);
    return reservation;
  }

  #busy(code: 'ERR_BUDGET_EXHAUSTED' | 'ERR_PIPELINE_FULL', bytes: number): ReceiverError {
    const error = new ReceiverError(
      code,
      code === 'ERR_BUDGET_EXHAUSTED'
        ? 'the receiver has too much data in flight; retry later'
        : 'the pipeline has no room; retry later',
    );
    error.retryAfterSec = this.#budget.retryAfterSec(bytes);
    return error;
  }

  /**
   * Reads the body, inflating gzip as it streams in. Stops at the first chunk past the limit
   * (read or inflated) or that the budget has no room for; never holds more than the limit.
   */
  #readBody(req: http.IncomingMessage, reservation: Reservation): Promise<Buffer> {
    const limit = this.#o.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    const gunzip = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : undefined;
    const counters = this.#counters;
    // A plain body of a declared size is copied once, into its final buffer; Node's parser
    // never delivers more than Content-Length bytes, and the size is already within the limit
    // and the reservation. Gzip and chunked bodies collect their chunks and join them once.
    const whole = !gunzip && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let read = 0;
    let inflated = 0;
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      const finish = (error: ReceiverError | undefined) => {
        if (settled) return;
        settled = true;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('close', onClose);
        if (gunzip) {
          gunzip.off('data', onInflated);
          gunzip.destroy();
        }
        if (error) reject(error);
        else if (whole) resolve(whole.subarray(0, read));
        else resolve(Buffer.concat(chunks, gunzip ? inflated : read));
      };
      const charge = () => {
        if (!reservation.raiseTo(Math.max(declared, read, inflated))) {
          finish(this.#busy('ERR_BUDGET_EXHAUSTED', 0));
          return false;
        }
        return true;
      };
      const onData = (chunk: Buffer) => {
        const at = read;
        read += chunk.length;
        counters.add('bytes_in', chunk.length);
        if (read > limit) {
          finish(new ReceiverError('ERR_BODY_TOO_LARGE', `body is above ${limit} bytes`));
          return;
        }
        if (!charge()) return;
        if (whole) chunk.copy(whole, at);
        else if (!gunzip) chunks.push(chunk);
        else if (!gunzip.write(chunk)) {
          // Inflation is behind: stop reading the socket until it catches up.
          req.pause();
          gunzip.once('drain', () => req.resume());
        }
      };
      const onInflated = (chunk: Buffer) => {
        inflated += chunk.length;
        counters.add('bytes_inflated', chunk.length);
        if (inflated > limit) {
          // Destroying the stream here stops zlib before its next output chunk.
          finish(
            new ReceiverError('ERR_INFLATED_TOO_LARGE', `inflated body is above ${limit} bytes`),
          );
          return;
        }
        if (charge()) chunks.push(chunk);
      };
      const onEnd = () => {
        if (gunzip) gunzip.end();
        else finish(undefined);
      };
      const onClose = () => {
        if (!req.complete) {
          finish(new ReceiverError('ERR_CLIENT_ABORTED', 'the client went away mid-body'));
        }
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('close', onClose);
      if (gunzip) {
        gunzip.on('data', onInflated);
        gunzip.once('end', () => finish(undefined));
        gunzip.once('error', (err) =>
          finish(new ReceiverError('ERR_INVALID_GZIP', `invalid gzip body: ${err.message}`)),
        );
      }
    });
  }

  /**
   * Emits the events in batches of `batchSize` that share one acknowledgement; resolves with
   * the number queued. Throws (503/413) when a batch is dropped, times out or fails: batches
   * not yet sent are settled as dropped so the acknowledgement still settles and the
   * reservation is released.
   */
  async #emit(
    ctx: SourceContext,
    events: readonly LogEvent[],
    reservation: Reservation,
  ): Promise<number> {
    if (events.length === 0) {
      reservation.refund();
      return 0;
    }
    const size = this.#o.batchSize;
    const ack = new Acknowledgement();
    const batches = [];
    for (let i = 0; i < events.length; i += size) {
      // A request that fits one batch hands its events over as they are, uncopied.
      const slice = events.length <= size ? events : events.slice(i, i + size);
      batches.push(createEventBatch({ source: ctx.name, events: slice, ack }));
    }
    if (batches.length > 1) ack.retain(batches.length - 1);
    reservation.releaseOnSettle(ack);
    // Not joined with ctx.signal here: `ctx.emit` joins it with the hard stop already.
    const timeout = this.#emitTimeout.signal();
    for (let i = 0; i < batches.length; i++) {
      let failure: ReceiverError | undefined;
      try {
        if ((await ctx.emit(batches[i]!, timeout)) === 'dropped') {
          failure = new ReceiverError('ERR_DROPPED', 'the pipeline dropped the data; retry later');
          failure.retryAfterSec = this.#budget.retryAfterSec(0);
        }
      } catch (err) {
        if (SpillwayError.is(err, 'ERR_ITEM_TOO_LARGE')) {
          failure = new ReceiverError(
            'ERR_BATCH_TOO_LARGE',
            'a batch of this request is larger than a pipeline buffer; send smaller requests',
            { cause: err },
          );
        } else if (timeout.aborted && !ctx.signal.aborted) {
          failure = this.#busy('ERR_PIPELINE_FULL', 0);
        } else {
          failure = new ReceiverError('ERR_UNAVAILABLE', 'the pipeline is shutting down', {
            cause: err,
          });
        }
      }
      if (failure) {
        for (let j = i + 1; j < batches.length; j++) ack.settle('dropped', 'http:request_failed');
        throw failure;
      }
      this.#counters.add('events_in', batches[i]!.count);
    }
    return events.length;
  }

  #send(
    res: http.ServerResponse,
    status: number,
    reply: Reply,
    headers: Record<string, string> = {},
  ): void {
    this.#counters.add(`responses_${status}`);
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    if (this.#stopping) headers.connection = 'close';
    headers['content-type'] = reply.contentType;
    headers['content-length'] = String(body.byteLength);
    res.writeHead(status, headers);
    res.end(body);
  }

  /**
   * After an early answer, reads and drops what is left of the body so that the client reads
   * the answer rather than a reset; at most `maxBodyBytes`, for at most LINGER_MS.
   */
  #discardRest(req: http.IncomingMessage): void {
    if (req.complete || req.socket.destroyed) return;
    const socket = req.socket;
    let discarded = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    const stop = () => clearTimeout(timer);
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      this.#counters.add('bytes_discarded', chunk.length);
      if (discarded > this.#o.maxBodyBytes) socket.destroy();
    });
    req.once('end', stop);
    req.once('close', stop);
    req.resume();
  }
}
