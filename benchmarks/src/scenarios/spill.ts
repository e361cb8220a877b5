/**
 * Scenario `spill`: what the disk buffer costs over writing and reading a plain file.
 *
 * The same batches (1024 access-log events each, built before the clock) are spilled and
 * replayed, and their encoded bytes go to a plain file, in one run:
 *
 * ```
 *   spill_write   DiskBuffer.open (untimed) ─▶ append × N ─▶ close          (timed)
 *   spill_replay  append × N, close, re-open (untimed) ─▶ read × N + settle ─▶ close (timed)
 *   raw_write     open file (untimed) ─▶ write × N ─▶ datasync ─▶ close          (timed)
 *   raw_read      write file + datasync (untimed) ─▶ read × N ─▶ close           (timed)
 * ```
 *
 * What is timed, and why it is a fair pair:
 * - `spill_write` times `append` of every batch (encode with core's `encodeBatch`, framing,
 *   CRC32C, one positional write per record, sealing a segment every `segmentBytes` with its
 *   `fdatasync`) and `close()` (the final `fdatasync` and ledger write). `raw_write` gets the
 *   same batches already encoded before the clock (its bytes are free) and writes them with
 *   one `FileHandle.write` each, then one `datasync()`: both contenders end with every byte on
 *   stable storage, as far as fsync promises. Encoding is part of the spill's cost, not the
 *   peer's: a user writing raw bytes would have to encode too, so the ratio is a lower bound.
 * - `spill_replay` reads every record back with `read()` (decode into events, a new
 *   acknowledgement each) and settles each `delivered` (acknowledged position, segments
 *   deleted as they are fully acknowledged), then `close()`. The buffer is written, closed and
 *   re-opened before the clock — the replay after a restart — so neither the writes nor the
 *   open's scan of every segment are charged to it. `raw_read` reads the same bytes back with
 *   `FileHandle.read` in chunks of one encoded batch each, into one reused buffer, and decodes
 *   nothing: the cheapest read there is (a fresh buffer per chunk set off full collections of
 *   the benchmark's heap that made this peer swing tenfold between rounds).
 * - Both read sides read files written just before, so they read the page cache, not the
 *   device: the ratio is the cost of the buffer's code over the file API, not disk speed.
 *   Every untimed step that writes data syncs it, so no contender's clock runs while an
 *   earlier one's dirty pages are written back.
 *
 * The `_lines` contenders repeat the four with the same events as NDJSON lines in raw batches,
 * against their own raw peers: the buffer's cost when the payload is bytes already.
 *
 * Every contender moves the same byte volume: N × the encoded batch size (the spill adds a
 * 32-byte record header and the batch id per record, 0.05 %). MB/s is of those encoded bytes.
 * The N batches cycle through a pool of distinct batches so that a 200 MB volume does not
 * hold two million live events in the heap (whose marking would be charged to the replay's
 * garbage collections); every append still encodes its batch afresh.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Batch,
  createEventBatch,
  createRawBatch,
  encodeBatch,
  eventToJson,
  type LogEvent,
} from '@spillway/core';
import { DiskBuffer, type DiskBufferOptions } from '@spillway/disk-buffer';
import { byName, type Contender, type RaceOptions, race, round2 } from '../race.js';
import type { ContenderResult, ScenarioDefinition } from '../scenario.js';

/** 2048 batches × 1024 events × ~92 encoded bytes ≈ 193 MB. */
const FULL = { batches: 2048, pool: 256, rounds: 5, warmupRounds: 1 };
const QUICK = { batches: 16, pool: 4, rounds: 1, warmupRounds: 0 };
const EVENTS_PER_BATCH = 1024;
const MiB = 1024 * 1024;
const BUFFER_OPTIONS = {
  maxBytes: 1024 * MiB,
  segmentBytes: 16 * MiB,
  fsync: 'interval',
} as const satisfies Omit<DiskBufferOptions, 'dir'>;

/** Spill write and replay throughput of the disk buffer against a plain file's write and read. */
export const spillScenario: ScenarioDefinition = {
  name: 'spill',
  description:
    'Throughput of the disk buffer: `spill_write` appends batches of 1024 events (~92 encoded ' +
    'bytes each) to a fresh `DiskBuffer` (fsync `interval`) and closes it; `spill_replay` ' +
    "reads every record back from a re-opened buffer and settles each batch's acknowledgement " +
    '`delivered`. Appends include encoding, framing and CRC; both write contenders end with ' +
    'their bytes synced (segment seals and close for the buffer, one `datasync` for the plain ' +
    'file). Both read contenders read a file written just before, i.e. the page cache. MB/s is ' +
    'of the encoded batch bytes, the same volume for every contender of a pair. The `_lines` ' +
    'contenders do the same with the same events as NDJSON lines in raw batches (what a file ' +
    "source spills): their payload is bytes already, so they show the buffer's own cost " +
    '(framing, CRC, syncs, acknowledgements) without event encoding.',
  peers:
    'The same batches, encoded before the clock, written to a plain file with one ' +
    '`FileHandle.write` per batch plus a final `datasync` (`raw_write`), and read back with ' +
    '`FileHandle.read` in chunks of one batch each without decoding (`raw_read`): the floor ' +
    'a disk buffer is built on, so the ratios are what framing, checksums, decoding and ' +
    'acknowledgement tracking cost.',
  targets: [
    { ratio: 'spill_write_vs_raw', atLeast: 0.5 },
    { ratio: 'replay_vs_raw', atLeast: 0.5 },
  ],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const options = { signal, log, rounds: params.rounds, warmupRounds: params.warmupRounds };
    const events = params.batches * EVENTS_PER_BATCH;
    // Each race builds its own batches, which are garbage once it returns: the second race's
    // collections do not mark the first one's quarter-million events.
    const eventRace = await racePair(buildPool(params.pool), params.batches, '', options);
    log(
      `  ${params.batches} batches of ${EVENTS_PER_BATCH} events (${events.toLocaleString('en-US')} ` +
        `events), ${(eventRace.bytes / 1e6).toFixed(1)} MB encoded`,
    );
    // The same events as NDJSON lines in raw batches: what a file source spills, whose
    // payload is bytes already, so the pair shows the buffer's own cost without event encoding.
    const lineRace = await racePair(
      buildPool(params.pool).map((batch) => linesOf(batch)),
      params.batches,
      '_lines',
      options,
    );
    const bytes = eventRace.bytes;
    const lineBytes = lineRace.bytes;
    const all = [...eventRace.results, ...lineRace.results];
    const mb = (name: string): number => byName(all, name).mbPerSec ?? 0;
    return {
      results: all,
      ratios: {
        spill_write_vs_raw: round2(mb('spill_write') / mb('raw_write')),
        replay_vs_raw: round2(mb('spill_replay') / mb('raw_read')),
        spill_write_lines_vs_raw: round2(mb('spill_write_lines') / mb('raw_write_lines')),
        replay_lines_vs_raw: round2(mb('spill_replay_lines') / mb('raw_read_lines')),
      },
      setup: {
        batches: params.batches,
        'events per batch': EVENTS_PER_BATCH,
        'encoded bytes per event': Math.round(bytes / events),
        'encoded bytes per line (raw batches)': Math.round(lineBytes / events),
        'MB per run (encoded)': round2(bytes / 1e6),
        'distinct batches (cycled)': params.pool,
        rounds: params.rounds,
        'warm-up rounds': params.warmupRounds,
        'disk buffer': `fsync ${BUFFER_OPTIONS.fsync}, ${BUFFER_OPTIONS.segmentBytes / MiB} MiB segments, maxBytes ${BUFFER_OPTIONS.maxBytes / MiB} MiB`,
        'temp dir': tmpdir(),
      },
    };
  },
};

/** Races the four contenders (names ending in `suffix`) over `batches` batches cycled from `pool`. */
async function racePair(
  pool: readonly Batch[],
  batches: number,
  suffix: string,
  options: Omit<RaceOptions, 'expectedEvents' | 'expectedBytes'>,
): Promise<{ results: ContenderResult[]; bytes: number }> {
  const encoded = pool.map((batch) => encodeBatch(batch));
  const work: Work = {
    batches,
    batchAt: (i) => pool[i % pool.length]!,
    bytesAt: (i) => encoded[i % encoded.length]!,
  };
  let bytes = 0;
  let events = 0;
  for (let i = 0; i < batches; i++) {
    bytes += work.bytesAt(i).byteLength;
    events += work.batchAt(i).count;
  }
  const results = await race(
    [
      spillWriteContender(work, `spill_write${suffix}`),
      spillReplayContender(work, `spill_replay${suffix}`),
      rawWriteContender(work, `raw_write${suffix}`),
      rawReadContender(work, `raw_read${suffix}`),
    ],
    { ...options, expectedEvents: events, expectedBytes: bytes },
  );
  return { results, bytes };
}

/** What every contender moves: batch `i` is `batchAt(i)`, encoded as `bytesAt(i)`. */
interface Work {
  readonly batches: number;
  readonly batchAt: (i: number) => Batch;
  readonly bytesAt: (i: number) => Uint8Array;
}

/** Realistic access-log events, ~92 bytes each encoded; deterministic. */
function buildPool(size: number): Batch[] {
  const start = Date.UTC(2025, 0, 1);
  const pool: Batch[] = [];
  for (let b = 0; b < size; b++) {
    const events = new Array<LogEvent>(EVENTS_PER_BATCH);
    for (let j = 0; j < EVENTS_PER_BATCH; j++) {
      const i = b * EVENTS_PER_BATCH + j;
      events[j] = {
        timestamp: start + i,
        message: `GET /api/items/${i % 10_000}?page=${i % 7} 200 ${i % 97}ms`,
        severity: i % 50 === 0 ? 'warn' : 'info',
        attributes: {
          service: 'api',
          status: 200,
          host: `web-${i % 8}`,
          trace: `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}a1b2c3d4e5f6a7b8`,
        },
      };
    }
    pool.push(createEventBatch({ source: 'bench', events }));
  }
  return pool;
}

/** The batch's events as NDJSON lines, in one raw batch. */
function linesOf(batch: Batch): Batch {
  const events = batch.payload.kind === 'events' ? batch.payload.events : [];
  let text = '';
  for (const event of events) text += `${eventToJson(event)}\n`;
  return createRawBatch({ source: 'bench', data: Buffer.from(text), lines: events.length });
}

/**
 * A contender's temporary directory (fresh for each run, under the OS temp dir) and the one
 * file or buffer it keeps open from `prepare` to `run`; `cleanup` closes and removes both.
 */
class Scratch<T extends { close(): Promise<void> }> {
  dir: string | undefined;
  held: T | undefined;

  async makeDir(): Promise<string> {
    this.dir = await mkdtemp(join(tmpdir(), 'spillway-bench-spill-'));
    return this.dir;
  }

  async cleanup(): Promise<void> {
    await this.held?.close();
    this.held = undefined;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

async function fill(buffer: DiskBuffer, work: Work, signal: AbortSignal): Promise<number> {
  let events = 0;
  for (let i = 0; i < work.batches; i++) {
    const batch = work.batchAt(i);
    if ((await buffer.append(batch, signal)) === 'written') events += batch.count;
  }
  return events;
}

function spillWriteContender(work: Work, name: string): Contender {
  const scratch = new Scratch<DiskBuffer>();
  return {
    name,
    async prepare() {
      scratch.held = await DiskBuffer.open({ dir: await scratch.makeDir(), ...BUFFER_OPTIONS });
    },
    async run(signal) {
      const events = await fill(scratch.held!, work, signal);
      await scratch.held!.close();
      return events;
    },
    cleanup: () => scratch.cleanup(),
  };
}

function spillReplayContender(work: Work, name: string): Contender {
  const scratch = new Scratch<DiskBuffer>();
  return {
    name,
    async prepare(signal) {
      const dir = await scratch.makeDir();
      const writer = await DiskBuffer.open({ dir, ...BUFFER_OPTIONS });
      try {
        await fill(writer, work, signal);
      } finally {
        await writer.close();
      }
      scratch.held = await DiskBuffer.open({ dir, ...BUFFER_OPTIONS });
    },
    async run(signal) {
      const disk = scratch.held!;
      let events = 0;
      for (let rec = await disk.read(signal); rec; rec = await disk.read(signal)) {
        events += rec.batch.count;
        rec.batch.ack.settle('delivered');
      }
      await disk.close();
      return events;
    },
    cleanup: () => scratch.cleanup(),
  };
}

/** Writes all of `bytes` at the file's current position (a file write is rarely short). */
async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    done += (await file.write(bytes, done, bytes.byteLength - done)).bytesWritten;
  }
}

function rawWriteContender(work: Work, name: string): Contender {
  const scratch = new Scratch<FileHandle>();
  return {
    name,
    async prepare() {
      scratch.held = await open(join(await scratch.makeDir(), 'raw.bin'), 'w');
    },
    async run(signal) {
      const handle = scratch.held!;
      let events = 0;
      for (let i = 0; i < work.batches; i++) {
        signal.throwIfAborted();
        await writeAll(handle, work.bytesAt(i));
        events += work.batchAt(i).count;
      }
      await handle.datasync();
      await handle.close();
      scratch.held = undefined;
      return events;
    },
    cleanup: () => scratch.cleanup(),
  };
}

function rawReadContender(work: Work, name: string): Contender {
  const scratch = new Scratch<FileHandle>();
  return {
    name,
    async prepare(signal) {
      const path = join(await scratch.makeDir(), 'raw.bin');
      const writer = await open(path, 'w');
      try {
        for (let i = 0; i < work.batches; i++) {
          signal.throwIfAborted();
          await writeAll(writer, work.bytesAt(i));
        }
        await writer.datasync();
      } finally {
        await writer.close();
      }
      scratch.held = await open(path, 'r');
    },
    async run(signal) {
      const handle = scratch.held!;
      let largest = 0;
      for (let i = 0; i < work.batches; i++)
        largest = Math.max(largest, work.bytesAt(i).byteLength);
      const chunk = Buffer.allocUnsafe(largest);
      let events = 0;
      for (let i = 0; i < work.batches; i++) {
        signal.throwIfAborted();
        const want = work.bytesAt(i).byteLength;
        let filled = 0;
        while (filled < want) {
          const { bytesRead } = await handle.read(chunk, filled, want - filled, null);
          if (bytesRead === 0) throw new Error(`raw.bin ended inside batch ${i}`);
          filled += bytesRead;
        }
        events += work.batchAt(i).count;
      }
      await handle.close();
      scratch.held = undefined;
      return events;
    },
    cleanup: () => scratch.cleanup(),
  };
}
