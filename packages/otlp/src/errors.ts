/**
 * Errors of the OTLP codec. It raises an `OtlpError` with a code of its own, so core's closed
 * `ErrorCode` union stays untouched; callers map it to their protocol (the `otlp` source answers
 * `ERR_OTLP_MALFORMED` with a 400 naming the field).
 *
 * An `OtlpError` carries core's `Symbol.for('spillway.error')` brand, so `SpillwayError.is(err)`
 * recognises it too; match its code with `OtlpError.is(err, code)`.
 */

const kSpillwayError = Symbol.for('spillway.error');
const kOtlpError = Symbol.for('spillway.otlp.error');

/** Every stable code an `OtlpError` carries. */
export type OtlpErrorCode =
  /** A body that is not an `ExportLogsServiceRequest`; `field` names where, when known. */
  | 'ERR_OTLP_MALFORMED'
  /** An event whose attributes cannot be written as AnyValues (a cycle, too deep); see `index`. */
  | 'ERR_OTLP_UNENCODABLE';

/**
 * An error of the OTLP codec.
 *
 * @example
 * ```ts
 * try { decodeOtlpLogs(body, 'json'); }
 * catch (err) { if (OtlpError.is(err, 'ERR_OTLP_MALFORMED')) return badRequest(err.field); throw err; }
 * ```
 */
export class OtlpError extends Error {
  readonly code: OtlpErrorCode;
  /**
   * For a malformed body, the path of the field at fault, e.g.
   * `resourceLogs[0].scopeLogs[0].logRecords[3].timeUnixNano` (`request` for the whole body);
   * undefined when the body could not be parsed at all.
   */
  readonly field: string | undefined;
  /** For an unencodable event, its index in the events passed to the encoder. */
  readonly index: number | undefined;

  constructor(
    code: OtlpErrorCode,
    message: string,
    options: { field?: string; index?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OtlpError';
    this.code = code;
    this.field = options.field;
    this.index = options.index;
  }

  get [kSpillwayError](): true {
    return true;
  }

  get [kOtlpError](): true {
    return true;
  }

  /** True when `value` is an OTLP error (from any copy of this package), optionally with `code`. */
  static is(value: unknown, code?: OtlpErrorCode): value is OtlpError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [kOtlpError]?: boolean })[kOtlpError] === true &&
      (code === undefined || (value as OtlpError).code === code)
    );
  }
}
