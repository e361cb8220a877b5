/**
 * The file sink: appends each batch to a file — raw batches' bytes as they are, event batches
 * as NDJSON (see `batch-lines.ts`) — rotated by size (see `rotating-file.ts` for the naming and
 * the invariants).
 *
 * The acknowledgement is honest: `write()` resolves once the batch is in the file (the kernel
 * has it; on disk too under `fsync: 'always'`). Writes from the output pool's workers are run
 * one at a time in dispatch order (see `in-order.ts`), so any `maxWorkers` is safe.
 */
import { isAbsolute, resolve } from 'node:path';
import { defineSink, isRecord, optionChecks, SpillwayError, wrong } from '@spillway/core';
import { batchLines } from '../internal/batch-lines.js';
import { InOrder, untilAborted } from '../internal/in-order.js';
import { type FsyncPolicy, RotatingFile } from './rotating-file.js';

export type { FsyncPolicy };

/** Options of {@link fileSink}. */
export interface FileSinkOptions {
  /**
   * Absolute path of the current file; created when missing, appended to otherwise. Its
   * directory must exist (a missing one fails the write, and the next write tries again).
   */
  path: string;
  /** Size after which the file is rotated, in bytes. Default 100 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included (`app.log`, `app.log.1` … `app.log.<maxFiles-1>`). Default 5. */
  maxFiles?: number;
  /**
   * When written data is forced to the disk. `always`: before `write()` resolves (an
   * acknowledged batch survives a power loss; one fdatasync per batch). `interval` (default):
   * at most `fsyncIntervalMs` after a write, and at rotation and close (a power loss may lose
   * that window; a crash of the process loses nothing, the kernel has the data). `never`: left to
   * the kernel.
   */
  fsync?: FsyncPolicy;
  /** With `fsync: 'interval'`: how long written data may stay unsynced. Default 1000 ms. */
  fsyncIntervalMs?: number;
  /**
   * How often, at most, the path is checked for a file removed or replaced from outside (then
   * a new one is opened there); 0 checks before every batch. Default 1000 ms.
   */
  pathCheckMs?: number;
}

const MIB = 1024 * 1024;
const DEFAULTS = {
  maxBytes: 100 * MIB,
  maxFiles: 5,
  fsync: 'interval',
  fsyncIntervalMs: 1000,
  pathCheckMs: 1000,
} as const;
/** Each rotation renames every kept file: a bound keeps that cost (and a typo) in check. */
const MAX_FILES = 1000;

/**
 * Appends batches to a file with size-based rotation: raw batches as they are (a missing final
 * newline added), event batches as NDJSON lines.
 *
 * When to use: to keep what a pipeline delivers on local disk — an archive, a file another agent
 * tails, a debugging copy. To write several formats or files, use several sinks on several
 * paths.
 *
 * Gotchas:
 * - Rotation is by rename, oldest first: `app.log.<maxFiles-1>` is replaced, so at most
 *   `maxFiles` files exist. Files beyond (left by a larger `maxFiles` earlier) are not touched.
 * - A batch is never split across files: one larger than `maxBytes` gets a file of its own.
 * - Removed or renamed from outside (`logrotate` without `copytruncate`): noticed within
 *   `pathCheckMs`, and a new file is opened at the path. Batches written before it was noticed
 *   went to the old file — lost with it when it was removed. Set `pathCheckMs: 0` if that
 *   matters more than one `stat` per batch.
 * - A write that fails (EACCES, ENOSPC, EIO) rejects with `ERR_STAGE_FAILED`, the file system's
 *   error as `cause`, and leaves no part of its batch in the file; the pool counts the batch as
 *   rejected (`sink_error:ERR_STAGE_FAILED`). The next write opens the path again, so the sink
 *   works again as soon as the cause is fixed.
 * - Concurrency: writes are queued inside the sink and run one at a time in dispatch order, so
 *   any pool `maxWorkers` keeps batches whole and in order. The queue is bounded by the pool: at
 *   most `maxWorkers` writes wait in it.
 *
 * Stats: `bytesWritten`, `batchesWritten`, `eventsWritten`, `rotations`, `reopens`,
 * `fileBytes` (current file), `fsyncs`, `writeErrors`, `fsyncErrors`.
 *
 * @example
 * ```ts
 * sinks: {
 *   archive: {
 *     inputs: ['parse'],
 *     stage: fileSink({ path: '/var/log/spillway/app.ndjson', maxBytes: 64 * 1024 * 1024 }),
 *   },
 * }
 * ```
 */
export const fileSink = defineSink<FileSinkOptions>({
  type: 'file',

  validate(o) {
    if (!isRecord(o)) return [wrong('options', 'an object', o)];
    const problems: string[] = [];
    const check = optionChecks(problems);
    check.nonEmptyString('path', o.path, true);
    if (typeof o.path === 'string' && o.path !== '' && !isAbsolute(o.path)) {
      problems.push(wrong('path', 'an absolute path', o.path));
    }
    check.positiveInteger('maxBytes', o.maxBytes);
    check.integerBetween('maxFiles', o.maxFiles, 1, MAX_FILES);
    check.oneOf('fsync', o.fsync, ['always', 'interval', 'never']);
    check.positiveNumber('fsyncIntervalMs', o.fsyncIntervalMs);
    check.nonNegativeNumber('pathCheckMs', o.pathCheckMs);
    return problems;
  },

  // Claimed before anything starts, so that two sinks on one file are refused. Normalised:
  // `/a/./b` and `/a/b` are the same file.
  resources: (o) =>
    isRecord(o) && typeof o.path === 'string' && isAbsolute(o.path)
      ? [{ kind: 'path', id: resolve(o.path) }]
      : [],

  build(o, ctx) {
    const fsync = o.fsync ?? DEFAULTS.fsync;
    const fsyncIntervalMs = o.fsyncIntervalMs ?? DEFAULTS.fsyncIntervalMs;
    // Opened at the first write: a pipeline that is built and never started opens nothing.
    const file = new RotatingFile({
      path: o.path,
      maxBytes: o.maxBytes ?? DEFAULTS.maxBytes,
      maxFiles: o.maxFiles ?? DEFAULTS.maxFiles,
      fsync,
      pathCheckMs: o.pathCheckMs ?? DEFAULTS.pathCheckMs,
    });
    const queue = new InOrder();
    // Interval syncs are queued like appends, so that one never meets a rotation half done;
    // they belong to the sink, not to a caller, so nothing aborts them.
    const ownSignal = new AbortController().signal;
    let syncTimer: NodeJS.Timeout | undefined;
    let closed = false;
    const stats = { batchesWritten: 0, eventsWritten: 0, writeErrors: 0, fsyncErrors: 0 };

    const syncLater = () => {
      syncTimer ??= setTimeout(() => {
        syncTimer = undefined;
        queue.run(() => file.sync(), ownSignal).catch(() => stats.fsyncErrors++);
      }, fsyncIntervalMs);
      // Data already in the kernel survives the process; only a power loss needs the sync.
      syncTimer.unref();
    };

    return {
      async write(batch, signal) {
        signal.throwIfAborted();
        if (closed) throw new SpillwayError('ERR_CHANNEL_CLOSED', `file "${ctx.name}" is closed`);
        const data = batchLines(batch);
        if (data.byteLength === 0) return undefined;
        try {
          await queue.run(async () => {
            await file.append(data);
            // Counted here rather than after the wait: a caller cut short still wrote it.
            stats.batchesWritten++;
            stats.eventsWritten += batch.count;
          }, signal);
        } catch (err) {
          // Cut short by the hard stop: say so (the batch may be kept by a spill buffer).
          signal.throwIfAborted();
          stats.writeErrors++;
          throw new SpillwayError(
            'ERR_STAGE_FAILED',
            `file "${ctx.name}": cannot append to ${o.path} (${(err as NodeJS.ErrnoException)?.code ?? String(err)})`,
            { cause: err },
          );
        }
        // Written — but once the hard stop came, the pipeline counts this batch as cut short.
        signal.throwIfAborted();
        if (fsync === 'interval') syncLater();
        return undefined;
      },

      // After the last write was dispatched; `signal` is the time close() has.
      async close(signal) {
        closed = true;
        clearTimeout(syncTimer);
        syncTimer = undefined;
        await queue.idle(signal).catch(() => {});
        // If the wait above was cut short, FileHandle.close() still waits for the operation
        // running on the handle; an append queued behind it is refused, so nothing reopens.
        await untilAborted(file.close(), signal);
      },

      stats: () => ({ ...stats, ...file.stats() }),
    };
  },
});
