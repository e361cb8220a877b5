// Runs a list of batches (events, or raw lines) through one transform stage and records what
// comes out.
import {
  createRawBatch,
  definePipeline,
  type LogEvent,
  type MetricsEntry,
  type SourceDefinition,
  type TransformDefinition,
} from '@spillway/core';
import {
  batchSource,
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

export function runThrough(
  stage: TransformDefinition,
  batches: readonly (readonly LogEvent[])[],
  capacity = 4,
): Promise<Run> {
  const log: ListSourceLog = { outcomes: [], emitted: [] };
  return run(stage, listSource({ batches, log }), log, capacity);
}

/** Like {@link runThrough}, with one raw batch per text (newline-delimited lines). */
export function runRawThrough(stage: TransformDefinition, texts: readonly string[]): Promise<Run> {
  const log: ListSourceLog = { outcomes: [], emitted: [] };
  let i = 0;
  const make = () => createRawBatch({ source: 'raw', data: Buffer.from(texts[i++]!) });
  return run(stage, batchSource({ make, count: texts.length, log }), log, 4);
}

async function run(
  stage: TransformDefinition,
  source: SourceDefinition,
  log: ListSourceLog,
  capacity: number,
): Promise<Run> {
  const recording = newRecording();
  const pipeline = await definePipeline({
    sources: { list: source },
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
