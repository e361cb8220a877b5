/**
 * Per-sink batching: records from many pipeline batches gathered into one request, by events,
 * bytes and linger time, separately per key (a tenant, or one key for all).
 *
 * Bounded by its caller: every chunk held here belongs to a `write()` the output pool has open,
 * and the pool opens at most the sink's `concurrency` of them. A key's pending chunks go out
 * when they reach `maxEvents` or `maxBytes`, or `lingerMs` after the first one arrived — or as
 * soon as `maxChunks` are held in all: each held chunk is a pool slot that cannot take the next
 * batch, and a batcher that held every slot would cap throughput at one request per linger.
 */

export interface BatchLimits {
  /** Records per request. Default 10 000. */
  maxEvents?: number;
  /** Approximate payload bytes per request (before compression). Default 4 MiB. */
  maxBytes?: number;
  /** How long the first chunk waits for company. Default 200 ms. */
  lingerMs?: number;
}

export const BATCH_DEFAULTS: Required<BatchLimits> = {
  maxEvents: 10_000,
  maxBytes: 4 * 1024 * 1024,
  lingerMs: 200,
};

interface Pending<C> {
  chunks: C[];
  records: number;
  bytes: number;
  timer: NodeJS.Timeout | undefined;
}

export class Batcher<C extends { readonly records: number; readonly bytes: number }> {
  readonly #limits: Required<BatchLimits>;
  readonly #flush: (key: string, chunks: C[]) => void;
  readonly #maxChunks: number;
  readonly #pending = new Map<string, Pending<C>>();
  #held = 0;

  constructor(
    limits: Required<BatchLimits>,
    maxChunks: number,
    flush: (key: string, chunks: C[]) => void,
  ) {
    this.#limits = limits;
    this.#maxChunks = maxChunks;
    this.#flush = flush;
  }

  /** Chunks held now, over all keys. */
  get held(): number {
    return this.#held;
  }

  /** Adds a chunk (already no larger than the limits); may flush its key at once. */
  add(key: string, chunk: C): void {
    let pending = this.#pending.get(key);
    if (
      pending &&
      (pending.records + chunk.records > this.#limits.maxEvents ||
        pending.bytes + chunk.bytes > this.#limits.maxBytes)
    ) {
      this.flush(key);
      pending = undefined;
    }
    if (!pending) {
      pending = { chunks: [], records: 0, bytes: 0, timer: undefined };
      this.#pending.set(key, pending);
      pending.timer = setTimeout(() => this.flush(key), this.#limits.lingerMs);
    }
    pending.chunks.push(chunk);
    pending.records += chunk.records;
    pending.bytes += chunk.bytes;
    this.#held++;
    if (
      pending.records >= this.#limits.maxEvents ||
      pending.bytes >= this.#limits.maxBytes ||
      this.#held >= this.#maxChunks
    ) {
      this.flush(key);
    }
  }

  /** Sends what `key` holds now. */
  flush(key: string): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#pending.delete(key);
    this.#held -= pending.chunks.length;
    clearTimeout(pending.timer);
    this.#flush(key, pending.chunks);
  }

  flushAll(): void {
    for (const key of [...this.#pending.keys()]) this.flush(key);
  }
}
