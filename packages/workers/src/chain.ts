/**
 * The same chain of transforms as `workers()`, run on the calling thread.
 */
import { defineTransform, type TransformDefinition } from '@spillway/core';
import { ChainRunner, stepNames } from './internal/chain-runner.js';
import { StepTotals } from './internal/step-totals.js';

export interface ChainOptions {
  /** Transforms applied in order to each batch. */
  steps: readonly TransformDefinition[];
}

/**
 * Several transforms as one stage, on the main thread: one hop instead of one channel per step.
 *
 * When to use: light chains (a filter, a few fields) where a thread hop would cost more than the
 * work, and tests — a chain behaves the same here as in `workers()`, so a plugin's test can run
 * it in-process. Gotcha: heavy parsing here competes with the pipeline's I/O for one core; use
 * `workers()` for that.
 *
 * @example
 * ```ts
 * transforms: { tidy: { inputs: ['app'], stage: chain({ steps: [dropFields({ fields: ['pid'] }), sample({ rate: 10 })] }) } }
 * ```
 */
export const chain = defineTransform<ChainOptions>({
  type: 'chain',
  validate: (o) => stepProblems(o.steps),
  async build(o, ctx) {
    const runner = await ChainRunner.build(o.steps, ctx.signal);
    const totals = new StepTotals(runner.names);
    return {
      async process(batch, signal) {
        try {
          return await runner.run(batch, signal);
        } finally {
          totals.add(runner.report());
        }
      },
      close: () => runner.close(),
      stats: () => ({ steps: totals.toJSON() }),
    };
  },
});

/** Problems of a step list: none given, or a step's own, prefixed with its name. */
export function stepProblems(steps: readonly TransformDefinition[] | undefined): string[] {
  if (!Array.isArray(steps) || steps.length === 0)
    return ['steps must list at least one transform'];
  const names = stepNames(steps);
  return steps.flatMap((step, i) =>
    step?.kind === 'transform'
      ? step.validate().map((p: string) => `step ${names[i]}: ${p}`)
      : [`step ${i + 1} is not a transform definition`],
  );
}
