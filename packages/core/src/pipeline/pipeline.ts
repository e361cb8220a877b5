/**
 * The pipeline runtime: builds a validated graph of stages, wires a bounded channel in front of
 * every transform and sink, runs each stage as one task, and stops in order.
 *
 * ```
 *  source ─emit()─▶ [parse.in] ─▶ transform ─▶ [http.in] ─▶ output pool ─▶ sink workers
 *     ▲  waits while full  │  waits while full  │  waits while every worker is busy
 *     └────────────────────┴────────────────────┘  = the backpressure cascade
 * ```
 *
 * Shutdown (`stop({ deadline })`): sources are told to stop (`ctx.stopping`); each stage closes
 * its consumers' inputs when it ends, so transforms and sinks drain in order. If the deadline
 * passes first, the hard signal fires, every buffer is aborted, and what it still held is handed
 * to the buffer's shutdown policy: a spilling buffer persists it; an in-memory one reports it as
 * counted loss (`undelivered`), never silently.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Observable } from 'rxjs';
import { SHUTDOWN_DEADLINE, WITHDRAWN } from '../ack/acknowledgement.js';
import { Channel } from '../channel/channel.js';
import type { BufferChannel } from '../channel/types.js';
import { PipelineInvalidError, SpillwayError } from '../errors.js';
import type { Batch } from '../event/batch.js';
import { Counters, MetricsRegistry, type MetricsSnapshot, WaitClock } from '../metrics/registry.js';
import { OutputPool } from '../output/output-pool.js';
import type {
  BuildContext,
  Sink,
  Source,
  SourceContext,
  Transform,
  TransformResult,
} from '../stage/contracts.js';
import { type BufferSpec, type PipelineSpec, validatePipelineSpec } from './spec.js';

/** How long `stop()` lets buffers persist what they hold (spill to disk) before giving up. */
const PERSIST_BUDGET_MS = 30_000;

export interface StopOptions {
  /** Milliseconds to drain before the hard stop. Default 5000. */
  deadline?: number;
  /**
   * Milliseconds to wait, after the hard stop, for stages to notice it. Stages that are still
   * running then are reported in `stuck`. Default 1000.
   */
  grace?: number;
  /**
   * Aborting it ends the drain at once, as if the deadline had come: the hard stop follows,
   * and buffers still persist what they hold. For a caller whose own time is up (a second
   * SIGTERM, a supervisor's kill timer).
   */
  signal?: AbortSignal;
}

export interface StopResult {
  /** True when every stage finished and every buffer drained before the deadline. */
  readonly drained: boolean;
  /** Batches and events that were still undelivered at the deadline (counted loss). */
  readonly undelivered: { readonly batches: number; readonly events: number };
  /** Stages that had not ended `grace` ms after the hard stop. */
  readonly stuck: readonly string[];
}

interface Consumer {
  readonly name: string;
  readonly input: BufferChannel<Batch>;
  producersLeft: number;
}

interface Task {
  readonly name: string;
  done: boolean;
  promise: Promise<void>;
}

type PipelineState = 'built' | 'running' | 'stopping' | 'stopped';

/**
 * A validated pipeline specification.
 *
 * @example
 * ```ts
 * const pipeline = await definePipeline({
 *   sources: { gen: generator({ count: 1e6 }) },
 *   transforms: { upper: { inputs: ['gen'], stage: upperCase({}) } },
 *   sinks: { out: { inputs: ['upper'], stage: http({ url }), pool: { maxWorkers: 8 } } },
 * }).build();
 * pipeline.start();
 * await pipeline.stop({ deadline: 10_000 });
 * ```
 */
export interface PipelineDefinition {
  readonly spec: PipelineSpec;
  /** Every problem found, empty when valid. */
  validate(): string[];
  /** Validates (throwing `ERR_PIPELINE_INVALID` with every problem), then builds every stage. */
  build(options?: { signal?: AbortSignal }): Promise<Pipeline>;
}

export function definePipeline(spec: PipelineSpec): PipelineDefinition {
  return {
    spec,
    validate: () => validatePipelineSpec(spec),
    async build(options = {}) {
      const problems = validatePipelineSpec(spec);
      if (problems.length > 0) throw new PipelineInvalidError(problems);
      const pipeline = new Pipeline(spec);
      await pipeline.buildStages(options.signal);
      return pipeline;
    },
  };
}

/**
 * A built pipeline: `start()` it, read its `metrics$`, `stop()` it. Use `definePipeline(spec)
 * .build()` to make one.
 *
 * Gotchas: `stop()` is the only way buffered data is accounted for at shutdown; dropping the
 * object without it leaves stages running. `await using` works (`Symbol.asyncDispose` stops with
 * the default deadline).
 */
export class Pipeline {
  readonly name: string;
  readonly metrics = new MetricsRegistry();
  readonly #spec: PipelineSpec;
  readonly #stopping = new AbortController();
  readonly #hard = new AbortController();
  readonly #counters = new Counters();
  readonly #sources = new Map<string, Source>();
  readonly #transforms = new Map<string, Transform>();
  readonly #sinks = new Map<string, Sink>();
  readonly #pools = new Map<string, OutputPool>();
  readonly #consumers = new Map<string, Consumer>();
  /** Each stage's own counters, made at build so that `build()` can count too. */
  readonly #stageCounters = new Map<string, Counters>();
  readonly #tasks: Task[] = [];
  #state: PipelineState = 'built';
  #done: Promise<void> | undefined;
  #stopResult: Promise<StopResult> | undefined;

  /** @internal use `definePipeline(spec).build()` */
  constructor(spec: PipelineSpec) {
    this.name = spec.name ?? 'pipeline';
    // Every pool worker's write, parked sender and stage listens on these two signals; their
    // number is bounded by the graph's bounds, not by traffic, so Node's leak warning at 10
    // listeners would only be noise.
    setMaxListeners(0, this.#stopping.signal, this.#hard.signal);
    this.#spec = spec;
  }

  get state(): PipelineState {
    return this.#state;
  }

  /** A metrics snapshot every `periodMs` (default 1 s), shared between subscribers. */
  metrics$(periodMs = 1000): Observable<MetricsSnapshot> {
    return this.metrics.observe(periodMs);
  }

  /** @internal */
  async buildStages(signal: AbortSignal | undefined): Promise<void> {
    const buildSignal = signal ? AbortSignal.any([signal, this.#hard.signal]) : this.#hard.signal;
    const spec = this.#spec;
    this.metrics.register(this.name, 'pipeline', () => ({
      state: this.#state,
      ...this.#counters.toJSON(),
    }));
    const context = (name: string): BuildContext => {
      const counters = new Counters();
      this.#stageCounters.set(name, counters);
      return { name, signal: buildSignal, counters };
    };
    for (const [name, definition] of Object.entries(spec.sources)) {
      this.#sources.set(name, await definition.build(context(name)));
    }
    for (const [name, t] of Object.entries(spec.transforms ?? {})) {
      this.#transforms.set(name, await t.stage.build(context(name)));
      this.#addConsumer(name, t.inputs.length, t.buffer ?? spec.defaultBuffer);
    }
    for (const [name, s] of Object.entries(spec.sinks)) {
      const sink = await s.stage.build(context(name));
      this.#sinks.set(name, sink);
      this.#addConsumer(name, s.inputs.length, s.buffer ?? spec.defaultBuffer);
      const input = this.#consumers.get(name)!.input;
      const pool = new OutputPool(name, (batch, sig) => sink.write(batch, sig), {
        ...(sink.concurrency === undefined ? {} : { maxWorkers: sink.concurrency }),
        ...s.pool,
        signal: this.#hard.signal,
        onRequeue: async (batch, sig) => (await input.requeue?.(batch, sig)) ?? false,
        onError: () => this.#counters.add('sink_errors'),
        onAbandoned: (batch) => {
          // A buffer that persists (spill) takes the batch back for the next start.
          if (input.reclaim?.(batch)) return true;
          this.#countUndelivered(batch);
          return false;
        },
      });
      this.#pools.set(name, pool);
      this.metrics.register(`${name}.pool`, 'pool', () => pool.stats());
    }
  }

  /** Starts every stage. Resolves at once; `done()` tells when the pipeline has ended. */
  start(): void {
    if (this.#state !== 'built') {
      throw new SpillwayError('ERR_PIPELINE_STATE', `pipeline ${this.name} is ${this.#state}`);
    }
    this.#state = 'running';
    for (const [name, source] of this.#sources) this.#runSource(name, source);
    for (const [name, transform] of this.#transforms) this.#runTransform(name, transform);
    for (const [name, sink] of this.#sinks) this.#runSink(name, sink);
    this.#done = Promise.all(this.#tasks.map((t) => t.promise)).then(() => {
      if (this.#state === 'running') this.#state = 'stopped';
    });
  }

  /** Resolves when every stage has ended: sources ran out of data, or `stop()` finished. */
  done(): Promise<void> {
    if (!this.#done) throw new SpillwayError('ERR_PIPELINE_STATE', 'pipeline was not started');
    return this.#done;
  }

  /**
   * Stops in order: sources, then transforms, then sinks, each draining what it holds. At the
   * deadline, stops hard and accounts for what was left. Calling it again returns the same result.
   */
  stop(options: StopOptions = {}): Promise<StopResult> {
    this.#stopResult ??= this.#stop(options);
    return this.#stopResult;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'built') {
      this.#state = 'stopped';
      return;
    }
    await this.stop();
  }

  async #stop({ deadline = 5000, grace = 1000, signal }: StopOptions): Promise<StopResult> {
    if (this.#state === 'built') {
      this.#state = 'stopped';
      return { drained: true, undelivered: { batches: 0, events: 0 }, stuck: [] };
    }
    this.#state = 'stopping';
    this.#stopping.abort(new SpillwayError('ERR_ABORTED', `pipeline ${this.name} is stopping`));
    const drained = await within(deadline, this.#done!, signal);
    if (!drained) {
      this.#hard.abort(new SpillwayError('ERR_ABORTED', `pipeline ${this.name}: stop deadline`));
      for (const consumer of this.#consumers.values()) {
        for (const batch of consumer.input.abort(this.#hard.signal.reason)) {
          this.#lose(batch, `${consumer.name}.in`);
        }
      }
      await within(grace, this.#done!);
    }
    // A sink that ignores the hard signal must not hold the stop past its grace period.
    await within(grace, Promise.all([...this.#pools.values()].map((pool) => pool.close())));
    const closing = AbortSignal.timeout(grace);
    await within(
      grace,
      Promise.allSettled([...this.#sinks.values()].map((sink) => sink.close?.(closing))),
    );
    // Buffers persist what they hold last, once nothing can send to or take from them. Writing
    // to disk is what keeps that data, so it gets its own budget rather than the grace period.
    const persisting = AbortSignal.timeout(PERSIST_BUDGET_MS);
    await Promise.allSettled(
      [...this.#consumers.values()].map((c) => c.input.shutdown?.(persisting)),
    );
    this.#state = 'stopped';
    return {
      drained,
      undelivered: {
        batches: this.#counters.get('undelivered_batches'),
        events: this.#counters.get('undelivered_events'),
      },
      stuck: this.#tasks.filter((t) => !t.done).map((t) => t.name),
    };
  }

  #addConsumer(name: string, producers: number, buffer: BufferSpec | undefined): void {
    const onDrop = (batch: Batch, reason: string) =>
      batch.ack.settle('dropped', `${name}.in:${reason}`);
    const input =
      buffer && 'create' in buffer
        ? buffer.create(`${name}.in`, onDrop)
        : new Channel<Batch>({ name: `${name}.in`, ...buffer, onDrop });
    this.#consumers.set(name, { name, input, producersLeft: producers });
    this.metrics.register(`${name}.in`, 'channel', () => input.stats());
  }

  /** The input channels of every stage that reads from `producer`. */
  #consumersOf(producer: string): Consumer[] {
    const out: Consumer[] = [];
    const stages = [
      ...Object.entries(this.#spec.transforms ?? {}),
      ...Object.entries(this.#spec.sinks),
    ];
    for (const [name, stage] of stages) {
      if (stage.inputs.includes(producer)) out.push(this.#consumers.get(name)!);
    }
    return out;
  }

  #track(name: string, body: () => Promise<void>, onEnd: () => void): void {
    const task: Task = { name, done: false, promise: Promise.resolve() };
    task.promise = body()
      .catch((err: unknown) => {
        if (!this.#hard.signal.aborted) {
          this.#counters.add('stage_failures');
          process.emitWarning(
            new SpillwayError('ERR_STAGE_FAILED', `stage ${name} failed`, { cause: err }),
          );
        }
      })
      .finally(() => {
        task.done = true;
        onEnd();
      });
    this.#tasks.push(task);
  }

  /** When a producer ends, each consumer whose producers have all ended has its input closed. */
  #producerEnded(consumers: readonly Consumer[]): void {
    for (const consumer of consumers) {
      if (--consumer.producersLeft === 0) consumer.input.close();
    }
  }

  /**
   * Sends `batch` to every consumer, waiting on each in turn. A consumer that can no longer take
   * it (closed, aborted) settles its share of the acknowledgement as `dropped`, counted.
   */
  /**
   * Sends `batch` to every consumer; `own` is the emitting stage's own signal (a receiver's
   * timeout), which may withdraw the batch while it waits. A consumer with room takes it at
   * once; only a wait pays for joining `own` with the hard stop's signal.
   */
  async #emit(
    stage: string,
    consumers: readonly Consumer[],
    batch: Batch,
    own?: AbortSignal,
  ): Promise<'queued' | 'dropped'> {
    if (consumers.length > 1) batch.ack.retain(consumers.length - 1);
    const hard = this.#hard.signal;
    let waitSignal: AbortSignal | undefined;
    let outcome: 'queued' | 'dropped' = 'queued';
    for (let i = 0; i < consumers.length; i++) {
      const input = consumers[i]!.input;
      if (!own?.aborted) {
        const sent = input.trySend(batch);
        if (sent.ok) {
          if (sent.outcome === 'dropped') outcome = 'dropped';
          continue;
        }
      }
      try {
        waitSignal ??= own ? AbortSignal.any([own, hard]) : hard;
        if ((await input.send(batch, waitSignal)) === 'dropped') outcome = 'dropped';
      } catch (err) {
        // Aborted by the stage's own signal (a receiver's timeout, a source stopping), not by
        // the hard stop: the source withdrew the batch and still owns it — it answers its
        // client, or reads it again — so this is not the pipeline's loss.
        const withdrawn = !hard.aborted && own?.aborted === true;
        for (let j = i; j < consumers.length; j++) {
          const where = `${stage}→${consumers[j]!.name}`;
          if (withdrawn) batch.ack.settle('dropped', `${where}:${WITHDRAWN}`);
          else this.#lose(batch, where);
        }
        throw err;
      }
    }
    return outcome;
  }

  #lose(batch: Batch, where: string): void {
    this.#countUndelivered(batch);
    batch.ack.settle('dropped', `${where}:${SHUTDOWN_DEADLINE}`);
  }

  #countUndelivered(batch: Batch): void {
    this.#counters.add('undelivered_batches');
    this.#counters.add('undelivered_events', batch.count);
  }

  #runSource(name: string, source: Source): void {
    const consumers = this.#consumersOf(name);
    const counters = this.#stageCounters.get(name)!;
    const blocked = new WaitClock();
    this.metrics.register(name, 'source', () => ({
      ...counters.toJSON(),
      blocked_ms: blocked.ms,
      ...source.stats?.(),
    }));
    const hard = this.#hard.signal;
    const ctx: SourceContext = {
      name,
      signal: hard,
      stopping: this.#stopping.signal,
      counters,
      emit: async (batch, signal) => {
        blocked.enter();
        try {
          const outcome = await this.#emit(name, consumers, batch, signal);
          counters.add(outcome === 'queued' ? 'batches_out' : 'batches_dropped');
          counters.add(outcome === 'queued' ? 'events_out' : 'events_dropped', batch.count);
          return outcome;
        } finally {
          blocked.exit();
        }
      },
      tryEmit: (batch) => {
        const [first, ...rest] = consumers;
        const result = first!.input.trySend(batch);
        if (!result.ok) return { ok: false, reason: result.reason, batch };
        // Fan-out: the first consumer took it; the others take it or count it as dropped.
        batch.ack.retain(rest.length);
        for (const consumer of rest) {
          const other = consumer.input.trySend(batch);
          if (!other.ok) {
            counters.add('fanout_dropped');
            batch.ack.settle('dropped', `${consumer.name}.in:${other.reason}`);
          }
        }
        counters.add('batches_out');
        counters.add('events_out', batch.count);
        return { ok: true };
      },
    };
    this.#track(
      name,
      () => source.run(ctx),
      () => this.#producerEnded(consumers),
    );
  }

  /**
   * Feeds the transform up to `concurrency` batches at once and emits their outputs in input
   * order: a window of pending results, oldest first. While the oldest is unfinished or its
   * outputs wait for room downstream, nothing more is taken from the input.
   */
  #runTransform(name: string, transform: Transform): void {
    const { input } = this.#consumers.get(name)!;
    const consumers = this.#consumersOf(name);
    const counters = this.#stageCounters.get(name)!;
    this.metrics.register(name, 'transform', () => ({
      ...counters.toJSON(),
      ...transform.stats?.(),
    }));
    const signal = this.#hard.signal;
    const window = Math.max(1, Math.floor(transform.concurrency ?? 1));
    const start = (batch: Batch): Promise<Processed> => {
      counters.add('batches_in');
      counters.add('events_in', batch.count);
      return Promise.resolve()
        .then(() => transform.process(batch, signal))
        .then(
          (result): Processed => ({ batch, ok: true, result }),
          (error: unknown): Processed => ({ batch, ok: false, error }),
        );
    };
    const forward = async (done: Processed) => {
      const { batch } = done;
      if (!done.ok) {
        counters.add('errors');
        const code = SpillwayError.is(done.error) ? done.error.code : 'error';
        batch.ack.settle('rejected', `${name}:${code}`);
        return;
      }
      const { result } = done;
      const outputs: readonly Batch[] = result == null ? [] : 'ack' in result ? [result] : result;
      const sharing = outputs.reduce((n, out) => n + (out.ack === batch.ack ? 1 : 0), 0);
      if (sharing === 0) batch.ack.settle('delivered');
      else if (sharing > 1) batch.ack.retain(sharing - 1);
      for (const out of outputs) {
        await this.#emit(name, consumers, out);
        counters.add('batches_out');
        counters.add('events_out', out.count);
      }
    };
    const body = async () => {
      // Oldest first; at most `window` entries, each started before the next batch is read.
      const pending: Promise<Processed>[] = [];
      const change = new Wakeup();
      let reading = true;
      let emitting = true;
      // Takes a batch from the input only when the window has room, so a full window leaves
      // batches in the channel, where they count against its bounds and hold the producers.
      const reader = async () => {
        const batches = input[Symbol.asyncIterator]();
        try {
          for (;;) {
            while (pending.length >= window && emitting) await change.next();
            if (!emitting) return;
            const next = await batches.next();
            if (next.done) return;
            pending.push(start(next.value));
            change.wake();
          }
        } finally {
          reading = false;
          change.wake();
        }
      };
      // Emits each result as soon as it and every earlier one are done: a result is never held
      // back waiting for later input.
      const emitter = async () => {
        try {
          for (;;) {
            if (pending.length === 0) {
              if (!reading) return;
              await change.next();
              continue;
            }
            await forward(await pending[0]!);
            pending.shift();
            change.wake();
          }
        } finally {
          emitting = false;
          change.wake();
        }
      };
      const ended = await Promise.allSettled([reader(), emitter()]);
      // Stopped hard with batches still in the window: account for each.
      for (const left of pending.splice(0)) this.#lose((await left).batch, name);
      for (const end of ended) if (end.status === 'rejected') throw end.reason;
      await transform.close?.();
    };
    this.#track(name, body, () => this.#producerEnded(consumers));
  }

  #runSink(name: string, sink: Sink): void {
    const { input } = this.#consumers.get(name)!;
    const pool = this.#pools.get(name)!;
    const counters = this.#stageCounters.get(name)!;
    this.metrics.register(name, 'sink', () => ({ ...counters.toJSON(), ...sink.stats?.() }));
    const signal = this.#hard.signal;
    const body = async () => {
      for await (const batch of input) {
        try {
          await pool.dispatch(batch, signal);
        } catch (err) {
          if (!input.reclaim?.(batch)) this.#lose(batch, name);
          throw err;
        }
      }
      await pool.idle(signal);
    };
    this.#track(name, body, () => {});
  }
}

/** Lets one loop wait until another has changed something they share. */
class Wakeup {
  #resolve: () => void = () => {};
  #next = this.#arm();

  /** Resolves at the next `wake()`. */
  next(): Promise<void> {
    return this.#next;
  }

  wake(): void {
    const resolve = this.#resolve;
    this.#next = this.#arm();
    resolve();
  }

  #arm(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
  }
}

/** The end of one `process()` call, held in the transform's window until its turn. */
type Processed =
  | { readonly batch: Batch; readonly ok: true; readonly result: TransformResult }
  | { readonly batch: Batch; readonly ok: false; readonly error: unknown };

/** Waits for `promise`, but no longer than `ms`; true when it settled in time. */
/** True when `promise` settles within `ms` (and before `cut` fires, when given). */
async function within(ms: number, promise: Promise<unknown>, cut?: AbortSignal): Promise<boolean> {
  if (cut?.aborted) return false;
  const timer = new AbortController();
  const onCut = () => timer.abort();
  cut?.addEventListener('abort', onCut, { once: true });
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    delay(ms, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  cut?.removeEventListener('abort', onCut);
  return settled;
}
