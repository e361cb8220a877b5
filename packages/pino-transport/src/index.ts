/**
 * A pino transport that ships through a spillway pipeline:
 *
 * ```ts
 * const logger = pino({
 *   transport: {
 *     target: '@spillway/pino-transport',
 *     options: { http: { url: 'https://logs.example.com/ingest' }, dir: '/var/lib/app/logs' },
 *   },
 * });
 * ```
 *
 * pino already runs a transport in a worker thread and writes the log lines to the stream its
 * target returns; this transport returns a stream that queues pino's chunks (many lines each)
 * in a bounded feed and runs the shipping pipeline on them in that thread. Writes never wait
 * for the backend — pino's buffer in the application's thread would then grow without a
 * bound — so when the feed is full its chunks are dropped and counted; with a `dir` the
 * pipeline spills to disk and the feed drains at disk speed. When pino ends the stream (the
 * application exits), the pipeline stops within `exitDeadlineMs` and persists what it could
 * not deliver; the next start ships that first.
 *
 * The stream is a plain `Writable` taking raw chunks, as pino's own `pino/file` target does,
 * rather than pino-abstract-transport's line-by-line iterator: one line at a time was slower
 * than pino writes at full speed.
 */
import { Writable } from 'node:stream';
import {
  ChunkFeed,
  chunkFeedSource,
  type ShipperOptions,
  shippingPipeline,
  validateShipperOptions,
} from '@spillway/logger';

/** The transport's options: the shipper's, less what only an in-process shipper has. */
export type PinoTransportOptions = Omit<ShipperOptions, 'hooks'>;

/** pino's entry point: called in pino's transport thread with the `options` given to pino. */
export default async function spillwayTransport(options: PinoTransportOptions): Promise<Writable> {
  const problems = validateShipperOptions(options);
  if (problems.length > 0) throw new Error(`@spillway/pino-transport: ${problems.join('; ')}`);
  const feed = new ChunkFeed(options.handOff?.bytes);
  const pipeline = await shippingPipeline(chunkFeedSource({ feed }), options).build();
  pipeline.start();
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      feed.push(chunk);
      done();
    },
    final(done) {
      feed.close();
      pipeline.stop({ deadline: options.exitDeadlineMs ?? 3000 }).then(() => done(), done);
    },
  });
}
