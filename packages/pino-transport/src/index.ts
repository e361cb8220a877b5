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
 * pino already runs a transport in a worker thread and writes its log lines, in chunks, to the
 * stream the transport returns; this transport runs the shipping pipeline in that thread. Its
 * stream queues pino's chunks whole in a bounded {@link LineFeed} (the `handOff` options:
 * bytes and policy, `drop-newest` by default) and never waits for the backend — pino's buffer
 * in the application's thread would then grow, up to half a gigabyte before pino blocks the
 * application. With a `dir` the pipeline spills what the backend cannot take to disk, so the
 * feed fills only when the disk cannot keep up. When pino ends the stream (the application
 * exits), the pipeline stops within `exitDeadlineMs` and persists what it could not deliver;
 * the next start ships that first.
 *
 * The stream is a plain `Writable`, as pino's own `pino/file` target returns, rather than
 * pino-abstract-transport's line-by-line iterator: one line at a time could not keep up with
 * pino at full speed.
 */
import { Writable } from 'node:stream';
import {
  LineFeed,
  type ShipperOptions,
  shippingPipeline,
  validateShipperOptions,
} from '@spillway/logger';

/** The transport's options: the shipper's, less the process hooks (pino has its own). */
export type PinoTransportOptions = Omit<ShipperOptions, 'hooks'>;

/** pino's entry point: called in pino's transport thread with the `options` given to pino. */
export default async function spillwayTransport(options: PinoTransportOptions): Promise<Writable> {
  const problems = validateShipperOptions(options);
  if (problems.length > 0) throw new Error(`@spillway/pino-transport: ${problems.join('; ')}`);
  const { handOff = {} } = options;
  const feed = new LineFeed({
    ...(handOff.bytes === undefined ? {} : { maxBytes: handOff.bytes }),
    whenFull: handOff.whenFull ?? 'drop-newest',
    ...(handOff.blockTimeoutMs === undefined ? {} : { blockTimeoutMs: handOff.blockTimeoutMs }),
  });
  const pipeline = await shippingPipeline(feed.source(), options).build();
  pipeline.start();
  let ending = false;
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => feed.write(chunk, done),
    final: (done) => {
      ending = true;
      feed.end((error) => {
        if (error) return done(error);
        pipeline.stop({ deadline: options.exitDeadlineMs ?? 3000 }).then(() => done(), done);
      });
    },
  });
  // The pipeline ends on its own only when a stage failed (reported as a warning): fail the
  // stream too, so that pino's thread-stream reports it instead of feeding a dead end.
  void pipeline.done().then(() => {
    if (!ending) stream.destroy(new Error('@spillway/pino-transport: the shipping pipeline ended'));
  });
  return stream;
}
