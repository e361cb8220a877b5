/**
 * Callers parked until something they wait for happens (room in a window, a free worker, a
 * backend coming back), each leaving the line at once when its AbortSignal fires.
 */
import { abortError, SpillwayError } from '../errors.js';
import { WaitList } from '../internal/wait-list.js';

/**
 * When to use: wherever an async API has to wait for a condition another caller makes true —
 * park in a loop that re-checks the condition after each wake-up (`while (!ok) await
 * lot.park(signal)`), and wake when the condition may have changed.
 *
 * Gotchas: a wake-up is a hint, not a grant: re-check after `park()` resolves. The lot refuses
 * more than `maxParked` callers (`ERR_TOO_MANY_WAITERS`): each is a suspended call, and an
 * owner that lets callers pile up without bound has a bug this makes visible.
 */
export class ParkingLot {
  readonly #list = new WaitList<() => void>();
  readonly #maxParked: number;

  constructor(maxParked = 65_536) {
    this.#maxParked = maxParked;
  }

  /** Callers parked now. */
  get parked(): number {
    return this.#list.length;
  }

  /** Resolves at the next wake-up that reaches this caller; rejects with the signal's reason. */
  park(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#list.length >= this.#maxParked) {
      return Promise.reject(
        new SpillwayError('ERR_TOO_MANY_WAITERS', `more than ${this.#maxParked} callers parked`),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#list.remove(node);
        reject(abortError(signal!));
      };
      const node = this.#list.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes the longest-parked caller; false when none was parked. */
  wakeOne(): boolean {
    const wake = this.#list.shift();
    wake?.();
    return wake !== undefined;
  }

  /** Wakes every caller parked now. */
  wakeAll(): void {
    for (let wake = this.#list.shift(); wake; wake = this.#list.shift()) wake();
  }
}
