/**
 * Encoders named by data: `{ type: 'envelope', template: { … } }` instead of `envelope({ … })`.
 * An HTTP sink whose encoder is a spec has options that are plain data, so they can come from a
 * config file or be posted to a worker thread (the in-app shipper builds its sink there).
 */
import { type ElasticsearchBulkOptions, elasticsearchBulk } from './elasticsearch-bulk.js';
import type { Encoder } from './encoder.js';
import { type EnvelopeOptions, envelope } from './envelope.js';
import { type JsonArrayOptions, jsonArray } from './json-array.js';
import { type LokiOptions, loki } from './loki.js';
import { type NdjsonOptions, ndjson } from './ndjson.js';
import { type OtlpEncoderOptions, otlp } from './otlp.js';

/** An encoder by its name and options; each `type` is the name its factory gives it. */
export type EncoderSpec =
  | ({ readonly type: 'ndjson' } & NdjsonOptions)
  | ({ readonly type: 'jsonArray' } & JsonArrayOptions)
  | ({ readonly type: 'envelope' } & EnvelopeOptions)
  | ({ readonly type: 'loki' } & LokiOptions)
  | ({ readonly type: 'elasticsearchBulk' } & ElasticsearchBulkOptions)
  | ({ readonly type: 'otlp' } & OtlpEncoderOptions);

const FACTORIES: Readonly<Record<EncoderSpec['type'], (options: never) => Encoder>> = {
  ndjson,
  jsonArray,
  envelope,
  loki,
  elasticsearchBulk,
  otlp,
};

/** The encoder itself, or the one a spec names; `undefined` for an unknown `type`. */
export function resolveEncoder(encoder: Encoder | EncoderSpec): Encoder | undefined {
  if ('encode' in encoder) return encoder;
  const { type, ...options } = encoder;
  const factory = Object.hasOwn(FACTORIES, type) ? FACTORIES[type] : undefined;
  return factory?.(options as never);
}
