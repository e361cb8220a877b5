/**
 * The CPU stage: a chain of transforms run on a pool of worker threads (piscina), so parsing and
 * encoding use every core while the main thread only moves bytes.
 *
 * ```
 *  [cpu.in] ──▶ window of ≤ inFlight tasks, oldest first ──▶ outputs in input order ──▶ next
 *                  │ toTask: copy into a slot  ▲ result: outputs in shared memory
 *                  ▼                           │
 *               piscina: threads × (ChainRunner: step → step → … )
 * ```
 *
 * Bounds: at most `inFlight` batches are between the input channel and the next stage — the
 * pipeline takes no more from the input until the oldest is done — so piscina's own queue never
 * holds more than `inFlight - threads` tasks. Its `maxQueue` is set to the same number only as a
 * backstop: its rejection carries no error code, so it must never be what bounds us.
 *
 * Faults: a step that throws, a thread that dies (uncaught error, `process.exit()`, heap limit
 * from `resourceLimits`) or a task that runs past `taskTimeoutMs` (its thread is terminated) each
 * fail the task; the batch is tried once more on a healthy thread, then dead-lettered (if a file
 * is configured) and rejected. piscina replaces dead threads. Acknowledgements never leave this
 * thread, so a batch is never acknowledged because a worker died.
 */
import { availableParallelism } from 'node:os';
import {
  type Batch,
  type Counters,
  defineTransform,
  optionChecks,
  SpillwayError,
  type Transform,
  type TransformDefinition,
} from '@spillway/core';
import { DeadLetterFile } from '@spillway/disk-buffer';
import { Piscina } from 'piscina';
import { stepProblems } from './chain.js';
import { stepNames } from './internal/chain-runner.js';
import { fromResult, type ResultEnvelope, SlotPool, toTask } from './internal/envelope.js';
import { type MeterReading, UtilisationMeter } from './internal/meter.js';
import { portabilityProblems, resolveStep, toStepSpec } from './internal/step-spec.js';
import { StepTotals } from './internal/step-totals.js';

/** A failed task is tried this many times in all: once more, as the design asks. */
const ATTEMPTS = 2;

export interface WorkersOptions {
  /** Transforms applied in order to each batch, all in one worker hop. */
  steps: readonly TransformDefinition[];
  /** Worker threads. Default: the number of cores (`os.availableParallelism()`). */
  threads?: number;
  /**
   * Threads kept alive when idle. Default `threads`: starting a thread costs tens of
   * milliseconds and re-imports every step, so a pool that shrinks between bursts thrashes.
   */
  minThreads?: number;
  /** Milliseconds before an idle thread above `minThreads` ends. Default 60000 (piscina's is 0). */
  idleTimeoutMs?: number;
  /** Batches in flight (running or queued for a thread). Default `2 × threads`, so no thread waits between tasks. */
  inFlight?: number;
  /** A task running longer is abandoned and its thread terminated. Default 30000. */
  taskTimeoutMs?: number;
  /** Heap and stack limits of each thread; a thread over them dies and is replaced. */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    stackSizeMb?: number;
  };
  /** Where batches that failed every attempt are written. Without it they are counted only. */
  deadLetters?: { path: string; maxBytes?: number };
}

/**
 * Runs `steps` on a pool of worker threads, several batches at once, emitting results in input
 * order.
 *
 * When to use: anything CPU-bound between sources and sinks — parsing, SQL, redaction, encoding.
 * End the chain with `encode()` and the main thread handles only bytes; otherwise it decodes the
 * events the workers send back.
 *
 * Gotchas: every step must name its module (built-ins do; plugins via `module: import.meta.url`
 * or `loadTransform()`) and have structured-cloneable options — no functions; name a module
 * exporting the function instead. Each thread builds its own copy of each step, so per-step
 * state (a counter, a cache) is per thread. In a thread, a raw batch's bytes live in shared
 * memory that is reused for a later batch once the chain has run: a step must not keep them
 * (as bytes) past its `process()` call — decoding them, or returning them, is fine. Output
 * bytes reach the next stage in a `SharedArrayBuffer`, not an `ArrayBuffer`.
 *
 * @example
 * ```ts
 * transforms: {
 *   cpu: { inputs: ['files'], stage: workers({ threads: 2, steps: [parseJson({}), encode({ format: 'ndjson' })] }) },
 * }
 * ```
 */
export const workers = defineTransform<WorkersOptions>({
  type: 'workers',
  validate(o) {
    const problems = stepProblems(o.steps);
    if (Array.isArray(o.steps)) {
      const names = stepNames(o.steps);
      for (const [i, step] of o.steps.entries()) {
        if (step?.kind === 'transform')
          problems.push(...portabilityProblems(`step ${names[i]}`, step));
      }
    }
    const check = optionChecks(problems);
    check.integerBetween('threads', o.threads, 1, 256);
    check.integerBetween('minThreads', o.minThreads, 0, 256);
    check.integerAtLeast('idleTimeoutMs', o.idleTimeoutMs, 0);
    check.integerBetween('inFlight', o.inFlight, 1, 65_536);
    check.positiveInteger('taskTimeoutMs', o.taskTimeoutMs);
    const threads = o.threads ?? availableParallelism();
    if (o.minThreads !== undefined && o.minThreads > threads) {
      problems.push('minThreads must not exceed threads');
    }
    if (o.inFlight !== undefined && o.inFlight < threads) {
      problems.push(`inFlight (${o.inFlight}) below threads (${threads}) would leave threads idle`);
    }
    if (o.deadLetters !== undefined && typeof o.deadLetters?.path !== 'string') {
      problems.push('deadLetters.path must be a file path');
    }
    return problems;
  },
  async build(o, ctx) {
    const specs = o.steps.map(toStepSpec);
    // Resolve every step here once, so a module that cannot be imported or a factory that does
    // not match fails the build instead of every task.
    await Promise.all(specs.map(resolveStep));
    const deadLetters = o.deadLetters ? await DeadLetterFile.open(o.deadLetters) : undefined;
    return new WorkerTransform(ctx.name, ctx.counters, o, specs, deadLetters, ctx.signal);
  },
});

/** The running `workers` stage. */
class WorkerTransform implements Transform {
  readonly concurrency: number;
  readonly #name: string;
  readonly #counters: Counters;
  readonly #pool: Piscina;
  readonly #threads: number;
  readonly #taskTimeoutMs: number;
  readonly #meter: UtilisationMeter;
  readonly #totals: StepTotals;
  readonly #deadLetters: DeadLetterFile | undefined;
  readonly #slots: SlotPool;
  #inFlight = 0;
  #closing = false;

  constructor(
    name: string,
    counters: Counters,
    o: WorkersOptions,
    specs: readonly ReturnType<typeof toStepSpec>[],
    deadLetters: DeadLetterFile | undefined,
    hard: AbortSignal,
  ) {
    this.#name = name;
    this.#counters = counters;
    this.#threads = o.threads ?? availableParallelism();
    this.concurrency = o.inFlight ?? this.#threads * 2;
    this.#taskTimeoutMs = o.taskTimeoutMs ?? 30_000;
    this.#meter = new UtilisationMeter(this.#threads);
    this.#totals = new StepTotals(stepNames(o.steps));
    this.#deadLetters = deadLetters;
    this.#slots = new SlotPool(this.concurrency);
    this.#pool = new Piscina({
      filename: new URL('./worker/entry.js', import.meta.url).href,
      name: 'default',
      minThreads: o.minThreads ?? this.#threads,
      maxThreads: this.#threads,
      idleTimeout: o.idleTimeoutMs ?? 60_000,
      maxQueue: Math.max(1, this.concurrency - this.#threads),
      concurrentTasksPerWorker: 2,
      ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}),
      workerData: { steps: specs },
    });
    this.#pool.on('workerDestroy', () => {
      if (!this.#closing) this.#counters.add('worker_restarts');
    });
    // A thread that fails with no task on it is reported here; piscina has already replaced it.
    this.#pool.on('error', () => this.#counters.add('worker_errors'));
    hard.addEventListener('abort', () => void this.close(), { once: true });
  }

  async process(batch: Batch, signal: AbortSignal): Promise<Batch[]> {
    let error: unknown;
    let reason = 'plugin_error';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (attempt > 1) this.#counters.add('retries');
      try {
        return await this.#run(batch, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        error = err;
        reason = failureOf(err);
        this.#counters.add(reason);
      }
    }
    this.#counters.add('dead_lettered');
    this.#counters.add('dead_lettered_events', batch.count);
    await this.#deadLetters?.write(batch, {
      stage: this.#name,
      reason,
      error,
      attempts: ATTEMPTS,
    });
    throw new SpillwayError(
      'ERR_TRANSFORM_FAILED',
      `${this.#name}: batch ${batch.id} failed ${ATTEMPTS} times (${reason})`,
      { cause: error },
    );
  }

  async #run(batch: Batch, signal: AbortSignal): Promise<Batch[]> {
    const { message, transfer, slot } = toTask(batch, this.#slots);
    // One controller per task rather than AbortSignal.any(): `signal` lives as long as the
    // pipeline, and a listener per task must come off it when the task ends.
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => abort.abort(new TaskTimeout(this.#taskTimeoutMs)),
      this.#taskTimeoutMs,
    );
    this.#inFlight++;
    try {
      const result = (await this.#pool.run(message, {
        transferList: transfer,
        signal: abort.signal,
      })) as ResultEnvelope;
      // Only now is the worker done with the slot; after a failure it may still be reading it.
      if (slot) this.#slots.give(slot);
      this.#meter.record(result.runMs);
      this.#totals.add(result.steps);
      return fromResult(batch, result.outputs);
    } catch (err) {
      // piscina rejects an aborted task with its own AbortError; the reason says why.
      throw abort.signal.aborted && abort.signal.reason instanceof TaskTimeout
        ? abort.signal.reason
        : err;
    } finally {
      this.#inFlight--;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  stats(): object {
    return {
      threads: this.#pool.threads.length,
      in_flight: this.#inFlight,
      queue_depth: this.#pool.queueSize,
      utilisation: Number(this.#meter.utilisation().toFixed(3)),
      meter: this.meter(),
      ...this.#deadLetters?.stats(),
      steps: this.#totals.toJSON(),
    };
  }

  /** The thread-pool meter: see `UtilisationMeter`. */
  meter(): MeterReading {
    return this.#meter.reading(this.#inFlight);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#pool.destroy();
    await this.#deadLetters?.close();
  }
}

class TaskTimeout extends Error {
  constructor(ms: number) {
    super(`task ran longer than ${ms} ms; its thread was terminated`);
    this.name = 'TaskTimeout';
  }
}

/**
 * What made a task fail, as the counter it is counted under. piscina's errors carry no codes,
 * so a thread's death is recognised by the messages piscina uses for it; Node's own
 * ERR_WORKER_OUT_OF_MEMORY does carry one.
 */
function failureOf(err: unknown): string {
  if (err instanceof TaskTimeout) return 'task_timeouts';
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') return 'worker_out_of_memory';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (message.startsWith('worker exited with code') || message === 'Terminating worker thread') {
    return 'worker_exits';
  }
  return 'plugin_errors';
}
