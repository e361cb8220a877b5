// Fixtures for the network source tests: a pipeline around one source (`startListening` from
// support.ts) small enough that a closed gate soon fills it, stopped when the test ends; and
// readers of the numbers in a stage's metrics. Real sockets on 127.0.0.1, not mocks.
import type { AddressInfo } from 'node:net';
import type { BufferSpec, Pipeline, SourceDefinition } from '@spillway/core';
import { type Collected, type Gate, startListening, statsOf } from './support.js';

export interface Harness {
  pipeline: Pipeline;
  received: Collected;
  gate: Gate;
  /** Where the source listens (from its `onListening`). */
  address: AddressInfo;
  /** The source's metrics entry now. */
  stats(): Record<string, unknown>;
  /** The sink's input channel's metrics entry now. */
  channel(): Record<string, unknown>;
}

/**
 * Starts a pipeline `net → out` around the source that `make` returns given an `onListening`
 * callback, and resolves once the source listens. One sink worker and a one-batch buffer, so a
 * closed gate fills the pipeline after a few batches. Stops the pipeline when the test ends.
 */
export async function startNetPipeline(
  make: (onListening: (address: AddressInfo) => void) => SourceDefinition,
  t: { after(fn: () => unknown): void },
  buffer: BufferSpec = { capacity: 1 },
): Promise<Harness> {
  const { pipeline, got, gate, address } = await startListening('net', make, {
    pool: { maxWorkers: 1 },
    buffer,
  });
  t.after(async () => {
    gate.open();
    await pipeline.stop({ deadline: 2000 });
  });
  return {
    pipeline,
    received: got,
    gate,
    address,
    stats: () => statsOf(pipeline, 'net'),
    channel: () => statsOf(pipeline, 'out.in'),
  };
}

/** A stat that must be a number. */
export function num(stats: Record<string, unknown>, key: string): number {
  const value = stats[key];
  if (typeof value !== 'number') throw new Error(`stat ${key} is ${String(value)}, not a number`);
  return value;
}

/** The sum of a `drops`-like stat. */
export function total(drops: unknown): number {
  return Object.values((drops ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);
}
