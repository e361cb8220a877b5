// The file source on real files: tailing, files that appear later, rotation by rename and by
// copytruncate, long lines, partial last lines, pausing under a stalled sink, and resuming from
// checkpoints (damaged ones too). The SIGKILL loop lives in file-crash.test.ts.
import assert from 'node:assert/strict';
import {
  appendFile,
  copyFile,
  mkdir,
  readFile,
  rename,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, type Pipeline } from '@spillway/core';
import { checkpointPath, type FileSourceOptions, file } from '../src/index.js';
import {
  type Collected,
  collect,
  Gate,
  newCollected,
  statsOf,
  tempDir,
  waitFor,
} from './support.js';

const fast = {
  scanIntervalMs: 20,
  pollIntervalMs: 5,
  checkpointIntervalMs: 20,
  releaseAfterMs: 50,
} satisfies Partial<FileSourceOptions>;

const numbered = (from: number, to: number, prefix = 'line') =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join('');

async function tail(
  t: TestContext,
  options: FileSourceOptions,
  into: Collected,
  extra: { gate?: Gate; capacity?: number } = {},
): Promise<Pipeline> {
  const pipeline = await definePipeline({
    sources: { app: file({ ...fast, ...options }) },
    sinks: {
      out: {
        inputs: ['app'],
        stage: collect({ into, ...(extra.gate ? { gate: extra.gate } : {}) }),
        pool: { maxWorkers: 1 },
      },
    },
    defaultBuffer: { capacity: extra.capacity ?? 16 },
  }).build();
  pipeline.start();
  // A failed assertion must not leave a stalled pipeline holding the test process open.
  t.after(() => pipeline.stop({ deadline: 100 }));
  return pipeline;
}

describe('file source', () => {
  it('tails a file, waits for a partial last line, and picks up files that appear later', async (t) => {
    const dir = await tempDir(t);
    const logs = join(dir, 'logs');
    await mkdir(logs);
    await writeFile(join(logs, 'a.log'), `${numbered(0, 100, 'a')}a partial`);
    const got = newCollected();
    const pipeline = await tail(t, { include: [join(logs, '*.log')], dataDir: dir }, got);
    await waitFor(() => got.lines.length === 100, '100 lines of a.log');
    assert.deepEqual(got.lines, numbered(0, 100, 'a').trimEnd().split('\n'));
    await delay(50);
    assert.equal(got.lines.length, 100, 'the partial line waits for its newline');
    await appendFile(join(logs, 'a.log'), ' line completed\n');
    await writeFile(join(logs, 'b.log'), numbered(0, 10, 'b'));
    await writeFile(join(logs, 'ignored.txt'), 'not matched\n');
    await waitFor(() => got.lines.length === 111, 'the completed line and b.log');
    assert.ok(got.lines.includes('a partial line completed'));
    assert.deepEqual(
      got.lines.filter((l) => l.startsWith('b ')),
      numbered(0, 10, 'b').trimEnd().split('\n'),
    );
    assert.ok(!got.lines.includes('not matched'));
    const positions = got.batches.flatMap((b) => b.positions);
    assert.ok(positions.every((p) => /^\d+:\d+$/.test(p.stream) && p.offset > 0));
    await pipeline.stop({ deadline: 5000 });
  });

  it('follows a file renamed away to its end, and reads the new file from its start', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    await writeFile(path, numbered(0, 50));
    const got = newCollected();
    const pipeline = await tail(t, { include: [path], dataDir: dir }, got);
    await waitFor(() => got.lines.length === 50, 'first 50 lines');
    // Rotation by rename: the writer appends a little more to the old file (it still holds it
    // open), then a new file takes the name.
    await rename(path, join(dir, 'app.log.1'));
    await appendFile(join(dir, 'app.log.1'), `${numbered(50, 60)}last line without newline`);
    await writeFile(path, numbered(1000, 1020));
    await waitFor(() => got.lines.length === 81, 'old tail, flushed partial line and new file');
    const old = got.lines.filter((l) => !/^line 1\d\d\d$/.test(l));
    assert.deepEqual(old, [...numbered(0, 60).trimEnd().split('\n'), 'last line without newline']);
    assert.deepEqual(
      got.lines.filter((l) => /^line 1\d\d\d$/.test(l)),
      numbered(1000, 1020).trimEnd().split('\n'),
    );
    await waitFor(() => statsOf(pipeline, 'app').filesReleased === 1, 'the old file released');
    assert.equal(statsOf(pipeline, 'app').partialLinesFlushed, 1);
    await pipeline.stop({ deadline: 5000 });
  });

  it('reads a file truncated in place (copytruncate) again from its start', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    await writeFile(path, numbered(0, 40));
    const got = newCollected();
    const pipeline = await tail(t, { include: [path], dataDir: dir }, got);
    await waitFor(() => got.lines.length === 40, 'first 40 lines');
    await copyFile(path, join(dir, 'app.log.1'));
    await truncate(path, 0);
    await waitFor(() => statsOf(pipeline, 'app').truncations === 1, 'the truncation noticed');
    await appendFile(path, numbered(100, 110));
    await waitFor(() => got.lines.length === 50, 'lines written after the truncation');
    assert.deepEqual(got.lines.slice(40), numbered(100, 110).trimEnd().split('\n'));
    await pipeline.stop({ deadline: 5000 });
  });

  for (const longLines of ['split', 'truncate'] as const) {
    it(`${longLines}s lines longer than maxLineBytes and counts them`, async (t) => {
      const dir = await tempDir(t);
      const path = join(dir, 'app.log');
      const long = 'x'.repeat(250);
      // One long line inside a chunk, one that outgrows the chunk, and short ones around them.
      await writeFile(path, `short 1\n${long}\nshort 2\n${'y'.repeat(1000)}\nshort 3\n`);
      const got = newCollected();
      const pipeline = await tail(
        t,
        { include: [path], dataDir: dir, maxLineBytes: 100, chunkBytes: 512, longLines },
        got,
      );
      const expected =
        longLines === 'split'
          ? ['short 1', 'x'.repeat(100), 'x'.repeat(100), 'x'.repeat(50), 'short 2']
              .concat(Array(10).fill('y'.repeat(100)))
              .concat(['short 3'])
          : ['short 1', 'x'.repeat(100), 'short 2', 'y'.repeat(100), 'short 3'];
      await waitFor(() => got.lines.length === expected.length, `${expected.length} lines`);
      assert.deepEqual(got.lines, expected);
      const stats = statsOf(pipeline, 'app');
      assert.equal(longLines === 'split' ? stats.longLinesSplit : stats.longLinesTruncated, 2);
      await pipeline.stop({ deadline: 5000 });
    });
  }

  it('stops reading under a stalled sink, then catches up with nothing lost', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'big.log');
    const lines = 200_000; // ≈ 2.7 MB
    await writeFile(path, numbered(0, lines));
    const size = (await stat(path)).size;
    const gate = new Gate();
    gate.close();
    const got = newCollected();
    const pipeline = await tail(t, { include: [path], dataDir: dir, chunkBytes: 16 * 1024 }, got, {
      gate,
      capacity: 4,
    });
    // The reader fills the channel (4 batches), the output pool's hand-off and the write in
    // progress, and the batch parked in emit(); then it reads nothing more.
    await waitFor(() => statsOf(pipeline, 'out.in').depth === 4, 'the channel full');
    // The reader may still be finishing the read that fills its hand; then it must stop.
    const read = () => statsOf(pipeline, 'app').bytesRead as number;
    let stalledAt = read();
    for (let last = -1; last !== stalledAt; ) {
      last = stalledAt;
      await delay(100);
      stalledAt = read();
    }
    await delay(200);
    assert.equal(read(), stalledAt, 'no reading while stalled');
    assert.ok(stalledAt <= 8 * 16 * 1024, `read ${stalledAt} bytes of ${size} while stalled`);
    assert.ok((statsOf(pipeline, 'app').blocked_ms as number) > 0);
    gate.open();
    await waitFor(() => got.lines.length === lines, 'every line after recovery');
    assert.equal(got.lines[0], 'line 0');
    assert.equal(got.lines[lines - 1], `line ${lines - 1}`);
    for (let i = 0; i < lines; i += 997) assert.equal(got.lines[i], `line ${i}`);
    await pipeline.stop({ deadline: 5000 });
  });

  it('resumes from its checkpoint after a stop: no line twice, none lost', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    await writeFile(path, numbered(0, 30));
    const first = newCollected();
    const one = await tail(t, { include: [path], dataDir: dir }, first);
    await waitFor(() => first.lines.length === 30, 'first run');
    await one.stop({ deadline: 5000 });
    const saved = JSON.parse(await readFile(checkpointPath(dir, 'app'), 'utf8'));
    assert.equal(saved.files[0].offset, (await stat(path)).size);
    await appendFile(path, numbered(30, 45));
    const second = newCollected();
    const two = await tail(t, { include: [path], dataDir: dir }, second);
    await waitFor(() => second.lines.length === 15, 'second run');
    await delay(50);
    assert.deepEqual(second.lines, numbered(30, 45).trimEnd().split('\n'));
    await two.stop({ deadline: 5000 });
  });

  it('does not resume a checkpoint whose fingerprint does not match (a reused inode)', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    await writeFile(path, numbered(0, 20, 'new'));
    const info = await stat(path);
    // A checkpoint for this device and inode, left by an older file with other first bytes.
    await writeFile(
      checkpointPath(dir, 'app'),
      JSON.stringify({
        format: 1,
        files: [
          {
            dev: info.dev,
            ino: info.ino,
            fingerprint: 12345,
            fingerprintBytes: 256,
            path,
            offset: 100,
          },
        ],
      }),
    );
    const got = newCollected();
    const pipeline = await tail(t, { include: [path], dataDir: dir }, got);
    await waitFor(() => got.lines.length === 20, 'the whole new file');
    assert.equal(got.lines[0], 'new 0');
    assert.equal(statsOf(pipeline, 'app').inodesReused, 1);
    await pipeline.stop({ deadline: 5000 });
  });

  it('sets a damaged checkpoint file aside and starts anyway', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    await writeFile(path, numbered(0, 5));
    await writeFile(checkpointPath(dir, 'app'), '{"format":1,"files":[{"dev":');
    const got = newCollected();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const pipeline = await tail(t, { include: [path], dataDir: dir }, got);
    await waitFor(() => got.lines.length === 5, 'the file read from its start');
    assert.equal(statsOf(pipeline, 'app').corruptCheckpoints, 1);
    await waitFor(() => warnings.some((w) => w.includes('.corrupt-')), 'a warning naming the file');
    await pipeline.stop({ deadline: 5000 });
  });

  it('reports invalid options, all at once', () => {
    const problems = file({
      include: ['relative/*.log'],
      dataDir: '',
      chunkBytes: 0,
      longLines: 'wrap' as 'split',
    }).validate();
    assert.deepEqual(problems, [
      'include pattern "relative/*.log" must be an absolute path',
      'dataDir is required',
      'chunkBytes must be a positive integer, not 0',
      'longLines must be "split" or "truncate", not "wrap"',
    ]);
  });
});
