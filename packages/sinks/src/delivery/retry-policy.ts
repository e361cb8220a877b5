/**
 * When to retry and how long to wait: the outcome of one HTTP attempt, exponential backoff with
 * full jitter, and `Retry-After` as a floor.
 *
 * Full jitter (a uniformly random wait between 0 and the exponential step) is what keeps many
 * agents that failed together from retrying together; `Retry-After` is the backend saying when
 * it wants to hear from us again, so no wait is ever shorter than it.
 */

/** What one attempt's answer means for the records it carried. */
export type AttemptOutcome =
  /** 2xx. */
  | 'delivered'
  /** Transient: 408, 429, 5xx but 501 and 505, connection errors, timeouts. */
  | 'retry'
  /** 413: the body is too large — split it in half and send each half. */
  | 'split'
  /** Anything else (other 4xx, 501, 505, 3xx): retrying the same body cannot help. */
  | 'rejected';

/** Server errors that say the request itself is wrong: a retry would get the same answer. */
const PERMANENT_5XX = new Set([501, 505]);

/**
 * The outcome of an HTTP status. Beyond the classic 500/502/503/504, other server errors
 * (507, and the 52x of proxies and CDNs) are transient too: the backend failed, not the body.
 */
export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 413) return 'split';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 500 && status < 600 && !PERMANENT_5XX.has(status)) return 'retry';
  return 'rejected';
}

export interface BackoffOptions {
  /** The first step, in ms. Default 250. */
  initialMs?: number;
  /** Each step is the previous one times this. Default 2. */
  multiplier?: number;
  /** No step is longer than this (before a `Retry-After` floor). Default 30 000 ms. */
  maxMs?: number;
  /** Attempts per request, the first included. Default 8. */
  maxAttempts?: number;
  /**
   * Milliseconds from a request's first attempt after which it is given back to its buffer
   * rather than tried again. Default 120 000.
   */
  maxElapsedMs?: number;
  /** The longest `Retry-After` honoured, in ms; longer ones are cut to it. Default 300 000. */
  maxRetryAfterMs?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export const BACKOFF_DEFAULTS: ResolvedBackoff = {
  initialMs: 250,
  multiplier: 2,
  maxMs: 30_000,
  maxAttempts: 8,
  maxElapsedMs: 120_000,
  maxRetryAfterMs: 300_000,
};

/**
 * The wait before retry number `retry` (0 for the wait after the first attempt): uniform in
 * [0, min(maxMs, initialMs × multiplier^retry)], and never less than `retryAfterMs`.
 */
export function backoffDelay(
  policy: ResolvedBackoff,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** retry);
  const jittered = random() * step;
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return Math.max(jittered, floor);
}

/**
 * Reads a `Retry-After` header (RFC 9110: delay-seconds or an HTTP-date) as milliseconds from
 * `now`. Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only a date-like value: Date.parse accepts bare numbers and odd strings too.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
