/**
 * The bounded channel: every hop of a pipeline is one.
 *
 * Invariants:
 * - queued items never exceed `capacity`, queued bytes never exceed `maxBytes`;
 * - parked senders are admitted strictly in arrival order (a later sender never overtakes an
 *   earlier one, even when its smaller item would fit);
 * - every item that enters leaves exactly once: received, dropped by the full-policy (counted,
 *   passed to `onDrop`) or handed back by `abort()`.
 *
 * ```
 *  senders ─send()─▶ [parked senders, FIFO] ─▶ [ ring: capacity items / maxBytes ] ─recv()─▶ receivers
 *                        │ full? ask the policy: wait | drop newest | evict oldest
 * ```
 */
import { performance } from 'node:perf_hooks';
import { abortError, SpillwayError } from '../errors.js';
import { Ring } from '../internal/ring.js';
import { WaitList, type WaitNode } from '../internal/wait-list.js';
import {
  type FullPolicy,
  type FullPolicyName,
  type OverflowAccess,
  resolveFullPolicy,
} from './full-policy.js';
import type { BufferChannel, ChannelStats, TrySendResult } from './types.js';

export interface ChannelOptions<T> {
  /** Shown in stats, metrics and errors. */
  name?: string;
  /** Most items queued at once. Default 16. */
  capacity?: number;
  /** Most bytes queued at once. Default 16 MiB. An item larger than this is refused outright. */
  maxBytes?: number;
  /** What to do when an item does not fit. Default `block`. */
  whenFull?: FullPolicyName | FullPolicy;
  /** Byte size of an item. Default: its `bytes` property. */
  sizeOf?: (item: T) => number;
  /** Sees every item a policy drops, e.g. to settle its acknowledgement as `dropped`. */
  onDrop?: (item: T, reason: string) => void;
  /** Most senders (and, separately, receivers) parked at once. Default 65 536. */
  maxWaiters?: number;
}

interface SendWaiter<T> {
  item: T;
  size: number;
  since: number;
  resolve: (outcome: 'queued') => void;
  reject: (err: unknown) => void;
}

interface RecvWaiter<T> {
  resolve: (item: T | undefined) => void;
  reject: (err: unknown) => void;
}

// Shared, already-settled results: the common case of send() allocates no promise.
const QUEUED: Promise<'queued'> = Promise.resolve('queued');
const DROPPED: Promise<'dropped'> = Promise.resolve('dropped');
const TRY_QUEUED = Object.freeze({ ok: true, outcome: 'queued' } as const);
const TRY_DROPPED = Object.freeze({ ok: true, outcome: 'dropped' } as const);

const defaultSizeOf = (item: unknown): number => {
  const size = (item as { bytes?: unknown } | null)?.bytes;
  if (typeof size !== 'number' || !(size >= 0)) {
    throw new TypeError('channel item has no numeric "bytes" property; pass options.sizeOf');
  }
  return size;
};

/**
 * A bounded async channel: capacity in items *and* bytes, a named full-policy, FIFO senders.
 *
 * When to use: between any two stages, and anywhere a producer may outrun a consumer. Send
 * batches, not single events: one async hop per item cannot reach millions of lines per second.
 *
 * Gotchas: an item larger than `maxBytes` is refused with `ERR_ITEM_TOO_LARGE` (it could never
 * fit). `abort()` hands queued items back; it does not count them as drops.
 *
 * Fast path: `await ch.send(x)` yields to the event loop's microtask queue even when there is
 * room, so the receiver wakes for every item. A hot loop that moves small items should stay
 * synchronous while it can and park only at the bound, as Node streams do with `write()`'s
 * return value: `ch.trySend(x).ok || (await ch.send(x))` to send, and
 * `ch.tryRecv() ?? (await ch.recv())` to receive. Both keep FIFO order and every bound.
 *
 * @example
 * ```ts
 * const ch = new Channel<Batch>({ name: 'parse→http', capacity: 16, maxBytes: 8 << 20 });
 * await ch.send(batch);             // waits while full
 * for await (const b of ch) sink(b); // ends after ch.close() once drained
 * ```
 */
export class Channel<T> implements BufferChannel<T> {
  readonly name: string;
  readonly capacity: number;
  readonly maxBytes: number;
  readonly policy: FullPolicy;

  readonly #sizeOf: (item: T) => number;
  readonly #onDrop: ((item: T, reason: string) => void) | undefined;
  readonly #maxWaiters: number;
  // Items and their sizes in two rings moved in lockstep: no wrapper object per item.
  readonly #queue: Ring<T>;
  readonly #sizes: Ring<number>;
  readonly #senders = new WaitList<SendWaiter<T>>();
  readonly #receivers = new WaitList<RecvWaiter<T>>();
  readonly #overflow: OverflowAccess<T>;
  #bytes = 0;
  #closed = false;
  #abortReason: unknown;
  #aborted = false;

  #totalIn = 0;
  #totalOut = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #blockedMs = 0;
  readonly #drops: Record<string, number> = {};
  #droppedBytes = 0;

  constructor(options: ChannelOptions<T> = {}) {
    this.name = options.name ?? 'channel';
    this.capacity = options.capacity ?? 16;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        `channel ${this.name}: capacity must be a positive integer, got ${this.capacity}`,
      );
    }
    if (!(this.maxBytes > 0)) {
      throw new SpillwayError(
        'ERR_INVALID_OPTION',
        `channel ${this.name}: maxBytes must be positive, got ${this.maxBytes}`,
      );
    }
    this.policy = resolveFullPolicy(options.whenFull);
    this.#sizeOf = options.sizeOf ?? defaultSizeOf;
    this.#onDrop = options.onDrop;
    this.#maxWaiters = options.maxWaiters ?? 65_536;
    this.#queue = new Ring(this.capacity);
    this.#sizes = new Ring(this.capacity);
    this.#overflow = {
      fits: (item) => this.#fits(this.#sizeOf(item)),
      evictOldest: (reason) => {
        if (this.#queue.length === 0) return undefined;
        const item = this.#queue.shift() as T;
        const size = this.#sizes.shift() as number;
        this.#bytes -= size;
        this.#countDrop(item, size, reason);
        return item;
      },
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get depth(): number {
    return this.#queue.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  send(item: T, signal?: AbortSignal): Promise<'queued' | 'dropped'> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let size: number;
    try {
      size = this.#admissible(item);
    } catch (err) {
      // A promise-returning API must reject, never throw synchronously: callers that chain
      // `.catch()` (or race the promise) would otherwise miss ERR_ITEM_TOO_LARGE.
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#senders.length === 0 && this.#fits(size)) {
      this.#enqueue(item, size);
      return QUEUED;
    }
    const decision = this.#senders.length === 0 ? this.policy.onFull(item, this.#overflow) : 'wait';
    if (decision === 'admit') {
      this.#enqueue(item, size);
      return QUEUED;
    }
    if (decision === 'drop') {
      this.#countDrop(item, size, this.policy.dropReason);
      return DROPPED;
    }
    return this.#park(item, size, signal);
  }

  trySend(item: T): TrySendResult<T> {
    const size = this.#admissible(item);
    if (this.#closed) return { ok: false, reason: 'closed', item };
    if (this.#senders.length === 0 && this.#fits(size)) {
      this.#enqueue(item, size);
      return TRY_QUEUED;
    }
    const decision = this.#senders.length === 0 ? this.policy.onFull(item, this.#overflow) : 'wait';
    if (decision === 'admit') {
      this.#enqueue(item, size);
      return TRY_QUEUED;
    }
    if (decision === 'drop') {
      this.#countDrop(item, size, this.policy.dropReason);
      return TRY_DROPPED;
    }
    return { ok: false, reason: 'full', item };
  }

  recv(signal?: AbortSignal): Promise<T | undefined> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#aborted) return Promise.reject(this.#abortedError());
    const item = this.tryRecv();
    if (item !== undefined || this.#queue.length > 0) return Promise.resolve(item);
    if (this.#closed) return Promise.resolve(undefined);
    if (this.#receivers.length >= this.#maxWaiters) {
      return Promise.reject(
        new SpillwayError('ERR_INVALID_OPTION', `channel ${this.name}: too many parked receivers`),
      );
    }
    return new Promise<T | undefined>((resolve, reject) => {
      let node: WaitNode<RecvWaiter<T>> | undefined;
      const onAbort = () => {
        if (node) this.#receivers.remove(node);
        reject(abortError(signal!));
      };
      node = this.#receivers.push({
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  tryRecv(): T | undefined {
    if (this.#queue.length === 0) return undefined;
    const item = this.#queue.shift() as T;
    const size = this.#sizes.shift() as number;
    this.#bytes -= size;
    this.#totalOut++;
    this.#bytesOut += size;
    if (this.#senders.length > 0 || this.#closed) this.#admitParkedSenders();
    return item;
  }

  /**
   * Receives until the channel is closed and drained. Hand-written rather than an async
   * generator: a generator allocates several promises per item, this takes a queued item
   * synchronously and only parks when the channel is empty.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    const wrap = (item: T | undefined): IteratorResult<T> =>
      item === undefined ? done : { done: false, value: item };
    return {
      next: () => {
        if (this.#aborted) return Promise.reject(this.#abortedError());
        const item = this.tryRecv();
        if (item !== undefined) return Promise.resolve({ done: false, value: item });
        return this.recv().then(wrap);
      },
      return: () => Promise.resolve(done),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Parked senders' items were never accepted: they stay with their owners.
    for (let w = this.#senders.shift(); w; w = this.#senders.shift()) {
      this.#blockedMs += performance.now() - w.since;
      w.reject(this.#closedError());
    }
    if (this.#queue.length === 0) {
      for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) r.resolve(undefined);
    }
  }

  abort(reason?: unknown): T[] {
    this.#closed = true;
    this.#aborted = true;
    this.#abortReason = reason;
    const err = this.#abortedError();
    for (let w = this.#senders.shift(); w; w = this.#senders.shift()) {
      this.#blockedMs += performance.now() - w.since;
      w.reject(err);
    }
    for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) r.reject(err);
    const items = this.#queue.clear();
    this.#sizes.clear();
    this.#bytes = 0;
    return items;
  }

  stats(): ChannelStats {
    let parkedMs = 0;
    const now = performance.now();
    for (let n = this.#senders.first; n; n = n.next) parkedMs += now - n.value.since;
    return {
      name: this.name,
      policy: this.policy.name,
      depth: this.#queue.length,
      bytes: this.#bytes,
      capacity: this.capacity,
      maxBytes: this.maxBytes,
      fillRatio: Math.min(
        1,
        Math.max(this.#queue.length / this.capacity, this.#bytes / this.maxBytes),
      ),
      totalIn: this.#totalIn,
      totalOut: this.#totalOut,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      blockedSenders: this.#senders.length,
      blockedMs: this.#blockedMs + parkedMs,
      drops: { ...this.#drops },
      droppedBytes: this.#droppedBytes,
    };
  }

  #admissible(item: T): number {
    const size = this.#sizeOf(item);
    if (size > this.maxBytes) {
      throw new SpillwayError(
        'ERR_ITEM_TOO_LARGE',
        `channel ${this.name}: item of ${size} bytes can never fit in maxBytes ${this.maxBytes}`,
      );
    }
    return size;
  }

  #fits(size: number): boolean {
    return this.#queue.length < this.capacity && this.#bytes + size <= this.maxBytes;
  }

  #enqueue(item: T, size: number): void {
    this.#totalIn++;
    this.#bytesIn += size;
    const receiver = this.#queue.length === 0 ? this.#receivers.shift() : undefined;
    if (receiver) {
      // Hand-off: the item passes straight to a parked receiver.
      this.#totalOut++;
      this.#bytesOut += size;
      receiver.resolve(item);
      return;
    }
    this.#queue.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  #admitParkedSenders(): void {
    for (let n = this.#senders.first; n && this.#fits(n.value.size); n = this.#senders.first) {
      this.#senders.remove(n);
      const w = n.value;
      this.#blockedMs += performance.now() - w.since;
      this.#enqueue(w.item, w.size);
      w.resolve('queued');
    }
    if (this.#closed && this.#queue.length === 0) {
      for (let r = this.#receivers.shift(); r; r = this.#receivers.shift()) r.resolve(undefined);
    }
  }

  #park(item: T, size: number, signal: AbortSignal | undefined): Promise<'queued'> {
    if (this.#senders.length >= this.#maxWaiters) {
      return Promise.reject(
        new SpillwayError('ERR_INVALID_OPTION', `channel ${this.name}: too many parked senders`),
      );
    }
    return new Promise<'queued'>((resolve, reject) => {
      const onAbort = () => {
        this.#senders.remove(node);
        this.#blockedMs += performance.now() - node.value.since;
        reject(abortError(signal!));
        // The head may have been holding back smaller items behind it.
        this.#admitParkedSenders();
      };
      const node = this.#senders.push({
        item,
        size,
        since: performance.now(),
        resolve: (outcome) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #countDrop(item: T, size: number, reason: string): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + 1;
    this.#droppedBytes += size;
    this.#onDrop?.(item, reason);
  }

  #closedError(): SpillwayError {
    return new SpillwayError('ERR_CHANNEL_CLOSED', `channel ${this.name} is closed`);
  }

  #abortedError(): SpillwayError {
    return new SpillwayError('ERR_CHANNEL_ABORTED', `channel ${this.name} was aborted`, {
      cause: this.#abortReason,
    });
  }
}
