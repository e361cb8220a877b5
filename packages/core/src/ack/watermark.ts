/**
 * The ordered acknowledgement watermark of one source stream (a file, a partition), after
 * Filebeat's registrar: batches are tracked in the order they were read; acknowledgements may
 * arrive in any order; the committed position advances only over a contiguous settled prefix.
 *
 * ```
 *   read order ─▶  [p1 ✓][p2 ✓][p3 …][p4 ✓][p5 …]
 *                  └committed┘ └──── in flight ───┘   committed = p2, inFlight = 2, pending = 1
 * ```
 *
 * `pending` counts batches that settled but wait behind an earlier unsettled one: a checkpoint
 * never passes an unsettled batch.
 */

import { Ring } from '../internal/ring.js';
import { ParkingLot } from '../sync/parking-lot.js';
import {
  Acknowledgement,
  type AckOutcome,
  SHUTDOWN_DEADLINE,
  WITHDRAWN,
} from './acknowledgement.js';

export interface WatermarkOptions<P> {
  /** Most unsettled batches tracked at once; `track()` waits beyond it. Default 1024. */
  maxInFlight?: number;
  /** Called with the new committed position each time the watermark advances. */
  onCommit?: (position: P) => void;
  /**
   * Whether a settled batch may be committed. The first batch that may not *holds* the
   * watermark: neither it nor anything read after it is committed in this run, so a restart
   * reads them again. Default: every outcome commits. Replaying sources pass
   * {@link isCommittable} so that batches cut off by a shutdown deadline are read again.
   */
  commitWhen?: (outcome: AckOutcome) => boolean;
}

export interface WatermarkStats<P> {
  readonly committed: P | undefined;
  /** Tracked batches not settled yet. */
  readonly inFlight: number;
  /** Settled batches held back by an earlier unsettled one. */
  readonly pending: number;
  readonly totalTracked: number;
  readonly totalCommitted: number;
  /** True once a batch that may not be committed settled: the committed position is final. */
  readonly held: boolean;
}

interface Entry<P> {
  position: P;
  settled: boolean;
  committable: boolean;
}

/**
 * The default rule of replaying sources: commit whatever settled, except batches that a stop cut
 * off before delivery (`shutdown_deadline`) or that the source withdrew (`withdrawn`) — those
 * are read again on the next start. Batches dropped by a configured policy or rejected
 * (dead-lettered) are committed: reading them again would not change their fate.
 */
export function isCommittable(outcome: AckOutcome): boolean {
  return !(
    outcome.status === 'dropped' &&
    outcome.reasons.some((r) => r.endsWith(SHUTDOWN_DEADLINE) || r.endsWith(WITHDRAWN))
  );
}

/**
 * When to use: in a source that can replay (files, partitions), one per stream, to know which
 * position is safe to checkpoint.
 *
 * Gotcha: `track()` waits while `maxInFlight` batches are unsettled: that wait is backpressure
 * too, so pass the source's AbortSignal.
 *
 * @example
 * ```ts
 * const wm = new AckWatermark<number>({ onCommit: (offset) => checkpoints.save(file, offset) });
 * const ack = await wm.track(endOffset, signal);
 * await ctx.emit(createRawBatch({ source: 'file', data, lines, ack }));
 * ```
 */
export class AckWatermark<P> {
  readonly #ring: Ring<Entry<P>>;
  readonly #onCommit: ((position: P) => void) | undefined;
  readonly #commitWhen: ((outcome: AckOutcome) => boolean) | undefined;
  readonly #roomWaiters = new ParkingLot();
  readonly #idleWaiters = new ParkingLot();
  #committed: P | undefined;
  #inFlight = 0;
  #totalTracked = 0;
  #totalCommitted = 0;
  #held = false;

  constructor(options: WatermarkOptions<P> = {}) {
    this.#ring = new Ring(options.maxInFlight ?? 1024);
    this.#onCommit = options.onCommit;
    this.#commitWhen = options.commitWhen;
  }

  get committed(): P | undefined {
    return this.#committed;
  }

  /** Tracks a batch ending at `position` if there is room now. */
  tryTrack(position: P): Acknowledgement | undefined {
    if (this.#ring.full) return undefined;
    const entry: Entry<P> = { position, settled: false, committable: true };
    this.#ring.push(entry);
    this.#inFlight++;
    this.#totalTracked++;
    return new Acknowledgement((outcome) => {
      entry.settled = true;
      entry.committable = this.#commitWhen?.(outcome) ?? true;
      this.#inFlight--;
      this.#advance();
    });
  }

  /** Tracks a batch ending at `position`, waiting while `maxInFlight` batches are unsettled. */
  async track(position: P, signal?: AbortSignal): Promise<Acknowledgement> {
    for (;;) {
      const ack = this.tryTrack(position);
      if (ack) return ack;
      await this.#roomWaiters.park(signal);
    }
  }

  /** Resolves once every tracked batch has settled and been committed. */
  async whenIdle(signal?: AbortSignal): Promise<void> {
    while (this.#ring.length > 0) await this.#idleWaiters.park(signal);
  }

  stats(): WatermarkStats<P> {
    return {
      committed: this.#committed,
      inFlight: this.#inFlight,
      pending: this.#ring.length - this.#inFlight,
      totalTracked: this.#totalTracked,
      totalCommitted: this.#totalCommitted,
      held: this.#held,
    };
  }

  #advance(): void {
    let advanced = false;
    for (let head = this.#ring.peek(); head?.settled; head = this.#ring.peek()) {
      this.#ring.shift();
      if (!head.committable) this.#held = true;
      if (!this.#held) {
        this.#committed = head.position;
        this.#totalCommitted++;
        advanced = true;
      }
      // Room is made even when held, so that a source never deadlocks on `track()`.
      this.#roomWaiters.wakeOne();
    }
    if (advanced) this.#onCommit?.(this.#committed as P);
    if (this.#ring.length === 0) this.#idleWaiters.wakeAll();
  }
}
