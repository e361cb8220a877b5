/** Binding a network source's listener, shared by `tcp` (a `net.Server`) and `udp` (a socket). */
import type { EventEmitter } from 'node:events';
import { SpillwayError } from '@spillway/core';

/** Which source listens where, for the error that says it could not. */
export interface ListenTarget {
  /** The source's type, `tcp` or `udp`. */
  source: string;
  /** The stage's name. */
  name: string;
  host: string;
  port: number;
}

/**
 * Calls `start` (`server.listen(…)` or `socket.bind(…)`) and resolves once `listener` emits
 * 'listening'. Node reports a failed listen or bind (EADDRINUSE, EACCES, …) only as an 'error'
 * event, which would otherwise crash the process; here it fails the source's `run()` instead:
 * `release` undoes what the source set up around the listener, then `ERR_STAGE_FAILED` names the
 * address, with Node's error as `cause`. Errors after that are the caller's to handle.
 */
export async function listenOrFail(
  listener: EventEmitter,
  start: () => void,
  target: ListenTarget,
  release: () => void,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.once('listening', () => {
        listener.off('error', reject);
        resolve();
      });
      start(); // may also throw at once (a port out of range): rejects the same way
    });
  } catch (err) {
    release();
    throw new SpillwayError(
      'ERR_STAGE_FAILED',
      `${target.source} "${target.name}": cannot listen on ${target.host}:${target.port}`,
      { cause: err },
    );
  }
}
