/**
 * What a shipper is configured with. The `http` part is the HTTP sink's own options (proxy,
 * custom CA, token, tenant, envelope encoding…), used as they are in the worker thread: give
 * `encoder` as a spec (`{ type: 'envelope', template }`) so that the options are plain data.
 */
import { optionChecks } from '@spillway/core';
import { type HttpSinkOptions, http } from '@spillway/sinks';

/**
 * What `write()` does when the hand-off to the shipping thread is full:
 * - `drop-newest` (default): the record being written is dropped, counted;
 * - `drop-oldest`: the oldest records not yet taken are dropped, counted;
 * - `block`: the caller waits for room — **dangerous**: an application thread stuck in
 *   `write()` because the backend is down is the logging outage turning into an application
 *   outage. Only with `blockTimeoutMs` does it ever give up.
 * With a `dir`, the shipping thread spills what the backend cannot take to disk, so the hand-off
 * fills only when the disk cannot keep up.
 */
export type HandOffPolicy = 'drop-newest' | 'drop-oldest' | 'block';

export interface ShipperOptions {
  /** Where and how to send: the HTTP sink's options. */
  http: HttpSinkOptions;
  /**
   * A directory for the disk buffer: undelivered records survive outages, exits and crashes
   * there and are shipped first on the next start. Without it, what is undelivered at exit is
   * counted as lost. One shipper per directory.
   */
  dir?: string;
  /** The hand-off between the application and the shipping thread. */
  handOff?: {
    /** Bytes. Default 8 MiB. */
    bytes?: number;
    whenFull?: HandOffPolicy;
    /** With `block`: give up (drop, counted) after this long. Default: never. */
    blockTimeoutMs?: number;
  };
  /** Bytes of records the shipping thread keeps in memory before the disk. Default 16 MiB. */
  memoryBytes?: number;
  /** Records are JSON (parsed into events in the shipping thread). Default true. */
  json?: boolean;
  /** How long exit and signals wait for delivery before persisting the rest. Default 3000 ms. */
  exitDeadlineMs?: number;
  /**
   * Which process events the shipper handles: normal `exit`, `SIGTERM`/`SIGINT` (flush, then
   * die by the signal as before), and crashes (`uncaughtException` / `unhandledRejection`:
   * persist, then let the process die as it would have). Default all true.
   */
  hooks?: { exit?: boolean; signals?: boolean; crash?: boolean };
}

/** Every problem with the options, as sentences. */
export function validateShipperOptions(o: ShipperOptions): string[] {
  const problems: string[] = [];
  const check = optionChecks(problems);
  // A live encoder cannot cross into the shipping thread: say so, and check the rest.
  const liveEncoder = o.http?.encoder !== undefined && 'encode' in o.http.encoder;
  if (o.http === undefined) problems.push('http must be the options of the HTTP sink');
  else {
    const { encoder: _encoder, ...plain } = o.http;
    for (const problem of http(liveEncoder ? plain : o.http).validate()) {
      problems.push(`http: ${problem}`);
    }
  }
  check.nonEmptyString('dir', o.dir);
  check.integerBetween('handOff.bytes', o.handOff?.bytes, 64 * 1024, 1024 * 1024 * 1024);
  check.oneOf('handOff.whenFull', o.handOff?.whenFull, ['drop-newest', 'drop-oldest', 'block']);
  check.positiveNumber('handOff.blockTimeoutMs', o.handOff?.blockTimeoutMs);
  check.positiveInteger('memoryBytes', o.memoryBytes);
  check.boolean('json', o.json);
  check.positiveNumber('exitDeadlineMs', o.exitDeadlineMs);
  check.boolean('hooks.exit', o.hooks?.exit);
  check.boolean('hooks.signals', o.hooks?.signals);
  check.boolean('hooks.crash', o.hooks?.crash);
  if (liveEncoder) {
    problems.push(
      "http.encoder must be a spec such as { type: 'ndjson' }: it is rebuilt in the shipping thread",
    );
  }
  return problems;
}
