/**
 * One task at a time, in the order of the calls: how the file and stdout sinks let the output
 * pool call `write()` from several workers at once and still write whole batches in dispatch
 * order, never interleaved.
 *
 * ```
 *   run(a) ─┐
 *   run(b) ─┼─▶ tail ─▶ a ─▶ b ─▶ c      each task starts once the one before it has settled
 *   run(c) ─┘
 * ```
 *
 * Bound: the chain holds one link per task that has not settled; a settled link is let go. The
 * output pool has at most `maxWorkers` `write()` calls open, so at most that many tasks wait
 * here, plus any whose caller stopped waiting at a hard stop — those are skipped, not run.
 */

/**
 * When to use: in a sink whose destination takes one write at a time (a file, a stream).
 *
 * Gotcha: a caller that stops waiting (its signal aborted) does not stop its task once started
 * (a write cannot be taken back); the next task still waits for it.
 */
export class InOrder {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Runs `task` once every task queued before it has settled, and resolves or rejects as it
   * does — or rejects with `signal.reason` as soon as `signal` aborts. A task whose turn comes
   * after its signal aborted is not run.
   */
  run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const result = this.#tail.then(() => {
      signal.throwIfAborted();
      return task();
    });
    // The next task waits for this one whether it worked or not.
    this.#tail = result.then(ignore, ignore);
    return untilAborted(result, signal);
  }

  /** Resolves once every task queued so far has settled; rejects when `signal` aborts first. */
  idle(signal: AbortSignal): Promise<void> {
    return untilAborted(this.#tail, signal);
  }
}

/**
 * Waits for `work`, but no longer than `signal` allows: rejects with `signal.reason` when it
 * aborts. The work itself goes on; only the waiting stops.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // Handled even when the wait is over already: a failure after it must not go unhandled.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function ignore(): void {}
