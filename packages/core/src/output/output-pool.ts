/**
 * The output pool: the stage in front of each sink.
 *
 * ```
 *                   ┌─ free stack (MRU on top) ─┐
 *  dispatch(batch) ─┤ w3  w1                    ├─▶ worker ─[cap 1]─▶ sink.write()
 *                   └───────────────────────────┘
 *   no free worker: spawn one (up to maxWorkers); at maxWorkers: the dispatcher waits
 * ```
 *
 * - Dispatch goes to the most recently used free worker: under light load the same one or two
 *   workers take everything, which keeps their connections warm and lets the rest be reaped.
 * - Each worker sits behind a channel of capacity 1: the pool never holds more than
 *   `maxWorkers` batches, and the dispatcher's wait is the backpressure that reaches sources.
 * - Workers idle longer than `idleTimeoutMs` are reaped, least recently used first, down to
 *   `minWorkers`.
 * - A `requeue` outcome (the sink's retries ran out) offers the batch back to its buffer; when
 *   the buffer cannot take it, the worker holds it and writes it again: the sink's own backoff
 *   paces those writes, and the pool's bound still holds because the worker stays busy.
 */
import { performance } from 'node:perf_hooks';
import { type DeliveryStatus, SHUTDOWN_DEADLINE } from '../ack/acknowledgement.js';
import { Channel } from '../channel/channel.js';
import { SpillwayError } from '../errors.js';
import type { Batch } from '../event/batch.js';
import type { SinkOutcome } from '../stage/contracts.js';
import { ParkingLot } from '../sync/parking-lot.js';

export interface OutputPoolOptions {
  /** Default 1. */
  minWorkers?: number;
  /** Default 4. */
  maxWorkers?: number;
  /** Default 30 000 ms (as FastForward). */
  idleTimeoutMs?: number;
}

export interface OutputPoolStats {
  readonly workers: number;
  readonly busy: number;
  readonly maxWorkers: number;
  readonly spawned: number;
  readonly reaped: number;
  readonly dispatched: number;
  readonly delivered: number;
  readonly rejected: number;
  readonly dropped: number;
  /** Batches given back to their buffer after a `requeue` outcome. */
  readonly requeued: number;
  /** Writes repeated because a `requeue` outcome found no buffer to take the batch. */
  readonly rewrites: number;
  /** Milliseconds the dispatcher spent waiting for a free worker. */
  readonly waitMs: number;
}

interface Worker {
  readonly id: number;
  readonly inbox: Channel<Batch>;
  lastUsed: number;
  loop: Promise<void>;
}

type Settled = Exclude<SinkOutcome, undefined | { readonly status: 'requeue' }>;

type Write = (batch: Batch, signal: AbortSignal, workerId: number) => Promise<SinkOutcome>;

/**
 * When to use: the pipeline puts one in front of every sink; use it directly only to drive a
 * sink outside a pipeline.
 *
 * Gotchas: `write` must settle nothing itself: the pool settles the batch's acknowledgement
 * from the outcome `write` returns (a throw counts as `rejected`). Call `close()` to stop the
 * reaper timer and let workers finish.
 */
export class OutputPool {
  readonly name: string;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly idleTimeoutMs: number;
  readonly #write: Write;
  readonly #signal: AbortSignal;
  readonly #onError: (err: unknown, batch: Batch) => void;
  readonly #onAbandoned: (batch: Batch) => boolean | undefined;
  readonly #onRequeue: (batch: Batch, signal: AbortSignal) => Promise<boolean>;
  /** Free workers; the top (end) is the most recently used. Never longer than maxWorkers. */
  readonly #free: Worker[] = [];
  readonly #workers = new Set<Worker>();
  readonly #dispatchWaiters = new ParkingLot();
  readonly #idleWaiters = new ParkingLot();
  readonly #reaper: NodeJS.Timeout;
  #nextId = 0;
  #closed = false;
  #spawned = 0;
  #reaped = 0;
  #dispatched = 0;
  #waitMs = 0;
  #requeued = 0;
  #rewrites = 0;
  readonly #outcomes: Record<DeliveryStatus, number> = { delivered: 0, rejected: 0, dropped: 0 };

  constructor(
    name: string,
    write: Write,
    options: OutputPoolOptions & {
      /** Aborted when the owner stops hard: writes in flight are abandoned. */
      signal: AbortSignal;
      onError?: (err: unknown, batch: Batch) => void;
      /**
       * Sees each batch whose write was cut short by `signal`. Returning true takes the batch
       * over (its owner settles it); otherwise the pool settles it as `dropped`.
       */
      onAbandoned?: (batch: Batch) => boolean | undefined;
      /**
       * Offered each batch whose write ended `requeue`. Resolving true means its buffer took it
       * over; otherwise the worker writes it again.
       */
      onRequeue?: (batch: Batch, signal: AbortSignal) => Promise<boolean>;
    },
  ) {
    this.name = name;
    this.minWorkers = options.minWorkers ?? 1;
    this.maxWorkers = options.maxWorkers ?? 4;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    if (!Number.isInteger(this.maxWorkers) || this.maxWorkers < 1) {
      throw new SpillwayError('ERR_INVALID_OPTION', `pool ${name}: maxWorkers must be ≥ 1`);
    }
    if (
      !Number.isInteger(this.minWorkers) ||
      this.minWorkers < 0 ||
      this.minWorkers > this.maxWorkers
    ) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        `pool ${name}: minWorkers must be in [0, maxWorkers]`,
      );
    }
    this.#write = write;
    this.#signal = options.signal;
    this.#onError = options.onError ?? (() => {});
    this.#onAbandoned = options.onAbandoned ?? (() => false);
    this.#onRequeue = options.onRequeue ?? (async () => false);
    this.#reaper = setInterval(() => this.reapIdle(), Math.max(10, this.idleTimeoutMs / 2));
    this.#reaper.unref();
  }

  /**
   * Hands `batch` to a worker, waiting while all `maxWorkers` are busy. Resolves once a worker
   * has taken it (not once it is delivered: the acknowledgement tells that).
   */
  async dispatch(batch: Batch, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new SpillwayError('ERR_CHANNEL_CLOSED', `pool ${this.name} is closed`);
    let worker = this.#free.pop();
    if (!worker && this.#workers.size < this.maxWorkers) worker = this.#spawn();
    if (!worker) {
      const since = performance.now();
      try {
        while (!worker) {
          await this.#dispatchWaiters.park(signal);
          worker = this.#free.pop();
        }
      } finally {
        this.#waitMs += performance.now() - since;
      }
    }
    this.#dispatched++;
    // A free worker's inbox is empty and its loop is parked in recv(): this cannot be refused.
    worker.inbox.trySend(batch);
  }

  /** Resolves when no worker is busy. */
  async idle(signal?: AbortSignal): Promise<void> {
    while (this.#free.length < this.#workers.size) await this.#idleWaiters.park(signal);
  }

  /** Stops taking batches, lets busy workers finish, and ends every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const worker of this.#workers) worker.inbox.close();
    await Promise.all([...this.#workers].map((w) => w.loop));
  }

  /** Reaps workers idle for longer than the timeout, least recently used first. */
  reapIdle(now = performance.now()): void {
    while (
      this.#workers.size > this.minWorkers &&
      this.#free.length > 0 &&
      now - this.#free[0]!.lastUsed >= this.idleTimeoutMs
    ) {
      const worker = this.#free.shift()!;
      this.#workers.delete(worker);
      worker.inbox.close();
      this.#reaped++;
    }
  }

  /** Worker ids on the free stack, least recently used first (for tests and dashboards). */
  freeWorkers(): number[] {
    return this.#free.map((w) => w.id);
  }

  stats(): OutputPoolStats {
    return {
      workers: this.#workers.size,
      busy: this.#workers.size - this.#free.length,
      maxWorkers: this.maxWorkers,
      spawned: this.#spawned,
      reaped: this.#reaped,
      dispatched: this.#dispatched,
      ...this.#outcomes,
      requeued: this.#requeued,
      rewrites: this.#rewrites,
      waitMs: this.#waitMs,
    };
  }

  #spawn(): Worker {
    const worker: Worker = {
      id: this.#nextId++,
      inbox: new Channel<Batch>({ name: `${this.name}.worker`, capacity: 1, maxBytes: Infinity }),
      lastUsed: performance.now(),
      loop: Promise.resolve(),
    };
    this.#workers.add(worker);
    this.#spawned++;
    worker.loop = this.#run(worker);
    return worker;
  }

  async #run(worker: Worker): Promise<void> {
    for await (const batch of worker.inbox) {
      const outcome = await this.#deliverOrRequeue(batch, worker.id);
      if (outcome) this.#settle(batch, outcome);
      worker.lastUsed = performance.now();
      if (!this.#workers.has(worker)) continue;
      this.#free.push(worker);
      this.#dispatchWaiters.wakeOne();
      if (this.#free.length === this.#workers.size) this.#idleWaiters.wakeAll();
    }
  }

  /** The outcome to settle, or undefined when the batch was abandoned and taken over. */
  async #deliver(
    batch: Batch,
    workerId: number,
  ): Promise<Exclude<SinkOutcome, undefined> | undefined> {
    const abandon = () =>
      this.#onAbandoned(batch)
        ? undefined
        : ({ status: 'dropped', reason: SHUTDOWN_DEADLINE } as const);
    // A write started after the hard stop would never see the abort event: do not start it.
    if (this.#signal.aborted) return abandon();
    try {
      return (await this.#write(batch, this.#signal, workerId)) ?? { status: 'delivered' };
    } catch (err) {
      if (this.#signal.aborted) return abandon();
      this.#onError(err, batch);
      const code = SpillwayError.is(err) ? err.code : ((err as { code?: string })?.code ?? 'error');
      return { status: 'rejected', reason: `sink_error:${code}` };
    }
  }

  /** The outcome to settle; undefined when the batch was taken over (abandoned, or requeued). */
  async #deliverOrRequeue(batch: Batch, workerId: number): Promise<Settled | undefined> {
    for (;;) {
      const outcome = await this.#deliver(batch, workerId);
      if (outcome?.status !== 'requeue') return outcome;
      if (await this.#requeue(batch)) return undefined;
      this.#rewrites++;
    }
  }

  async #requeue(batch: Batch): Promise<boolean> {
    try {
      if (!(await this.#onRequeue(batch, this.#signal))) return false;
    } catch (err) {
      this.#onError(err, batch);
      return false;
    }
    this.#requeued++;
    return true;
  }

  #settle(batch: Batch, outcome: Settled): void {
    this.#outcomes[outcome.status]++;
    batch.ack.settle(
      outcome.status,
      outcome.status === 'delivered' ? undefined : `${this.name}:${outcome.reason}`,
    );
  }
}
