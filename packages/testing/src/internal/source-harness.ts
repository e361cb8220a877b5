/**
 * A stand-in for the pipeline around one source, with the pipeline's `emit` and `tryEmit`
 * semantics and counters a check can judge by.
 *
 * ```
 *  source ─emit()────▶ [ queue: capacity ] ──▶ consumer: drains (settles each ack delivered)
 *           waits while full,                        or stalls (takes nothing)
 *           rejects when its signal or the hard stop aborts
 *         ─tryEmit()─▶ refused when full: the batch is handed back
 * ```
 *
 * Why not a real pipeline: a check needs to know how many `emit()` calls are waiting right now
 * and how many ever were at once, which the pipeline does not expose, and the consumer must be
 * stalled or drained on command. The semantics copied here are those of `SourceContext` in
 * `@spillway/core`: a waiting `emit()` is admitted in arrival order, rejects at once when its
 * signal has aborted, and a batch whose emit was aborted is settled `dropped` by the pipeline,
 * not by the source.
 */
import { setMaxListeners } from 'node:events';
import {
  abortError,
  type Batch,
  Counters,
  type SourceContext,
  SpillwayError,
} from '@spillway/core';
import { AckWatch } from './ack-watch.js';

export interface SourceHarnessOptions {
  readonly name: string;
  /** Batches the queue holds. */
  readonly capacity: number;
  /** True: a consumer takes every queued batch on the next turn of the event loop. */
  readonly drains: boolean;
}

interface Waiter {
  admit(): void;
  reject(err: Error): void;
}

export class SourceHarness {
  readonly stopping = new AbortController();
  readonly hard = new AbortController();
  readonly counters = new Counters();
  readonly acks = new AckWatch();
  /** `emit()` calls made. */
  calls = 0;
  /** `emit()` calls that resolved (the batch was queued). */
  returned = 0;
  /** `emit()` calls that rejected (their signal or the hard stop aborted). */
  rejected = 0;
  /** `emit()` calls waiting for room right now. */
  pending = 0;
  /** The most `emit()` calls that were ever waiting at once. */
  peakPending = 0;
  /** Batches the queue took, by either call. */
  accepted = 0;
  /** `tryEmit()` calls refused because the queue was full. */
  refused = 0;
  /** Batches the consumer took. */
  taken = 0;
  /** Batches emitted whose acknowledgement had settled already. */
  readonly settledOnArrival: string[] = [];
  readonly #options: SourceHarnessOptions;
  readonly #queue: Batch[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #seen = new WeakSet<Batch>();
  readonly #twice: string[] = [];
  #drain: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(options: SourceHarnessOptions) {
    this.#options = options;
    // Every waiting emit() listens on the hard signal; a source that piles them up is what the
    // backpressure check reports, so the runtime's listener-leak warning would only add noise.
    setMaxListeners(0, this.hard.signal, this.stopping.signal);
  }

  /** Batches emitted more than once (ids). */
  get emittedTwice(): readonly string[] {
    return this.#twice;
  }

  context(): SourceContext {
    return {
      name: this.#options.name,
      signal: this.hard.signal,
      stopping: this.stopping.signal,
      counters: this.counters,
      emit: (batch, signal) => this.#emit(batch, signal),
      tryEmit: (batch) => {
        if (this.#closed) return { ok: false, reason: 'closed', batch };
        if (this.#waiters.length > 0 || this.#queue.length >= this.#options.capacity) {
          this.refused++;
          return { ok: false, reason: 'full', batch };
        }
        this.#receive(batch);
        this.#push(batch);
        return { ok: true };
      },
    };
  }

  /** Stops both signals (graceful, then hard). */
  stopHard(): void {
    this.stopping.abort(new SpillwayError('ERR_ABORTED', 'conformance check: stopping'));
    this.hard.abort(new SpillwayError('ERR_ABORTED', 'conformance check: hard stop'));
  }

  /** Ends the harness: rejects waiting emits and settles what the queue still holds, as dropped. */
  release(): void {
    this.#closed = true;
    if (this.#drain) clearImmediate(this.#drain);
    const err = new SpillwayError('ERR_CHANNEL_CLOSED', 'conformance check ended');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
    for (const batch of this.#queue.splice(0))
      this.acks.settle(batch, 'dropped', 'conformance:end');
  }

  #emit(batch: Batch, signal: AbortSignal | undefined): Promise<'queued' | 'dropped'> {
    this.calls++;
    this.#receive(batch);
    const abortOn = signal ? AbortSignal.any([signal, this.hard.signal]) : this.hard.signal;
    if (abortOn.aborted) return Promise.reject(this.#withdraw(batch, abortError(abortOn)));
    if (this.#closed) {
      return Promise.reject(
        this.#withdraw(batch, new SpillwayError('ERR_CHANNEL_CLOSED', 'conformance check ended')),
      );
    }
    if (this.#waiters.length === 0 && this.#queue.length < this.#options.capacity) {
      this.#push(batch);
      this.returned++;
      return Promise.resolve('queued');
    }
    this.pending++;
    this.peakPending = Math.max(this.peakPending, this.pending);
    return new Promise((resolve, reject) => {
      const leave = () => {
        this.pending--;
        abortOn.removeEventListener('abort', onAbort);
        const at = this.#waiters.indexOf(waiter);
        if (at !== -1) this.#waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        admit: () => {
          leave();
          this.#push(batch);
          this.returned++;
          resolve('queued');
        },
        reject: (err) => {
          leave();
          reject(this.#withdraw(batch, err));
        },
      };
      const onAbort = () => waiter.reject(abortError(abortOn));
      this.#waiters.push(waiter);
      abortOn.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** An emit that did not go through: the pipeline, not the source, settles its batch. */
  #withdraw(batch: Batch, err: Error): Error {
    this.rejected++;
    this.acks.settle(batch, 'dropped', 'conformance:withdrawn');
    return err;
  }

  /** Every batch handed to emit, or taken by tryEmit: from now on only the harness settles it. */
  #receive(batch: Batch): void {
    if (this.#seen.has(batch)) this.#twice.push(batch.id);
    this.#seen.add(batch);
    if (batch.ack.settled) this.settledOnArrival.push(batch.id);
    this.acks.watch(batch);
  }

  #push(batch: Batch): void {
    this.#queue.push(batch);
    this.accepted++;
    if (this.#options.drains && !this.#drain) this.#drain = setImmediate(() => this.#take());
  }

  /** The draining consumer: takes everything queued, then lets waiting emits in. */
  #take(): void {
    this.#drain = undefined;
    for (const batch of this.#queue.splice(0)) {
      this.taken++;
      this.acks.settle(batch, 'delivered');
    }
    while (this.#waiters.length > 0 && this.#queue.length < this.#options.capacity) {
      this.#waiters[0]!.admit();
    }
  }
}
