/**
 * What crosses between the main thread and a worker, and how.
 *
 * ```
 *  main thread                                   worker
 *  Batch ──toTask()──▶ TaskMessage ─transfer─▶ ChainRunner ─▶ ResultEnvelope bytes
 *   (ack, positions                 (payload:      runs the          (msgpackr: outputs,
 *    stay here)                      own buffer)   steps             step counters, runMs)
 *  Batch[] ◀──fromResult()── decode ◀──────────── transfer ◀───────────────┘
 * ```
 *
 * Both directions move one `ArrayBuffer` that the receiver owns outright (a transfer, not a
 * structured clone). The acknowledgement and source positions never leave the main thread: a
 * worker cannot settle or advance anything, so a worker that dies cannot acknowledge data.
 */
import { type Batch, createEventBatch, createRawBatch, type LogEvent } from '@spillway/core';
import { Packr } from 'msgpackr';

/** One batch for a worker. Everything here is structured-cloneable; `payload` is transferred. */
export interface TaskMessage {
  readonly id: string;
  readonly source: string;
  readonly createdAt: number;
  /** `raw`: newline-delimited lines; `events`: msgpackr-packed `LogEvent[]`. */
  readonly kind: 'raw' | 'events';
  readonly payload: Uint8Array;
  /** Lines in a raw payload. */
  readonly lines: number;
}

/** One batch a chain produced. */
export interface ResultBatch {
  /** True when it carries the input's acknowledgement (and so its id and positions). */
  readonly shares: boolean;
  readonly raw?: Uint8Array;
  readonly lines?: number;
  readonly events?: readonly LogEvent[];
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

// Records: a batch's events usually share one shape, encoded once per message. No copyBuffers:
// a decoded raw payload stays a view into the transferred envelope, which nothing else uses.
const packr = new Packr({ useRecords: true, moreTypes: false, bundleStrings: true });

/**
 * A batch as a task. The payload is always a fresh buffer: the batch may be shared with other
 * consumers (fan-out) and is needed again for a retry, so its own bytes are never transferred.
 */
export function toTask(batch: Batch): TaskMessage {
  const { payload } = batch;
  const meta = { id: batch.id, source: batch.source, createdAt: batch.createdAt };
  if (payload.kind === 'raw') {
    return { ...meta, kind: 'raw', payload: owned(payload.data), lines: payload.lines };
  }
  return { ...meta, kind: 'events', payload: owned(packr.pack(payload.events)), lines: 0 };
}

/** The task's batch, rebuilt in the worker with the acknowledgement the worker's chain uses. */
export function fromTask(task: TaskMessage, ack: Batch['ack']): Batch {
  const init = { id: task.id, source: task.source, createdAt: task.createdAt, ack };
  if (task.kind === 'raw')
    return createRawBatch({ ...init, data: task.payload, lines: task.lines });
  return createEventBatch({ ...init, events: packr.unpack(task.payload) as LogEvent[] });
}

/** The chain's outputs as one buffer the worker can transfer. */
export function encodeResult(result: ResultEnvelope): Uint8Array {
  return owned(packr.pack(result));
}

export function decodeResult(bytes: Uint8Array): ResultEnvelope {
  return packr.unpack(bytes) as ResultEnvelope;
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
    return createEventBatch({ ...init, events: out.events ?? [] });
  });
}

/**
 * A copy of `view` in an `ArrayBuffer` of its own, which can be transferred. Needed twice: a
 * batch's bytes are shared (fan-out, retries) and msgpackr returns a view into a buffer it
 * reuses, and transferring either would detach it under its owner. Not zero-filled first: every
 * byte is written at once, and this copy is on the main thread's per-batch path.
 */
function owned(view: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  copy.set(view);
  return copy;
}
