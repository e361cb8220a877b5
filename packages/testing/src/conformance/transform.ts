/**
 * The conformance kit for transforms: `checkTransform(make, options)`.
 *
 * Transforms are called directly — `process(batch, signal)` is the whole contract between a
 * transform and the pipeline — except in clean-shutdown, which runs one in a real pipeline so
 * that `close()` is called when and as the pipeline calls it.
 */
import { basename } from 'node:path';
import {
  type Acknowledgement,
  type Batch,
  factoryExportName,
  parseModuleReference,
  type Transform,
  type TransformDefinition,
} from '@spillway/core';
import { AckWatch } from '../internal/ack-watch.js';
import { outputsOf } from '../internal/batches.js';
import {
  buildInstance,
  type Check,
  CheckFailure,
  failed,
  passed,
  runKit,
  selectChecks,
  skipped,
  stageScope,
  type Timings,
  timings,
  validDefinitionOf,
} from '../internal/check.js';
import { describeError, ms, plural } from '../internal/format.js';
import { checkHeapGrowth } from '../internal/heap.js';
import { checkCleanShutdown } from '../internal/shutdown.js';
import { attempt, drainMicrotasks, pause, within } from '../internal/timing.js';
import { checkValidation } from '../internal/validation.js';
import type { CheckOptions } from './options.js';
import type { ConformanceReport } from './report.js';

/**
 * The names of the checks {@link checkTransform} runs, in the order it runs them.
 *
 * When to use: to pick checks for `only` / `skip`, or to assert which ran.
 *
 * @example
 * ```ts
 * await checkTransform(make, { ...options, only: TRANSFORM_CHECKS.filter((n) => n !== 'bounded-memory') });
 * ```
 */
export const TRANSFORM_CHECKS = [
  'validation',
  'processes',
  'abort-signal',
  'acknowledgements',
  'bounded-memory',
  'worker-portable',
  'clean-shutdown',
] as const;

/** One of {@link TRANSFORM_CHECKS}. */
export type TransformCheckName = (typeof TRANSFORM_CHECKS)[number];

type TransformCheck = Check<TransformDefinition, TransformCheckName>;

/** Options of {@link checkTransform}. */
export interface TransformCheckOptions
  extends CheckOptions<TransformDefinition, TransformCheckName> {
  /**
   * Makes a batch the transform accepts; called once per `process()` call, so each input is a
   * new batch with its own acknowledgement. `sampleBatch` fits transforms that take any events.
   */
  readonly input: () => Batch;
}

/** A transform built for one check. */
interface Built {
  readonly definition: TransformDefinition;
  readonly instance: Transform;
  /** A signal that stays live until `finish()`. */
  readonly signal: AbortSignal;
  finish(): Promise<void>;
}

async function build(make: () => TransformDefinition, timing: Timings): Promise<Built> {
  const definition = validDefinitionOf(make, 'transform');
  const scope = stageScope(definition.type);
  const instance = await buildInstance(definition, scope.context, timing.startupMs);
  if (typeof instance.process !== 'function')
    throw new CheckFailure('build() returned no process()');
  const live = new AbortController();
  return {
    definition,
    instance,
    signal: live.signal,
    async finish() {
      await within(
        attempt(() => instance.close?.()),
        timing.reactMs,
      );
      live.abort();
      scope.end();
    },
  };
}

/** Calls `process()`, waiting at most `ms`; a `CheckFailure` if it did not return in time. */
async function processWithin(
  transform: Transform,
  batch: Batch,
  signal: AbortSignal,
  waitMs: number,
) {
  const result = await within(
    attempt(() => transform.process(batch, signal)),
    waitMs,
  );
  if (result.state === 'pending') {
    throw new CheckFailure(`process() had not returned after ${ms(waitMs)} for the input you gave`);
  }
  return result;
}

const processes = (options: TransformCheckOptions, timing: Timings): TransformCheck => ({
  name: 'processes',
  async run(make) {
    const transform = await build(make, timing);
    try {
      let outputs = 0;
      let longest = 0;
      for (let i = 0; i < 3; i++) {
        const result = await processWithin(
          transform.instance,
          options.input(),
          transform.signal,
          timing.startupMs,
        );
        longest = Math.max(longest, result.ms);
        if (result.state === 'rejected') {
          return failed(
            `process() threw on the input you gave (${describeError(result.error)}); give ` +
              'options.input batches it accepts',
          );
        }
        const outs = outputsOf(result.value);
        if (typeof outs === 'string') return failed(outs);
        outputs += outs.length;
      }
      return passed(`3 inputs gave ${plural(outputs, 'output')} (longest call ${ms(longest)})`);
    } finally {
      await transform.finish();
    }
  },
});

const abortSignal = (options: TransformCheckOptions, timing: Timings): TransformCheck => ({
  name: 'abort-signal',
  async run(make) {
    const transform = await build(make, timing);
    try {
      const aborted = AbortSignal.abort(new Error('conformance check: aborted before the call'));
      const early = await within(
        attempt(() => transform.instance.process(options.input(), aborted)),
        timing.reactMs,
      );
      if (early.state === 'pending') {
        return failed(
          `process() called with an aborted signal had not returned ${ms(timing.reactMs)} later: ` +
            'check signal.aborted before waiting on anything, and pass the signal to every wait',
        );
      }
      const controller = new AbortController();
      let done = false;
      const call = attempt(() => transform.instance.process(options.input(), controller.signal));
      call.then(
        () => (done = true),
        () => (done = true),
      );
      await drainMicrotasks();
      const wasRunning = !done;
      controller.abort(new Error('conformance check: aborted during the call'));
      const late = await within(call, timing.reactMs);
      if (late.state === 'pending') {
        return failed(
          `process() had not returned ${ms(timing.reactMs)} after its signal aborted during the ` +
            'call: pass the signal to every wait (timers, I/O, worker tasks) and give up when it aborts',
        );
      }
      return passed(
        `called with an aborted signal, process() ${early.state === 'rejected' ? 'threw' : 'returned'} ` +
          `in ${ms(early.ms)}; ${wasRunning ? `aborted during a call, it settled ${ms(late.ms)} later` : 'a call with a live signal finished before any abort could reach it'}`,
      );
    } finally {
      await transform.finish();
    }
  },
});

const acknowledgements = (options: TransformCheckOptions, timing: Timings): TransformCheck => ({
  name: 'acknowledgements',
  async run(make) {
    const transform = await build(make, timing);
    const watch = new AckWatch();
    const earlier = new WeakSet<Acknowledgement>();
    const problems: string[] = [];
    let kept = 0;
    let fresh = 0;
    let threw = 0;
    const inputs = 20;
    try {
      for (let i = 0; i < inputs; i++) {
        const input = options.input();
        if (input.ack.settled || input.ack.pending !== 1 || earlier.has(input.ack)) {
          throw new CheckFailure(
            'options.input() must return a new batch on every call, with an acknowledgement of its own',
          );
        }
        watch.watch(input);
        const result = await processWithin(
          transform.instance,
          input,
          transform.signal,
          timing.startupMs,
        );
        earlier.add(input.ack);
        if (result.state === 'rejected') {
          threw++;
          continue;
        }
        const outs = outputsOf(result.value);
        if (typeof outs === 'string') {
          problems.push(outs);
          continue;
        }
        for (const out of outs) {
          if (out.ack === input.ack) {
            kept++;
            if (out.id !== input.id) {
              problems.push(
                `an output of batch ${input.id} carries its acknowledgement under a new id ` +
                  `(${out.id}): a batch passed on keeps its id, so receivers can de-duplicate ` +
                  '(withEvents keeps it)',
              );
            }
          } else if (earlier.has(out.ack)) {
            problems.push(
              `an output of batch ${input.id} carries the acknowledgement of an earlier input, ` +
                "which the pipeline settled when that input's own process() call returned",
            );
          } else {
            fresh++;
            if (out.id === input.id) {
              problems.push(
                `batch ${input.id} was passed on with a new acknowledgement: its source would be ` +
                  'acknowledged before the data is delivered — keep batch.ack (withEvents does)',
              );
            } else if (out.ack.settled) {
              problems.push(
                `output ${out.id} came with an acknowledgement that had already settled`,
              );
            }
          }
        }
      }
    } finally {
      await transform.finish();
    }
    await pause(20);
    if (watch.misuse.length > 0) {
      problems.unshift(
        `it ${watch.misuse[0]}${watch.misuse.length > 1 ? ` (and ${watch.misuse.length - 1} more)` : ''}: ` +
          "the pipeline settles an input's acknowledgement from what process() returns, and " +
          'shares it among the outputs that carry it — a transform never settles or retains one',
      );
    }
    if (problems.length > 0) {
      const more = problems.length > 2 ? ` (${problems.length - 2} more problems)` : '';
      return failed(`${problems.slice(0, 2).join('; ')}${more}.`);
    }
    return passed(
      `${inputs} inputs: ${plural(kept, 'output')} kept their input's id and acknowledgement, ` +
        `${plural(fresh, 'new batch', 'new batches')}${threw > 0 ? `, ${threw} calls threw` : ''}; ` +
        'no acknowledgement was settled or retained by the transform',
    );
  },
});

const boundedMemory = (options: TransformCheckOptions, timing: Timings): TransformCheck => ({
  name: 'bounded-memory',
  async run(make) {
    const transform = await build(make, timing);
    try {
      return await checkHeapGrowth({
        round: async () => {
          for (let i = 0; i < timing.iterations; i++) {
            try {
              await transform.instance.process(options.input(), transform.signal);
            } catch {
              // Rejected batches are the pipeline's business; memory is what is measured here.
            }
          }
        },
        roundLabel: `${timing.iterations} process() calls`,
        maxGrowthBytes: timing.maxGrowthBytes,
        hint: 'it keeps something for every batch it sees — bound every cache and buffer',
      });
    } finally {
      await transform.finish();
    }
  },
});

const workerPortable = (options: TransformCheckOptions, timing: Timings): TransformCheck => ({
  name: 'worker-portable',
  async run(make) {
    const definition = validDefinitionOf(make, 'transform');
    if (definition.module === undefined) {
      return skipped(
        'it names no module, so it runs only where it was made; set `module: import.meta.url` ' +
          'in its spec to let workers() run it in threads',
      );
    }
    let options2: unknown;
    try {
      options2 = structuredClone(definition.options);
    } catch (err) {
      return failed(
        `its options cannot be sent to a worker thread (${describeError(err)}): pass data only, ` +
          'and name a module instead of passing a function',
      );
    }
    const { url } = parseModuleReference(definition.module);
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      return failed(`its module ${url} cannot be imported: ${describeError(err)}`);
    }
    const exportName = factoryExportName(definition.module, namespace, definition.type);
    const factory = namespace[exportName];
    if (typeof factory !== 'function') {
      return failed(
        `${basename(url)} exports no factory under "${definition.type}" or as default: export ` +
          'the value defineTransform() returned under its type name, and as default',
      );
    }
    let rebuilt: TransformDefinition;
    try {
      rebuilt = (factory as (o: unknown) => TransformDefinition)(options2);
    } catch (err) {
      return failed(`its factory threw on a copy of its own options: ${describeError(err)}`);
    }
    if (rebuilt?.kind !== 'transform' || rebuilt.type !== definition.type) {
      return failed(
        `export "${exportName}" of ${basename(url)} made a ${String(rebuilt?.kind)} "${String(rebuilt?.type)}", ` +
          `not the transform "${definition.type}"`,
      );
    }
    const transform = await build(() => rebuilt, timing);
    try {
      const result = await processWithin(
        transform.instance,
        options.input(),
        transform.signal,
        timing.startupMs,
      );
      if (result.state === 'rejected') {
        return failed(
          `rebuilt from its module, it threw on the input: ${describeError(result.error)}`,
        );
      }
    } finally {
      await transform.finish();
    }
    const both =
      typeof namespace.default === 'function' && typeof namespace[definition.type] === 'function';
    return passed(
      `rebuilt from ${basename(url)} (export "${exportName}"${both ? ', also the default' : ''}) ` +
        'with a structured clone of its options, it validates, builds and processes a batch',
    );
  },
});

function transformChecks(options: TransformCheckOptions): TransformCheck[] {
  const timing = timings(options);
  return [
    {
      name: 'validation',
      run: async (make) => checkValidation(make, 'transform', options.invalid ?? []),
    },
    processes(options, timing),
    abortSignal(options, timing),
    acknowledgements(options, timing),
    boundedMemory(options, timing),
    workerPortable(options, timing),
    {
      name: 'clean-shutdown',
      run: async (make) =>
        checkCleanShutdown(
          {
            kind: 'transform',
            definition: validDefinitionOf(make, 'transform'),
            input: options.input,
          },
          timing,
        ),
    },
  ];
}

/** The checks of {@link checkTransform} that `options.only` / `options.skip` leave in. */
export function selectedTransformChecks(options: TransformCheckOptions): TransformCheck[] {
  return selectChecks(transformChecks(options), options);
}

/**
 * Runs every transform check on fresh definitions from `make` and reports each; never throws
 * for a failing stage (see {@link assertConformance}).
 *
 * The checks: `validation`; `processes` (the inputs you give go through); `abort-signal`
 * (process() returns soon when its signal is aborted before or during the call);
 * `acknowledgements` (it never settles or retains an input's acknowledgement; each output
 * carries the input's acknowledgement and id, or is a new batch with its own); `bounded-memory`
 * (heap flat over rounds of process() calls); `worker-portable` (with a `module`, it can be
 * rebuilt from it with cloned options, as workers() does; skipped without one);
 * `clean-shutdown` (no timer or handle survives the pipeline's stop and `close()`).
 *
 * When to use: in the tests of every transform plugin.
 *
 * Gotchas: `input` must return a new batch on each call. Checks run one at a time and measure
 * the whole process: do not run other tests concurrently in the same process.
 *
 * @example
 * ```ts
 * assertConformance(
 *   await checkTransform(() => maskDigits({ fields: ['message'] }), {
 *     input: () => sampleBatch(),
 *     invalid: [maskDigits({ fields: [] })],
 *   }),
 * );
 * ```
 */
export async function checkTransform(
  make: () => TransformDefinition,
  options: TransformCheckOptions,
): Promise<ConformanceReport> {
  return runKit('transform', make, selectedTransformChecks(options));
}
