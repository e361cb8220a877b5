// A scripted HTTP(S) backend on 127.0.0.1 for the HTTP sink's tests: it records every request
// and answers each one as the test's script says, including the ways real backends fail (stalls,
// resets, half answers, slow bodies). Real sockets, no mocks.
//
// How a request is handled:
//
//   head arrives ──▶ choose a plan ──▶ read the body ──▶ record ──▶ (plan is a function? call it
//   (index n)        queue, script      (a `reset` with             with the recorded request)
//                    or default         `afterBytes` stops early)    ──▶ delayMs ──▶ act
//
// The plan is chosen when the head arrives, before the body, because only then can a `reset`
// cut the body short; a plan that needs the body (the `_bulk` responder) is a function of the
// recorded request instead. Invariants: a request is recorded exactly once, once its body has
// ended or been cut; `close()` destroys every socket, cancels every delay and stall, and rejects
// every pending `waitForRequests()`, so a test that forgets to release something still ends.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { TLSSocket } from 'node:tls';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { testCertificates } from './tls.js';

/** What is known of a request when its head arrives: what a {@link Script} decides on. */
export interface RequestHead {
  /** Arrival order of request heads, from 0: the script's `n`. */
  readonly index: number;
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** `performance.now()` when the head arrived: compare with another to measure a backoff. */
  readonly at: number;
}

/** A request as the backend received it. */
export interface RecordedRequest extends RequestHead {
  /** Body bytes received on the wire, before any decoding. */
  readonly bytes: number;
  /**
   * The body, decoded when `content-encoding` is gzip, deflate or br and the body is complete;
   * otherwise as received.
   */
  readonly body: Buffer;
  /** False when the body was cut short: by a `reset` with `afterBytes`, or by the client. */
  readonly complete: boolean;
  /** Why a complete body in a known encoding could not be decoded (then `body` is raw). */
  readonly decodeError?: Error;
}

/** Answer with a status, headers and a body. */
export interface Reply {
  readonly kind?: 'reply';
  readonly status: number;
  /** Sent as given; they win over the ones the reply sets itself. */
  readonly headers?: http.OutgoingHttpHeaders;
  /**
   * A string (sent as `text/plain`) or bytes are sent as they are; anything else is sent as
   * JSON. No body when absent.
   */
  readonly body?: unknown;
  /** A `Retry-After` header: a number of seconds, or a Date sent as an HTTP-date. */
  readonly retryAfter?: number | Date;
  /** Wait this long after the body is read before answering. */
  readonly delayMs?: number;
}

/** Never answer, until `releaseStalls()` (then send `answer`) or `close()`. */
export interface Stall {
  readonly kind: 'stall';
  /** The answer once released; the default reply (200 `{}`) when absent. */
  readonly answer?: Reply;
}

/**
 * Reset the connection (TCP RST) without answering, after `afterBytes` bytes of the body have
 * arrived (all of it when absent; 0 resets right after the head).
 */
export interface Reset {
  readonly kind: 'reset';
  readonly afterBytes?: number;
  readonly delayMs?: number;
}

/** Send the status and headers at once, then the body `chunkBytes` at a time, slowly. */
export interface SlowBody {
  readonly kind: 'slow-body';
  /** 200 when absent. */
  readonly status?: number;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body: string | Uint8Array;
  /** Bytes per write; 1 when absent. */
  readonly chunkBytes?: number;
  /** Pause before each write; 50 ms when absent. */
  readonly intervalMs?: number;
  readonly delayMs?: number;
}

/** Read the body, then close the connection cleanly (FIN) without a response. */
export interface CloseWithoutResponse {
  readonly kind: 'close-without-response';
  readonly delayMs?: number;
}

/** One way of handling one request. */
export type Behaviour = Reply | Stall | Reset | SlowBody | CloseWithoutResponse;

/**
 * A behaviour, or a function choosing one once the body has been read and recorded (a `reset`
 * it returns can no longer cut the body short).
 */
export type Plan = Behaviour | ((request: RecordedRequest) => Behaviour);

/** Chooses the plan for each request whose head arrives while the queue is empty. */
export type Script = (request: RequestHead, n: number) => Plan;

/** Options of {@link startBackend}. */
export interface BackendOptions {
  /**
   * HTTPS with the certificates of `testCertificates()`; `'mutual'` also requires a client
   * certificate signed by their CA. Plain HTTP when absent or false.
   */
  readonly tls?: boolean | 'mutual';
  /** The script from the start; see {@link Backend.script}. */
  readonly script?: Script;
}

/** The answer when neither the queue nor a script says otherwise. */
export const DEFAULT_REPLY: Reply = { status: 200, body: {} };

/**
 * Starts a backend on 127.0.0.1 and an ephemeral port.
 *
 * When to use: wherever the HTTP sink needs something to send to. Each request is answered by
 * the next plan queued with `push()`, else by the script, else with 200 `{}`.
 *
 * Gotchas: plans are chosen when a request's head arrives, so a script sees no body; return a
 * function from it (as `bulkResponder` does) to decide on the body. `requests` is in the order
 * requests were recorded (body read), which under concurrency can differ from `index`.
 *
 * @example
 * await using backend = await startBackend();
 * backend.push({ status: 503, retryAfter: 1 }, { kind: 'reset' });
 * // ... run the sink against backend.url ...
 * const [first, second, third] = await backend.waitForRequests(3, AbortSignal.timeout(5000));
 */
export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  let server: http.Server;
  if (options.tls) {
    const certificates = await testCertificates();
    const mutual = options.tls === 'mutual';
    server = https.createServer({
      ...certificates.server,
      ca: certificates.ca,
      requestCert: mutual,
      rejectUnauthorized: mutual,
    });
  } else {
    server = http.createServer();
  }
  const backend = new Backend(server, options.script);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return backend;
}

/** A running backend from {@link startBackend}. */
export class Backend implements AsyncDisposable {
  readonly #server: http.Server;
  readonly #requests: RecordedRequest[] = [];
  readonly #queue: Plan[] = [];
  #script: Script | undefined;
  #arrived = 0;
  /** Every socket, TCP and TLS, so that `close()` can destroy them. */
  readonly #sockets = new Set<Socket>();
  /**
   * TCP sockets by remote port. A TLS socket cannot send a reset itself, so a `reset` looks up
   * the TCP socket under it by the port they share.
   */
  readonly #tcp = new Map<number, Socket>();
  readonly #stalls = new Set<(released: boolean) => void>();
  readonly #waiters = new Set<{ n: number; done: (err?: Error) => void }>();
  readonly #closing = new AbortController();
  #closed: Promise<void> | undefined;

  /** @internal Use {@link startBackend}. */
  constructor(server: http.Server, script: Script | undefined) {
    this.#server = server;
    this.#script = script;
    const secure = server instanceof https.Server;
    server.on('connection', (socket: Socket) => {
      this.#track(socket);
      const port = socket.remotePort;
      if (!secure || port === undefined) return;
      this.#tcp.set(port, socket);
      socket.once('close', () => this.#tcp.delete(port));
    });
    server.on('secureConnection', (socket: Socket) => this.#track(socket));
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#handle(req, res).catch((err: unknown) => {
        // A script or plan that throws is a bug in the test: answer so that it shows.
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'content-type': 'text/plain' }).end(`backend: ${String(err)}`);
      });
    });
  }

  /** `http://127.0.0.1:<port>` (or `https://`). */
  get origin(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `${this.#server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** The origin and `/`. */
  get url(): string {
    return `${this.origin}/`;
  }

  /** Every request recorded so far, in the order their bodies ended (or were cut). */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** Queues plans for the next requests, one each, before the script or default applies. */
  push(...plans: Plan[]): this {
    this.#queue.push(...plans);
    return this;
  }

  /**
   * Sets the script that chooses a plan for each request when the queue is empty; `undefined`
   * goes back to the default reply.
   *
   * @example
   * backend.script((_req, n) => (n < 2 ? { kind: 'reset' } : { status: 200, body: {} }));
   */
  script(script: Script | undefined): this {
    this.#script = script;
    return this;
  }

  /**
   * Resolves with every request recorded so far once there are at least `n`; rejects when
   * `signal` aborts (say `AbortSignal.timeout(5000)`, so a missing request fails rather than
   * hangs) or the backend closes.
   */
  waitForRequests(n: number, signal?: AbortSignal): Promise<readonly RecordedRequest[]> {
    if (this.#requests.length >= n) return Promise.resolve([...this.#requests]);
    return new Promise((resolve, reject) => {
      const onAbort = () => waiter.done(signal?.reason as Error);
      const waiter = {
        n,
        done: (err?: Error) => {
          this.#waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          if (err === undefined) resolve([...this.#requests]);
          else
            reject(
              new Error(`waited for ${n} requests, saw ${this.#requests.length}`, { cause: err }),
            );
        },
      };
      if (this.#closed) return waiter.done(new Error('the backend is closed'));
      if (signal?.aborted) return onAbort();
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Lets every stalled request answer with its `answer`; returns how many there were. */
  releaseStalls(): number {
    const stalled = [...this.#stalls];
    for (const release of stalled) release(true);
    return stalled.length;
  }

  /** Stops listening and destroys every connection; safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      for (const release of [...this.#stalls]) release(false);
      for (const waiter of this.#waiters) waiter.done(new Error('the backend closed'));
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await stopped;
    })();
    return this.#closed;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const head: RequestHead = {
      index: this.#arrived++,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      at: performance.now(),
    };
    const plan = this.#queue.shift() ?? this.#script?.(head, head.index) ?? DEFAULT_REPLY;
    const cutAt = typeof plan !== 'function' && plan.kind === 'reset' ? plan.afterBytes : undefined;
    const read = await readBody(req, cutAt ?? Number.POSITIVE_INFINITY);
    const recorded = this.#record(head, read);
    if (read.ended === 'gone') return;
    const behaviour = typeof plan === 'function' ? plan(recorded) : plan;
    if (behaviour.kind !== 'stall' && !(await this.#sleep(behaviour.delayMs ?? 0))) return;
    switch (behaviour.kind) {
      case undefined:
      case 'reply':
        return reply(res, behaviour);
      case 'stall':
        if (await this.#stall(res)) reply(res, behaviour.answer ?? DEFAULT_REPLY);
        return;
      case 'reset':
        return this.#reset(req.socket);
      case 'close-without-response':
        req.socket.destroy();
        return;
      case 'slow-body':
        return this.#dribble(res, behaviour);
    }
  }

  /** Resolves true on `releaseStalls()`, false on `close()` or when the client goes away. */
  #stall(res: http.ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const release = (released: boolean) => {
        this.#stalls.delete(release);
        res.off('close', gone);
        resolve(released);
      };
      const gone = () => release(false);
      this.#stalls.add(release);
      res.once('close', gone);
    });
  }

  #record(head: RequestHead, read: BodyRead): RecordedRequest {
    const raw = Buffer.concat(read.chunks);
    const complete = read.ended === 'end';
    let decoded: { body: Buffer; decodeError?: Error } = { body: raw };
    if (complete) decoded = decode(raw, head.headers['content-encoding']);
    const recorded: RecordedRequest = { ...head, bytes: raw.length, complete, ...decoded };
    this.#requests.push(recorded);
    for (const waiter of this.#waiters) {
      if (this.#requests.length >= waiter.n) waiter.done();
    }
    return recorded;
  }

  #reset(socket: Socket): void {
    const tcp = socket instanceof TLSSocket ? this.#tcp.get(socket.remotePort ?? -1) : socket;
    if (tcp && !tcp.destroyed) tcp.resetAndDestroy();
    else socket.destroy();
  }

  async #dribble(res: http.ServerResponse, slow: SlowBody): Promise<void> {
    const body = Buffer.from(slow.body);
    const step = Math.max(1, slow.chunkBytes ?? 1);
    res.writeHead(slow.status ?? 200, slow.headers);
    res.flushHeaders();
    for (let at = 0; at < body.length; at += step) {
      if (!(await this.#sleep(slow.intervalMs ?? 50)) || res.destroyed) return;
      res.write(body.subarray(at, at + step));
    }
    res.end();
  }

  /** Waits `ms`; false when the backend closed meanwhile. */
  async #sleep(ms: number): Promise<boolean> {
    if (ms <= 0) return !this.#closing.signal.aborted;
    return delay(ms, true, { signal: this.#closing.signal }).catch(() => false);
  }
}

interface BodyRead {
  readonly chunks: Buffer[];
  /** `end`: all of it; `cut`: stopped at `cutAt` bytes; `gone`: the client went away. */
  readonly ended: 'end' | 'cut' | 'gone';
}

/** Reads the body until its end, `cutAt` bytes (then pauses the request), or the client leaves. */
function readBody(req: http.IncomingMessage, cutAt: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  if (cutAt <= 0) {
    req.pause();
    return Promise.resolve({ chunks, ended: 'cut' });
  }
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (ended: BodyRead['ended']) => {
      req.off('data', onData).off('end', onEnd).off('close', onGone);
      resolve({ chunks, ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= cutAt) {
        req.pause();
        finish('cut');
      }
    };
    const onEnd = () => finish('end');
    const onGone = () => finish('gone');
    req.on('data', onData).on('end', onEnd).on('close', onGone);
    // A client that leaves mid-body makes the request emit `error` (ECONNRESET) as well as
    // `close`; `close` is what counts, and the error must not go unhandled.
    req.on('error', () => {});
  });
}

function decode(raw: Buffer, encoding: string | undefined): { body: Buffer; decodeError?: Error } {
  const inflate =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? gunzipSync
      : encoding === 'deflate'
        ? inflateSync
        : encoding === 'br'
          ? brotliDecompressSync
          : undefined;
  if (!inflate) return { body: raw };
  try {
    return { body: inflate(raw) };
  } catch (err) {
    return { body: raw, decodeError: err as Error };
  }
}

function reply(res: http.ServerResponse, r: Reply): void {
  const headers: http.OutgoingHttpHeaders = {};
  let body: Buffer;
  if (r.body === undefined) body = Buffer.alloc(0);
  else if (typeof r.body === 'string') {
    body = Buffer.from(r.body);
    headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (r.body instanceof Uint8Array) body = Buffer.from(r.body);
  else {
    body = Buffer.from(JSON.stringify(r.body));
    headers['content-type'] = 'application/json';
  }
  if (r.retryAfter !== undefined) {
    headers['retry-after'] =
      r.retryAfter instanceof Date ? r.retryAfter.toUTCString() : String(r.retryAfter);
  }
  headers['content-length'] = body.length;
  // Lower-cased, so that `Content-Type` from the test replaces ours instead of doubling it.
  for (const [name, value] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = value;
  res.writeHead(r.status, headers).end(body);
}

/** One action of a `_bulk` body, with its document (none for `delete`). */
export interface BulkItem {
  /** The action's name: `create`, `index`, `update` or `delete`. */
  readonly op: string;
  /** What the action line holds under its name, e.g. `{ _index: 'logs' }`. */
  readonly meta: Record<string, unknown>;
  readonly doc: unknown;
}

/** An item's status, or its status with the `error` to report (one is made up when absent). */
export type BulkOutcome = number | { readonly status: number; readonly error?: unknown };

/**
 * A plan answering an Elasticsearch-style `_bulk` request: 200 with
 * `{ took, errors, items: [{ <op>: { _index, status, error? } }] }`, one item per action of the
 * NDJSON body, each with the status `outcome` gives it (201 when absent); `errors` is true when
 * any item's status is 300 or more.
 *
 * When to use: tests of partial failures, where the request succeeds and some items do not.
 *
 * Gotchas: it is a plan, not a script; queue it with `push()` or return it from a script. A body
 * that is not NDJSON makes the backend answer 500 with the parse error.
 *
 * @example
 * backend.script(() => bulkResponder((item, i) => (i === 1 ? 429 : 201)));
 */
export function bulkResponder(
  outcome: (item: BulkItem, i: number) => BulkOutcome = () => 201,
): (request: RecordedRequest) => Reply {
  return (request) => {
    const lines = parseNdjson(request.body);
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let line = 0; line < lines.length; line++) {
      const action = lines[line] as Record<string, Record<string, unknown>>;
      const op = Object.keys(action)[0] ?? 'index';
      const meta = action[op] ?? {};
      const doc = op === 'delete' ? undefined : lines[++line];
      const given = outcome({ op, meta, doc }, items.length);
      const status = typeof given === 'number' ? given : given.status;
      const error = typeof given === 'number' ? undefined : given.error;
      const result: Record<string, unknown> = { _index: meta._index ?? 'test', status };
      if (status >= 300) {
        result.error = error ?? bulkError(status);
        errors = true;
      }
      items.push({ [op]: result });
    }
    return { status: 200, body: { took: 1, errors, items } };
  };
}

/** An error shaped like Elasticsearch's for an item that failed with `status`. */
function bulkError(status: number): { type: string; reason: string } {
  const type =
    status === 429
      ? 'es_rejected_execution_exception'
      : status === 409
        ? 'version_conflict_engine_exception'
        : status === 400
          ? 'document_parsing_exception'
          : 'test_failure';
  return { type, reason: `item failed with ${status} (test backend)` };
}

/**
 * The values of an NDJSON body, one per non-blank line.
 *
 * @example
 * const [action, doc] = parseNdjson(backend.requests[0].body);
 */
export function parseNdjson(body: Buffer | string): unknown[] {
  return body
    .toString()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
