/** The two body encodings of OTLP/HTTP and their media types. */

/** `protobuf`: binary protobuf; `json`: the OTLP/JSON mapping. */
export type OtlpEncoding = 'protobuf' | 'json';

/**
 * The `Content-Type` of each encoding, as the OTLP/HTTP specification names them.
 *
 * @example
 * ```ts
 * headers['content-type'] = OTLP_MEDIA_TYPES[encoding];
 * ```
 */
export const OTLP_MEDIA_TYPES: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};
