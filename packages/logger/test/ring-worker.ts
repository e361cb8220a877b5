// Fixture: the consumer side of a record ring, in a worker thread, as the shipping thread will
// run it — drain a batch of lines, look at it, wait for more — until the ring is closed and
// empty. It checks every record (intact, sequence numbers strictly increasing) and posts what
// it saw. It can pause, blocking its thread, to play a consumer that is stuck or slow.
// Messages: 'ready' once the consumer is open, then a RingWorkerResult at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { RecordRing } from '../src/ring/index.js';
import { checkRecord, recordTemplate } from './ring-records.js';

export interface RingWorkerData {
  buffer: SharedArrayBuffer;
  /** Byte budget of each drainLines(). */
  maxBytes: number;
  /** Check every record against the template of `recordBytes`; false: only count them. */
  verify: boolean;
  recordBytes: number;
  /** Sleep this long before the first drain. */
  pauseFirstMs?: number;
  /** Sleep `pauseMs` each time another `pauseEvery` records have been received. */
  pauseEvery?: number;
  pauseMs?: number;
}

export interface RingWorkerResult {
  received: number;
  lastSeq: number;
  /** Records that were not intact. */
  broken: number;
  /** Records whose sequence number was not above the previous one. */
  outOfOrder: number;
  firstProblem: string | undefined;
  /** The ring's counters as this side read them at the end. */
  recordsWritten: number;
  dropped: Record<string, number>;
}

const data = workerData as RingWorkerData;
const ring = RecordRing.consumer(data.buffer);
const template = recordTemplate(data.recordBytes);
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(nap, 0, 0, ms);

const result: RingWorkerResult = {
  received: 0,
  lastSeq: -1,
  broken: 0,
  outOfOrder: 0,
  firstProblem: undefined,
  recordsWritten: 0,
  dropped: {},
};
let nextPause = data.pauseEvery ?? Infinity;

function look(batch: Uint8Array, records: number): void {
  let start = 0;
  for (let i = 0; i < records; i++) {
    const end = batch.indexOf(0x0a, start);
    if (data.verify) {
      const seq = checkRecord(batch, start, end, template);
      if (seq < 0) {
        result.broken++;
        result.firstProblem ??= `broken record: ${Buffer.from(batch.subarray(start, end)).toString()}`;
      } else {
        if (seq <= result.lastSeq) {
          result.outOfOrder++;
          result.firstProblem ??= `record ${seq} after ${result.lastSeq}`;
        }
        result.lastSeq = seq;
      }
    }
    start = end + 1;
  }
  result.received += records;
}

parentPort!.postMessage('ready');
if (data.pauseFirstMs) sleep(data.pauseFirstMs);
for (;;) {
  const batch = ring.drainLines(data.maxBytes);
  if (batch) {
    look(batch.data, batch.records);
    if (result.received >= nextPause) {
      sleep(data.pauseMs ?? 0);
      nextPause += data.pauseEvery ?? Infinity;
    }
    continue;
  }
  // Closed: what was written before the close may have landed after the drain above.
  if (ring.closed) {
    for (let last = ring.drainLines(data.maxBytes); last; last = ring.drainLines(data.maxBytes)) {
      look(last.data, last.records);
    }
    break;
  }
  await ring.waitForData();
}
const stats = ring.stats();
result.recordsWritten = stats.recordsWritten;
result.dropped = { ...stats.dropped };
parentPort!.postMessage(result);
