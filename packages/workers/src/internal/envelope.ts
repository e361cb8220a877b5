/**
 * What crosses between the main thread and a worker, and how.
 *
 * ```
 *  main thread                                          worker
 *  Batch ──toTask()──▶ TaskMessage ──────────────▶ fromTask() ─▶ ChainRunner ─▶ toResult()
 *   (ack, positions     raw: lines copied into a       raw: a view of the slot      │
 *    stay here)         shared slot (one copy);        events: unpacked             │
 *                       events: packed, transferred                                 │
 *  Batch[] ◀──fromResult()── ResultEnvelope ◀──── each output's bytes (raw lines, ◀─┘
 *                            (structured clone)   packed events) in a new SharedArrayBuffer
 * ```
 *
 * Shared memory both ways, for the main thread's sake. Raw lines go out through a slot: a
 * `SharedArrayBuffer` from a {@link SlotPool} that the main thread reuses once the task has
 * succeeded, so dispatching a batch allocates nothing and copies its bytes once. Outputs come
 * back in `SharedArrayBuffer`s that the worker allocates and fills (its one copy), which the
 * message shares rather than transfers. Why not transfer an `ArrayBuffer`: V8 counts a received
 * `ArrayBuffer` against the main thread's heap, and a main thread that only forwards bytes
 * allocates too few objects for cheap young-generation collections to free them. Measured in
 * the `transform` benchmark (one worker, 256 KiB batches), transferred outputs cost a full
 * collection per ~11 MB received, ~26 per run; shared ones none, which cut the main thread's
 * CPU time by a third and the GC helper threads' by 40%, for one more copy on the worker.
 * Nothing is packed: the envelope around the bytes is a few small objects, which structured
 * clone handles in microseconds.
 *
 * Invariants:
 * - The acknowledgement and source positions never leave the main thread: a worker cannot
 *   settle or advance anything, so a worker that dies cannot acknowledge data.
 * - A slot is in one task at a time. The main thread takes it back only from a task that
 *   succeeded, when the worker has finished with it (outputs are copied out of it, as out of
 *   anything else); after a failure (a timeout, a dead thread) it is left to the garbage
 *   collector, since the thread may still be running.
 * - In a worker, a raw input's bytes are valid until the chain has run: a step must not keep
 *   them (as bytes) beyond its `process()` call. Built-in steps decode them into strings.
 * - An output's shared buffer is never written after it is sent: the worker drops it, and the
 *   main thread's batch is its only user.
 */
import { type Batch, createEventBatch, createRawBatch, type LogEvent } from '@spillway/core';
import { Packr } from 'msgpackr';

/** One batch for a worker. Everything here is structured-cloneable. */
export interface TaskMessage {
  readonly id: string;
  readonly source: string;
  readonly createdAt: number;
  /** `raw`: newline-delimited lines, a view of a shared slot; `events`: msgpackr-packed `LogEvent[]`. */
  readonly kind: 'raw' | 'events';
  readonly payload: Uint8Array;
  /** Lines in a raw payload. */
  readonly lines: number;
}

/** One batch a chain produced; its bytes are in a `SharedArrayBuffer` of their own. */
export interface ResultBatch {
  /** True when it carries the input's acknowledgement (and so its id and positions). */
  readonly shares: boolean;
  /** A raw output's bytes. */
  readonly raw?: Uint8Array;
  readonly lines?: number;
  /** An event output: msgpackr-packed `LogEvent[]`. */
  readonly events?: Uint8Array;
}

/** What a step did during one task: counter increments since the previous report. */
export type StepReport = Readonly<Record<string, number>>;

export interface ResultEnvelope {
  readonly outputs: readonly ResultBatch[];
  /** One entry per step, in chain order. */
  readonly steps: readonly StepReport[];
  /** Milliseconds the chain ran on the worker, for the utilisation meter. */
  readonly runMs: number;
}

/** A task and the buffers to transfer with it, which the main thread must not use afterwards. */
export interface OutgoingTask {
  readonly message: TaskMessage;
  readonly transfer: ArrayBuffer[];
  /** The slot a raw payload is in: give it back to its pool when the task has succeeded. */
  readonly slot?: SharedArrayBuffer;
}

// Records: a batch's events usually share one shape, encoded once per message. No copyBuffers:
// decoded binary values stay views into the received buffer, which nothing else uses.
const packr = new Packr({ useRecords: true, moreTypes: false, bundleStrings: true });

/** The smallest slot made: tiny batches share one size rather than each making its own. */
const MIN_SLOT_BYTES = 4096;

/**
 * Shared buffers for raw payloads on their way to a worker, reused from task to task.
 *
 * ```
 *  take(bytes) ──▶ the smallest free slot that fits, else a new one ──▶ task ──▶ give(slot)
 *                  (sizes are powers of two, so slots fit the next batch too)   (success only)
 * ```
 *
 * Bounded: it keeps at most `capacity` free slots (the stage's in-flight bound, so every task in
 * flight can have one); a slot given back to a full pool is dropped. Gotcha: what it keeps lives
 * as long as the stage — up to `capacity` slots of at most twice the largest batch seen.
 */
export class SlotPool {
  readonly #free: SharedArrayBuffer[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** A slot of at least `bytes` bytes, no longer in the pool. */
  take(bytes: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const size = this.#free[i]!.byteLength;
      if (size >= bytes && (best === -1 || size < this.#free[best]!.byteLength)) best = i;
    }
    if (best !== -1) return this.#free.splice(best, 1)[0]!;
    // Every free slot is too small for batches this size: one goes, so the pool turns over to
    // the new size instead of keeping slots no batch fits.
    this.#free.pop();
    return new SharedArrayBuffer(2 ** Math.ceil(Math.log2(Math.max(bytes, MIN_SLOT_BYTES))));
  }

  /** Returns a slot whose task has ended and whose worker no longer reads it. */
  give(slot: SharedArrayBuffer): void {
    if (this.#free.length < this.#capacity) this.#free.push(slot);
  }

  /** Free slots, for tests. */
  get size(): number {
    return this.#free.length;
  }
}

/**
 * A batch as a task. Raw lines are copied into a slot from `slots` (returned with the task, to
 * be given back when it succeeds); events are packed into a fresh buffer, to be transferred.
 * The batch's own bytes are never handed over: it may be shared with other consumers (fan-out)
 * and is needed again for a retry.
 */
export function toTask(batch: Batch, slots: SlotPool): OutgoingTask {
  const { payload } = batch;
  const meta = { id: batch.id, source: batch.source, createdAt: batch.createdAt };
  if (payload.kind === 'raw') {
    const slot = slots.take(payload.data.byteLength);
    const view = new Uint8Array(slot, 0, payload.data.byteLength);
    view.set(payload.data);
    return {
      message: { ...meta, kind: 'raw', payload: view, lines: payload.lines },
      transfer: [],
      slot,
    };
  }
  const packed = owned(packr.pack(payload.events));
  return {
    message: { ...meta, kind: 'events', payload: packed, lines: 0 },
    transfer: [packed.buffer as ArrayBuffer],
  };
}

/** The task's batch, rebuilt in the worker with the acknowledgement the worker's chain uses. */
export function fromTask(task: TaskMessage, ack: Batch['ack']): Batch {
  const init = { id: task.id, source: task.source, createdAt: task.createdAt, ack };
  if (task.kind === 'raw')
    return createRawBatch({ ...init, data: task.payload, lines: task.lines });
  return createEventBatch({ ...init, events: packr.unpack(task.payload) as LogEvent[] });
}

/**
 * The chain's outputs as an envelope. `ack` is the input's acknowledgement in the worker, which
 * tells which outputs share it.
 */
export function toResult(
  batches: readonly Batch[],
  ack: Batch['ack'],
  steps: readonly StepReport[],
  runMs: number,
): ResultEnvelope {
  const outputs = batches.map((batch): ResultBatch => {
    const shares = batch.ack === ack;
    const { payload } = batch;
    return payload.kind === 'raw'
      ? { shares, raw: shared(payload.data), lines: payload.lines }
      : { shares, events: shared(packr.pack(payload.events)) };
  });
  return { outputs, steps, runMs };
}

/**
 * The main thread's batches for a chain's outputs. Outputs that share the input's
 * acknowledgement keep its positions; the first of them keeps its id, so an id stays stable
 * through a worker hop, and the others get derived ones.
 */
export function fromResult(input: Batch, outputs: readonly ResultBatch[]): Batch[] {
  let sharing = 0;
  return outputs.map((out) => {
    const init = out.shares
      ? {
          id: sharing++ === 0 ? input.id : `${input.id}.${sharing - 1}`,
          source: input.source,
          ack: input.ack,
          positions: input.positions,
          createdAt: input.createdAt,
        }
      : { source: input.source, createdAt: input.createdAt };
    if (out.raw) return createRawBatch({ ...init, data: out.raw, lines: out.lines ?? 0 });
    const events = out.events ? (packr.unpack(out.events) as LogEvent[]) : [];
    return createEventBatch({ ...init, events });
  });
}

/**
 * A copy of `view` in an `ArrayBuffer` of its own, which can be transferred. Not zero-filled
 * first: every byte is written at once.
 */
function owned(view: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  return copy;
}

/** A copy of `view` in a `SharedArrayBuffer` of its own, to be shared with the main thread. */
function shared(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(view.byteLength));
  copy.set(view);
  return copy;
}
