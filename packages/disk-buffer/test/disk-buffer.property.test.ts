// The disk buffer against a model, over random sequences of push, pop (read), ack, clean restart
// and crash (the instance dropped without close). The model is a list of pushed records and a
// read cursor; the buffer must agree with it after every step. The seed is committed so a
// failure reproduces; change it locally to explore further.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Acknowledgement } from '@spillway/core';
import fc from 'fast-check';
import { DiskBuffer, type FsyncMode } from '../src/index.js';
import { simulateCrash } from '../src/internal/testing.js';
import { numbered, numbersOf } from './support.js';

const runs = { seed: 20_251_123, numRuns: 30 } as const;

type Command =
  | { kind: 'push' }
  | { kind: 'pop' }
  /** Settles the i-th (mod count) unsettled acknowledgement, possibly one of an earlier instance. */
  | { kind: 'ack'; i: number }
  | { kind: 'restart' }
  | { kind: 'crash' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'push' } as const), weight: 5 },
  { arbitrary: fc.constant({ kind: 'pop' } as const), weight: 4 },
  { arbitrary: fc.nat(1_000).map((i) => ({ kind: 'ack', i }) as const), weight: 4 },
  { arbitrary: fc.constant({ kind: 'restart' } as const), weight: 1 },
  { arbitrary: fc.constant({ kind: 'crash' } as const), weight: 1 },
);

interface Delivery {
  value: number;
  ack: Acknowledgement;
  /** Which instance handed it out: acknowledgements of an earlier one must change nothing. */
  incarnation: number;
}

describe('DiskBuffer properties', () => {
  it('at-least-once across restarts and crashes, first deliveries in push order, acked prefix not replayed', {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 80, size: 'max' }),
        fc.constantFrom<FsyncMode>('never', 'always'),
        async (commands, fsync) => {
          const dir = await mkdtemp(join(tmpdir(), 'spillway-disk-prop-'));
          // Records are ~300 bytes and segments 4 KiB: a run spans several segments.
          const options = { dir, fsync, segmentBytes: 4096, fsyncIntervalMs: 60_000 };
          let disk = await DiskBuffer.open(options);
          try {
            const ids: string[] = []; // ids[v] = id of the batch pushed as value v
            const unsettled: Delivery[] = [];
            const delivered = new Set<number>();
            const firstDeliveries: number[] = [];
            let incarnation = 0;
            let start = 0; // first value this instance replays: all below were acknowledged
            let cursor = 0; // next value read() must return
            let ackedNow = new Set<number>(); // acknowledged in this instance

            /** Values below it are acknowledged as a contiguous prefix: never needed again. */
            const ackedPrefix = () => {
              let p = start;
              while (ackedNow.has(p)) p++;
              return p;
            };

            const reopen = async (clean: boolean) => {
              const prefix = ackedPrefix();
              if (clean) await disk.close();
              else await simulateCrash(disk);
              disk = await DiskBuffer.open(options);
              const s = ids.length - disk.stats().recordsOnDisk;
              if (clean) assert.equal(s, prefix, 'a clean restart replays from the acked prefix');
              else assert.ok(s <= prefix, `crash: replay from ${s} skips unacked ${prefix}`);
              assert.ok(s >= start, `replay start went back from ${start} to ${s}`);
              incarnation++;
              start = cursor = s;
              ackedNow = new Set();
            };

            for (const cmd of commands) {
              switch (cmd.kind) {
                case 'push': {
                  const batch = numbered(ids.length, 1, 200);
                  ids.push(batch.id);
                  assert.equal(await disk.append(batch), 'written');
                  break;
                }
                case 'pop': {
                  const rec = await disk.read();
                  if (cursor === ids.length) {
                    assert.equal(rec, undefined, 'nothing unread');
                    break;
                  }
                  assert.ok(rec, `value ${cursor} is unread`);
                  assert.deepEqual(numbersOf(rec.batch), [cursor]);
                  assert.equal(rec.batch.id, ids[cursor]);
                  if (!delivered.has(cursor)) firstDeliveries.push(cursor);
                  delivered.add(cursor);
                  unsettled.push({ value: cursor, ack: rec.batch.ack, incarnation });
                  cursor++;
                  break;
                }
                case 'ack': {
                  if (unsettled.length === 0) break;
                  const [d] = unsettled.splice(cmd.i % unsettled.length, 1);
                  d!.ack.settle('delivered');
                  if (d!.incarnation === incarnation) ackedNow.add(d!.value);
                  break;
                }
                case 'restart':
                  await reopen(true);
                  break;
                case 'crash':
                  await reopen(false);
                  break;
              }
              const s = disk.stats();
              assert.equal(s.unread, ids.length - cursor);
              assert.equal(s.corruptRecords, 0);
            }

            // Whatever was never acknowledged comes back after a last restart.
            await reopen(true);
            for (let rec = await disk.read(); rec; rec = await disk.read()) {
              const [value] = numbersOf(rec.batch);
              assert.equal(value, cursor++);
              if (!delivered.has(value!)) firstDeliveries.push(value!);
              delivered.add(value!);
              rec.batch.ack.settle('delivered');
            }
            assert.equal(cursor, ids.length);
            assert.equal(delivered.size, ids.length, 'every pushed record delivered');
            assert.deepEqual(
              firstDeliveries,
              ids.map((_, v) => v),
              'first deliveries in push order',
            );
          } finally {
            await disk.close().catch(() => {});
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      runs,
    );
  });
});
