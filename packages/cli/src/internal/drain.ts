/**
 * A graceful stop that a second signal can cut short.
 *
 * `Pipeline.stop({ deadline })` fixes its deadline when it is called, and calling it again
 * returns the first call's result: once a drain has begun, nothing can make it end sooner. An
 * operator who presses Ctrl-C twice means "now", so the CLI runs the drain itself:
 *
 * ```
 *  launch: every source's ctx.stopping also listens to the CLI's own `stopping` signal
 *  drain:  stopping.abort() ──▶ sources stop, transforms and sinks drain in order (as stop() would)
 *          wait for pipeline.done(), the deadline, or `hurry` (the second signal), whichever first
 *          pipeline.stop({ deadline: 0 }) ──▶ drained: closes pools, sinks, buffers
 *                                         └─▶ not drained: the hard stop; buffers persist what
 *                                             they hold, the rest is counted as undelivered
 * ```
 *
 * The order of events is the pipeline's own; only the moment of the hard stop is chosen here.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Pipeline, PipelineSpec, SourceContext, StopResult } from '@spillway/core';

/**
 * `spec` with every source's `stopping` signal also following `stopping`, so that a drain can
 * begin without `Pipeline.stop()`.
 */
export function withStopSignal(spec: PipelineSpec, stopping: AbortSignal): PipelineSpec {
  const sources = Object.fromEntries(
    Object.entries(spec.sources).map(([name, definition]) => [
      name,
      {
        ...definition,
        build: async (ctx: Parameters<typeof definition.build>[0]) => {
          const source = await definition.build(ctx);
          const stats = source.stats;
          return {
            run: (context: SourceContext) =>
              source.run({
                ...context,
                stopping: AbortSignal.any([context.stopping, stopping]),
              }),
            // A class instance keeps its methods on its prototype: call it on the source.
            ...(stats ? { stats: () => stats.call(source) } : {}),
          };
        },
      },
    ]),
  );
  return { ...spec, sources };
}

/** What a drain ended with. */
export interface DrainResult extends StopResult {
  /** The second signal cut the drain short. */
  readonly hurried: boolean;
}

/**
 * Begins the drain of a pipeline launched with {@link withStopSignal} and ends it: when the
 * pipeline has drained, at `deadline` ms, or when `hurry` fires, whichever comes first.
 */
export async function drain(
  pipeline: Pipeline,
  stopping: AbortController,
  options: { deadline: number; hurry: AbortSignal; grace?: number },
): Promise<DrainResult> {
  stopping.abort();
  const waiting = new AbortController();
  const hurried = await Promise.race([
    pipeline.done().then(
      () => false,
      () => false,
    ),
    delay(options.deadline, false, { signal: waiting.signal }).catch(() => false),
    new Promise<boolean>((resolve) => {
      if (options.hurry.aborted) resolve(true);
      options.hurry.addEventListener('abort', () => resolve(true), {
        once: true,
        signal: waiting.signal,
      });
    }),
  ]);
  waiting.abort();
  const result = await pipeline.stop({
    deadline: 0,
    ...(options.grace === undefined ? {} : { grace: options.grace }),
  });
  return { ...result, hurried };
}
