/**
 * What `GET /health` answers: one word for the pipeline, one per sink.
 *
 * | pipeline | sinks | status |
 * |---|---|---|
 * | none loaded, or `built` / `stopped` | any | `down` |
 * | `running` | every sink `down` | `down`: nothing can leave |
 * | `running` | some sink `degraded` or `down` | `degraded`: data still flows somewhere |
 * | `running` | all `healthy` | `ready` |
 * | `stopping` | any | `degraded`: draining, no longer reading |
 *
 * A sink that reports no health of its own (a file, stdout) counts as `healthy`: it has no
 * backend that could be away. Its failures show in the pool's `rejected` instead.
 */
import type { HealthState, PipelineReading } from './pipeline-reading.js';

/** The body of `GET /health`. */
export interface HealthReport {
  readonly status: 'ready' | 'degraded' | 'down';
  readonly sinks: Readonly<Record<string, HealthState>>;
}

/**
 * The health of a pipeline reading (see the module header for the rules).
 *
 * @example
 * ```ts
 * const { status } = healthOf(readPipeline(pipeline.metrics.snapshot()));
 * ```
 */
export function healthOf(reading: PipelineReading | undefined): HealthReport {
  if (!reading) return { status: 'down', sinks: {} };
  const sinks: Record<string, HealthState> = {};
  for (const stage of reading.stages) {
    if (stage.kind === 'sink') sinks[stage.name] = stage.health ?? 'healthy';
  }
  const states = Object.values(sinks);
  let status: HealthReport['status'];
  if (reading.state === 'built' || reading.state === 'stopped') status = 'down';
  else if (reading.state === 'stopping') status = 'degraded';
  else if (states.length > 0 && states.every((s) => s === 'down')) status = 'down';
  else if (states.some((s) => s !== 'healthy')) status = 'degraded';
  else status = 'ready';
  return { status, sinks };
}
