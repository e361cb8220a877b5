/**
 * The `otlp` source: an OTLP/HTTP logs receiver (`POST /v1/logs`), binary protobuf
 * (`application/x-protobuf`) or JSON (`application/json`), optionally gzip-compressed.
 *
 * Behaviour under pressure (see `receiver.ts` for the whole path): a request is answered 429
 * with `Retry-After` when the byte budget (`maxInFlightBytes` of data accepted and not yet
 * acknowledged end to end) has no room for its `Content-Length` — decided before the body is
 * read, inflated or parsed; 200 only once every event is queued in the pipeline; 503 with
 * `Retry-After` when the pipeline dropped the data or had no room within `emitTimeoutMs`. All
 * three are retryable in OTLP; 400, 401, 413 and 415 are not. Responses are in the request's
 * encoding: an `ExportLogsServiceResponse` (with `partialSuccess` when records were rejected)
 * or a `google.rpc.Status`.
 */
import { defineSource } from '@spillway/core';
import {
  decodeOtlpLogs,
  encodeOtlpResponse,
  encodeOtlpStatus,
  OTLP_MEDIA_TYPES,
  type OtlpDecodeOptions,
  type OtlpEncoding,
  OtlpError,
} from '@spillway/otlp';
import {
  type DecodedBody,
  HttpReceiver,
  type HttpReceiverOptions,
  ReceiverError,
  type ReceiverProtocol,
  type Reply,
  receiverResources,
  validateReceiverOptions,
} from './receiver.js';

/** The OTLP/HTTP port. */
const OTLP_HTTP_PORT = 4318;

export interface OtlpOptions extends HttpReceiverOptions {
  /** Path served. Default `/v1/logs`. */
  path?: string;
  /**
   * A record whose event is estimated above this many bytes is rejected on its own and
   * reported in the response's `partialSuccess`; the other records are accepted. Default 1 MiB.
   */
  maxEventBytes?: number;
}

const mediaTypes = new Map<string, OtlpEncoding>([
  [OTLP_MEDIA_TYPES.protobuf, 'protobuf'],
  [OTLP_MEDIA_TYPES.json, 'json'],
]);

const contentType = (encoding: OtlpEncoding | undefined) => OTLP_MEDIA_TYPES[encoding ?? 'json'];

/** The answer to a full success is the same every time: encoded once, not per request. */
const fullSuccess: Readonly<Record<OtlpEncoding, Reply>> = {
  json: { contentType: contentType('json'), body: Buffer.from(encodeOtlpResponse('json', 0, [])) },
  protobuf: {
    contentType: contentType('protobuf'),
    body: Buffer.from(encodeOtlpResponse('protobuf', 0, [])),
  },
};

/** Decodes a body; a malformed one is the receiver's 400, naming the field when known. */
function decode(body: Buffer, encoding: OtlpEncoding, options: OtlpDecodeOptions): DecodedBody {
  try {
    return decodeOtlpLogs(body, encoding, options);
  } catch (err) {
    if (!OtlpError.is(err, 'ERR_OTLP_MALFORMED')) throw err;
    const field = err.field === undefined ? {} : { field: err.field };
    throw new ReceiverError('ERR_MALFORMED_BODY', err.message, { ...field, cause: err });
  }
}

/**
 * An OTLP/HTTP logs receiver. Each LogRecord becomes a LogEvent (timestamp, message from the
 * body, severity from the severity number, attributes with the resource's as `resource.<key>`;
 * the full mapping is documented by `decodeOtlpLogs` in `@spillway/otlp`).
 *
 * When to use: to take logs from OpenTelemetry SDKs and collectors, with pressure reported
 * the way OTLP clients understand (429/503 with `Retry-After`).
 *
 * Gotchas: the default host is `127.0.0.1`; set `host: '0.0.0.0'` to accept remote clients
 * (and consider `authToken` and `tls`). The OpenTelemetry JS exporter gives up when
 * `Retry-After` exceeds what remains of its export timeout (10 s by default), hence the 5 s
 * default cap of `retryAfterSec.max`. Put a `block` buffer behind this source: a dropping
 * buffer can lose data this receiver already answered 200 for.
 *
 * @example
 * ```ts
 * sources: {
 *   otel: otlp({ host: '0.0.0.0', port: 4318, authToken: process.env.OTLP_TOKEN,
 *                maxInFlightBytes: 32 << 20 }),
 * }
 * ```
 */
export const otlp = defineSource<OtlpOptions>({
  type: 'otlp',
  validate(o) {
    const problems = validateReceiverOptions(o);
    if (o.path !== undefined && !o.path.startsWith('/')) problems.push('path must start with "/"');
    if (
      o.maxEventBytes !== undefined &&
      !(Number.isSafeInteger(o.maxEventBytes) && o.maxEventBytes > 0)
    ) {
      problems.push('maxEventBytes must be a positive integer');
    }
    return problems;
  },
  resources: (o) => receiverResources(o, OTLP_HTTP_PORT),
  build(o) {
    const maxEventBytes = o.maxEventBytes ?? 1024 * 1024;
    const protocol: ReceiverProtocol<OtlpEncoding> = {
      path: o.path ?? '/v1/logs',
      encodingFor: (mediaType) => mediaTypes.get(mediaType),
      decode: (body, encoding) => decode(body, encoding, { maxEventBytes, now: Date.now() }),
      success: (encoding, outcome) =>
        outcome.rejected === 0
          ? fullSuccess[encoding]
          : {
              contentType: contentType(encoding),
              body: encodeOtlpResponse(encoding, outcome.rejected, outcome.rejections),
            },
      // A media type we do not read gets JSON, the one a person can read.
      failure: (encoding, error) => ({
        contentType: contentType(encoding),
        body: encodeOtlpStatus(
          encoding ?? 'json',
          error.status,
          error.code,
          error.message,
          error.field,
        ),
      }),
    };
    const receiver = new HttpReceiver(o, OTLP_HTTP_PORT, protocol);
    return { stats: () => receiver.stats(), run: (ctx) => receiver.run(ctx) };
  },
});
