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

/** What {@link errorFamily} makes: an error class with its family's codes and brand. */
export interface ErrorFamily<Code extends string> {
  new (code: Code, message: string, options?: { cause?: unknown }): Error & { readonly code: Code };
  /**
   * True when `value` belongs to the family (from any copy of the package that defines it),
   * optionally with `code`; it narrows to the class it is called on.
   */
  is<T>(this: abstract new (...args: never[]) => T, value: unknown, code?: Code): value is T;
}

/**
 * The base class of a package's own errors, for conditions only that package has: a stable
 * `code` from the package's own union (core's `ErrorCode` stays closed), `cause` kept, core's
 * brand (so `SpillwayError.is(err)` recognises it) and a brand of its own (`Symbol.for(brand)`,
 * so `MyError.is(err, code)` works across copies of the package).
 *
 * When to use: once per package, `export class MyError extends errorFamily<MyCode>('MyError',
 * 'spillway.my-package.error') {}`, adding fields the package's errors carry.
 *
 * Gotchas: the brand string is part of the contract — changing it makes errors from older copies
 * unrecognised. A subclass that adds constructor options passes `cause` on to `super`.
 */
export function errorFamily<Code extends string>(name: string, brand: string): ErrorFamily<Code> {
  const kFamily = Symbol.for(brand);
  return class extends Error {
    readonly code: Code;

    constructor(code: Code, message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.code = code;
      this.name = name;
    }

    get [kSpillwayError](): true {
      return true;
    }

    get [kFamily](): true {
      return true;
    }

    static is(value: unknown, code?: Code): value is Error & { readonly code: Code } {
      return (
        typeof value === 'object' &&
        value !== null &&
        (value as Record<symbol, unknown>)[kFamily] === true &&
        (code === undefined || (value as { code?: unknown }).code === code)
      );
    }
  } as unknown as ErrorFamily<Code>;
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
