/**
 * What the encoders share: walking the records of a request's parts as events, numbered as the
 * contract numbers them, and the error for a record that cannot be written.
 */
import { type BatchPayload, eventsOfPayload, type LogEvent, SpillwayError } from '@spillway/core';

/**
 * Calls `visit` with each record of `parts` as an event and its index, counting from `first`;
 * raw lines become events stamped `now`. Returns the index after the last record.
 *
 * A record `visit` cannot write (`JSON.stringify` throwing on a `bigint` or a cycle) becomes
 * `ERR_STAGE_FAILED` naming its index; a `SpillwayError` from `visit` passes through as it is.
 */
export function forEachEvent(
  parts: readonly BatchPayload[],
  now: number,
  visit: (event: LogEvent, index: number) => void,
  first = 0,
): number {
  let index = first;
  try {
    for (const part of parts) {
      for (const event of eventsOfPayload(part, now)) {
        visit(event, index);
        index++;
      }
    }
  } catch (err) {
    throw SpillwayError.is(err) ? err : unencodable(index, err);
  }
  return index;
}

/** The error for record `index`, which cannot be written; `cause` says why. */
export function unencodable(index: number, cause: unknown): SpillwayError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new SpillwayError('ERR_STAGE_FAILED', `record ${index} cannot be encoded${why}`, {
    cause,
  });
}

/** `{ flatten_conflicts }` for the encoders that flatten, from their running count. */
export function conflictCounters(conflicts: {
  readonly count: number;
}): () => Readonly<Record<string, number>> {
  return () => ({ flatten_conflicts: conflicts.count });
}
