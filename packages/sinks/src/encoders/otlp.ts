/**
 * The `otlp` encoder: OTLP/HTTP logs (`POST /v1/logs`), binary protobuf or JSON, by
 * `@spillway/otlp`'s `encodeOtlpLogs` — the inverse of the mapping the `otlp` source decodes
 * with, so spillway → spillway over OTLP keeps events as they were.
 */
import { type BatchPayload, type LogEvent, optionChecks } from '@spillway/core';
import {
  decodeOtlpPartialSuccess,
  encodeOtlpLogs,
  OTLP_MEDIA_TYPES,
  type OtlpEncoding,
  OtlpError,
} from '@spillway/otlp';
import { forEachEvent, unencodable } from './each-event.js';
import type { Encoder, ItemResults } from './encoder.js';

/** Options of {@link otlp}. */
export interface OtlpEncoderOptions {
  /** `protobuf` (`application/x-protobuf`, smaller and faster) or `json` (`application/json`). */
  readonly encoding: OtlpEncoding;
}

/**
 * An encoder of OTLP/HTTP `ExportLogsServiceRequest`s, reading the `partialSuccess` of the
 * answer.
 *
 * When to use: to ship to an OpenTelemetry Collector, or any backend with an OTLP/HTTP logs
 * endpoint. Attributes named `resource.*` and `scope.*` (as the `otlp` source makes them)
 * become the resource and the scope again.
 *
 * Gotchas:
 * - A partial success says how many records were rejected, not which: they are counted
 *   (`rejectedWithoutIndex`) and the rest of the request is delivered; nothing is retried.
 * - An attribute nested deeper than 30 maps or arrays cannot be encoded (`ERR_STAGE_FAILED`).
 * - A raw line becomes a record whose body is the line, stamped with the time of encoding.
 *
 * @example
 * ```ts
 * http({ url: 'http://collector:4318/v1/logs', encoder: otlp({ encoding: 'protobuf' }) })
 * ```
 */
export function otlp(options: OtlpEncoderOptions): Encoder {
  const { encoding } = options;
  return {
    name: 'otlp',
    // An encoding from a configuration file may be anything until validate() reports it.
    contentType: OTLP_MEDIA_TYPES[encoding] ?? OTLP_MEDIA_TYPES.protobuf,
    validate() {
      const problems: string[] = [];
      optionChecks(problems).oneOf('encoding', encoding, ['protobuf', 'json'], true);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      const events: LogEvent[] = [];
      forEachEvent(parts, Date.now(), (event) => {
        events.push(event);
      });
      try {
        return encodeOtlpLogs(events, encoding);
      } catch (err) {
        if (OtlpError.is(err, 'ERR_OTLP_UNENCODABLE') && err.index !== undefined) {
          throw unencodable(err.index, err);
        }
        throw err;
      }
    },
    itemResults(body: Uint8Array): ItemResults | undefined {
      const partial = decodeOtlpPartialSuccess(body, encoding);
      if (partial === undefined || partial.rejectedLogRecords === 0) return undefined;
      return {
        failed: [],
        rejectedWithoutIndex: { count: partial.rejectedLogRecords, message: partial.errorMessage },
      };
    },
  };
}
