// The process that crash-loop.test.ts kills with SIGKILL: a writer and a reader on one disk
// buffer. Arguments: dir, fsync mode, first number. It reports on stdout, a line each:
//   ready         the buffer is open
//   accepted N    append of the batch numbered N resolved
//   delivered N   N was read and is acknowledged right after this line: a record read but not
//                 acknowledged when the kill comes must be replayed, so it is not reported
// On Linux a write to a pipe is synchronous, so a line is out before the step that follows it.
import { setTimeout as delay } from 'node:timers/promises';
import type { ReadRecord } from '../src/index.js';
import { DiskBuffer, type FsyncMode } from '../src/index.js';
import { numbered, numbersOf } from './support.js';

const [dir, fsync, first] = process.argv.slice(2);
const disk = await DiskBuffer.open({
  dir: dir!,
  fsync: fsync as FsyncMode,
  fsyncIntervalMs: 10,
  segmentBytes: 4096,
  maxBytes: 64 * 1024,
});
const say = (line: string) => process.stdout.write(`${line}\n`);
say('ready');

async function write(): Promise<void> {
  for (let n = Number(first); ; n++) {
    await disk.append(numbered(n, 1, 40));
    say(`accepted ${n}`);
    if (n % 4 === 0) await delay(1);
  }
}

/** Reads more slowly than the writer writes and acknowledges out of order, some late. */
async function read(): Promise<void> {
  const held: ReadRecord[] = [];
  for (;;) {
    const rec = await disk.read();
    if (rec) held.push(rec);
    else await delay(2);
    while (held.length > 4) {
      const [done] = held.splice(Math.floor(Math.random() * held.length), 1);
      for (const n of numbersOf(done!.batch)) say(`delivered ${n}`);
      done!.batch.ack.settle('delivered');
    }
    if (Math.random() < 0.3) await delay(1);
  }
}

await Promise.all([write(), read()]);
