/**
 * A sink's health, from the outcomes of its recent requests, and the probe gate that goes with
 * it: while a backend is down, one request at a time finds out whether it is back, instead of
 * every request in flight hammering it (gogstash pauses its queue the same way).
 *
 * ```
 *   healthy ──transient failure──▶ degraded ──`downAfter` in a row──▶ down
 *      ▲                              │                                │ one probe at a time
 *      └── window clean again ◀───────┘ ◀──────── first success ───────┘
 * ```
 *
 * Only transient failures (timeouts, connection errors, 408/429/5xx) count against health: a
 * 400 is the backend answering, so it proves the backend up.
 */
import { ParkingLot, sleep } from '@spillway/core';

export type HealthState = 'healthy' | 'degraded' | 'down';

export interface HealthOptions {
  /** Transient failures in a row that mark the sink down. Default 5. */
  downAfter?: number;
  /** Recent outcomes remembered: any failure among them keeps the sink degraded. Default 20. */
  window?: number;
}

export class SinkHealth {
  readonly downAfter: number;
  readonly #recent: boolean[] = [];
  readonly #window: number;
  readonly #waiters = new ParkingLot();
  #failuresInRow = 0;
  #state: HealthState = 'healthy';
  readonly #probeDelay: (failedProbes: number) => number;
  #probing = false;
  #transitions = 0;
  #probes = 0;
  #failedProbes = 0;
  #lastProbeEnd = 0;

  /**
   * `probeDelay(n)`: how long after the last probe ended the next one may start, when `n`
   * probes in a row have failed. Default: at once.
   */
  constructor(options: HealthOptions = {}, probeDelay: (failedProbes: number) => number = () => 0) {
    this.downAfter = options.downAfter ?? 5;
    this.#window = options.window ?? 20;
    this.#probeDelay = probeDelay;
  }

  get state(): HealthState {
    return this.#state;
  }

  /**
   * Waits until this request may be sent. Healthy or degraded: at once. Down: only one request
   * (the probe) is let through at a time; the others wait for its outcome. Call the returned
   * function with the attempt's outcome.
   */
  async admit(signal: AbortSignal): Promise<(success: boolean) => void> {
    while (this.#state === 'down' && this.#probing) await this.#waiters.park(signal);
    const probe = this.#state === 'down';
    if (probe) {
      this.#probing = true;
      this.#probes++;
      const wait = this.#lastProbeEnd + this.#probeDelay(this.#failedProbes) - Date.now();
      if (wait > 0) {
        try {
          await sleep(wait, signal);
        } catch (err) {
          this.#probing = false;
          this.#waiters.wakeOne();
          throw err;
        }
      }
    }
    let done = false;
    return (success) => {
      if (done) return;
      done = true;
      if (probe) {
        this.#probing = false;
        this.#lastProbeEnd = Date.now();
        this.#failedProbes = success ? 0 : this.#failedProbes + 1;
      }
      this.#record(success);
      // A failed probe lets the next waiter probe (after its own backoff); a success frees all.
      if (this.#state !== 'down') this.#waiters.wakeAll();
      else this.#waiters.wakeOne();
    };
  }

  stats(): { state: HealthState; transitions: number; probes: number; failures_in_row: number } {
    return {
      state: this.#state,
      transitions: this.#transitions,
      probes: this.#probes,
      failures_in_row: this.#failuresInRow,
    };
  }

  #record(success: boolean): void {
    this.#recent.push(success);
    if (this.#recent.length > this.#window) this.#recent.shift();
    this.#failuresInRow = success ? 0 : this.#failuresInRow + 1;
    let next: HealthState;
    if (this.#failuresInRow >= this.downAfter) next = 'down';
    else if (success && this.#state === 'down') next = 'healthy';
    else next = this.#recent.includes(false) ? 'degraded' : 'healthy';
    if (success && this.#state === 'down') {
      // Back: forget the failures that led here, so one success restores full flow.
      this.#recent.length = 0;
      this.#recent.push(true);
    }
    if (next !== this.#state) {
      this.#state = next;
      this.#transitions++;
    }
  }
}
