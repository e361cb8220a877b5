// Shared by the transform tests: build a verb in-process the way the pipeline does (its own
// Counters, an AbortSignal), feed it batches, and read what came out.
import assert from 'node:assert/strict';
import {
  type Batch,
  Counters,
  createEventBatch,
  createRawBatch,
  eventsOf,
  type LogEvent,
  type TransformDefinition,
  type TransformResult,
} from '@spillway/core';

export interface Built {
  readonly counters: Counters;
  /** Runs one batch through `process()`. */
  run(batch: Batch): Promise<TransformResult>;
  /** Runs one batch and returns the events of the single batch that came out ([] for null). */
  events(batch: Batch): Promise<LogEvent[]>;
}

export async function build<O>(definition: TransformDefinition<O>): Promise<Built> {
  assert.deepEqual(definition.validate(), [], 'the options under test should be valid');
  const counters = new Counters();
  const signal = new AbortController().signal;
  const transform = await definition.build({ name: 'under-test', signal, counters });
  const run = async (batch: Batch) => transform.process(batch, signal);
  return {
    counters,
    run,
    async events(batch) {
      const result = await run(batch);
      if (result == null) return [];
      assert.ok('ack' in result, 'expected a single batch');
      return [...eventsOf(result as Batch)];
    },
  };
}

/** A raw batch of `lines`, each ended by a newline, made at `createdAt`. */
export function rawBatch(lines: readonly string[], createdAt = 1_700_000_000_000): Batch {
  const data = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  return createRawBatch({
    source: 'src',
    data,
    createdAt,
    positions: [{ stream: 's', offset: 9 }],
  });
}

export function eventBatch(events: readonly LogEvent[]): Batch {
  return createEventBatch({ source: 'src', events, createdAt: 1_700_000_000_000 });
}

/** The single batch of a result; fails on null or several. */
export function single(result: TransformResult): Batch {
  assert.ok(result != null && 'ack' in result, 'expected a single batch');
  return result as Batch;
}
