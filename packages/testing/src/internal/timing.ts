/**
 * Waiting with a bound. Every timer made here is cleared before the call returns: the
 * clean-shutdown check counts the process's timers, so the kit must not leave its own behind.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a promise stood when {@link within} stopped waiting, and how long that took. */
export type Settled<T> =
  | { readonly state: 'fulfilled'; readonly value: T; readonly ms: number }
  | { readonly state: 'rejected'; readonly error: unknown; readonly ms: number }
  | { readonly state: 'pending'; readonly ms: number };

/** Waits for `work` for at most `ms`; never rejects. */
export async function within<T>(work: PromiseLike<T> | T, ms: number): Promise<Settled<T>> {
  const started = performance.now();
  const timer = new AbortController();
  type Raced =
    | { state: 'fulfilled'; value: T }
    | { state: 'rejected'; error: unknown }
    | { state: 'pending' };
  const raced = await Promise.race<Raced>([
    Promise.resolve(work).then(
      (value) => ({ state: 'fulfilled', value }),
      (error: unknown) => ({ state: 'rejected', error }),
    ),
    sleep(ms, undefined, { signal: timer.signal }).then(
      () => ({ state: 'pending' }),
      () => ({ state: 'pending' }),
    ),
  ]);
  timer.abort();
  return { ...raced, ms: performance.now() - started };
}

/** Calls `fn` as a promise, so that a synchronous throw becomes a rejection. */
export function attempt<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  return Promise.resolve().then(fn);
}

/** Polls `condition` every few milliseconds; true once it holds, false after `ms`. */
export async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() >= deadline) return false;
    await sleep(5);
  }
  return true;
}

/** Lets `ms` pass. */
export function pause(ms: number): Promise<void> {
  return sleep(ms);
}

/**
 * Lets every callback already queued as a microtask, and the chains they start, run — but no
 * timer or I/O callback, which only run once the microtask queue is empty. A stage that
 * finishes in microtasks alone has finished after this; one waiting on I/O has not.
 */
export async function drainMicrotasks(hops = 100): Promise<void> {
  for (let i = 0; i < hops; i++) await Promise.resolve();
}
