// A sink plugin: appends every event, as one line of JSON (NDJSON), to a file.
//
// A sink is a noun: it owns a destination and reports, for each batch, whether it got there.
// The contract in full is in docs/plugins.md; the parts this file shows:
//
//   1. write() resolves only once the batch is written (with `fsync`, once it is on disk), and
//      reports the outcome: `undefined` means delivered; a throw counts as rejected. The output
//      pool in front of the sink settles the batch's acknowledgement from that outcome — the
//      sink never touches `batch.ack`.
//   2. The signal: it aborts when the pipeline stops hard. Every wait gives up then, even a wait
//      for a write that cannot be cancelled, and once it has aborted the sink never reports
//      delivered: it throws the abort instead. The pipeline cannot tell a write that finished
//      from one cut short; reporting "delivered" for one cut short loses the batch, while a
//      thrown abort lets a spill buffer keep it for the next start (at worst a line is written
//      twice, which at-least-once delivery allows).
//   3. Resources: the file is claimed in resources(), so two sinks cannot be configured to
//      write the same path; it is opened at the first write (a pipeline that is built but never
//      started opens nothing) and closed by close(signal), after the write in flight.
//   4. Concurrency: the output pool may call write() from several workers at once. Appends are
//      made one at a time here, in the order the calls came, so lines never interleave; the
//      pool bounds how many calls can wait (maxWorkers), so the queue is bounded too.
//
// Check it with the conformance kit (test/plugins.test.ts does):
//
//   assertConformance(await checkSink(() => jsonlFile({ path: `/tmp/out-${n++}.jsonl` })));

import { type FileHandle, open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { defineSink, eventsOf } from '@spillway/core';

/** Options of {@link jsonlFile}. */
export interface JsonlFileOptions {
  /** Absolute path of the file; created when missing, appended to otherwise. */
  path: string;
  /** Call fsync after each batch, so that delivered means on disk. Default false. */
  fsync?: boolean;
}

/**
 * Waits for `work`, but no longer than `signal` allows. The work itself goes on (a file write
 * cannot be taken back); only the waiting stops.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Writes all of `data`: a single write may take only part of it. */
async function writeAll(file: FileHandle, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; ) {
    const { bytesWritten } = await file.write(data, offset);
    offset += bytesWritten;
  }
}

/**
 * Appends each event of each batch as a JSON line: `{"timestamp":…,"message":…,…}`. Raw batches
 * are split into one event per line first.
 *
 * Stats: `lines_written`, `bytes_written`.
 */
export const jsonlFile = defineSink<JsonlFileOptions>({
  type: 'jsonlFile',

  validate(o) {
    if (o === null || typeof o !== 'object') return ['options must be an object'];
    const problems: string[] = [];
    if (typeof o.path !== 'string' || !isAbsolute(o.path)) {
      problems.push('path must be an absolute file path');
    }
    if (o.fsync !== undefined && typeof o.fsync !== 'boolean') {
      problems.push('fsync must be true or false');
    }
    return problems;
  },

  // Claimed before anything starts: a pipeline with two stages on one path is refused whole.
  resources: (o) => [{ kind: 'path', id: o.path }],

  build(o) {
    let file: Promise<FileHandle> | undefined;
    // The append in progress (or the last one): each new append starts after it.
    let tail: Promise<void> = Promise.resolve();
    let lines = 0;
    let bytes = 0;

    const opened = (): Promise<FileHandle> => {
      file ??= open(o.path, 'a').catch((err: unknown) => {
        file = undefined; // try again at the next write (the directory may appear)
        throw err;
      });
      return file;
    };

    return {
      async write(batch, signal) {
        // The output pool never starts a write after the hard stop, but a sink should not
        // rely on who calls it.
        signal.throwIfAborted();
        const events = eventsOf(batch);
        if (events.length === 0) return undefined;
        const data = Buffer.from(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`);

        const append = tail.then(async () => {
          // Our turn came after the stop: write nothing.
          signal.throwIfAborted();
          const handle = await opened();
          await writeAll(handle, data);
          if (o.fsync) await handle.sync();
        });
        // The next append waits for this one whether it worked or not.
        tail = append.catch(() => {});

        await untilAborted(append, signal);
        // Written — but if the hard stop came meanwhile, the pipeline already counts this
        // batch as cut short. Say the same (see point 2 at the top).
        signal.throwIfAborted();
        lines += events.length;
        bytes += data.length;
        return undefined;
      },

      // Called once, after the last write() was dispatched; `signal` is the time close() has.
      async close(signal) {
        await untilAborted(tail, signal).catch(() => {});
        const handle = await file?.catch(() => undefined);
        // FileHandle.close() itself waits for operations still running on the handle.
        await handle?.close();
        file = undefined;
      },

      stats: () => ({ lines_written: lines, bytes_written: bytes }),
    };
  },
});

// Exported under its own name and as default, like every plugin here.
export default jsonlFile;
