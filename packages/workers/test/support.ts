// Runs a list of event batches through one transform stage and records what comes out.
import {
  definePipeline,
  type LogEvent,
  type MetricsEntry,
  type TransformDefinition,
} from '@spillway/core';
import {
  type ListSourceLog,
  listSource,
  newRecording,
  type Recording,
  recordingSink,
} from '@spillway/testing';

export interface Run {
  recording: Recording;
  log: ListSourceLog;
  stats: Record<string, unknown>;
}

export async function runThrough(
  stage: TransformDefinition,
  batches: readonly (readonly LogEvent[])[],
  capacity = 4,
): Promise<Run> {
  const recording = newRecording();
  const log: ListSourceLog = { outcomes: [], emitted: [] };
  const pipeline = await definePipeline({
    sources: { list: listSource({ batches, log }) },
    transforms: { cpu: { inputs: ['list'], stage } },
    sinks: {
      out: { inputs: ['cpu'], stage: recordingSink({ into: recording }), pool: { maxWorkers: 1 } },
    },
    defaultBuffer: { capacity },
  }).build();
  pipeline.start();
  await pipeline.done();
  const entry = pipeline.metrics.snapshot().entries.find((e: MetricsEntry) => e.id === 'cpu');
  return { recording, log, stats: (entry?.stats ?? {}) as Record<string, unknown> };
}

export const event = (message: string, attributes?: Record<string, unknown>): LogEvent => ({
  timestamp: 1,
  message,
  ...(attributes ? { attributes } : {}),
});
