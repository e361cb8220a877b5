/**
 * Dead letters: batches that no retry will deliver (a transform that keeps failing on them, a
 * backend that rejects them), kept on disk for a person to look at and replay.
 *
 * Format: one JSON object per line (NDJSON), appended; see {@link DeadLetter}. Each entry is one
 * `write()` on a file opened with O_APPEND, so concurrent writers never interleave within a line
 * and a crash can tear only the last line, which {@link readDeadLetters} skips and counts.
 *
 * Bounded: `maxBytes` caps the file. An entry that does not fit is refused and counted
 * (`dead_letters_refused`), never silently lost: its batch is still settled as rejected by the
 * stage that gave up on it, and that is counted there too.
 */

import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type Batch, Counters, eventsOf, type LogEvent } from '@spillway/core';

export interface DeadLetter {
  /** ISO 8601. */
  readonly time: string;
  readonly stage: string;
  /** Why it was given up on, e.g. `plugin_error` or `rejected:400`. */
  readonly reason: string;
  /** The last error's message (and stack, when there was one). */
  readonly error?: string;
  readonly attempts: number;
  /** The backend's HTTP status, when a backend gave up on it. */
  readonly status?: number;
  /** A bounded excerpt of the backend's answer (at most 1 KiB of its body). */
  readonly response?: string;
  readonly batch: { readonly id: string; readonly source: string; readonly count: number };
  readonly records: readonly LogEvent[];
}

export interface DeadLetterFileOptions {
  path: string;
  /** Default 64 MiB. */
  maxBytes?: number;
}

/**
 * When to use: give a stage that gives up on batches somewhere to put them (`workers({
 * deadLetters })`, sinks). Gotcha: one file per stage; two processes must not share a path.
 */
export class DeadLetterFile {
  readonly path: string;
  readonly maxBytes: number;
  readonly #handle: FileHandle;
  readonly #counters = new Counters();
  #bytes: number;

  private constructor(path: string, maxBytes: number, handle: FileHandle, bytes: number) {
    this.path = path;
    this.maxBytes = maxBytes;
    this.#handle = handle;
    this.#bytes = bytes;
  }

  static async open({
    path,
    maxBytes = 64 * 1024 * 1024,
  }: DeadLetterFileOptions): Promise<DeadLetterFile> {
    const handle = await open(path, 'a');
    const { size } = await handle.stat();
    return new DeadLetterFile(path, maxBytes, handle, size);
  }

  /** Appends an entry for `batch`; `full` when it would pass `maxBytes` (counted). */
  async write(
    batch: Batch,
    entry: {
      stage: string;
      reason: string;
      error?: unknown;
      attempts: number;
      status?: number;
      response?: string;
    },
  ): Promise<'written' | 'full'> {
    const letter: DeadLetter = {
      time: new Date().toISOString(),
      stage: entry.stage,
      reason: entry.reason,
      ...(entry.error === undefined ? {} : { error: describe(entry.error) }),
      attempts: entry.attempts,
      ...(entry.status === undefined ? {} : { status: entry.status }),
      ...(entry.response === undefined ? {} : { response: entry.response.slice(0, 1024) }),
      batch: { id: batch.id, source: batch.source, count: batch.count },
      records: eventsOf(batch),
    };
    const line = Buffer.from(`${JSON.stringify(letter)}\n`);
    // Reserved before the write so that concurrent writers cannot together pass the cap.
    if (this.#bytes + line.byteLength > this.maxBytes) {
      this.#counters.add('dead_letters_refused');
      this.#counters.add('dead_letter_events_refused', batch.count);
      return 'full';
    }
    this.#bytes += line.byteLength;
    await this.#handle.write(line);
    this.#counters.add('dead_letters');
    this.#counters.add('dead_letter_events', batch.count);
    return 'written';
  }

  stats(): Record<string, number> {
    return { ...this.#counters.toJSON(), dead_letter_bytes: this.#bytes };
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * The entries of a dead-letter file, oldest first. A line that is not a whole entry (torn by a
 * crash, edited by hand) is passed to `onDamaged` and skipped.
 */
export async function* readDeadLetters(
  path: string,
  options: { signal?: AbortSignal; onDamaged?: (line: number, text: string) => void } = {},
): AsyncGenerator<DeadLetter> {
  const lines = createInterface({
    input: createReadStream(path, options.signal ? { signal: options.signal } : {}),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.length === 0) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      options.onDamaged?.(n, text);
      continue;
    }
    if (isDeadLetter(entry)) yield entry;
    else options.onDamaged?.(n, text);
  }
}

function isDeadLetter(value: unknown): value is DeadLetter {
  const v = value as Partial<DeadLetter> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.stage === 'string' &&
    typeof v.reason === 'string' &&
    Array.isArray(v.records) &&
    typeof v.batch?.id === 'string'
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
