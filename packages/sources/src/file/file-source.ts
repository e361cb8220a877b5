/**
 * The file source: tails files by glob and hands raw line bytes downstream.
 *
 * Under pressure it simply stops reading: each chunk is read only after the previous batch was
 * taken by the pipeline, so a stalled sink costs one chunk of memory per source, and the file
 * itself is the buffer. When the pipeline drains, reading catches up from where it paused.
 *
 * Checkpoints follow acknowledgements, not reads: a file's checkpoint is the end of the longest
 * prefix of its batches that every sink settled (see `AckWatermark`), written atomically every
 * `checkpointIntervalMs` and at stop. After a crash, reading resumes there: lines that were
 * sent but not acknowledged are sent again (at-least-once), none is skipped.
 *
 * Files are known by identity, not path: device + inode + a CRC of their first bytes, so that a
 * rotated (renamed) file is followed to its end, and a new file that reuses an old inode is not
 * mistaken for it. A file truncated in place (copytruncate) is read again from its start.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createRawBatch, defineSource, optionChecks, type SourceContext } from '@spillway/core';
import { CheckpointStore, identityKey } from './checkpoints.js';
import { Discovery, type FoundFile } from './discovery.js';
import {
  FileReader,
  fingerprint,
  type LineCounters,
  type Lines,
  type LongLinePolicy,
} from './reader.js';

export interface FileSourceOptions {
  /** Absolute globs of the files to tail, e.g. `/var/log/app/*.log`. Include rotated names
   * (`app.log*`) if lines written just before a rotation must survive a crash during it. */
  include: readonly string[];
  exclude?: readonly string[];
  /** Where checkpoints are kept: `<dataDir>/<stage>.checkpoints.json`. */
  dataDir: string;
  /** Where to start in a file that has no checkpoint and was there at the first scan: its
   * `beginning` (default) or its `end`. Files that appear later are always read whole. */
  startAt?: 'beginning' | 'end';
  /** Bytes per read. Default 256 KiB. */
  chunkBytes?: number;
  /** Longest line handed on whole. Default 1 MiB. */
  maxLineBytes?: number;
  /** What to do with longer lines: `split` into several (default, nothing lost) or `truncate`
   * (the rest of the line is skipped); counted either way. */
  longLines?: LongLinePolicy;
  /** How often the globs are scanned for new, rotated and deleted files. Default 1000 ms. */
  scanIntervalMs?: number;
  /** How long to wait when every file is at its end. Default 250 ms. */
  pollIntervalMs?: number;
  /** How often changed checkpoints are written. Default 1000 ms. */
  checkpointIntervalMs?: number;
  /** Files held open at most; more matches wait their turn, counted. Default 1024. */
  maxOpenFiles?: number;
  /** Unacknowledged batches per file at most; reading that file waits beyond. Default 64. */
  maxInFlightBatches?: number;
  /** Bytes of a file's start that identify it. Default 256. */
  fingerprintBytes?: number;
  /** A file that was rotated away or deleted is released once it has been at its end this
   * long (a writer may still append just after a rename). Default 1000 ms. */
  releaseAfterMs?: number;
}

type Defaulted = Required<Omit<FileSourceOptions, 'exclude'>> & { exclude: readonly string[] };

function withDefaults(o: FileSourceOptions): Defaulted {
  return {
    exclude: [],
    startAt: 'beginning',
    chunkBytes: 256 * 1024,
    maxLineBytes: 1024 * 1024,
    longLines: 'split',
    scanIntervalMs: 1000,
    pollIntervalMs: 250,
    checkpointIntervalMs: 1000,
    maxOpenFiles: 1024,
    maxInFlightBatches: 64,
    fingerprintBytes: 256,
    releaseAfterMs: 1000,
    ...o,
  };
}

const positiveIntegers = [
  'chunkBytes',
  'maxLineBytes',
  'scanIntervalMs',
  'pollIntervalMs',
  'checkpointIntervalMs',
  'maxOpenFiles',
  'maxInFlightBatches',
  'fingerprintBytes',
] as const;

/** The path of a file source's checkpoint store. */
export function checkpointPath(dataDir: string, stage: string): string {
  return join(dataDir, `${stage}.checkpoints.json`);
}

/**
 * @example
 * ```ts
 * sources: { app: file({ include: ['/var/log/app/*.log'], dataDir: '/var/lib/spillway' }) }
 * ```
 *
 * Gotchas: batches are raw bytes (one line per newline), not events: put a parser after it. A
 * partial last line waits for its newline, except in a file that was rotated away or deleted.
 */
export const file = defineSource<FileSourceOptions>({
  type: 'file',
  validate(o) {
    const problems = Discovery.problems(o.include);
    if (typeof o.dataDir !== 'string' || o.dataDir === '') problems.push('dataDir is required');
    const check = optionChecks(problems);
    for (const key of positiveIntegers) check.positiveInteger(key, o[key]);
    check.oneOf('startAt', o.startAt, ['beginning', 'end']);
    check.oneOf('longLines', o.longLines, ['split', 'truncate']);
    return problems;
  },
  build: (o, { name }) => new FileTail(withDefaults(o), checkpointPath(o.dataDir, name)),
});

class FileTail {
  readonly #o: Defaulted;
  readonly #storePath: string;
  readonly #discovery: Discovery;
  readonly #readers = new Map<string, FileReader>();
  /** When each released-to-be file was first seen at its end. */
  readonly #atEndSince = new Map<string, number>();
  readonly #lineCounters: LineCounters = { longLinesSplit: 0, longLinesTruncated: 0 };
  #store: CheckpointStore | undefined;
  #firstScan = true;
  #stats = {
    bytesRead: 0,
    linesRead: 0,
    filesOpened: 0,
    filesReleased: 0,
    filesWaiting: 0,
    truncations: 0,
    inodesReused: 0,
    partialLinesFlushed: 0,
    readErrors: 0,
    checkpointErrors: 0,
    corruptCheckpoints: 0,
    scanTruncated: 0,
  };

  constructor(o: Defaulted, storePath: string) {
    this.#o = o;
    this.#storePath = storePath;
    this.#discovery = new Discovery(o.include, o.exclude, o.maxOpenFiles * 4);
  }

  stats(): object {
    return {
      ...this.#stats,
      ...this.#lineCounters,
      filesOpen: this.#readers.size,
      checkpointWrites: this.#store?.writes ?? 0,
      unacknowledgedBatches: [...this.#readers.values()].reduce(
        (sum, r) => sum + r.watermark.stats().inFlight,
        0,
      ),
    };
  }

  async run(ctx: SourceContext): Promise<void> {
    const { store, setAside } = await CheckpointStore.open(this.#storePath);
    this.#store = store;
    if (setAside) {
      this.#stats.corruptCheckpoints++;
      process.emitWarning(`file source ${ctx.name}: unreadable checkpoints moved to ${setAside}`);
    }
    try {
      await this.#loop(ctx);
    } catch (err) {
      if (!ctx.stopping.aborted) throw err;
    } finally {
      await this.#finish(ctx);
    }
  }

  async #loop(ctx: SourceContext): Promise<void> {
    const o = this.#o;
    let lastScan = Number.NEGATIVE_INFINITY;
    let lastFlush = performance.now();
    while (!ctx.stopping.aborted) {
      if (performance.now() - lastScan >= o.scanIntervalMs) {
        await this.#scan();
        lastScan = performance.now();
      }
      let progressed = false;
      for (const reader of [...this.#readers.values()]) {
        if (ctx.stopping.aborted) break;
        if (await this.#step(reader, ctx)) progressed = true;
      }
      if (performance.now() - lastFlush >= o.checkpointIntervalMs) {
        await this.#flush();
        lastFlush = performance.now();
      }
      if (!progressed) {
        await delay(o.pollIntervalMs, undefined, { signal: ctx.stopping }).catch(() => {});
      }
    }
  }

  /** Reads one chunk of `reader` and ships its lines; true when it read anything. */
  async #step(reader: FileReader, ctx: SourceContext): Promise<boolean> {
    let lines: Lines | undefined | 'eof';
    try {
      lines = await reader.read();
    } catch {
      this.#stats.readErrors++;
      await this.#release(reader);
      return false;
    }
    if (lines === 'eof') {
      await this.#atEnd(reader, ctx);
      return false;
    }
    this.#atEndSince.delete(reader.key);
    await reader.refreshFingerprint();
    if (lines) await this.#ship(reader, lines, ctx);
    return true;
  }

  async #ship(reader: FileReader, lines: Lines, ctx: SourceContext): Promise<void> {
    const ack = await reader.watermark.track(lines.end, ctx.stopping);
    this.#stats.bytesRead += lines.data.byteLength;
    this.#stats.linesRead += lines.lines;
    await ctx.emit(
      createRawBatch({
        source: ctx.name,
        data: lines.data,
        lines: lines.lines,
        positions: [{ stream: reader.key, offset: lines.end }],
        ack,
      }),
      ctx.stopping,
    );
  }

  /** At the end of a file: notice truncation, and release files that will not grow again. */
  async #atEnd(reader: FileReader, ctx: SourceContext): Promise<void> {
    const info = await reader.handle.stat().catch(() => undefined);
    if (info && info.size < reader.offset) {
      this.#stats.truncations++;
      reader.restart();
      return;
    }
    if (info && info.nlink > 0 && !reader.orphaned) return;
    const now = performance.now();
    const since = this.#atEndSince.get(reader.key);
    if (since === undefined) {
      this.#atEndSince.set(reader.key, now);
      return;
    }
    if (now - since < this.#o.releaseAfterMs) return;
    const partial = reader.takePartial();
    if (partial) {
      this.#stats.partialLinesFlushed++;
      await this.#ship(reader, partial, ctx);
    }
    // Released only once its lines are acknowledged, so the checkpoint is not forgotten early.
    if (reader.watermark.stats().inFlight === 0) await this.#release(reader);
  }

  async #release(reader: FileReader): Promise<void> {
    this.#readers.delete(reader.key);
    this.#atEndSince.delete(reader.key);
    this.#store!.delete(reader.key);
    this.#stats.filesReleased++;
    await reader.close().catch(() => {});
  }

  async #scan(): Promise<void> {
    const { files, truncated } = await this.#discovery.scan();
    if (truncated) this.#stats.scanTruncated++;
    const present = new Set<string>();
    let waiting = 0;
    for (const found of files) {
      const key = identityKey(found);
      present.add(key);
      const reader = this.#readers.get(key);
      if (reader) {
        reader.path = found.path;
        reader.orphaned = false;
      } else if (this.#readers.size >= this.#o.maxOpenFiles) {
        waiting++;
      } else {
        await this.#open(found);
      }
    }
    for (const reader of this.#readers.values()) {
      if (!present.has(reader.key)) reader.orphaned = true;
    }
    this.#stats.filesWaiting = waiting;
    this.#firstScan = false;
  }

  async #open(found: FoundFile): Promise<void> {
    const o = this.#o;
    const handle = await open(found.path, 'r').catch(() => undefined);
    if (!handle) return;
    const info = await handle.stat();
    if (info.ino !== found.ino || info.dev !== found.dev) {
      await handle.close(); // replaced since the scan: the next scan sees the new one
      return;
    }
    const key = identityKey(found);
    const store = this.#store!;
    const saved = store.get(key);
    let offset: number;
    if (saved && (await matches(handle, saved))) {
      offset = saved.offset;
      if (offset > info.size) {
        this.#stats.truncations++; // truncated while we were not running
        offset = 0;
      }
    } else {
      if (saved) this.#stats.inodesReused++;
      offset = this.#firstScan && o.startAt === 'end' ? info.size : 0;
    }
    const identity = {
      dev: found.dev,
      ino: found.ino,
      ...(await fingerprint(handle, o.fingerprintBytes)),
    };
    const reader = new FileReader(
      handle,
      found.path,
      identity,
      offset,
      o,
      this.#lineCounters,
      (r, position) => store.set({ ...r.identity, path: r.path, offset: position }),
    );
    // Recorded at once, so a crash before the first acknowledgement resumes here too.
    store.set({ ...identity, path: found.path, offset });
    this.#readers.set(key, reader);
    this.#stats.filesOpened++;
  }

  async #flush(): Promise<void> {
    try {
      await this.#store!.flush();
    } catch {
      this.#stats.checkpointErrors++; // retried at the next interval
    }
  }

  /**
   * Waits for the acknowledgements of what was sent — sinks keep draining during a graceful
   * stop — so the final checkpoint is as fresh as it can be; a hard stop cuts the wait short.
   */
  async #finish(ctx: SourceContext): Promise<void> {
    const readers = [...this.#readers.values()];
    await Promise.all(readers.map((r) => r.watermark.whenIdle(ctx.signal).catch(() => {})));
    await this.#flush();
    await Promise.all(readers.map((r) => r.close().catch(() => {})));
    this.#readers.clear();
  }
}

async function matches(
  handle: FileHandle,
  saved: { fingerprint: number; fingerprintBytes: number },
): Promise<boolean> {
  const now = await fingerprint(handle, saved.fingerprintBytes);
  return now.fingerprintBytes === saved.fingerprintBytes && now.fingerprint === saved.fingerprint;
}
