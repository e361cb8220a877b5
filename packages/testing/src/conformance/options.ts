/**
 * Options shared by the three check kits, and their defaults. The defaults are generous on
 * purpose: a check must not fail a correct stage on a loaded two-core CI machine, so every bound
 * on time is seconds where a healthy stage needs milliseconds, and no check measures speed.
 */

/**
 * Options of the bounded-memory check; see {@link CheckOptions.memory}.
 *
 * When to use: raise `iterations` to see a small per-batch leak; lower it for a sink whose
 * writes are slow (each round is `iterations` real writes).
 *
 * Gotcha: a round must be long enough for a leak to exceed `maxGrowthBytes`: keeping 100 bytes
 * per batch over 1000 batches is only 0.1 MiB, below the default limit.
 *
 * @example
 * ```ts
 * await checkSink(make, { memory: { iterations: 200 } });
 * ```
 */
export interface MemoryCheckOptions {
  /**
   * Heap growth allowed per round, in bytes, once the stage is warm. Default 2 MiB: far above
   * the noise of a collected heap, far below what keeping each batch costs over a round.
   */
  readonly maxGrowthBytes?: number;
  /** Sources: how long one round lasts (stalled behind a full consumer). Default 500 ms. */
  readonly roundMs?: number;
  /** Transforms and sinks: `process()` or `write()` calls per round. Default 1000. */
  readonly iterations?: number;
}

/**
 * Options every kit takes (`checkSource`, `checkTransform`, `checkSink`, `describeConformance`);
 * each kit adds its own. `Definition` is the kind of definition checked, `Name` its check names.
 *
 * When to use: the defaults suit stages that start in milliseconds; raise `startupMs` and
 * `reactMs` for stages that connect somewhere or start threads.
 *
 * Gotcha: an unknown name in `only` or `skip` is refused (the returned promise rejects with the
 * list of names), so a renamed check cannot be skipped silently.
 *
 * @example
 * ```ts
 * await checkSource(() => ticker({ everyMs: 10 }), {
 *   invalid: [ticker({ everyMs: 0 })],
 *   startupMs: 10_000,
 *   skip: ['bounded-memory'],
 * });
 * ```
 */
export interface CheckOptions<Definition, Name extends string> {
  /**
   * Definitions made with options that `validate()` must refuse, e.g. `[ticker({ everyMs: 0 })]`.
   * (Definitions rather than bare options because `make` takes no arguments: the factory is
   * yours.) Without any, the validation check only checks the valid definition.
   */
  readonly invalid?: readonly Definition[];
  /**
   * How soon the stage must react to an abort, a stop or a close, in ms. Default 2000.
   */
  readonly reactMs?: number;
  /**
   * How long `build()` and the first batch may take, in ms. Default 5000. Raise it for stages
   * that connect somewhere or start threads.
   */
  readonly startupMs?: number;
  /** After a stop, how long handles and timers have to go away, in ms. Default 1000. */
  readonly settleMs?: number;
  readonly memory?: MemoryCheckOptions;
  /** Run only these checks (by name). */
  readonly only?: readonly Name[];
  /** Leave these checks out (by name), e.g. `['bounded-memory']` for a sink that writes slowly. */
  readonly skip?: readonly Name[];
}
