/**
 * The conformance kit for sources: `checkSource(make, options)`.
 *
 * Every check but clean-shutdown runs the source in a {@link SourceHarness} — the pipeline's
 * `emit`/`tryEmit` semantics in front of a consumer that drains or stalls on command — so that
 * it can count `emit()` calls waiting at once, refusals, and who settled each acknowledgement.
 * Clean-shutdown runs it in a real pipeline.
 */
import { performance } from 'node:perf_hooks';
import type { Source, SourceDefinition } from '@spillway/core';
import {
  buildInstance,
  type Check,
  CheckFailure,
  failed,
  type Outcome,
  passed,
  runKit,
  selectChecks,
  type Timings,
  timings,
  validDefinitionOf,
} from '../internal/check.js';
import { describeError, ms, plural } from '../internal/format.js';
import { checkHeapGrowth } from '../internal/heap.js';
import { checkCleanShutdown } from '../internal/shutdown.js';
import { SourceHarness, type SourceHarnessOptions } from '../internal/source-harness.js';
import { attempt, pause, waitUntil, within } from '../internal/timing.js';
import { checkValidation } from '../internal/validation.js';
import type { CheckOptions } from './options.js';
import type { ConformanceReport } from './report.js';

/**
 * The names of the checks {@link checkSource} runs, in the order it runs them.
 *
 * When to use: to pick checks for `only` / `skip`, or to assert which ran.
 *
 * @example
 * ```ts
 * await checkSource(make, { ...options, only: SOURCE_CHECKS.filter((n) => n !== 'bounded-memory') });
 * ```
 */
export const SOURCE_CHECKS = [
  'validation',
  'stopping',
  'hard-stop',
  'backpressure',
  'acknowledgements',
  'bounded-memory',
  'clean-shutdown',
] as const;

/** One of {@link SOURCE_CHECKS}. */
export type SourceCheckName = (typeof SOURCE_CHECKS)[number];

type SourceCheck = Check<SourceDefinition, SourceCheckName>;

/** Options of {@link checkSource}. */
export interface SourceCheckOptions extends CheckOptions<SourceDefinition, SourceCheckName> {
  /**
   * What the source does when its consumers are full. `waits` (default): it awaits
   * `ctx.emit()`, so it stops producing. `drops`: it uses `ctx.tryEmit()` and drops what is
   * refused — then a counter or stat whose name contains `drop` must grow by at least one for
   * every refusal.
   */
  readonly mode?: 'waits' | 'drops';
  /**
   * The most `emit()` calls that may wait at once. Default 1; raise it for a source with
   * independent streams that each wait on their own (files, connections).
   */
  readonly maxPendingEmits?: number;
  /** How long the backpressure check watches a stalled source, in ms. Default 1000. */
  readonly observeMs?: number;
  /**
   * Produces input for a source that needs some (writes to the file it tails, sends to its
   * port), from when the source starts until `signal` aborts. Called once per check.
   */
  readonly feed?: (signal: AbortSignal) => void | Promise<void>;
}

/** A source running in a harness for the length of one check. */
interface Running {
  readonly harness: SourceHarness;
  readonly instance: Source;
  readonly run: Promise<void>;
  /** How `run()` has ended so far. */
  readonly status: { state: 'running' | 'returned' | 'threw'; error?: unknown };
  /** Stops everything the check started, hard; never throws. */
  finish(): Promise<void>;
}

async function start(
  make: () => SourceDefinition,
  options: SourceCheckOptions,
  timing: Timings,
  queue: Omit<SourceHarnessOptions, 'name'>,
): Promise<Running> {
  const definition = validDefinitionOf(make, 'source');
  const harness = new SourceHarness({ name: definition.type, ...queue });
  const instance = await buildInstance(
    definition,
    { name: definition.type, signal: harness.hard.signal, counters: harness.counters },
    timing.startupMs,
  );
  if (typeof instance.run !== 'function') throw new CheckFailure('build() returned no run()');
  const status: Running['status'] = { state: 'running' };
  const run = attempt(() => instance.run(harness.context()));
  run.then(
    () => (status.state = 'returned'),
    (error: unknown) => Object.assign(status, { state: 'threw', error }),
  );
  const feeding = new AbortController();
  const fed = attempt(() => options.feed?.(feeding.signal)).catch(() => {});
  return {
    harness,
    instance,
    run,
    status,
    async finish() {
      harness.stopHard();
      feeding.abort();
      await within(run, timing.reactMs);
      await within(fed, timing.reactMs);
      harness.release();
    },
  };
}

/** Fails the check when `run()` ended before the check could stop it. */
function assertStillRunning(source: Running): void {
  const { status, harness } = source;
  if (status.state === 'threw') {
    throw new CheckFailure(
      `run() threw before the check stopped it: ${describeError(status.error)}`,
    );
  }
  if (status.state === 'returned') {
    throw new CheckFailure(
      `run() returned on its own after ${plural(harness.accepted, 'batch', 'batches')}, before ` +
        'the check stopped it: make() must return a source that keeps producing',
    );
  }
}

/** Waits until the source, behind a stalled consumer, waits in emit() or is refused. */
async function untilHeldBack(source: Running, timing: Timings): Promise<boolean> {
  const { harness, status } = source;
  return waitUntil(
    () => harness.pending > 0 || harness.refused > 0 || status.state !== 'running',
    timing.startupMs,
  );
}

/** Every number the source reports (its counters and `stats()`), by dotted path. */
function reportedNumbers(source: Running): Map<string, number> {
  const numbers = new Map<string, number>();
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === 'number') numbers.set(path, value);
    else if (value !== null && typeof value === 'object' && depth < 4) {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`, depth + 1);
    }
  };
  walk(source.harness.counters.toJSON(), 'counters', 0);
  try {
    walk(source.instance.stats?.(), 'stats', 0);
  } catch {
    // A throwing stats() reports nothing; the check then says no drop counter grew.
  }
  return numbers;
}

const stopping = (options: SourceCheckOptions, timing: Timings): SourceCheck => ({
  name: 'stopping',
  async run(make) {
    const source = await start(make, options, timing, { capacity: 4, drains: true });
    try {
      const { harness } = source;
      await waitUntil(
        () => harness.accepted > 0 || source.status.state !== 'running',
        timing.startupMs,
      );
      assertStillRunning(source);
      const emitted = plural(harness.accepted, 'batch', 'batches');
      harness.stopping.abort();
      const ended = await within(source.run, timing.reactMs);
      if (ended.state === 'pending') {
        return failed(
          `run() had not returned ${ms(timing.reactMs)} after ctx.stopping aborted (it had ` +
            `emitted ${emitted}, and the consumer kept up): check ctx.stopping between reads ` +
            'and pass it to every wait of your own',
        );
      }
      if (ended.state === 'rejected') {
        return failed(
          `run() rejected after ctx.stopping aborted (${describeError(ended.error)}): a ` +
            'graceful stop must end run() normally — catch the abort of emit(batch, ' +
            'ctx.stopping) and return',
        );
      }
      return passed(
        `run() returned ${ms(ended.ms)} after ctx.stopping aborted, having emitted ${emitted}`,
      );
    } finally {
      await source.finish();
    }
  },
});

const hardStop = (options: SourceCheckOptions, timing: Timings): SourceCheck => ({
  name: 'hard-stop',
  async run(make) {
    const source = await start(make, options, timing, { capacity: 1, drains: false });
    try {
      const { harness } = source;
      await untilHeldBack(source, timing);
      assertStillRunning(source);
      const where =
        harness.pending > 0
          ? 'while it waited in emit() behind a full consumer'
          : harness.refused > 0
            ? 'while tryEmit() was being refused'
            : 'before it had emitted anything';
      harness.stopHard();
      const ended = await within(source.run, timing.reactMs);
      if (ended.state === 'pending') {
        return failed(
          `run() had not returned ${ms(timing.reactMs)} after ctx.stopping and ctx.signal (the ` +
            `hard stop) aborted ${where}: give up when emit() rejects, and pass ctx.signal to ` +
            'every wait of your own',
        );
      }
      return passed(
        `run() ${ended.state === 'rejected' ? 'rejected' : 'returned'} ${ms(ended.ms)} after ` +
          `the hard stop ${where}`,
      );
    } finally {
      await source.finish();
    }
  },
});

const backpressure = (options: SourceCheckOptions, timing: Timings): SourceCheck => ({
  name: 'backpressure',
  async run(make) {
    const mode = options.mode ?? 'waits';
    const maxPending = options.maxPendingEmits ?? 1;
    const observeMs = options.observeMs ?? 1000;
    const source = await start(make, options, timing, { capacity: 1, drains: false });
    try {
      const { harness } = source;
      const held = await untilHeldBack(source, timing);
      assertStillRunning(source);
      if (!held) {
        return failed(
          `behind a full consumer, no emit() waited and no tryEmit() was refused within ` +
            `${ms(timing.startupMs)} (it emitted ${plural(harness.accepted, 'batch', 'batches')}): ` +
            'make() must return a source that keeps producing, or give options.feed if it needs input',
        );
      }
      const tooMany = () =>
        harness.peakPending > maxPending
          ? failed(
              `${harness.peakPending} emit() calls waited at once behind a full consumer (at most ` +
                `${maxPending} allowed): it does not await emit() before producing more, so its ` +
                'backlog grows without bound',
            )
          : undefined;
      if (mode === 'waits') {
        await pause(observeMs);
        const measured =
          `after ${ms(observeMs)} behind a stalled consumer of capacity 1, ` +
          `${plural(harness.returned, 'emit() call')} had returned and ${harness.pending} ` +
          `waited (at most ${harness.peakPending} at once); tryEmit() was refused ${harness.refused} times`;
        const piling = tooMany();
        if (piling) return failed(`${piling.detail} (${measured})`);
        if (harness.refused > 0 && harness.peakPending === 0) {
          return failed(
            `${measured}: it does not wait, it drops what tryEmit() refuses — declare ` +
              "{ mode: 'drops' } if that is by design",
          );
        }
        return passed(measured);
      }
      // mode 'drops': every refusal in a window must show in something the source reports.
      const before = { refused: harness.refused, numbers: reportedNumbers(source) };
      const opened = performance.now();
      await waitUntil(
        () => performance.now() - opened >= observeMs && harness.refused > before.refused,
        observeMs + timing.startupMs,
      );
      const refusals = harness.refused - before.refused;
      const window = ms(performance.now() - opened);
      if (refusals === 0) {
        return failed(
          `declared mode 'drops', but tryEmit() was not refused once in ${window} behind a full ` +
            `consumer: ${harness.pending > 0 ? "it waits in emit() — declare mode 'waits'" : 'it stopped producing'}`,
        );
      }
      const after = reportedNumbers(source);
      const drops = [...after].filter(([path]) => /drop/i.test(path));
      const grown = drops.find(([path, n]) => n - (before.numbers.get(path) ?? 0) >= refusals);
      if (!grown) {
        const seen = drops.map(([p, n]) => `${p} +${n - (before.numbers.get(p) ?? 0)}`);
        return failed(
          `tryEmit() was refused ${refusals} times in ${window}, but no counter or stat with ` +
            `"drop" in its name grew by as much (${seen.length > 0 ? seen.join(', ') : 'none is reported'}): ` +
            "count every batch you drop, e.g. ctx.counters.add('batches_dropped')",
        );
      }
      const piling = tooMany();
      if (piling) return piling;
      return passed(
        `tryEmit() was refused ${refusals} times in ${window} behind a stalled consumer, and ` +
          `${grown[0]} grew by ${grown[1] - (before.numbers.get(grown[0]) ?? 0)}`,
      );
    } finally {
      await source.finish();
    }
  },
});

const acknowledgements = (options: SourceCheckOptions, timing: Timings): SourceCheck => ({
  name: 'acknowledgements',
  async run(make) {
    const source = await start(make, options, timing, { capacity: 4, drains: true });
    const { harness } = source;
    try {
      const running = () => source.status.state === 'running';
      await waitUntil(() => harness.accepted > 0 || !running(), timing.startupMs);
      await waitUntil(() => harness.accepted >= 20 || !running(), options.observeMs ?? 1000);
      harness.stopping.abort();
      await within(source.run, timing.reactMs);
    } finally {
      await source.finish();
    }
    // A source that settles late (on a timer, on the next read) is caught too.
    await pause(20);
    const problems: string[] = [];
    const { misuse } = harness.acks;
    if (misuse.length > 0) {
      problems.push(
        `it ${misuse.slice(0, 2).join(', ')}${misuse.length > 2 ? ` and ${misuse.length - 2} more` : ''}` +
          ' — acknowledgements of emitted batches belong to their consumers: listen with ' +
          'ack.onSettled(), never settle or retain',
      );
    }
    if (harness.settledOnArrival.length > 0) {
      problems.push(
        `it emitted ${plural(harness.settledOnArrival.length, 'batch', 'batches')} whose ` +
          `acknowledgement had already settled (first: ${harness.settledOnArrival[0]})`,
      );
    }
    if (harness.emittedTwice.length > 0) {
      problems.push(
        `it emitted batch ${harness.emittedTwice[0]} more than once: each emit needs a new ` +
          'batch, or its acknowledgement is settled twice',
      );
    }
    if (problems.length > 0) return failed(`${problems.join('; ')}.`);
    if (harness.accepted === 0) {
      return failed(
        `it emitted nothing within ${ms(timing.startupMs)}, so its acknowledgements could not ` +
          'be checked: make() must return a source that produces (or give options.feed)',
      );
    }
    return passed(
      `none of the ${plural(harness.accepted, 'batch', 'batches')} it emitted had its ` +
        'acknowledgement settled or retained by the source',
    );
  },
});

const boundedMemory = (options: SourceCheckOptions, timing: Timings): SourceCheck => ({
  name: 'bounded-memory',
  async run(make): Promise<Outcome> {
    const source = await start(make, options, timing, { capacity: 1, drains: false });
    try {
      await untilHeldBack(source, timing);
      assertStillRunning(source);
      return await checkHeapGrowth({
        round: () => pause(timing.roundMs),
        roundLabel: `${ms(timing.roundMs)} behind a stalled consumer`,
        maxGrowthBytes: timing.maxGrowthBytes,
        hint:
          'it keeps something for every batch it cannot emit — read no further ahead than the ' +
          'batch in emit() while it waits (or drop and count)',
      });
    } finally {
      await source.finish();
    }
  },
});

function sourceChecks(options: SourceCheckOptions): SourceCheck[] {
  const timing = timings(options);
  return [
    {
      name: 'validation',
      run: async (make) => checkValidation(make, 'source', options.invalid ?? []),
    },
    stopping(options, timing),
    hardStop(options, timing),
    backpressure(options, timing),
    acknowledgements(options, timing),
    boundedMemory(options, timing),
    {
      name: 'clean-shutdown',
      run: async (make) => {
        const definition = validDefinitionOf(make, 'source');
        return checkCleanShutdown(
          options.feed
            ? { kind: 'source', definition, feed: options.feed }
            : { kind: 'source', definition },
          timing,
        );
      },
    },
  ];
}

/** The checks of {@link checkSource} that `options.only` / `options.skip` leave in. */
export function selectedSourceChecks(options: SourceCheckOptions = {}): SourceCheck[] {
  return selectChecks(sourceChecks(options), options);
}

/**
 * Runs every source check on fresh definitions from `make` and reports each; never throws
 * for a failing stage (see {@link assertConformance}).
 *
 * The checks: `validation`; `stopping` (run() returns soon after ctx.stopping); `hard-stop`
 * (run() returns soon after the hard signal, even while waiting in emit()); `backpressure`
 * (behind a stalled consumer it waits — at most `maxPendingEmits` emits at once — or, in mode
 * `drops`, counts every refused batch); `acknowledgements` (it never settles or retains the
 * acknowledgement of a batch it emitted); `bounded-memory` (its heap stays flat while it is
 * held back); `clean-shutdown` (no timer or handle it opened survives a pipeline stop).
 *
 * When to use: in the tests of every source plugin.
 *
 * Gotchas: `make` is called once per check and must return a source that keeps producing
 * (give `feed` if it needs input from outside). Checks run one at a time and measure the whole
 * process (its heap, its handles): do not run other tests concurrently in the same process.
 * A run takes a few seconds with the default timings.
 *
 * @example
 * ```ts
 * const report = await checkSource(() => ticker({ everyMs: 10 }), {
 *   invalid: [ticker({ everyMs: 0 })],
 * });
 * assertConformance(report);
 * ```
 */
export async function checkSource(
  make: () => SourceDefinition,
  options: SourceCheckOptions = {},
): Promise<ConformanceReport> {
  return runKit('source', make, selectedSourceChecks(options));
}
