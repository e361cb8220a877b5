/**
 * The clean-shutdown check, the same for every kind of stage: run the stage in a real pipeline,
 * stop it, and compare what the process holds open with what it held before the build.
 *
 * ```
 *  source:     [stage] ──────────────▶ count
 *  transform:  batches ──▶ [stage] ──▶ count
 *  sink:       batches ──▶ [stage]
 * ```
 *
 * A real pipeline rather than a harness because shutdown is the pipeline's sequence — stopping,
 * inputs closed in order, `transform.close()`, the output pool's close, `sink.close(signal)` —
 * and a stage must be clean after exactly that. Whatever was open before the build is ignored,
 * so leftovers of other checks or tests do not count against this stage.
 */
import {
  type Batch,
  definePipeline,
  defineSink,
  type Pipeline,
  type PipelineSpec,
  type SinkDefinition,
  type SourceDefinition,
  type StopResult,
  type TransformDefinition,
} from '@spillway/core';
import { batchSource } from '../stages.js';
import { failed, type Outcome, passed, type Timings } from './check.js';
import { describeError, ms, plural } from './format.js';
import { releasedSince, snapshotResources } from './resources.js';
import { attempt, pause, waitUntil, within } from './timing.js';

/** Batches fed to a transform or sink under test. */
const FED = 8;

export type ShutdownSubject =
  | {
      readonly kind: 'source';
      readonly definition: SourceDefinition;
      readonly feed?: (signal: AbortSignal) => void | Promise<void>;
    }
  | {
      readonly kind: 'transform';
      readonly definition: TransformDefinition;
      readonly input: () => Batch;
    }
  | { readonly kind: 'sink'; readonly definition: SinkDefinition; readonly input: () => Batch };

/** Counts what reaches it and keeps nothing. */
const count = defineSink<{ seen: { batches: number } }>({
  type: 'conformance-count',
  build: (o) => ({
    async write() {
      o.seen.batches++;
      return undefined;
    },
  }),
});

function specFor(subject: ShutdownSubject, seen: { batches: number }): PipelineSpec {
  const out = (input: string) => ({ inputs: [input], stage: count({ seen }) });
  switch (subject.kind) {
    case 'source':
      return { sources: { stage: subject.definition }, sinks: { out: out('stage') } };
    case 'transform':
      return {
        sources: { feed: batchSource({ make: subject.input, count: FED }) },
        transforms: { stage: { inputs: ['feed'], stage: subject.definition } },
        sinks: { out: out('stage') },
      };
    case 'sink':
      return {
        sources: { feed: batchSource({ make: subject.input, count: FED }) },
        sinks: { stage: { inputs: ['feed'], stage: subject.definition } },
      };
  }
}

export async function checkCleanShutdown(
  subject: ShutdownSubject,
  timing: Timings,
): Promise<Outcome> {
  // Let closes from earlier checks finish, so that they are not mistaken for ours.
  await pause(10);
  const before = snapshotResources();
  const seen = { batches: 0 };
  const built = await within(
    attempt(() => definePipeline({ name: 'conformance', ...specFor(subject, seen) }).build()),
    timing.startupMs,
  );
  if (built.state === 'pending') {
    return failed(`building a pipeline around it had not finished after ${ms(timing.startupMs)}`);
  }
  if (built.state === 'rejected') {
    return failed(`a pipeline around it could not be built: ${describeError(built.error)}`);
  }
  const pipeline: Pipeline = built.value;
  const feeding = new AbortController();
  let stopped: StopResult;
  try {
    pipeline.start();
    if (subject.kind === 'source') {
      const fed = attempt(() => subject.feed?.(feeding.signal)).catch(() => {});
      await waitUntil(() => seen.batches > 0, timing.startupMs);
      stopped = await pipeline.stop({ deadline: timing.reactMs, grace: timing.reactMs });
      feeding.abort();
      await within(fed, timing.reactMs);
    } else {
      // The feed ends by itself; the pipeline then drains and closes the stage in order.
      await within(pipeline.done(), timing.startupMs);
      stopped = await pipeline.stop({ deadline: timing.reactMs, grace: timing.reactMs });
    }
  } finally {
    feeding.abort();
  }
  const left = await releasedSince(before, timing.settleMs);
  const problems: string[] = [];
  if (stopped.stuck.length > 0) {
    const who = stopped.stuck.map((n) =>
      n === 'stage' ? `the ${subject.kind}` : `the kit's "${n}"`,
    );
    problems.push(
      `${who.join(' and ')} still running ${ms(timing.reactMs)} after the hard stop ` +
        '(a stage that ignores its signal holds up every stop)',
    );
  }
  if (left.length > 0) {
    problems.push(
      `${left.join(', ')} still open ${ms(timing.settleMs)} after the pipeline stopped ` +
        `(not open before it was built): clear every timer and close every handle in ` +
        (subject.kind === 'source'
          ? 'run() before it returns'
          : subject.kind === 'transform'
            ? 'close()'
            : 'close(signal)'),
    );
  }
  const through = plural(seen.batches, 'batch', 'batches');
  if (problems.length > 0) return failed(`${problems.join('; ')}.`);
  return passed(
    `nothing it opened was left after the pipeline stopped (${stopped.drained ? 'drained' : 'stopped hard'}; ` +
      `${subject.kind === 'sink' ? `${FED} batches fed` : `${through} came out`})`,
  );
}
