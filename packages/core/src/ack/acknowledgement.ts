/**
 * End-to-end acknowledgement of one batch.
 *
 * A batch starts with one reference. Routing it to k destinations adds k - 1; splitting it into
 * k batches that share the acknowledgement adds k - 1 as well. Each destination settles its
 * reference exactly once with `delivered`, `rejected` (fatal: dead-lettered) or `dropped` (by a
 * named policy, counted). When the last reference settles, the acknowledgement settles with the
 * worst status seen (rejected > dropped > delivered) and every reason given.
 */
import { SpillwayError } from '../errors.js';

export type DeliveryStatus = 'delivered' | 'rejected' | 'dropped';

export interface AckOutcome {
  readonly status: DeliveryStatus;
  /** Reasons given by destinations that did not deliver, e.g. `sink:http:full_drop_newest`. */
  readonly reasons: readonly string[];
}

/**
 * The reason suffix of a batch that a stop cut off before delivery (`<stage>:shutdown_deadline`):
 * not a policy drop, so replaying sources read it again (see `isCommittable`).
 */
export const SHUTDOWN_DEADLINE = 'shutdown_deadline';

/**
 * The reason suffix of a batch whose `emit()` the source aborted with its own signal before
 * every consumer took it (`<source>→<consumer>:withdrawn`): the source still owns the data.
 */
export const WITHDRAWN = 'withdrawn';

const rank: Record<DeliveryStatus, number> = { delivered: 0, dropped: 1, rejected: 2 };
const MAX_REASONS = 8;

/**
 * Settles once every destination of a batch has reported.
 *
 * Gotchas: settling more often than there are references throws `ERR_ACK_SETTLED`, because a
 * double settle usually means a batch was delivered twice or counted twice. Reasons are capped
 * at 8 so a batch fanned out widely cannot grow without bound.
 */
export class Acknowledgement {
  #refs = 1;
  #status: DeliveryStatus = 'delivered';
  #reasons: string[] = [];
  #outcome: AckOutcome | undefined;
  #listeners: ((outcome: AckOutcome) => void)[] | undefined;

  constructor(onSettle?: (outcome: AckOutcome) => void) {
    if (onSettle) this.#listeners = [onSettle];
  }

  /** An acknowledgement nobody waits for (sources that cannot replay). */
  static none(): Acknowledgement {
    return new Acknowledgement();
  }

  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  get outcome(): AckOutcome | undefined {
    return this.#outcome;
  }

  /** References not yet settled. */
  get pending(): number {
    return this.#refs;
  }

  /** Adds `n` destinations that must each settle before the batch counts as settled. */
  retain(n = 1): void {
    if (this.#outcome) {
      throw new SpillwayError('ERR_ACK_SETTLED', 'cannot retain an acknowledgement that settled');
    }
    this.#refs += n;
  }

  settle(status: DeliveryStatus, reason?: string): void {
    if (this.#outcome) {
      throw new SpillwayError('ERR_ACK_SETTLED', `acknowledgement settled twice (${status})`);
    }
    if (rank[status] > rank[this.#status]) this.#status = status;
    if (reason !== undefined && this.#reasons.length < MAX_REASONS) this.#reasons.push(reason);
    if (--this.#refs > 0) return;
    const outcome: AckOutcome = { status: this.#status, reasons: this.#reasons };
    this.#outcome = outcome;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(outcome);
  }

  /** Calls `listener` once settled (at once if it already is). */
  onSettled(listener: (outcome: AckOutcome) => void): void {
    if (this.#outcome) listener(this.#outcome);
    else (this.#listeners ??= []).push(listener);
  }

  /** Resolves with the outcome once settled. */
  settledPromise(): Promise<AckOutcome> {
    return new Promise((resolve) => this.onSettled(resolve));
  }
}
