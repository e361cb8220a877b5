// The disk buffer against real files: order and identity of what is read back, space reclaimed
// only behind a contiguous acknowledged prefix, replay after a restart, the disk bound (block
// and drop-oldest) and write failures (ENOSPC) under both policies.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import {
  DiskBuffer,
  DiskBufferError,
  type FileHandle,
  type FileSystem,
  nodeFileSystem,
} from '../src/index.js';
import {
  drain,
  numbered,
  numbersOf,
  recordRanges,
  segmentFiles,
  tempDir,
  until,
} from './support.js';

/** Segment files are small so that a few dozen records span several of them. */
const small = { segmentBytes: 4096, fsync: 'never', fsyncIntervalMs: 60_000 } as const;

/** firstSeq of each segment file in `dir`, oldest first. */
async function segmentStarts(dir: string): Promise<number[]> {
  return (await segmentFiles(dir)).map((name) => Number(name.slice(4, 20)));
}

describe('DiskBuffer', { timeout: 10_000 }, () => {
  it('reads back every batch in append order with the same id and events', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    const batches = Array.from({ length: 60 }, (_, i) => numbered(i * 3, 3));
    for (const batch of batches) assert.equal(await disk.append(batch), 'written');
    assert.ok(disk.stats().segments > 2, 'the records span several segments');
    assert.equal(disk.stats().unread, 60);

    const records = await drain(disk);
    assert.deepEqual(
      records.map((r) => r.seq),
      batches.map((_, i) => i),
    );
    for (const [i, { batch }] of records.entries()) {
      assert.equal(batch.id, batches[i]!.id);
      assert.equal(batch.source, 'test');
      assert.equal(batch.count, 3);
      assert.deepEqual(batch.payload, batches[i]!.payload);
    }
    assert.equal(await disk.read(), undefined, 'nothing more to read');
    const s = disk.stats();
    assert.equal(s.writtenRecords, 60);
    assert.equal(s.writtenEvents, 180);
    assert.equal(s.replayedRecords, 60);
    assert.equal(s.replayedEvents, 180);
    assert.equal(s.corruptRecords, 0);
    await disk.close();
  });

  it('reclaims space only when a contiguous prefix is acknowledged', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    for (let i = 0; i < 80; i++) await disk.append(numbered(i, 1, 40));
    const starts = await segmentStarts(dir);
    assert.ok(starts.length >= 3, `three or more segments (${starts})`);
    const firstSize = (await stat(join(dir, (await segmentFiles(dir))[0]!))).size;
    const records = await drain(disk, false);
    assert.equal(records.length, 80);
    const before = disk.stats();
    assert.equal(before.inFlight, 80);
    assert.equal(before.segments, starts.length);

    // Everything but record 0 acknowledged, last first: nothing may be freed while 0 is out.
    for (const rec of records.slice(1).reverse()) rec.batch.ack.settle('delivered');
    await tick();
    await tick();
    assert.equal(disk.stats().bytesOnDisk, before.bytesOnDisk);
    assert.equal(disk.stats().segments, before.segments);
    assert.deepEqual(await segmentStarts(dir), starts, 'no segment file deleted');

    records[0]!.batch.ack.settle('delivered');
    // Every sealed segment is now fully acknowledged; the one being written stays.
    await until(() => disk.stats().segments === 1, 'sealed segments reclaimed');
    assert.deepEqual(await segmentStarts(dir), [starts.at(-1)]);
    const after = disk.stats();
    assert.equal(after.inFlight, 0);
    assert.equal(after.recordsOnDisk, 0);
    assert.equal(after.ackedRecords, 80);
    assert.ok(after.bytesOnDisk < before.bytesOnDisk - firstSize);
    await disk.close();
  });

  it('frees exactly the segments behind the acknowledged prefix, one at a time', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    for (let i = 0; i < 80; i++) await disk.append(numbered(i, 1, 40));
    const starts = await segmentStarts(dir);
    const firstSize = (await stat(join(dir, (await segmentFiles(dir))[0]!))).size;
    const records = await drain(disk, false);
    const total = disk.stats().bytesOnDisk;

    // The first segment holds records [0, starts[1]); ack them all but its last, then that one.
    const second = starts[1]!;
    for (const rec of records.slice(0, second - 1)) rec.batch.ack.settle('delivered');
    records[second + 1]!.batch.ack.settle('delivered'); // beyond a gap: frees nothing
    await tick();
    await tick();
    assert.equal(disk.stats().segments, starts.length);
    records[second - 1]!.batch.ack.settle('delivered');
    await until(() => disk.stats().segments === starts.length - 1, 'first segment reclaimed');
    assert.equal(disk.stats().bytesOnDisk, total - firstSize);
    assert.deepEqual(await segmentStarts(dir), starts.slice(1));
    await disk.close();
  });

  it('replays exactly the records after the acknowledged prefix when reopened', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    const batches = Array.from({ length: 50 }, (_, i) => numbered(i, 1, 40));
    for (const batch of batches) await disk.append(batch);
    const records = await drain(disk, false);
    for (const rec of records.slice(0, 30)) rec.batch.ack.settle('delivered');
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...small });
    assert.equal(again.stats().recordsOnDisk, 20);
    assert.equal(again.stats().ledgerRebuilt, false);
    const replayed = await drain(again);
    assert.deepEqual(
      replayed.map((r) => r.seq),
      Array.from({ length: 20 }, (_, i) => 30 + i),
    );
    assert.deepEqual(
      replayed.map((r) => r.batch.id),
      batches.slice(30).map((b) => b.id),
      'the same batch ids: a receiver can de-duplicate',
    );
    await again.close();

    const third = await DiskBuffer.open({ dir, ...small });
    assert.equal(await third.read(), undefined, 'acknowledged before close: not replayed');
    await third.append(numbered(50));
    assert.deepEqual(
      (await drain(third)).map((r) => [r.seq, ...numbersOf(r.batch)]),
      [[50, 50]],
    );
    await third.close();
  });

  it('replays a record acknowledged behind an unacknowledged one (at-least-once)', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    for (let i = 0; i < 5; i++) await disk.append(numbered(i));
    const records = await drain(disk, false);
    for (const i of [0, 2, 4]) records[i]!.batch.ack.settle('delivered');
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...small });
    assert.deepEqual(
      (await drain(again)).map((r) => r.seq),
      [1, 2, 3, 4],
      'from the first unacknowledged record on',
    );
    await again.close();
  });

  it('ignores acknowledgements that settle after close: the next open owns the files', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    for (let i = 0; i < 80; i++) await disk.append(numbered(i, 1, 40));
    const late = await drain(disk, false);
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...small });
    for (const rec of late) rec.batch.ack.settle('delivered'); // e.g. a sink finishing late
    await tick();
    await tick();
    const replayed = await drain(again);
    assert.deepEqual(
      replayed.map((r) => r.seq),
      late.map((r) => r.seq),
      'every record read but not acknowledged before close is replayed',
    );
    await again.close();
  });

  it('rejects a second open of the same directory and appends after close', async (t) => {
    const dir = await tempDir(t);
    const disk = await DiskBuffer.open({ dir, ...small });
    await assert.rejects(DiskBuffer.open({ dir, ...small }), (err) =>
      DiskBufferError.is(err, 'ERR_DISK_BUFFER_LOCKED'),
    );
    await disk.close();
    await assert.rejects(disk.append(numbered(0)), (err) =>
      DiskBufferError.is(err, 'ERR_DISK_BUFFER_CLOSED'),
    );
  });
});

describe('DiskBuffer disk bound', { timeout: 10_000 }, () => {
  it("'block' parks an append until acknowledgements free a segment", async (t) => {
    const dir = await tempDir(t);
    const options = { dir, ...small, maxBytes: 8192, whenFull: 'block' } as const;
    const disk = await DiskBuffer.open(options);
    // Fill until the next record would pass maxBytes (every record has the same size).
    let n = 0;
    await disk.append(numbered(n++, 1, 40));
    const size = disk.stats().bytesOnDisk;
    while (disk.stats().bytesOnDisk + size <= options.maxBytes) {
      assert.equal(await disk.append(numbered(n++, 1, 40)), 'written');
    }
    assert.ok(disk.stats().segments >= 2);

    const abort = new AbortController();
    let parked = true;
    const attempt = disk.append(numbered(n, 1, 40), abort.signal).finally(() => {
      parked = false;
    });
    for (let i = 0; i < 20; i++) await tick();
    assert.ok(parked, 'the append waits while the disk is full');
    abort.abort(new Error('gave up'));
    await assert.rejects(attempt, /gave up/, 'it was parked on the signal');
    assert.equal(disk.stats().writtenRecords, n, 'the aborted batch was not written');

    let written: string | undefined;
    const pending = disk.append(numbered(n, 1, 40)).then((outcome) => {
      written = outcome;
    });
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(written, undefined);
    const records = await drain(disk, false);
    const firstSegment = (await segmentStarts(dir))[1]!;
    for (const rec of records.slice(0, firstSegment)) rec.batch.ack.settle('delivered');
    await pending;
    assert.equal(written, 'written');
    assert.ok(disk.stats().bytesOnDisk <= options.maxBytes);
    assert.deepEqual(disk.stats().drops, {}, 'block drops nothing');

    for (const rec of records.slice(firstSegment)) rec.batch.ack.settle('delivered');
    assert.deepEqual(
      (await drain(disk)).map((r) => numbersOf(r.batch)[0]),
      [n],
      'the released append is stored after the others',
    );
    await disk.close();
  });

  it("'block' is released by acknowledgements when all bytes are in the segment being written", async (t) => {
    const dir = await tempDir(t);
    // maxBytes = segmentBytes: the whole bound fits in one segment, which is never sealed.
    const options = { dir, ...small, maxBytes: 4096, whenFull: 'block' } as const;
    const disk = await DiskBuffer.open(options);
    let n = 0;
    await disk.append(numbered(n++, 1, 40));
    const size = disk.stats().bytesOnDisk;
    while (disk.stats().bytesOnDisk + size <= options.maxBytes)
      await disk.append(numbered(n++, 1, 40));
    assert.equal(disk.stats().segments, 1);

    const abort = new AbortController();
    const pending = disk.append(numbered(n, 1, 40), abort.signal);
    const records = await drain(disk);
    assert.equal(records.length, n);
    const timer = setTimeout(() => abort.abort(new Error('still parked')), 2_000);
    try {
      assert.equal(await pending, 'written', 'acknowledging everything makes room');
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual(
      (await drain(disk)).map((r) => numbersOf(r.batch)[0]),
      [n],
    );
    assert.ok(disk.stats().bytesOnDisk <= options.maxBytes);
    await disk.close();
  });

  it("'drop-oldest' drops the oldest sealed segment and counts its records", async (t) => {
    const dir = await tempDir(t);
    const options = { dir, ...small, maxBytes: 12_288, whenFull: 'drop-oldest' } as const;
    const disk = await DiskBuffer.open(options);
    const appended = 200;
    for (let i = 0; i < appended; i++) {
      assert.equal(await disk.append(numbered(i, 1, 40)), 'written');
      assert.ok(disk.stats().bytesOnDisk <= options.maxBytes);
    }
    const s = disk.stats();
    const dropped = s.drops.disk_full_drop_oldest ?? 0;
    assert.ok(dropped > 0, 'segments were dropped');
    const first = (await segmentStarts(dir))[0]!;
    assert.equal(dropped, first, 'exactly the records of the dropped segments');
    assert.equal(s.recordsOnDisk, appended - dropped);

    const rest = await drain(disk);
    assert.deepEqual(
      rest.map((r) => numbersOf(r.batch)[0]),
      Array.from({ length: appended - dropped }, (_, i) => dropped + i),
      'the newest records survive, in order',
    );
    await disk.close();
  });

  it("'drop-oldest' moves a reader with records in flight past the dropped segment", async (t) => {
    const dir = await tempDir(t);
    const options = { dir, ...small, maxBytes: 12_288, whenFull: 'drop-oldest' } as const;
    const disk = await DiskBuffer.open(options);
    let n = 0;
    for (; n < 20; n++) await disk.append(numbered(n, 1, 40));
    const inFlight = await drain(disk, false);
    for (; n < 200; n++) await disk.append(numbered(n, 1, 40));
    const dropped = disk.stats().drops.disk_full_drop_oldest ?? 0;
    const first = (await segmentStarts(dir))[0]!;
    assert.equal(dropped, first - inFlight.length, 'records already read are not counted again');

    for (const rec of inFlight) rec.batch.ack.settle('delivered'); // late: no effect
    const rest = await drain(disk);
    assert.deepEqual(
      rest.map((r) => r.seq),
      Array.from({ length: n - first }, (_, i) => first + i),
    );
    assert.equal(disk.stats().recordsOnDisk, 0);
    await disk.close();
  });
});

/**
 * A file layer over node:fs whose segment writes fail with ENOSPC once `budget` bytes have been
 * written, the way a full disk does: the write in progress is short, the next one fails.
 */
function fullDisk(budget: number) {
  const disk = { budget };
  const wrap = (handle: FileHandle): FileHandle => ({
    read: (...args) => handle.read(...args),
    truncate: (length) => handle.truncate(length),
    datasync: () => handle.datasync(),
    sync: () => handle.sync(),
    stat: () => handle.stat(),
    close: () => handle.close(),
    async write(buffer, offset, length, position) {
      if (disk.budget <= 0) {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
        });
      }
      const allowed = Math.min(length, disk.budget);
      const result = await handle.write(buffer, offset, allowed, position);
      disk.budget -= result.bytesWritten;
      return result;
    },
  });
  const fs: FileSystem = {
    ...nodeFileSystem,
    async open(path, flags) {
      const handle = await nodeFileSystem.open(path, flags);
      return /seg-\d+\.log$/.test(path) ? wrap(handle) : handle;
    },
  };
  return { fs, disk };
}

describe('DiskBuffer write errors', { timeout: 10_000 }, () => {
  it("'drop-oldest' drops the batch on ENOSPC, reports it, and leaves no partial record", async (t) => {
    const dir = await tempDir(t);
    const { fs } = fullDisk(10 * 1024);
    const errors: DiskBufferError[] = [];
    const options = {
      dir,
      ...small,
      maxBytes: 1 << 20,
      whenFull: 'drop-oldest',
      fs,
      onError: (err: DiskBufferError) => errors.push(err),
    } as const;
    const disk = await DiskBuffer.open(options);
    const outcomes: string[] = [];
    for (let i = 0; i < 150; i++) outcomes.push(await disk.append(numbered(i, 1, 40)));
    const written = outcomes.indexOf('dropped');
    assert.ok(written > 10, 'the first records fit');
    assert.ok(
      outcomes.slice(written).every((o) => o === 'dropped'),
      'after the budget every append is dropped',
    );
    const failed = outcomes.length - written;
    const s = disk.stats();
    assert.equal(s.drops.write_error, failed);
    assert.equal(s.writeErrors, failed);
    assert.equal(s.writtenRecords, written);
    assert.equal(errors.length, failed);
    for (const err of errors) {
      assert.ok(DiskBufferError.is(err, 'ERR_DISK_BUFFER_IO'));
      assert.equal((err.cause as { code?: string }).code, 'ENOSPC');
    }
    // The bytes on disk are exactly the stored records: the short write was cut off again.
    const files = await segmentFiles(dir);
    let onDisk = 0;
    for (const name of files) {
      const bytes = await readFile(join(dir, name));
      assert.equal(recordRanges(bytes).at(-1)?.end, bytes.length, `${name} ends on a record`);
      onDisk += bytes.length;
    }
    assert.equal(onDisk, s.bytesOnDisk);
    const before = await drain(disk, false);
    assert.equal(before.length, written);
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...small });
    assert.equal(again.stats().truncatedBytes, 0);
    const records = await drain(again);
    assert.deepEqual(
      records.map((r) => numbersOf(r.batch)[0]),
      Array.from({ length: written }, (_, i) => i),
    );
    assert.equal(again.stats().corruptRecords, 0);
    await again.close();
  });

  it("'block' retries a failed write with backoff until space comes back", async (t) => {
    const dir = await tempDir(t);
    const { fs, disk: space } = fullDisk(Number.POSITIVE_INFINITY);
    const errors: DiskBufferError[] = [];
    const disk = await DiskBuffer.open({
      dir,
      ...small,
      whenFull: 'block',
      fs,
      onError: (err) => errors.push(err),
    });
    let n = 0;
    for (; n < 10; n++) await disk.append(numbered(n, 1, 40));
    space.budget = 100; // less than a record: a short write, then ENOSPC
    let outcome: string | undefined;
    const pending = disk.append(numbered(n, 1, 40)).then((o) => {
      outcome = o;
    });
    await until(() => errors.length >= 2, 'a retry');
    assert.equal(outcome, undefined, 'the append waits');
    assert.ok(errors.every((e) => DiskBufferError.is(e, 'ERR_DISK_BUFFER_IO')));
    assert.equal(disk.stats().writeErrors, errors.length);
    space.budget = Number.POSITIVE_INFINITY;
    await pending;
    assert.equal(outcome, 'written');
    assert.deepEqual(disk.stats().drops, {}, 'nothing dropped');
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...small });
    assert.equal(again.stats().truncatedBytes, 0);
    assert.deepEqual(
      (await drain(again)).map((r) => numbersOf(r.batch)[0]),
      Array.from({ length: n + 1 }, (_, i) => i),
    );
    await again.close();
  });
});
