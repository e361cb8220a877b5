/**
 * Runs a chain of transforms over one batch, step after step, in whatever thread it lives in:
 * the worker entry uses it for each task, and `chain()` uses it on the main thread, so a chain
 * behaves the same in and out of workers.
 */
import {
  type Batch,
  Counters,
  SpillwayError,
  type Transform,
  type TransformDefinition,
  type TransformResult,
} from '@spillway/core';
import type { StepReport } from './envelope.js';

/** The name each step is counted under: its type, numbered when a type appears twice. */
export function stepNames(steps: readonly TransformDefinition[]): string[] {
  const seen = new Map<string, number>();
  return steps.map((step) => {
    const n = (seen.get(step.type) ?? 0) + 1;
    seen.set(step.type, n);
    return n === 1 ? step.type : `${step.type}#${n}`;
  });
}

interface BuiltStep {
  readonly name: string;
  readonly transform: Transform;
  readonly counters: Counters;
  /** The counters as last reported, to report increments only. */
  reported: Record<string, number>;
}

export class ChainRunner {
  readonly #steps: readonly BuiltStep[];

  private constructor(steps: readonly BuiltStep[]) {
    this.#steps = steps;
  }

  /** Builds every step; each gets counters of its own. */
  static async build(
    steps: readonly TransformDefinition[],
    signal: AbortSignal,
  ): Promise<ChainRunner> {
    const names = stepNames(steps);
    const built: BuiltStep[] = [];
    for (const [i, definition] of steps.entries()) {
      const name = names[i]!;
      const counters = new Counters();
      const transform = await definition.build({ name, signal, counters });
      built.push({ name, transform, counters, reported: {} });
    }
    return new ChainRunner(built);
  }

  get names(): string[] {
    return this.#steps.map((s) => s.name);
  }

  /** The batches the whole chain makes of `input`; a step that throws ends the run. */
  async run(input: Batch, signal: AbortSignal): Promise<Batch[]> {
    let batches: Batch[] = [input];
    for (const step of this.#steps) {
      const next: Batch[] = [];
      for (const batch of batches) {
        step.counters.add('batches_in');
        step.counters.add('events_in', batch.count);
        const outputs = normalise(await step.transform.process(batch, signal));
        for (const out of outputs) {
          step.counters.add('batches_out');
          step.counters.add('events_out', out.count);
          next.push(out);
        }
      }
      batches = next;
      if (batches.length === 0) break;
    }
    return batches;
  }

  /** Each step's counter increments since the last call, in chain order. */
  report(): StepReport[] {
    return this.#steps.map((step) => {
      const now = step.counters.toJSON();
      const delta: Record<string, number> = {};
      for (const key in now) {
        const d = now[key]! - (step.reported[key] ?? 0);
        if (d !== 0) delta[key] = d;
      }
      step.reported = now;
      return delta;
    });
  }

  async close(): Promise<void> {
    for (const step of this.#steps) await step.transform.close?.();
  }
}

function normalise(result: TransformResult): readonly Batch[] {
  if (result == null) return [];
  if ('ack' in result) return [result];
  if (!Array.isArray(result)) {
    throw new SpillwayError('ERR_TRANSFORM_FAILED', 'a transform returned something not a batch');
  }
  return result;
}
