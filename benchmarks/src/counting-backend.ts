/**
 * A loopback HTTP backend that counts the NDJSON lines it receives, for scenarios whose
 * contenders ship over HTTP.
 *
 * Why a worker thread: the server shares nothing with the contenders' event loop, so the time
 * it spends parsing requests and counting lines is not charged to whichever contender runs on
 * the main thread, and a contender cannot look fast by starving the server (or slow because
 * the server starves it).
 *
 * ```
 *   main thread                                  worker thread (counting-backend-worker.ts)
 *   expect(n) ── { kind: 'reset', expected: n } ─▶ counts := 0
 *             ◀─ { kind: 'ready' } ───────────────
 *   contender ── POST bodies (keep-alive) ───────▶ count newline bytes and bytes, answer 200 {}
 *   reached   ◀─ { kind: 'reached', lines, … } ── once lines ≥ n (once per reset)
 * ```
 *
 * Invariant: a run is armed (`expect`) before its first request and nothing is in flight
 * between runs, so every count belongs to exactly one run.
 */
import { Worker } from 'node:worker_threads';

/** What the backend counted since the last reset. */
export interface BackendCounts {
  /** Newline bytes: one per NDJSON line. */
  readonly lines: number;
  /** Body bytes as received. */
  readonly bytes: number;
  readonly requests: number;
}

/** Parent → worker. */
export interface ResetMessage {
  readonly kind: 'reset';
  readonly expected: number;
}

/** Worker → parent. */
export type BackendMessage =
  | { readonly kind: 'listening'; readonly port: number }
  | { readonly kind: 'ready' }
  | ({ readonly kind: 'reached' } & BackendCounts);

type Kind = BackendMessage['kind'];
type MessageOf<K extends Kind> = Extract<BackendMessage, { kind: K }>;
type Waiter = { resolve(message: BackendMessage): void; reject(error: Error): void };

/**
 * The parent's handle on the backend: start it once per scenario, outside the clock, and
 * `expect` the lines of each run before that run starts.
 *
 * Gotchas: `reached` only resolves once every expected line has arrived — a contender that
 * loses lines leaves it pending; one that duplicates them makes `lines` exceed the count, which
 * the race harness reports as a failure.
 */
export class CountingBackend {
  readonly #worker: Worker;
  readonly #waiters = new Map<Kind, Waiter>();
  #failure: Error | undefined;
  #port = 0;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: BackendMessage) => {
      const waiter = this.#waiters.get(message.kind);
      this.#waiters.delete(message.kind);
      waiter?.resolve(message);
    });
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => this.#fail(new Error(`counting backend exited (code ${code})`)));
  }

  /** Starts the worker and resolves once its server listens on 127.0.0.1. */
  static async start(): Promise<CountingBackend> {
    const backend = new CountingBackend(
      new Worker(new URL('./counting-backend-worker.js', import.meta.url)),
    );
    backend.#port = (await backend.#next('listening')).port;
    return backend;
  }

  /** Where to POST; any path is accepted. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/ingest`;
  }

  /**
   * Zeroes the counts and arms the backend for a run of `lines` lines; resolves once the worker
   * has done so. `reached` resolves with the counts when the `lines`-th line arrives.
   */
  async expect(lines: number): Promise<{ reached: Promise<BackendCounts> }> {
    // Waiting for `reached` starts before the reset is sent, so its answer cannot be missed.
    const reached = this.#next('reached').then(
      ({ lines, bytes, requests }): BackendCounts => ({ lines, bytes, requests }),
    );
    // Handled here so that a worker dying before the run awaits it is not an unhandled rejection.
    reached.catch(() => {});
    const ready = this.#next('ready');
    this.#worker.postMessage({ kind: 'reset', expected: lines } satisfies ResetMessage);
    await ready;
    return { reached };
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The worker's next message of `kind`; rejects if the worker fails first. */
  #next<K extends Kind>(kind: K): Promise<MessageOf<K>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) =>
      this.#waiters.set(kind, { resolve: (m) => resolve(m as MessageOf<K>), reject }),
    );
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}
