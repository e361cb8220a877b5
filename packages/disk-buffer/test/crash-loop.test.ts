// Crash safety with real process deaths: a child process (crash-child.ts) writes and reads a
// disk buffer and is killed with SIGKILL at a random moment, over and over, each run on the
// files the previous one left. Whatever the child reported as accepted must be delivered at
// least once, by a child or by the final drain here; duplicates are allowed and reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DiskBuffer, type FsyncMode } from '../src/index.js';
import { numbersOf, tempDir } from './support.js';

const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const RUNS = 24;
/** Each run numbers its batches from run × STRIDE, so numbers never repeat across runs. */
const STRIDE = 1_000_000;

interface RunReport {
  accepted: number[];
  delivered: number[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child until `killAfterMs` after it reported ready, then SIGKILLs it. */
function runChild(dir: string, fsync: FsyncMode, first: number, killAfterMs: number) {
  return new Promise<RunReport>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, fsync, String(first)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report: RunReport = { accepted: [], delivered: [], signal: null, stderr: '' };
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'accepted') report.accepted.push(Number(n));
        else if (word === 'delivered') report.delivered.push(Number(n));
        else if (word === 'ready') timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      report.stderr += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (_code, signal) => {
      clearTimeout(timer);
      report.signal = signal;
      resolve(report);
    });
  });
}

describe('DiskBuffer crash loop', () => {
  it('SIGKILL at random moments loses no accepted batch', { timeout: 60_000 }, async (t) => {
    const dir = await tempDir(t);
    const accepted = new Set<number>();
    const deliveries = new Map<number, number>();
    const deliver = (n: number) => deliveries.set(n, (deliveries.get(n) ?? 0) + 1);
    let deliveredByChildren = 0;

    for (let run = 0; run < RUNS; run++) {
      const fsync: FsyncMode = run % 2 === 0 ? 'interval' : 'never';
      const killAfterMs = 20 + Math.floor(Math.random() * 181);
      const report = await runChild(dir, fsync, run * STRIDE, killAfterMs);
      assert.equal(report.signal, 'SIGKILL', `run ${run} died on its own:\n${report.stderr}`);
      for (const n of report.accepted) accepted.add(n);
      for (const n of report.delivered) deliver(n);
      deliveredByChildren += report.delivered.length;
    }
    assert.ok(accepted.size > RUNS * 10, `the children got work done (${accepted.size} accepted)`);
    assert.ok(deliveredByChildren > 0, 'the children delivered some records themselves');

    // Whatever the children left is replayed here, in the order it was appended.
    const disk = await DiskBuffer.open({ dir, segmentBytes: 4096, maxBytes: 64 * 1024 });
    const drained: number[] = [];
    for (let rec = await disk.read(); rec; rec = await disk.read()) {
      drained.push(...numbersOf(rec.batch));
      rec.batch.ack.settle('delivered');
    }
    const stats = disk.stats();
    await disk.close();
    for (const n of drained) deliver(n);
    assert.ok(
      drained.every((n, i) => i === 0 || n > drained[i - 1]!),
      'the replay is in append order',
    );

    const lost = [...accepted].filter((n) => !deliveries.has(n));
    assert.deepEqual(lost, [], 'every accepted batch was delivered at least once');
    let duplicates = 0;
    for (const count of deliveries.values()) duplicates += count - 1;
    t.diagnostic(
      `${RUNS} kills: ${accepted.size} accepted, ${deliveries.size} delivered, ` +
        `${duplicates} duplicate deliveries, ${drained.length} in the final drain, ` +
        `${stats.corruptRecords} corrupt, ${stats.truncatedBytes} bytes truncated at open`,
    );
    assert.equal(stats.corruptRecords, 0, 'a process crash damages no record');

    const after = await DiskBuffer.open({ dir, segmentBytes: 4096, maxBytes: 64 * 1024 });
    assert.equal(await after.read(), undefined, 'drained and acknowledged: nothing replayed');
    await after.close();
  });
});
