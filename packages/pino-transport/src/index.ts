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
 * pino already runs a transport in a worker thread and hands it the log lines; this transport
 * runs the shipping pipeline there. It takes lines as fast as pino gives them — never letting
 * the backend's pace reach pino's buffer in the application's thread — and, when the pipeline
 * has no room, drops them counted, or with a `dir` spills them to disk. When pino ends the
 * stream (the application exits), the pipeline stops within `exitDeadlineMs` and persists
 * what it could not deliver; the next start ships that first.
 */
import {
  lineStreamSource,
  type ShipperOptions,
  shippingPipeline,
  validateShipperOptions,
} from '@spillway/logger';
import build from 'pino-abstract-transport';

/** The transport's options: the shipper's, less what only an in-process shipper has. */
export type PinoTransportOptions = Omit<ShipperOptions, 'handOff' | 'hooks'>;

const NOTHING = {};

/** pino's entry point: called in pino's transport thread with the `options` given to pino. */
export default async function spillwayTransport(options: PinoTransportOptions) {
  const problems = validateShipperOptions(options);
  if (problems.length > 0) throw new Error(`@spillway/pino-transport: ${problems.join('; ')}`);
  let stop: ((deadline: number) => Promise<unknown>) | undefined;
  return build(
    async (source) => {
      const pipeline = await shippingPipeline(
        lineStreamSource({ lines: source, whenFull: options.dir ? 'wait' : 'drop' }),
        options,
      ).build();
      stop = (deadline) => pipeline.stop({ deadline });
      pipeline.start();
      await pipeline.done();
    },
    {
      parse: 'lines',
      // pino-abstract-transport would JSON.parse every line for its metadata: the pipeline
      // parses them (or not, with `json: false`) itself, once.
      parseLine: () => NOTHING,
      async close() {
        await stop?.(options.exitDeadlineMs ?? 3000);
      },
    },
  );
}
