/**
 * The pipeline that ships an application's records: wherever they come from (the shipper's
 * hand-off ring, a pino transport's stream), records are NDJSON lines, parsed into events in
 * this thread (not the application's), and sent by the HTTP sink — through a spill buffer on
 * disk when there is a `dir`, so an outage costs disk rather than memory or records.
 *
 * ```
 *   records ─▶ source ─▶ parseJson ─▶ [ ship.in: spill(dir) | memory, block ] ─▶ http sink
 * ```
 *
 * Without a `dir`, the sink's buffer blocks when full: the pressure goes back to the source,
 * which stops taking records, so the hand-off fills and its own policy (counted drops) applies
 * on the application's side — memory stays bounded either way.
 */
import { definePipeline, type PipelineDefinition, type SourceDefinition } from '@spillway/core';
import { spill } from '@spillway/disk-buffer';
import { http } from '@spillway/sinks';
import { parseJson } from '@spillway/transforms';
import type { ShipperOptions } from './options.js';

export type ShippingOptions = Pick<ShipperOptions, 'http' | 'dir' | 'memoryBytes' | 'json'>;

/** The shipping pipeline reading from `source`. */
export function shippingPipeline(source: SourceDefinition, o: ShippingOptions): PipelineDefinition {
  const memoryBytes = o.memoryBytes ?? 16 * 1024 * 1024;
  const json = o.json ?? true;
  return definePipeline({
    name: 'shipper',
    sources: { app: source },
    ...(json ? { transforms: { parse: { inputs: ['app'], stage: parseJson({}) } } } : {}),
    sinks: {
      ship: {
        inputs: [json ? 'parse' : 'app'],
        stage: http({
          // In-app shipping shares the application's cores and memory: smaller requests and
          // fewer of them in flight than the sink's defaults, unless the options say otherwise.
          ...o.http,
          batch: { maxBytes: 1024 * 1024, ...o.http.batch },
          concurrency: o.http.concurrency ?? { adaptive: { max: 4 } },
          writeSlots: o.http.writeSlots ?? 8,
        }),
        buffer: o.dir
          ? spill({ dir: o.dir, memory: { maxBytes: memoryBytes } })
          : { maxBytes: memoryBytes, whenFull: 'block' },
      },
    },
  });
}
