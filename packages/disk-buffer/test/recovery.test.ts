// What open() makes of damaged files: a flipped byte inside a record, a torn or garbage tail, a
// damaged or missing ledger. Every case must open without help, skip or cut only what is
// damaged, count it, and deliver every intact record that was not acknowledged.
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DiskBuffer } from '../src/index.js';
import { drain, numbered, numbersOf, recordRanges, segmentFiles, tempDir } from './support.js';

const options = { segmentBytes: 4096, fsync: 'never', fsyncIntervalMs: 60_000 } as const;

/** A buffer in `dir` holding records 0 … count-1 (record i = batch numbered i), closed. */
async function filled(dir: string, count: number): Promise<void> {
  const disk = await DiskBuffer.open({ dir, ...options });
  for (let i = 0; i < count; i++) await disk.append(numbered(i, 1, 40));
  await disk.close();
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Flips (XOR 0xff) the byte at `offset` of `path`. */
async function flip(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset]! ^= 0xff;
  await writeFile(path, bytes);
}

describe('DiskBuffer recovery', { timeout: 10_000 }, () => {
  it('skips and counts a record whose body is damaged, and delivers the rest', async (t) => {
    const dir = await tempDir(t);
    await filled(dir, 20);
    const [name] = await segmentFiles(dir);
    const path = join(dir, name!);
    const victim = recordRanges(await readFile(path))[7]!;
    await flip(path, victim.start + 32 + 20); // inside the body: its CRC fails

    const disk = await DiskBuffer.open({ dir, ...options });
    const records = await drain(disk);
    assert.deepEqual(
      records.map((r) => numbersOf(r.batch)[0]),
      range(0, 20).filter((n) => n !== 7),
    );
    assert.equal(disk.stats().corruptRecords, 1, 'one damaged record, counted once');
    assert.equal(disk.stats().truncatedBytes, 0);
    assert.equal(disk.stats().recordsOnDisk, 0, 'the damaged record does not hold back the ack');
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...options });
    assert.equal(await again.read(), undefined, 'nothing replayed after everything was acked');
    await again.close();
  });

  it('resynchronises after a damaged header and counts the record lost', async (t) => {
    const dir = await tempDir(t);
    await filled(dir, 20);
    const [name] = await segmentFiles(dir);
    const path = join(dir, name!);
    const victim = recordRanges(await readFile(path))[12]!;
    await flip(path, victim.start + 4); // the length: the header CRC fails, the length is unusable

    const disk = await DiskBuffer.open({ dir, ...options });
    assert.deepEqual(
      (await drain(disk)).map((r) => numbersOf(r.batch)[0]),
      range(0, 20).filter((n) => n !== 12),
    );
    assert.equal(disk.stats().corruptRecords, 1);
    await disk.close();
  });

  it('truncates a torn or garbage tail at open and delivers every complete record', async (t) => {
    const dir = await tempDir(t);
    await filled(dir, 10);
    const [name] = await segmentFiles(dir);
    const path = join(dir, name!);
    const bytes = await readFile(path);
    const last = recordRanges(bytes).at(-1)!;
    // A crash in the middle of a write: half a record, then bytes that were never a record.
    const torn = bytes.subarray(last.start, last.start + 45);
    const garbage = Buffer.alloc(300, 0xab);
    await appendFile(path, Buffer.concat([torn, garbage]));

    const disk = await DiskBuffer.open({ dir, ...options });
    assert.equal(disk.stats().truncatedBytes, torn.length + garbage.length);
    assert.equal((await stat(path)).size, bytes.length, 'cut back to the last complete record');
    assert.deepEqual(
      (await drain(disk, false)).map((r) => numbersOf(r.batch)[0]),
      range(0, 10),
    );
    assert.equal(disk.stats().corruptRecords, 0);
    // Appends go on right after the last complete record.
    await disk.append(numbered(10, 1, 40));
    await disk.close();

    const again = await DiskBuffer.open({ dir, ...options });
    assert.equal(again.stats().truncatedBytes, 0);
    assert.deepEqual(
      (await drain(again)).map((r) => numbersOf(r.batch)[0]),
      range(0, 11),
    );
    await again.close();
  });

  for (const damage of ['garbage', 'deleted'] as const) {
    it(`rebuilds the positions from the segments when the ledger is ${damage}`, async (t) => {
      const dir = await tempDir(t);
      const disk = await DiskBuffer.open({ dir, ...options });
      for (let i = 0; i < 80; i++) await disk.append(numbered(i, 1, 40));
      // Acknowledge the first 40: whole segments among them are deleted, the rest stays.
      for (const rec of (await drain(disk, false)).slice(0, 40)) rec.batch.ack.settle('delivered');
      await disk.close();
      const firstOnDisk = Number((await segmentFiles(dir))[0]!.slice(4, 20));
      assert.ok(firstOnDisk > 0 && firstOnDisk <= 40, `a segment was reclaimed (${firstOnDisk})`);

      const ledger = join(dir, 'ledger');
      if (damage === 'deleted') await unlink(ledger);
      else await writeFile(ledger, Buffer.alloc(128, 0x5a)); // both slots fail their checks

      const again = await DiskBuffer.open({ dir, ...options });
      const s = again.stats();
      assert.equal(s.ledgerRebuilt, true);
      assert.equal(s.recordsOnDisk, 80 - firstOnDisk);
      assert.deepEqual(
        (await drain(again)).map((r) => numbersOf(r.batch)[0]),
        range(firstOnDisk, 80),
        'everything still on disk is replayed: nothing unacknowledged is lost',
      );
      await again.close();

      const third = await DiskBuffer.open({ dir, ...options });
      assert.equal(third.stats().ledgerRebuilt, false, 'the ledger was written again');
      assert.equal(await third.read(), undefined);
      await third.close();
    });
  }

  it('opens with every kind of damage at once', async (t) => {
    const dir = await tempDir(t);
    await filled(dir, 60);
    const files = await segmentFiles(dir);
    const middle = join(dir, files[1]!);
    const ranges = recordRanges(await readFile(middle));
    await flip(middle, ranges[2]!.start + 40);
    const firstOfMiddle = Number(files[1]!.slice(4, 20));
    await appendFile(join(dir, files.at(-1)!), Buffer.alloc(17, 0xc1));
    await writeFile(join(dir, 'ledger'), 'not a ledger');

    const disk = await DiskBuffer.open({ dir, ...options });
    const got = (await drain(disk)).map((r) => numbersOf(r.batch)[0]);
    assert.deepEqual(
      got,
      range(0, 60).filter((n) => n !== firstOfMiddle + 2),
    );
    const s = disk.stats();
    assert.equal(s.corruptRecords, 1);
    assert.equal(s.truncatedBytes, 17);
    assert.equal(s.ledgerRebuilt, true);
    await disk.close();
  });
});
