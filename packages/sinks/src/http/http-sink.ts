/**
 * The HTTP sink: records from many batches gathered into requests (per tenant when the sink is
 * multi-tenant), encoded, gzipped off the main thread, and sent through undici with honest
 * retries.
 *
 * ```
 *  write(batch) ─▶ ticket ─▶ chunks ─▶ batcher (events, bytes, linger; per tenant)
 *                                         │ flush
 *                                         ▼
 *        health gate (down: one probe at a time) ─▶ concurrency limit (AIMD) ─▶ undici
 *                                         │
 *   2xx ─▶ delivered (per-item failures: 429/5xx items retried, the rest dead-lettered)
 *   413 ─▶ split in half, each half sent on its own
 *   408/429/5xx/reset/timeout ─▶ backoff with full jitter, Retry-After as floor, retry budget;
 *        attempts or time used up ─▶ `requeue`: back to the sink's buffer (disk when it spills)
 *   other 4xx, 501 ─▶ dead letters (NDJSON on disk), nothing retried
 * ```
 *
 * Every request carries the id of the batch it came from (`x-spillway-batch-id`): the same id
 * on every retry, so a backend or a proxy can drop duplicates.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import {
  type Batch,
  type BatchPayload,
  type BuildContext,
  Counters,
  defineSink,
  eventsOf,
  type LogEvent,
  optionChecks,
  type Sink,
  SpillwayError,
  sleep,
} from '@spillway/core';
import { DeadLetterFile } from '@spillway/disk-buffer';
import type { Dispatcher } from 'undici';
import { BATCH_DEFAULTS, Batcher, type BatchLimits } from '../delivery/batcher.js';
import { ConcurrencyLimiter, type ConcurrencyOption } from '../delivery/concurrency.js';
import { type HealthOptions, SinkHealth } from '../delivery/health.js';
import { pickRecords, sliceRecords, splitRecords } from '../delivery/records.js';
import { RetryBudget, type RetryBudgetOptions } from '../delivery/retry-budget.js';
import {
  BACKOFF_DEFAULTS,
  type BackoffOptions,
  backoffDelay,
  classifyStatus,
  parseRetryAfter,
  type ResolvedBackoff,
} from '../delivery/retry-policy.js';
import type { Encoder, ItemResults } from '../encoders/encoder.js';
import { ndjson } from '../encoders/ndjson.js';
import { type EncoderSpec, resolveEncoder } from '../encoders/spec.js';
import { errorCode } from '../internal/error-code.js';
import { untilAborted } from '../internal/in-order.js';
import {
  createDispatcher,
  type ProxyOption,
  readSecret,
  type SecretSource,
  type TlsOptions,
} from './client.js';
import { type Chunk, Ticket } from './ticket.js';

const gzip = promisify(gzipCallback);

/** Where each event's tenant (bucket, index, org) comes from, and which values are real. */
export interface TenantOptions {
  /** The attribute naming the tenant, e.g. `tenant` or `service.namespace`. */
  field: string;
  /** Every tenant this sink may write to. A value not listed is never sent anywhere it names. */
  allowed: readonly string[];
  /** The header that carries it (e.g. `X-Scope-OrgID`); the URL may also hold `{tenant}`. */
  header?: string;
  /**
   * Where events without a listed tenant go: a listed tenant, or (default) nowhere — they are
   * dead-lettered with reason `unknown_tenant`, so a typo is visible instead of misrouted.
   */
  fallback?: string;
}

export interface HttpSinkOptions {
  /** The endpoint; `{tenant}` in it is replaced by each request's tenant. */
  url: string;
  /** Default `POST`. */
  method?: 'POST' | 'PUT';
  /**
   * Default `ndjson()`. An encoder, or a spec naming one (`{ type: 'envelope', template }`):
   * a spec keeps the options plain data, for config files and worker threads.
   */
  encoder?: Encoder | EncoderSpec;
  /** Sent with every request (after the sink's own; `content-type` and the id header win). */
  headers?: Readonly<Record<string, string>>;
  /** A bearer token, read once at build from the environment or a file; never logged. */
  token?: SecretSource;
  /** Default `none`. `gzip` compresses on libuv's thread pool, off the main thread. */
  compression?: 'none' | 'gzip';
  tls?: TlsOptions;
  /** Default `env` (HTTP(S)_PROXY / NO_PROXY); see {@link ProxyOption}. */
  proxy?: ProxyOption;
  tenant?: TenantOptions;
  batch?: BatchLimits;
  /** Backoff, attempt and time caps, and the retry budget. */
  retry?: BackoffOptions & { budget?: RetryBudgetOptions };
  /**
   * When a request's attempts or time run out on transient failures: `requeue` (default) gives
   * its batches back to the sink's buffer (written to disk when the buffer spills, held and
   * retried otherwise); `dead-letter` writes them to the dead letters instead.
   */
  whenExhausted?: 'requeue' | 'dead-letter';
  /** Requests in flight: `adaptive` (default, AIMD from 1 up to 32) or a fixed number. */
  concurrency?: ConcurrencyOption;
  /** Connections per origin. Default: the concurrency's maximum. */
  maxConnections?: number;
  /** One attempt's time limit, connect to last byte of the answer. Default 30 000 ms. */
  timeoutMs?: number;
  health?: HealthOptions;
  /** Where rejected records go (NDJSON). Without it they are counted and lost. */
  deadLetters?: { path: string; maxBytes?: number };
  /**
   * Batches the pipeline may have in this sink at once (its output pool's size): the ones in
   * requests plus those waiting to be merged. Default 16. Memory in the sink is at most this
   * many batches, so a dead backend holds no more than this outside the sink's buffer.
   */
  writeSlots?: number;
  /** Default `x-spillway-batch-id`. */
  idHeader?: string;
  /** The most response body read, for per-item results and dead letters. Default 4 MiB. */
  maxResponseBytes?: number;
}

const TENANT_VALUE = /^[A-Za-z0-9._-]{1,128}$/;

function concurrencyMax(option: ConcurrencyOption | undefined): number {
  if (typeof option === 'number') return option;
  if (option === undefined || option === 'adaptive') return 32;
  return option.adaptive.max ?? 32;
}

function validate(o: HttpSinkOptions): string[] {
  const problems: string[] = [];
  const check = optionChecks(problems);
  if (typeof o.url !== 'string') return [`url must be an absolute http(s) URL, not ${o.url}`];
  let url: URL | undefined;
  try {
    url = new URL(o.url.replaceAll('{tenant}', 'tenant'));
  } catch {
    problems.push(`url must be an absolute http(s) URL, not ${JSON.stringify(o.url)}`);
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`url must use http or https, not ${url.protocol}`);
  }
  if (url && (url.username || url.password)) {
    problems.push('url must not hold credentials: use token or headers');
  }
  check.oneOf('method', o.method, ['POST', 'PUT']);
  check.oneOf('compression', o.compression, ['none', 'gzip']);
  check.oneOf('whenExhausted', o.whenExhausted, ['requeue', 'dead-letter']);
  check.positiveInteger('maxConnections', o.maxConnections);
  check.positiveNumber('timeoutMs', o.timeoutMs);
  check.positiveInteger('writeSlots', o.writeSlots);
  check.positiveInteger('maxResponseBytes', o.maxResponseBytes);
  check.positiveInteger('batch.maxEvents', o.batch?.maxEvents);
  check.positiveInteger('batch.maxBytes', o.batch?.maxBytes);
  check.nonNegativeNumber('batch.lingerMs', o.batch?.lingerMs);
  check.positiveNumber('retry.initialMs', o.retry?.initialMs);
  check.positiveNumber('retry.maxMs', o.retry?.maxMs);
  check.positiveInteger('retry.maxAttempts', o.retry?.maxAttempts);
  check.positiveNumber('retry.maxElapsedMs', o.retry?.maxElapsedMs);
  check.nonNegativeNumber('retry.maxRetryAfterMs', o.retry?.maxRetryAfterMs);
  if (o.retry?.multiplier !== undefined && !(o.retry.multiplier >= 1)) {
    problems.push(`retry.multiplier must be ≥ 1, not ${o.retry.multiplier}`);
  }
  check.nonNegativeNumber('retry.budget.ratio', o.retry?.budget?.ratio);
  check.nonNegativeNumber('retry.budget.minPerSecond', o.retry?.budget?.minPerSecond);
  const c = o.concurrency;
  if (typeof c === 'number') check.positiveInteger('concurrency', c);
  else if (c !== undefined && c !== 'adaptive') {
    check.positiveInteger('concurrency.adaptive.initial', c.adaptive.initial);
    check.positiveInteger('concurrency.adaptive.max', c.adaptive.max);
  }
  if (o.token && !('env' in o.token) && !('file' in o.token)) {
    problems.push('token must be { env } or { file }: a token is never written into a config');
  }
  if (o.encoder !== undefined) {
    const encoder = resolveEncoder(o.encoder);
    if (!encoder)
      problems.push(`encoder: unknown type ${JSON.stringify((o.encoder as EncoderSpec).type)}`);
    else problems.push(...encoder.validate().map((p) => `encoder ${encoder.name}: ${p}`));
  }
  problems.push(...validateTenant(o));
  check.nonEmptyString('deadLetters.path', o.deadLetters?.path, o.deadLetters !== undefined);
  check.positiveInteger('deadLetters.maxBytes', o.deadLetters?.maxBytes);
  check.positiveInteger('health.downAfter', o.health?.downAfter);
  check.positiveInteger('health.window', o.health?.window);
  if (typeof c === 'object') {
    const a = c.adaptive;
    for (const [name, value] of [
      ['decreaseRatio', a.decreaseRatio],
      ['ewmaAlpha', a.ewmaAlpha],
    ] as const) {
      if (value !== undefined && !(value > 0 && value < 1)) {
        problems.push(`concurrency.adaptive.${name} must be between 0 and 1, not ${value}`);
      }
    }
    check.nonNegativeNumber('concurrency.adaptive.rttDeviation', a.rttDeviation);
    check.nonNegativeNumber('concurrency.adaptive.minWindowMs', a.minWindowMs);
  }
  const proxy = typeof o.proxy === 'object' ? o.proxy.url : o.proxy;
  if (proxy !== undefined && proxy !== 'env' && proxy !== 'none' && !URL.canParse(proxy)) {
    problems.push(`proxy must be 'env', 'none' or a URL, not ${JSON.stringify(proxy)}`);
  }
  return problems;
}

function validateTenant(o: HttpSinkOptions): string[] {
  const t = o.tenant;
  const inUrl = o.url.includes('{tenant}');
  if (!t) return inUrl ? ['url holds {tenant} but no tenant option says where it comes from'] : [];
  const problems: string[] = [];
  if (typeof t.field !== 'string' || t.field.length === 0)
    problems.push('tenant.field must be a non-empty string');
  if (!Array.isArray(t.allowed) || t.allowed.length === 0) {
    problems.push('tenant.allowed must list every tenant this sink may write to');
  }
  for (const value of t.allowed ?? []) {
    if (!TENANT_VALUE.test(value)) {
      problems.push(`tenant.allowed: ${JSON.stringify(value)} is not 1–128 of A–Z a–z 0–9 . _ -`);
    }
  }
  if (t.fallback !== undefined && !t.allowed?.includes(t.fallback)) {
    problems.push(`tenant.fallback ${JSON.stringify(t.fallback)} must be one of tenant.allowed`);
  }
  if (!inUrl && !t.header) problems.push('tenant needs a header, or {tenant} in the url');
  return problems;
}

/**
 * An HTTP sink on undici.
 *
 * When to use: to ship to any HTTP log backend — pick the wire format with `encoder` (NDJSON,
 * JSON array, an envelope, Loki, Elasticsearch `_bulk`, OTLP/HTTP).
 *
 * Gotchas:
 * - Give it `deadLetters`: without them, records the backend rejects (400, 404) are counted and
 *   lost. Nothing rejected is ever retried.
 * - With the default `whenExhausted: 'requeue'` and an in-memory buffer, a batch whose retries
 *   ran out is held and tried again (it keeps its pool slot); put a `spill()` buffer in front
 *   of the sink to have it written to disk instead, so a long outage costs disk, not memory.
 * - Batches a retry gave back may arrive again after newer ones, and partly delivered requests
 *   are sent again whole: expect duplicates (same batch id), never loss.
 *
 * @example
 * ```ts
 * sinks: { out: { inputs: ['parse'], buffer: spill({ dir }), stage: http({
 *   url: 'https://logs.example.com/{tenant}/ingest',
 *   tenant: { field: 'team', allowed: ['payments', 'search'] },
 *   token: { env: 'LOGS_TOKEN' }, tls: { ca: { file: '/etc/ssl/corp-ca.pem' } },
 *   encoder: envelope({ template: { event: '{{record}}' } }),
 *   deadLetters: { path: '/var/lib/spillway/http.dlq' },
 * }) } }
 * ```
 */
export const http = defineSink<HttpSinkOptions>({
  type: 'http',
  validate,
  resources: (o) => (o.deadLetters ? [{ kind: 'path', id: o.deadLetters.path }] : []),
  async build(o, ctx) {
    const deadLetters = o.deadLetters ? await DeadLetterFile.open(o.deadLetters) : undefined;
    return new HttpSink(o, ctx, deadLetters);
  },
});

interface Request {
  readonly id: string;
  readonly tenant: string | undefined;
  readonly chunks: readonly Chunk[];
  readonly records: number;
  /** Attempts already spent on these records (carried into splits and item retries). */
  attempts: number;
  startedAt: number | undefined;
}

type AttemptResult =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly retryAfterMs: number | undefined;
      readonly body: Buffer;
      readonly rttMs: number;
    }
  | { readonly kind: 'error'; readonly error: unknown; readonly rttMs: number };

class HttpSink implements Sink {
  readonly concurrency: number;
  readonly #name: string;
  readonly #counters: Counters;
  readonly #signal: AbortSignal;
  readonly #encoder: Encoder;
  readonly #url: string;
  readonly #method: 'POST' | 'PUT';
  readonly #headers: Record<string, string>;
  readonly #gzip: boolean;
  readonly #tenant: TenantOptions | undefined;
  readonly #allowed: ReadonlySet<string>;
  readonly #limits: Required<BatchLimits>;
  readonly #backoff: ResolvedBackoff;
  readonly #budget: RetryBudget;
  readonly #health: SinkHealth;
  readonly #limiter: ConcurrencyLimiter;
  readonly #dispatcher: Dispatcher;
  readonly #batcher: Batcher<Chunk>;
  readonly #deadLetters: DeadLetterFile | undefined;
  readonly #exhausted: 'requeue' | 'dead-letter';
  readonly #timeoutMs: number;
  readonly #idHeader: string;
  readonly #maxResponseBytes: number;
  readonly #sending = new Set<Promise<void>>();
  #lastPartialSuccess: string | undefined;
  /** No attempt before this time (epoch ms): the latest Retry-After the backend gave. */
  #notBefore = 0;
  readonly #statuses = new Counters();

  constructor(o: HttpSinkOptions, ctx: BuildContext, deadLetters: DeadLetterFile | undefined) {
    const max = concurrencyMax(o.concurrency);
    this.concurrency = o.writeSlots ?? 16;
    this.#name = ctx.name;
    this.#counters = ctx.counters;
    // Every request, backoff and parked attempt listens on this signal: a child of the
    // pipeline's with no listener cap, since the number of them is bounded by writeSlots.
    const hard = new AbortController();
    setMaxListeners(0, hard.signal);
    ctx.signal.addEventListener('abort', () => hard.abort(ctx.signal.reason), { once: true });
    this.#signal = hard.signal;
    this.#encoder = (o.encoder && resolveEncoder(o.encoder)) ?? ndjson();
    this.#url = o.url;
    this.#method = o.method ?? 'POST';
    this.#gzip = o.compression === 'gzip';
    this.#tenant = o.tenant;
    this.#allowed = new Set(o.tenant?.allowed ?? []);
    this.#limits = { ...BATCH_DEFAULTS, ...o.batch };
    this.#backoff = { ...BACKOFF_DEFAULTS, ...o.retry };
    this.#budget = new RetryBudget(o.retry?.budget);
    // Probes of a down backend are spaced like retries, so a batch given back and written
    // again at once does not turn into a tight loop of requests.
    this.#health = new SinkHealth(o.health, (failed) =>
      backoffDelay(this.#backoff, failed, undefined),
    );
    this.#limiter = new ConcurrencyLimiter(o.concurrency);
    this.#exhausted = o.whenExhausted ?? 'requeue';
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    this.#idHeader = (o.idHeader ?? 'x-spillway-batch-id').toLowerCase();
    this.#maxResponseBytes = o.maxResponseBytes ?? 4 * 1024 * 1024;
    this.#deadLetters = deadLetters;
    const token = o.token ? readSecret(o.token, 'token') : undefined;
    this.#headers = {
      ...lowerCaseKeys(o.headers ?? {}),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      'content-type': this.#encoder.contentType,
      ...(this.#gzip ? { 'content-encoding': 'gzip' } : {}),
    };
    this.#dispatcher = createDispatcher({
      ...(o.tls ? { tls: o.tls } : {}),
      ...(o.proxy ? { proxy: o.proxy } : {}),
      maxConnections: o.maxConnections ?? max,
    });
    // Half the slots may wait to be merged; the other half are always free to be in requests.
    this.#batcher = new Batcher(
      this.#limits,
      Math.max(1, Math.floor(this.concurrency / 2)),
      (key, chunks) => this.#start(key === '' ? undefined : key, chunks),
    );
  }

  async write(batch: Batch, signal: AbortSignal): Promise<SinkOutcome> {
    const ticket = new Ticket(batch);
    const { routed, unknown } = this.#byTenant(batch);
    for (const [tenant, payload] of routed) {
      const pieces = splitRecords(payload, this.#limits.maxEvents, this.#limits.maxBytes);
      pieces.forEach((piece, i) => {
        const part = `${tenant === undefined ? '' : `/${tenant}`}${pieces.length > 1 ? `#${i}` : ''}`;
        this.#batcher.add(tenant ?? '', ticket.chunk(piece, part));
      });
    }
    if (unknown) {
      this.#counters.add('unknown_tenant_events', unknown.events.length);
      this.#track(this.#deadLetter([ticket.chunk(unknown, '/?')], 'unknown_tenant', 0));
    }
    ticket.seal();
    return untilAborted(ticket.outcome, signal);
  }

  async close(signal: AbortSignal): Promise<void> {
    this.#batcher.flushAll();
    try {
      await untilAborted(Promise.allSettled([...this.#sending]), signal);
      await this.#dispatcher.close();
    } catch {
      await this.#dispatcher.destroy();
    } finally {
      await this.#deadLetters?.close();
    }
  }

  stats(): object {
    return {
      health: this.#health.state,
      ...this.#statuses.toJSON(),
      ...this.#encoder.counters?.(),
      concurrency: this.#limiter.stats(),
      retry_budget: this.#budget.stats(),
      health_detail: this.#health.stats(),
      batching: this.#batcher.held,
      requests_in_flight: this.#sending.size,
      ...(this.#lastPartialSuccess === undefined
        ? {}
        : { last_partial_success: this.#lastPartialSuccess }),
      ...(this.#deadLetters ? { dead_letters: this.#deadLetters.stats() } : {}),
    };
  }

  /** The batch's records by tenant, and those with no listed tenant and no fallback. */
  #byTenant(batch: Batch): {
    routed: [string | undefined, BatchPayload][];
    unknown: { kind: 'events'; events: LogEvent[] } | undefined;
  } {
    const tenant = this.#tenant;
    if (!tenant) return { routed: [[undefined, batch.payload]], unknown: undefined };
    const groups = new Map<string | undefined, LogEvent[]>();
    for (const event of eventsOf(batch)) {
      const value = event.attributes?.[tenant.field];
      const key = typeof value === 'string' && this.#allowed.has(value) ? value : tenant.fallback;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(event);
    }
    const routed: [string | undefined, BatchPayload][] = [];
    let unknown: { kind: 'events'; events: LogEvent[] } | undefined;
    for (const [key, events] of groups) {
      if (key === undefined) unknown = { kind: 'events', events };
      else routed.push([key, { kind: 'events', events }]);
    }
    return { routed, unknown };
  }

  /** Starts sending a request, tracked so that close() can wait for it. */
  #start(tenant: string | undefined, chunks: readonly Chunk[]): void {
    const request: Request = {
      id: requestId(chunks),
      tenant,
      chunks,
      records: chunks.reduce((n, c) => n + c.records, 0),
      attempts: 0,
      startedAt: undefined,
    };
    this.#track(this.#send(request));
  }

  #track(sending: Promise<void>): void {
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  /** Sends until every chunk of the request has an outcome. Never rejects. */
  async #send(request: Request): Promise<void> {
    try {
      await this.#sendOrThrow(request);
    } catch (err) {
      // Only the pipeline's hard stop gets here: the pool has abandoned these batches already.
      if (!this.#signal.aborted) {
        this.#counters.add('internal_errors');
        this.#settle(request.chunks, { kind: 'rejected', reason: `internal:${errorCode(err)}` });
      }
    }
  }

  async #sendOrThrow(request: Request): Promise<void> {
    const parts = request.chunks.map((c) => c.payload);
    let body: Uint8Array;
    try {
      body = this.#encoder.encode(parts);
    } catch (err) {
      if (request.records > 1 && SpillwayError.is(err) && err.code === 'ERR_ITEM_TOO_LARGE') {
        return this.#split(request, 'encoder_split');
      }
      this.#counters.add('encode_errors');
      return this.#deadLetter(
        request.chunks,
        `encode_error:${errorCode(err)}`,
        request.attempts,
        err,
      );
    }
    if (this.#gzip) body = await gzip(body);
    request.startedAt ??= Date.now();
    for (;;) {
      const result = await this.#attempt(request, body);
      request.attempts++;
      const outcome = result.kind === 'answer' ? classifyStatus(result.status) : 'retry';
      this.#statuses.add(result.kind === 'answer' ? `status_${result.status}` : 'transport_errors');
      if (outcome === 'delivered' && result.kind === 'answer') {
        const items = this.#encoder.itemResults?.(result.body, request.records);
        if (items !== 'unreadable') return this.#delivered(request, items);
        // Per-record results were promised and cannot be read: which records were stored is
        // unknown, so the whole request goes again (duplicates, never loss).
        this.#counters.add('unreadable_item_results');
      }
      if (outcome === 'split') {
        if (request.records > 1) return this.#split(request, 'status_413');
        return this.#deadLetter(
          request.chunks,
          'too_large:413',
          request.attempts,
          undefined,
          result,
        );
      }
      if (outcome === 'rejected' && result.kind === 'answer') {
        return this.#deadLetter(
          request.chunks,
          `rejected:${result.status}`,
          request.attempts,
          undefined,
          result,
        );
      }
      const retryAfterMs = result.kind === 'answer' ? result.retryAfterMs : undefined;
      if (!(await this.#waitToRetry(request, retryAfterMs))) {
        return this.#giveUp(request, result);
      }
    }
  }

  /** One attempt: through the health gate and the concurrency limit, bounded in time. */
  async #attempt(request: Request, body: Uint8Array): Promise<AttemptResult> {
    // A Retry-After holds for every request to the backend, also for batches given back and
    // written again: none goes out before it.
    const holdOff = this.#notBefore - Date.now();
    if (holdOff > 0) await sleep(holdOff, this.#signal);
    const admitted = await this.#health.admit(this.#signal);
    let release: ((r: { rttMs: number; backpressure: boolean }) => void) | undefined;
    try {
      release = await this.#limiter.acquire(this.#signal);
    } catch (err) {
      admitted(true);
      throw err;
    }
    if (request.attempts === 0) this.#budget.deposit();
    this.#counters.add('attempts');
    const started = performance.now();
    const result = await this.#exchange(request, body, started);
    const transient = result.kind === 'error' || classifyStatus(result.status) === 'retry';
    release({ rttMs: result.rttMs, backpressure: transient });
    admitted(!transient);
    if (result.kind === 'error' && this.#signal.aborted) throw result.error;
    return result;
  }

  async #exchange(request: Request, body: Uint8Array, started: number): Promise<AttemptResult> {
    const url = new URL(this.#url.replaceAll('{tenant}', request.tenant ?? ''));
    const headers: Record<string, string> = { ...this.#headers, [this.#idHeader]: request.id };
    if (request.tenant !== undefined && this.#tenant?.header) {
      headers[this.#tenant.header.toLowerCase()] = request.tenant;
    }
    const signal = AbortSignal.any([this.#signal, AbortSignal.timeout(this.#timeoutMs)]);
    try {
      const response = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: this.#method,
        headers,
        body,
        signal,
      });
      const answer = await readBounded(response.body, this.#maxResponseBytes);
      this.#counters.add('bytes_sent', body.byteLength);
      const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      if (retryAfterMs !== undefined && classifyStatus(response.statusCode) === 'retry') {
        const until = Date.now() + Math.min(retryAfterMs, this.#backoff.maxRetryAfterMs);
        this.#notBefore = Math.max(this.#notBefore, until);
      }
      return {
        kind: 'answer',
        status: response.statusCode,
        retryAfterMs,
        body: answer,
        rttMs: performance.now() - started,
      };
    } catch (error) {
      return { kind: 'error', error, rttMs: performance.now() - started };
    }
  }

  /**
   * Sleeps the backoff before the next attempt. False when the request is out of attempts or
   * time: a retry budget that is spent makes it wait longer, never send sooner.
   */
  async #waitToRetry(request: Request, retryAfterMs: number | undefined): Promise<boolean> {
    const policy = this.#backoff;
    for (let retry = request.attempts - 1; ; retry++) {
      if (request.attempts >= policy.maxAttempts) return false;
      const wait = backoffDelay(policy, retry, retryAfterMs);
      const elapsed = Date.now() - (request.startedAt ?? Date.now());
      if (elapsed + wait > policy.maxElapsedMs) return false;
      this.#counters.add('backoff_ms', Math.round(wait));
      await sleep(wait, this.#signal);
      retryAfterMs = undefined;
      if (this.#budget.tryWithdraw()) {
        this.#counters.add('retries');
        return true;
      }
      this.#counters.add('retries_deferred_by_budget');
    }
  }

  /** 2xx: delivered, except records the answer says failed one by one. */
  #delivered(request: Request, items: ItemResults | undefined): Promise<void> | void {
    const unindexed = items?.rejectedWithoutIndex;
    if (unindexed) {
      // Nothing to retry or dead-letter one by one: count them, and keep what the backend said.
      this.#counters.add('rejected_by_backend_unindexed', unindexed.count);
      this.#lastPartialSuccess = unindexed.message;
    }
    if (!items || items.failed.length === 0) {
      this.#counters.add('delivered_events', request.records - (unindexed?.count ?? 0));
      this.#counters.add('requests_delivered');
      return this.#settle(request.chunks, { kind: 'delivered' });
    }
    // Each failed record is found in its chunk; every chunk with failures is then cut into
    // what succeeded, what gets another attempt (429, 5xx) and what is dead (anything else).
    const starts = chunkStarts(request.chunks);
    const failures = new Map<Chunk, Map<number, { retry: boolean; reason: string }>>();
    for (const failure of items.failed) {
      const at = locate(starts, failure.index);
      if (!at) continue;
      const chunk = request.chunks[at.chunk]!;
      let byIndex = failures.get(chunk);
      if (!byIndex) failures.set(chunk, (byIndex = new Map()));
      byIndex.set(at.local, {
        retry: classifyStatus(failure.status) === 'retry',
        reason: `item_rejected:${failure.status}:${failure.reason}`,
      });
    }
    const retryChunks: Chunk[] = [];
    const deadChunks: [Chunk, string][] = [];
    let delivered = 0;
    for (const chunk of request.chunks) {
      const failed = failures.get(chunk);
      if (!failed) {
        delivered += chunk.records;
        chunk.settle({ kind: 'delivered' });
        continue;
      }
      const ok: number[] = [];
      const again: number[] = [];
      const lost: number[] = [];
      for (let i = 0; i < chunk.records; i++) {
        const f = failed.get(i);
        (f === undefined ? ok : f.retry ? again : lost).push(i);
      }
      const groups = [ok, again, lost].filter((g) => g.length > 0);
      const pieces = chunk.replace(
        groups.map((g) => pickRecords(chunk.payload, g)),
        groups.map((g) => (g === ok ? '+ok' : g === again ? '+retry' : '+dead')),
      );
      pieces.forEach((piece, n) => {
        const group = groups[n];
        if (group === ok) {
          delivered += piece.records;
          piece.settle({ kind: 'delivered' });
        } else if (group === again) retryChunks.push(piece);
        else deadChunks.push([piece, failed.get(lost[0]!)!.reason]);
      });
    }
    this.#counters.add('delivered_events', delivered);
    this.#counters.add('item_failures', items.failed.length);
    const pending: Promise<void>[] = deadChunks.map(([c, reason]) =>
      this.#deadLetter([c], reason, request.attempts),
    );
    if (retryChunks.length > 0) {
      const retry: Request = {
        id: `${request.id}.r${request.attempts}`,
        tenant: request.tenant,
        chunks: retryChunks,
        records: retryChunks.reduce((n, c) => n + c.records, 0),
        attempts: request.attempts,
        startedAt: request.startedAt,
      };
      this.#counters.add('item_retries', retry.records);
      pending.push(
        this.#waitToRetry(retry, undefined).then((again) =>
          again ? this.#sendOrThrow(retry) : this.#giveUp(retry, undefined),
        ),
      );
    }
    return Promise.all(pending).then(() => {});
  }

  /** 413 (or an encoder's bound): each half goes on its own, with the attempts spent so far. */
  async #split(request: Request, reason: string): Promise<void> {
    this.#counters.add(`splits_${reason}`);
    const halves = halve(request.chunks, request.records);
    await Promise.all(
      halves.map((chunks, i) =>
        this.#sendOrThrow({
          id: `${request.id}.${i}`,
          tenant: request.tenant,
          chunks,
          records: chunks.reduce((n, c) => n + c.records, 0),
          attempts: request.attempts,
          startedAt: request.startedAt,
        }),
      ),
    );
  }

  /** Attempts or time ran out on transient failures. */
  #giveUp(request: Request, last: AttemptResult | undefined): Promise<void> | void {
    this.#counters.add('requests_exhausted');
    if (this.#exhausted === 'dead-letter') {
      const error = last?.kind === 'error' ? last.error : undefined;
      return this.#deadLetter(request.chunks, 'retries_exhausted', request.attempts, error, last);
    }
    this.#counters.add('requeued_events', request.records);
    this.#settle(request.chunks, { kind: 'requeue', reason: 'retries_exhausted' });
  }

  async #deadLetter(
    chunks: readonly Chunk[],
    reason: string,
    attempts: number,
    error?: unknown,
    answer?: AttemptResult,
  ): Promise<void> {
    const records = chunks.reduce((n, c) => n + c.records, 0);
    const file = this.#deadLetters;
    if (!file) {
      this.#counters.add('rejected_events_lost', records);
      return this.#settle(chunks, { kind: 'rejected', reason });
    }
    const status = answer?.kind === 'answer' ? answer.status : undefined;
    const response =
      answer?.kind === 'answer' ? answer.body.subarray(0, 1024).toString('utf8') : undefined;
    for (const chunk of chunks) {
      const batch = { ...chunk.ticket.batch, payload: chunk.payload, count: chunk.records };
      let written: 'written' | 'full';
      try {
        written = await file.write(batch, {
          stage: this.#name,
          reason,
          attempts,
          ...(error === undefined ? {} : { error }),
          ...(status === undefined ? {} : { status }),
          ...(response === undefined ? {} : { response }),
        });
      } catch {
        written = 'full';
      }
      this.#counters.add(
        written === 'written' ? 'dead_lettered_events' : 'rejected_events_lost',
        chunk.records,
      );
      chunk.settle({
        kind: 'rejected',
        reason: written === 'written' ? `dead_lettered:${reason}` : reason,
      });
    }
  }

  #settle(chunks: readonly Chunk[], result: Parameters<Chunk['settle']>[0]): void {
    for (const chunk of chunks) chunk.settle(result);
  }
}

/**
 * Same chunks → same id: one chunk keeps its batch's id (with the name of its cut, if it is
 * one); a merge is named by its chunks' ids, so a retry carries the same id and two different
 * requests never do.
 */
function requestId(chunks: readonly Chunk[]): string {
  if (chunks.length === 1) return `${chunks[0]!.ticket.batch.id}${chunks[0]!.part}`;
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c.ticket.batch.id).update(c.part).update('\n');
  return `m-${hash.digest('hex').slice(0, 24)}`;
}

/** Two requests of about half the records each: whole chunks where possible, else one cut. */
function halve(chunks: readonly Chunk[], records: number): Chunk[][] {
  if (chunks.length > 1) {
    let count = 0;
    let cut = 0;
    while (cut < chunks.length - 1 && count + chunks[cut]!.records <= records / 2) {
      count += chunks[cut]!.records;
      cut++;
    }
    cut = Math.max(1, cut);
    return [chunks.slice(0, cut), chunks.slice(cut)];
  }
  const only = chunks[0]!;
  const half = Math.ceil(only.records / 2);
  const [a, b] = only.replace(
    [sliceRecords(only.payload, 0, half), sliceRecords(only.payload, half, only.records)],
    ['.0', '.1'],
  );
  return [[a!], [b!]];
}

function chunkStarts(chunks: readonly Chunk[]): number[] {
  const starts: number[] = [];
  let at = 0;
  for (const c of chunks) {
    starts.push(at);
    at += c.records;
  }
  starts.push(at);
  return starts;
}

function locate(
  starts: readonly number[],
  index: number,
): { chunk: number; local: number } | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= starts[starts.length - 1]!)
    return undefined;
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return { chunk: lo, local: index - starts[lo]! };
}

/** Reads at most `limit` bytes of a response body, then drops the rest. */
async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): void },
  limit: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    if (size + part.byteLength > limit) {
      parts.push(part.subarray(0, limit - size));
      body.destroy();
      break;
    }
    parts.push(part);
    size += part.byteLength;
  }
  return Buffer.concat(parts);
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

type SinkOutcome = Awaited<ReturnType<Sink['write']>>;
