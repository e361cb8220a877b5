/**
 * Errors of the OTLP codec. It raises an `OtlpError` with a code of its own, so core's closed
 * `ErrorCode` union stays untouched; callers map it to their protocol (the `otlp` source answers
 * `ERR_OTLP_MALFORMED` with a 400 naming the field).
 *
 * An `OtlpError` carries core's `Symbol.for('spillway.error')` brand, so `SpillwayError.is(err)`
 * recognises it too; match its code with `OtlpError.is(err, code)`.
 */

import { errorFamily } from '@spillway/core';

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
export class OtlpError extends errorFamily<OtlpErrorCode>('OtlpError', 'spillway.otlp.error') {
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
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
    this.index = options.index;
  }
}
