/**
 * OTLP/HTTP responses: the `ExportLogsServiceResponse` of a 200 (with `partialSuccess` when
 * some records were rejected) and the `google.rpc.Status` of a failure, written by a receiver
 * and read back by an exporter.
 */
import { isRecord } from '@spillway/core';
import type { OtlpEncoding } from './encoding.js';
import { BadRequest, ExportLogsServiceResponse, Status } from './internal/schema.js';

/** What a partial success reports: how many records were rejected, and why. */
export interface OtlpPartialSuccess {
  readonly rejectedLogRecords: number;
  readonly errorMessage: string;
}

/**
 * The body of a 200: `{}` (zero bytes in protobuf) or a partial success with the count and
 * reasons of the rejected records.
 *
 * When to use: in a receiver, once every accepted record is safely queued.
 *
 * Gotchas: `rejections` should be the first few reasons only; they are joined into one
 * `errorMessage`, which a client may log whole.
 *
 * @example
 * ```ts
 * res.end(encodeOtlpResponse('json', 2, ['record 3 is too large', 'record 7 is too large']));
 * ```
 */
export function encodeOtlpResponse(
  encoding: OtlpEncoding,
  rejected: number,
  rejections: readonly string[],
): Uint8Array | string {
  const partial =
    rejected > 0
      ? {
          rejectedLogRecords: rejected,
          errorMessage: `${rejected} log record(s) rejected: ${rejections.join('; ')}`,
        }
      : undefined;
  if (encoding === 'protobuf') {
    // The full success is the empty message: zero bytes.
    return ExportLogsServiceResponse.encode(
      ExportLogsServiceResponse.fromObject(partial ? { partialSuccess: partial } : {}),
    ).finish();
  }
  // proto3 JSON writes int64 as a decimal string.
  return JSON.stringify(
    partial
      ? {
          partialSuccess: {
            rejectedLogRecords: String(partial.rejectedLogRecords),
            errorMessage: partial.errorMessage,
          },
        }
      : {},
  );
}

/**
 * The partial success in an `ExportLogsServiceResponse` body; `undefined` when the response
 * reports none (full success) or the body is not such a response.
 *
 * When to use: in an exporter, after a 2xx, to count the records the receiver rejected.
 *
 * Gotchas: never throws. A partial success with a message but no rejected records is a
 * warning, as the specification defines it, and is returned with `rejectedLogRecords: 0`. A
 * body that cannot be read is `undefined` too: the 2xx status stays the answer.
 *
 * @example
 * ```ts
 * const partial = decodeOtlpPartialSuccess(body, 'protobuf');
 * if (partial && partial.rejectedLogRecords > 0) counters.add('rejected', partial.rejectedLogRecords);
 * ```
 */
export function decodeOtlpPartialSuccess(
  body: Uint8Array,
  encoding: OtlpEncoding,
): OtlpPartialSuccess | undefined {
  let response: unknown;
  try {
    response =
      encoding === 'protobuf'
        ? ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(body), {
            longs: String,
          })
        : JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString());
  } catch {
    return undefined;
  }
  const partial = isRecord(response) ? response.partialSuccess : undefined;
  if (!isRecord(partial)) return undefined;
  const rejected = partial.rejectedLogRecords ?? 0;
  const message = partial.errorMessage ?? '';
  // int64 in JSON: a decimal string, or a number from writers that do not follow proto3 JSON.
  const count =
    typeof rejected === 'string' && /^[0-9]+$/.test(rejected) ? Number(rejected) : rejected;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
  if (typeof message !== 'string' || (count === 0 && message === '')) return undefined;
  return { rejectedLogRecords: count, errorMessage: message };
}

/** google.rpc.Code for an HTTP status; the specification lets clients ignore it. */
const rpcCode: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/**
 * A `google.rpc.Status` for a failure answered with HTTP `status`, with a
 * `google.rpc.BadRequest` detail naming the field when one is known. The message starts with
 * the stable code, e.g. `ERR_MALFORMED_BODY: …`.
 *
 * When to use: as the body of every 4xx and 5xx of an OTLP/HTTP receiver.
 *
 * @example
 * ```ts
 * encodeOtlpStatus('json', 400, 'ERR_MALFORMED_BODY', 'expected a string', 'resourceLogs[0]');
 * ```
 */
export function encodeOtlpStatus(
  encoding: OtlpEncoding,
  status: number,
  code: string,
  message: string,
  fieldPath: string | undefined,
): Uint8Array | string {
  const text = `${code}: ${message}`;
  const violation =
    fieldPath === undefined ? undefined : { field: fieldPath, description: message };
  if (encoding === 'protobuf') {
    const details = violation
      ? [
          {
            typeUrl: BAD_REQUEST_TYPE,
            value: BadRequest.encode(
              BadRequest.fromObject({ fieldViolations: [violation] }),
            ).finish(),
          },
        ]
      : [];
    return Status.encode(
      Status.fromObject({ code: rpcCode[status] ?? 2, message: text, details }),
    ).finish();
  }
  return JSON.stringify({
    code: rpcCode[status] ?? 2,
    message: text,
    ...(violation
      ? { details: [{ '@type': BAD_REQUEST_TYPE, fieldViolations: [violation] }] }
      : {}),
  });
}
