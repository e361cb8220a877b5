/**
 * Replays a dead-letter file into a sink: after the backend's schema was fixed, or the field
 * that made it answer 404 was dropped, the records it refused are sent again.
 *
 * Each entry becomes one batch with the entry's batch id (so a backend that de-duplicates by id
 * still can) and its records; up to the sink's `concurrency` writes are open at once. The file
 * is only read: move it aside first if the sink writes its own dead letters to the same path.
 */
import {
  Counters,
  createEventBatch,
  type Sink,
  type SinkDefinition,
  type SinkOutcome,
  SpillwayError,
} from '@spillway/core';
import { type DeadLetter, readDeadLetters } from '@spillway/disk-buffer';
import { errorCode } from '../internal/error-code.js';

export interface ReplayOptions {
  signal?: AbortSignal;
  /** Only entries this returns true for are replayed (the rest are counted as skipped). */
  filter?: (letter: DeadLetter) => boolean;
  /** Writes open at once. Default: the sink's declared `concurrency`, else 4. */
  concurrency?: number;
}

export interface ReplayReport {
  /** Entries read (whole ones; damaged lines are counted apart). */
  readonly entries: number;
  readonly skipped: number;
  /** Entries the sink delivered, and their records. */
  readonly delivered: number;
  readonly deliveredRecords: number;
  /** Entries the sink refused again (rejected, dropped, or given back), by reason. */
  readonly failed: Readonly<Record<string, number>>;
  /** Lines that were not whole entries (a torn last line, a hand edit). */
  readonly damaged: number;
}

/**
 * When to use: to send dead letters again once the cause is fixed — from code, or from the
 * command line once the `spillway` command has a dead-letter verb.
 *
 * Gotchas: a sink given as a definition is built here and closed at the end; a running sink
 * given as an instance is left open. Replaying is at-least-once: run it twice and the backend
 * sees the records twice (with the same batch ids).
 *
 * @example
 * ```ts
 * const report = await replayDeadLetters('/var/lib/spillway/http.dlq', http({ url }));
 * ```
 */
export async function replayDeadLetters(
  path: string,
  into: Sink | SinkDefinition,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const signal = options.signal ?? new AbortController().signal;
  const built = 'kind' in into;
  let sink: Sink;
  if (built) {
    const problems = into.validate();
    if (problems.length > 0) {
      throw new SpillwayError('ERR_INVALID_OPTION', `replay sink: ${problems.join('; ')}`);
    }
    sink = await into.build({ name: 'replay', signal, counters: new Counters() });
  } else {
    sink = into;
  }
  const limit = options.concurrency ?? sink.concurrency ?? 4;
  const open = new Set<Promise<void>>();
  const failed: Record<string, number> = {};
  let entries = 0;
  let skipped = 0;
  let delivered = 0;
  let deliveredRecords = 0;
  let damaged = 0;
  const settle = (outcome: SinkOutcome, records: number) => {
    if (outcome === undefined || outcome.status === 'delivered') {
      delivered++;
      deliveredRecords += records;
    } else {
      const key = `${outcome.status}:${outcome.reason}`;
      failed[key] = (failed[key] ?? 0) + 1;
    }
  };
  try {
    for await (const letter of readDeadLetters(path, { signal, onDamaged: () => damaged++ })) {
      entries++;
      if (options.filter && !options.filter(letter)) {
        skipped++;
        continue;
      }
      const batch = createEventBatch({
        source: letter.batch.source,
        id: letter.batch.id,
        events: letter.records,
      });
      const writing = sink.write(batch, signal).then(
        (outcome) => settle(outcome, batch.count),
        (err: unknown) => settle({ status: 'rejected', reason: errorCode(err) }, batch.count),
      );
      open.add(writing);
      void writing.finally(() => open.delete(writing));
      while (open.size >= limit) await Promise.race(open);
    }
    await Promise.all(open);
  } finally {
    if (built) await sink.close?.(signal);
  }
  return { entries, skipped, delivered, deliveredRecords, failed, damaged };
}
