/**
 * The thread-pool meter: how busy the workers were over the last few seconds, and what that says.
 *
 * Utilisation = time the chain ran on workers ÷ (threads × elapsed), over a ring of one-second
 * slots (the current one and the `slots - 1` before it), so it reacts within seconds and a
 * past burst fades out.
 *
 * - `stressed`: the workers are busy ≥ 85% of the time: they are the bottleneck, so input backs
 *   up behind this stage and pressure travels to the sources. Add threads, or do less per event.
 * - `starved`: busy < 25% and fewer tasks in flight than threads: the workers wait for input;
 *   something upstream is the limit (or there is little traffic).
 * - `healthy`: in between.
 */

export type MeterReading = 'healthy' | 'stressed' | 'starved';

const SLOT_MS = 1000;

export class UtilisationMeter {
  readonly #threads: number;
  readonly #busy: Float64Array;
  readonly #now: () => number;
  readonly #started: number;
  #slot: number;

  constructor(threads: number, slots = 5, now: () => number = Date.now) {
    this.#threads = threads;
    this.#busy = new Float64Array(slots);
    this.#now = now;
    this.#started = now();
    this.#slot = Math.floor(this.#started / SLOT_MS);
  }

  /** Adds `ms` of work that a worker finished now. */
  record(ms: number): void {
    this.#advance();
    this.#busy[this.#slot % this.#busy.length]! += ms;
  }

  /** Busy share of the pool's capacity over the window, 0..1. */
  utilisation(): number {
    this.#advance();
    const now = this.#now();
    const windowStart = (this.#slot - this.#busy.length + 1) * SLOT_MS;
    const elapsed = now - Math.max(windowStart, this.#started);
    if (elapsed <= 0) return 0;
    let busy = 0;
    for (const ms of this.#busy) busy += ms;
    return Math.min(1, busy / (this.#threads * elapsed));
  }

  reading(inFlight: number): MeterReading {
    const u = this.utilisation();
    if (u >= 0.85) return 'stressed';
    if (u < 0.25 && inFlight < this.#threads) return 'starved';
    return 'healthy';
  }

  /** Clears the slots that have gone by since the last call. */
  #advance(): void {
    const slot = Math.floor(this.#now() / SLOT_MS);
    const gone = Math.min(slot - this.#slot, this.#busy.length);
    for (let i = 1; i <= gone; i++) this.#busy[(this.#slot + i) % this.#busy.length] = 0;
    this.#slot = slot;
  }
}
