/**
 * Errors raised by spillway. One base class, stable `code`s, `cause` kept.
 *
 * The `code` is the contract: match on it, never on the message. To recognise an error from
 * any copy of this package (two versions installed side by side), use `SpillwayError.is`: it
 * checks a `Symbol.for` brand rather than the prototype chain.
 */

const kSpillwayError = Symbol.for('spillway.error');

/** Every stable error code spillway raises. */
export type ErrorCode =
  | 'ERR_CHANNEL_CLOSED'
  | 'ERR_CHANNEL_ABORTED'
  | 'ERR_ITEM_TOO_LARGE'
  | 'ERR_INVALID_OPTION'
  | 'ERR_PIPELINE_INVALID'
  | 'ERR_PIPELINE_STATE'
  | 'ERR_ACK_SETTLED'
  | 'ERR_STAGE_FAILED'
  | 'ERR_TRANSFORM_FAILED'
  | 'ERR_PLUGIN_INVALID'
  | 'ERR_TOO_MANY_WAITERS'
  | 'ERR_ABORTED';

/**
 * Base class of every spillway error.
 *
 * @example
 * ```ts
 * try { await channel.send(batch); }
 * catch (err) { if (SpillwayError.is(err) && err.code === 'ERR_CHANNEL_CLOSED') return; throw err; }
 * ```
 */
export class SpillwayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SpillwayError';
  }

  get [kSpillwayError](): true {
    return true;
  }

  /** True when `value` is a spillway error (from any copy of this package), optionally with `code`. */
  static is(value: unknown, code?: ErrorCode): value is SpillwayError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [kSpillwayError]?: boolean })[kSpillwayError] === true &&
      (code === undefined || (value as SpillwayError).code === code)
    );
  }
}

/** Raised by `build()` with every problem found in a pipeline specification, not just the first. */
export class PipelineInvalidError extends SpillwayError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('ERR_PIPELINE_INVALID', `invalid pipeline:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PipelineInvalidError';
    this.problems = problems;
  }
}

/** The error an aborted operation rejects with: the signal's reason when it is an Error. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new SpillwayError('ERR_ABORTED', 'operation aborted', { cause: reason });
}
