/**
 * The conformance kit for sinks: `checkSink(make, options)`.
 *
 * Sinks are called directly — `write(batch, signal)` as the output pool calls it — except in
 * clean-shutdown, which runs one behind a real output pool so that `close(signal)` comes when
 * and as the pipeline sends it.
 *
 * A write is "cut short" when its signal aborts while the call is still running. Each abort
 * check builds a fresh sink and aborts at three moments — once the call has run its
 * microtasks (so I/O is certainly still in flight), after one turn of the event loop, and
 * after 5 ms — and judges only the calls that had not settled yet; a sink that finishes
 * without I/O is never cut short, and passes.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type Batch,
  type Sink,
  type SinkDefinition,
  type SinkOutcome,
  SpillwayError,
} from '@spillway/core';
import { AckWatch } from '../internal/ack-watch.js';
import {
  buildInstance,
  type Check,
  CheckFailure,
  failed,
  passed,
  runKit,
  selectChecks,
  stageScope,
  type Timings,
  timings,
  validDefinitionOf,
} from '../internal/check.js';
import { describeError, ms, plural, preview } from '../internal/format.js';
import { checkHeapGrowth } from '../internal/heap.js';
import { checkCleanShutdown } from '../internal/shutdown.js';
import { attempt, drainMicrotasks, pause, type Settled, within } from '../internal/timing.js';
import { checkValidation } from '../internal/validation.js';
import { sampleBatch } from '../samples.js';
import type { CheckOptions } from './options.js';
import type { ConformanceReport } from './report.js';

/**
 * The names of the checks {@link checkSink} runs, in the order it runs them.
 *
 * When to use: to pick checks for `only` / `skip`, or to assert which ran.
 *
 * @example
 * ```ts
 * await checkSink(make, { ...options, only: SINK_CHECKS.filter((n) => n !== 'bounded-memory') });
 * ```
 */
export const SINK_CHECKS = [
  'validation',
  'delivers',
  'abort-signal',
  'acknowledgements',
  'bounded-memory',
  'clean-shutdown',
] as const;

/** One of {@link SINK_CHECKS}. */
export type SinkCheckName = (typeof SINK_CHECKS)[number];

type SinkCheck = Check<SinkDefinition, SinkCheckName>;

/** Options of {@link checkSink}. */
export interface SinkCheckOptions extends CheckOptions<SinkDefinition, SinkCheckName> {
  /**
   * Makes a batch the sink delivers; called once per write, so each is a new batch with its
   * own acknowledgement. Default: `sampleBatch()` (32 events).
   */
  readonly input?: () => Batch;
}

/** A sink built for one check. */
interface Built {
  readonly instance: Sink;
  /** A signal that stays live until `finish()`. */
  readonly signal: AbortSignal;
  finish(): Promise<void>;
}

async function build(make: () => SinkDefinition, timing: Timings): Promise<Built> {
  const definition = validDefinitionOf(make, 'sink');
  const scope = stageScope(definition.type);
  const instance = await buildInstance(definition, scope.context, timing.startupMs);
  if (typeof instance.write !== 'function') throw new CheckFailure('build() returned no write()');
  const live = new AbortController();
  return {
    instance,
    signal: live.signal,
    async finish() {
      const closing = new AbortController();
      const closed = attempt(() => instance.close?.(closing.signal));
      if ((await within(closed, timing.reactMs)).state === 'pending') closing.abort();
      live.abort();
      scope.end();
    },
  };
}

const isDelivered = (outcome: SinkOutcome) =>
  outcome === undefined || outcome?.status === 'delivered';

/** Why `outcome` is not a valid `SinkOutcome`, or undefined when it is. */
function outcomeProblem(outcome: unknown): string | undefined {
  if (outcome === undefined) return undefined;
  const { status, reason } = (outcome ?? {}) as { status?: unknown; reason?: unknown };
  if (status === 'delivered') return undefined;
  if (
    (status === 'rejected' || status === 'dropped' || status === 'requeue') &&
    typeof reason === 'string'
  )
    return undefined;
  return (
    `write() returned ${preview(outcome)}, which is not an outcome (undefined, ` +
    "{ status: 'delivered' }, or { status: 'rejected' | 'dropped' | 'requeue', reason })"
  );
}

/** The moments at which abort trials abort a write. */
const MOMENTS: readonly { readonly label: string; readonly wait: () => Promise<unknown> }[] = [
  { label: 'once the call had run its microtasks', wait: () => drainMicrotasks() },
  { label: 'after one turn of the event loop', wait: () => nextTurn() },
  { label: 'after 5 ms', wait: () => pause(5) },
];

interface Trial {
  readonly label: string;
  /** The write had not settled when its signal aborted. */
  readonly cutShort: boolean;
  readonly result: Settled<SinkOutcome>;
}

/** One write per moment, each on a fresh sink, its signal aborted at that moment. */
async function abortTrials(
  make: () => SinkDefinition,
  input: () => Batch,
  timing: Timings,
  watch: AckWatch,
): Promise<Trial[]> {
  const trials: Trial[] = [];
  for (const moment of MOMENTS) {
    const sink = await build(make, timing);
    try {
      const controller = new AbortController();
      const batch = input();
      watch.watch(batch);
      let settled = false;
      const call = attempt(() => sink.instance.write(batch, controller.signal));
      call.then(
        () => (settled = true),
        () => (settled = true),
      );
      await moment.wait();
      const cutShort = !settled;
      controller.abort(new SpillwayError('ERR_ABORTED', 'conformance check: hard stop'));
      trials.push({ label: moment.label, cutShort, result: await within(call, timing.reactMs) });
    } finally {
      await sink.finish();
    }
  }
  return trials;
}

const delivers = (input: () => Batch, timing: Timings): SinkCheck => ({
  name: 'delivers',
  async run(make) {
    const sink = await build(make, timing);
    try {
      let longest = 0;
      for (let i = 0; i < 3; i++) {
        const result = await within(
          attempt(() => sink.instance.write(input(), sink.signal)),
          timing.startupMs,
        );
        longest = Math.max(longest, result.ms);
        if (result.state === 'pending') {
          return failed(
            `write() had not returned after ${ms(timing.startupMs)} for the input you gave`,
          );
        }
        if (result.state === 'rejected') {
          return failed(`write() threw on the input you gave: ${describeError(result.error)}`);
        }
        const problem = outcomeProblem(result.value);
        if (problem) return failed(problem);
        if (!isDelivered(result.value)) {
          return failed(
            `write() reported ${preview(result.value)} for the input you gave: give ` +
              'options.input batches it delivers (and a destination that takes them)',
          );
        }
      }
      return passed(`3 writes were delivered (longest ${ms(longest)})`);
    } finally {
      await sink.finish();
    }
  },
});

const abortSignal = (input: () => Batch, timing: Timings): SinkCheck => ({
  name: 'abort-signal',
  async run(make) {
    const trials = await abortTrials(make, input, timing, new AckWatch());
    const hung = trials.find((t) => t.result.state === 'pending');
    if (hung) {
      return failed(
        `write() had not settled ${ms(timing.reactMs)} after its signal aborted ${hung.label}: ` +
          'pass the signal to every wait (sockets, timers, locks, queues) and give up when it aborts',
      );
    }
    const cut = trials.filter((t) => t.cutShort).length;
    const slowest = Math.max(...trials.map((t) => t.result.ms));
    return passed(
      `aborted at ${trials.length} moments, write() settled within ${ms(slowest)} each time ` +
        `(${cut} of ${trials.length} were still running when the signal aborted)`,
    );
  },
});

const acknowledgements = (input: () => Batch, timing: Timings): SinkCheck => ({
  name: 'acknowledgements',
  async run(make) {
    const watch = new AckWatch();
    const problems: string[] = [];
    const sink = await build(make, timing);
    try {
      for (let i = 0; i < 5; i++) {
        const batch = input();
        watch.watch(batch);
        await within(
          attempt(() => sink.instance.write(batch, sink.signal)),
          timing.startupMs,
        );
      }
    } finally {
      await sink.finish();
    }
    const trials = await abortTrials(make, input, timing, watch);
    await pause(20);
    if (watch.misuse.length > 0) {
      problems.push(
        `it ${watch.misuse[0]}${watch.misuse.length > 1 ? ` (and ${watch.misuse.length - 1} more)` : ''}: ` +
          'the output pool settles the acknowledgement from the outcome write() returns — ' +
          'return it, never settle or retain',
      );
    }
    const lied = trials.find(
      (t) => t.cutShort && t.result.state === 'fulfilled' && isDelivered(t.result.value),
    );
    if (lied) {
      problems.push(
        `write() resolved as delivered although its signal aborted ${lied.label}, before the ` +
          'call had finished: once the signal has aborted, throw signal.reason (or return ' +
          'dropped) — the pipeline cannot tell a finished write from one cut short, and a wrong ' +
          '"delivered" loses the batch',
      );
    }
    if (problems.length > 0) return failed(`${problems.join('; ')}.`);
    const cut = trials.filter((t) => t.cutShort);
    return passed(
      `no write settled or retained its batch's acknowledgement; ${
        cut.length === 0
          ? 'every write finished before its signal aborted, so none could be cut short'
          : `${plural(cut.length, 'write')} cut short by the signal did not report delivered ` +
            `(${cut.map((t) => (t.result.state === 'rejected' ? 'threw' : preview(t.result.state === 'fulfilled' ? t.result.value : undefined, 40))).join(', ')})`
      }`,
    );
  },
});

const boundedMemory = (input: () => Batch, timing: Timings): SinkCheck => ({
  name: 'bounded-memory',
  async run(make) {
    const sink = await build(make, timing);
    try {
      return await checkHeapGrowth({
        round: async () => {
          for (let i = 0; i < timing.iterations; i++) {
            try {
              await sink.instance.write(input(), sink.signal);
            } catch {
              // Failed writes are counted by the pool; memory is what is measured here.
            }
          }
        },
        roundLabel: `${timing.iterations} writes`,
        maxGrowthBytes: timing.maxGrowthBytes,
        hint: 'it keeps something for every batch it writes — bound every buffer, and let go of batches once written',
      });
    } finally {
      await sink.finish();
    }
  },
});

function sinkChecks(options: SinkCheckOptions): SinkCheck[] {
  const timing = timings(options);
  const input = options.input ?? (() => sampleBatch());
  return [
    {
      name: 'validation',
      run: async (make) => checkValidation(make, 'sink', options.invalid ?? []),
    },
    delivers(input, timing),
    abortSignal(input, timing),
    acknowledgements(input, timing),
    boundedMemory(input, timing),
    {
      name: 'clean-shutdown',
      run: async (make) =>
        checkCleanShutdown(
          { kind: 'sink', definition: validDefinitionOf(make, 'sink'), input },
          timing,
        ),
    },
  ];
}

/** The checks of {@link checkSink} that `options.only` / `options.skip` leave in. */
export function selectedSinkChecks(options: SinkCheckOptions = {}): SinkCheck[] {
  return selectChecks(sinkChecks(options), options);
}

/**
 * Runs every sink check on fresh definitions from `make` and reports each; never throws for a
 * failing stage (see {@link assertConformance}).
 *
 * The checks: `validation`; `delivers` (the inputs you give are delivered); `abort-signal`
 * (write() settles soon after its signal aborts); `acknowledgements` (it never settles or
 * retains a batch's acknowledgement, and a write cut short by its signal never reports
 * delivered); `bounded-memory` (heap flat over rounds of writes); `clean-shutdown` (no timer,
 * handle or file descriptor survives the pipeline's stop and `close(signal)`).
 *
 * When to use: in the tests of every sink plugin.
 *
 * Gotchas: every check writes for real: point `make` at a scratch destination (a temporary
 * file, a loopback server), fresh per call if the sink must not share it. bounded-memory makes
 * 3000–4000 writes; for a slow destination lower `memory.iterations` or skip it. Checks run one at a
 * time and measure the whole process: do not run other tests concurrently in the same process.
 *
 * @example
 * ```ts
 * const dir = await mkdtemp(join(tmpdir(), 'sink-'));
 * let n = 0;
 * assertConformance(await checkSink(() => jsonlFile({ path: join(dir, `${n++}.jsonl`) })));
 * ```
 */
export async function checkSink(
  make: () => SinkDefinition,
  options: SinkCheckOptions = {},
): Promise<ConformanceReport> {
  return runKit('sink', make, selectedSinkChecks(options));
}
