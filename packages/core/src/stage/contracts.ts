/**
 * Stage contracts. A stage has a *definition* — its type, typed options, the resources it claims
 * (ports, paths), a validation and `build()` — apart from the *running instance* that `build()`
 * returns. Definitions are plain values: they can be created from TypeScript or from a config
 * file, validated before anything starts, and built more than once.
 *
 * Sources and sinks are nouns (`generator`, `http`); transforms are verbs (`parseJson`).
 */
import type { Batch } from '../event/batch.js';
import type { Counters } from '../metrics/registry.js';

/** Something only one stage of a process may hold. */
export interface Resource {
  readonly kind: 'port' | 'path';
  /** `tcp:127.0.0.1:4318`, `udp:0.0.0.0:514`, or an absolute path. */
  readonly id: string;
}

/** What every running stage is given. */
export interface StageContext {
  /** The stage's name in its pipeline. */
  readonly name: string;
  /** Aborted when the pipeline stops hard (deadline passed, or `abort()`): give up now. */
  readonly signal: AbortSignal;
  /** The stage's own counters, exported with the pipeline's metrics. */
  readonly counters: Counters;
}

export interface SourceContext extends StageContext {
  /**
   * Aborted when a graceful stop begins: stop reading, emit what is in hand, and return from
   * `run()`. (`signal` follows later, if the deadline passes.)
   */
  readonly stopping: AbortSignal;
  /**
   * Sends a batch to every consumer of this source, waiting while any of them is full: this wait
   * is the backpressure. Resolves `dropped` when a consumer's full-policy dropped it (counted,
   * and the batch's acknowledgement settled as `dropped`).
   */
  emit(batch: Batch, signal?: AbortSignal): Promise<'queued' | 'dropped'>;
  /**
   * Never waits. `full` when a consumer has no room: the batch was sent to no one and is handed
   * back, e.g. for a UDP source to drop and count. Closed consumers report `closed`.
   */
  tryEmit(batch: Batch): { ok: true } | { ok: false; reason: 'full' | 'closed'; batch: Batch };
}

/** A running source. `run()` resolves when the source has no more data or `stopping` fired. */
export interface Source {
  run(ctx: SourceContext): Promise<void>;
  /** Extra stats merged into the source's metrics entry. */
  stats?(): object;
}

/**
 * A running transform. Returns the batches to pass on: none (all filtered out; the input's
 * acknowledgement settles as delivered), one, or several (an input's acknowledgement is shared
 * by every output that carries it). Throwing rejects the batch, counted; the stage goes on.
 */
export interface Transform {
  process(batch: Batch, signal: AbortSignal): TransformResult | Promise<TransformResult>;
  /**
   * How many batches the pipeline may hand to `process()` before the first has returned. Default
   * 1. A transform that sends work elsewhere (worker threads) raises it to keep every worker
   * busy; the pipeline still emits outputs in input order, holding at most this many batches.
   */
  readonly concurrency?: number;
  close?(): Promise<void> | void;
  stats?(): object;
}

export type TransformResult = Batch | readonly Batch[] | null | undefined;

/**
 * What a sink reports for one batch; `undefined` means delivered.
 *
 * `requeue`: not delivered, but not the batch's fault either — the backend kept failing
 * transiently until the sink's attempts ran out. The batch goes back to the sink's buffer: a
 * buffer that can persist it (a spilling one) takes it, to be delivered again later; otherwise
 * the pipeline holds it and writes it again, so it is never dropped for being unlucky.
 */
export type SinkOutcome =
  | undefined
  | { readonly status: 'delivered' }
  | { readonly status: 'rejected' | 'dropped'; readonly reason: string }
  | { readonly status: 'requeue'; readonly reason: string };

/**
 * A running sink. The output pool calls `write()` from up to `maxWorkers` workers at once; a
 * sink that cannot take concurrent writes sets `maxWorkers: 1`. `write()` resolves only when
 * the batch is delivered (or rejected/dropped, with a reason); throwing counts as rejected.
 */
export interface Sink {
  write(batch: Batch, signal: AbortSignal): Promise<SinkOutcome>;
  /**
   * How many `write()` calls the sink wants open at once, used as the output pool's
   * `maxWorkers` when the pipeline spec sets none. A sink that merges batches into larger
   * requests asks for more than it sends at once, so that it has batches to merge.
   */
  readonly concurrency?: number;
  close?(signal: AbortSignal): Promise<void>;
  stats?(): object;
}

/** What `build()` is given. */
export interface BuildContext {
  readonly name: string;
  readonly signal: AbortSignal;
  /**
   * The stage's counters, the same object its running context gets; exported with the
   * pipeline's metrics. Count what the stage does on its own (parse errors, drops by reason).
   */
  readonly counters: Counters;
}

interface StageDefinitionBase<Kind extends string, Options, Instance> {
  readonly kind: Kind;
  /** The stage type, e.g. `generator`; shown in errors and metrics. */
  readonly type: string;
  readonly options: Options;
  /**
   * Where the factory that made this definition can be imported from (a file URL or package
   * name), exporting it under the name `type` or as `default`. A definition with a `module` can
   * be rebuilt from `type` and `options` elsewhere, e.g. inside a worker thread; without one it
   * runs only where it was made. See {@link StageSpec.module}.
   */
  readonly module?: string;
  /** Every problem with the options, as readable sentences; empty when valid. */
  validate(): string[];
  /** Ports and paths this stage will hold, checked for clashes before anything starts. */
  resources(): Resource[];
  build(ctx: BuildContext): Instance | Promise<Instance>;
}

export type SourceDefinition<O = unknown> = StageDefinitionBase<'source', O, Source>;
export type TransformDefinition<O = unknown> = StageDefinitionBase<'transform', O, Transform>;
export type SinkDefinition<O = unknown> = StageDefinitionBase<'sink', O, Sink>;
export type StageDefinition = SourceDefinition | TransformDefinition | SinkDefinition;

/** What a stage type declares: see {@link defineSource}. */
export interface StageSpec<O, Instance> {
  type: string;
  /**
   * `import.meta.url` of the module that exports the factory, under the name `type` or as
   * `default`. Set it on transforms that should be able to run in worker threads; their options
   * must then be structured-cloneable (no functions: name a module instead).
   */
  module?: string;
  validate?(options: O): string[];
  resources?(options: O): Resource[];
  build(options: O, ctx: BuildContext): Instance | Promise<Instance>;
}

function define<Kind extends StageDefinition['kind'], O, Instance>(
  kind: Kind,
  spec: StageSpec<O, Instance>,
): (options: O) => StageDefinitionBase<Kind, O, Instance> {
  return (options) => ({
    kind,
    type: spec.type,
    options,
    ...(spec.module === undefined ? {} : { module: spec.module }),
    validate: () => spec.validate?.(options) ?? [],
    resources: () => spec.resources?.(options) ?? [],
    build: (ctx) => spec.build(options, ctx),
  });
}

/**
 * Declares a source type; returns a factory from typed options to a definition.
 *
 * @example
 * ```ts
 * export const ticker = defineSource<{ every: number }>({
 *   type: 'ticker',
 *   validate: (o) => (o.every > 0 ? [] : ['every must be > 0']),
 *   build: (o) => ({ async run(ctx) { ... await ctx.emit(batch, ctx.stopping) ... } }),
 * });
 * ```
 */
export function defineSource<O>(spec: StageSpec<O, Source>): (options: O) => SourceDefinition<O> {
  return define('source', spec);
}

/** Declares a transform type (a verb); see {@link defineSource}. */
export function defineTransform<O>(
  spec: StageSpec<O, Transform>,
): (options: O) => TransformDefinition<O> {
  return define('transform', spec);
}

/** Declares a sink type; see {@link defineSource}. */
export function defineSink<O>(spec: StageSpec<O, Sink>): (options: O) => SinkDefinition<O> {
  return define('sink', spec);
}
