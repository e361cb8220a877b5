// Shared by the disk buffer's tests: fresh temp directories, numbered batches, and helpers that
// read a buffer dry or look at its files the way a crash or a bad disk would leave them.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Batch, createEventBatch, eventsOf } from '@spillway/core';
import type { DiskBuffer, ReadRecord } from '../src/index.js';

/** A new empty directory, removed when the test ends. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A batch of `events` events numbered n, n+1 … (attribute `n`), padded to grow the record. */
export function numbered(n: number, events = 1, pad = 0): Batch {
  return createEventBatch({
    source: 'test',
    events: Array.from({ length: events }, (_, i) => ({
      timestamp: 1_700_000_000_000 + n,
      message: `event ${n + i}${'.'.repeat(pad)}`,
      attributes: { n: n + i },
    })),
  });
}

/** The numbers (attribute `n`) of the events in `batch`. */
export function numbersOf(batch: Batch): number[] {
  return eventsOf(batch).map((e) => e.attributes!.n as number);
}

/** Reads every unread record; settles each as delivered unless `ack` is false. */
export async function drain(disk: DiskBuffer, ack = true): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  for (let rec = await disk.read(); rec; rec = await disk.read()) {
    records.push(rec);
    if (ack) rec.batch.ack.settle('delivered');
  }
  return records;
}

/** The segment files in `dir`, oldest first. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /^seg-\d{16}\.log$/.test(name)).sort();
}

/** The byte range [start, end) of every record in a segment file's contents, in order. */
export function recordRanges(bytes: Buffer): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let at = 0; at + 32 <= bytes.length; ) {
    const end = at + 32 + bytes.readUInt32LE(at + 4);
    ranges.push({ start: at, end });
    at = end;
  }
  return ranges;
}

/**
 * Resolves once `condition` holds. Work the buffer starts on its own (reclaiming a segment after
 * an acknowledgement) finishes a few I/O turns later; the bound only turns a hang into a failure.
 */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 2_000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
