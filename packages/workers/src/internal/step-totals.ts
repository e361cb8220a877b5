/** Per-step counters of a chain, summed from the increments each run reports. */
import { Counters } from '@spillway/core';
import type { StepReport } from './envelope.js';

export class StepTotals {
  readonly #steps: readonly { readonly name: string; readonly counters: Counters }[];

  constructor(names: readonly string[]) {
    this.#steps = names.map((name) => ({ name, counters: new Counters() }));
  }

  add(reports: readonly StepReport[]): void {
    for (const [i, report] of reports.entries()) {
      const step = this.#steps[i];
      if (!step) continue;
      for (const key in report) step.counters.add(key, report[key]);
    }
  }

  /** `{ parseJson: { events_in, events_out, parse_errors, … }, encode: { … } }` */
  toJSON(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const step of this.#steps) out[step.name] = step.counters.toJSON();
    return out;
  }
}
