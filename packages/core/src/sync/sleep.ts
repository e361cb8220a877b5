/**
 * Waits `ms`, or rejects with the signal's reason when it aborts first.
 *
 * When to use: backoff waits (retries, a full disk). Gotcha: it uses the global `setTimeout`,
 * not `timers/promises`, so that tests can drive schedules with fake timers (node:test's
 * `mock.timers`).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
