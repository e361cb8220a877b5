// The stdin source on a real stream: lines, a final line without newline, syslog parsing, and
// backpressure reaching the writer (its writes back up while the sink is stalled).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { definePipeline } from '@spillway/core';
import { type StdinOptions, stdin } from '../src/index.js';
import { collect, Gate, newCollected, statsOf, waitFor } from './support.js';

async function run(options: StdinOptions, gate?: Gate) {
  const got = newCollected();
  const pipeline = await definePipeline({
    sources: { in: stdin(options) },
    sinks: {
      out: {
        inputs: ['in'],
        stage: collect({ into: got, ...(gate ? { gate } : {}) }),
        pool: { maxWorkers: 1 },
      },
    },
    defaultBuffer: { capacity: 2 },
  }).build();
  pipeline.start();
  return { got, pipeline };
}

describe('stdin source', () => {
  it('hands on lines, the last one even without a newline, and ends with the stream', async () => {
    const stream = new PassThrough();
    const { got, pipeline } = await run({ stream, maxLineBytes: 8 });
    stream.write('one\ntw');
    stream.write('o\nthis line is too long\n');
    stream.end('last');
    await pipeline.done();
    assert.deepEqual(got.lines, ['one', 'two', 'this lin', 'last']);
    assert.equal(statsOf(pipeline, 'in').linesTruncated, 1);
    await pipeline.stop();
  });

  it('parses syslog and keeps garbage raw with an error attribute', async () => {
    const stream = new PassThrough();
    const { got, pipeline } = await run({ stream, format: 'syslog' });
    stream.end('<34>1 2025-01-02T03:04:05Z host app 42 ID7 - hello\nnot syslog\n');
    await pipeline.done();
    const events = got.batches.flatMap((b) =>
      b.payload.kind === 'events' ? b.payload.events : [],
    );
    assert.equal(events.length, 2);
    assert.equal(events[0]!.message, 'hello');
    assert.equal(events[0]!.severity, 'fatal');
    assert.ok(events[1]!.attributes?.parse_error);
    assert.equal(statsOf(pipeline, 'in').parseErrors, 1);
    await pipeline.stop();
  });

  it('stops reading while the sink is stalled, so the writer backs up; nothing is lost', async () => {
    const stream = new PassThrough({ highWaterMark: 16 * 1024 });
    const gate = new Gate();
    gate.close();
    const { got, pipeline } = await run({ stream }, gate);
    const lines = 100_000;
    let written = 0;
    /** Resolves when the stream drains, or with false after 200 ms without drain. */
    const drainWithin200ms = () =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          stream.off('drain', onDrain);
          resolve(false);
        }, 200);
        const onDrain = () => {
          clearTimeout(timer);
          resolve(true);
        };
        stream.once('drain', onDrain);
      });
    // Write as a program piping into us would: on a full pipe, wait for drain. Once the
    // pipeline is full too, drain stops coming: the writer is held back.
    let held = false;
    while (written < lines && !held) {
      if (!stream.write(`line ${written++}\n`)) held = !(await drainWithin200ms());
    }
    assert.ok(held, 'the writer was held back before it wrote everything');
    const readWhileStalled = statsOf(pipeline, 'in').bytesRead as number;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(statsOf(pipeline, 'in').bytesRead, readWhileStalled, 'no reading while stalled');
    const drained = new Promise((resolve) => stream.once('drain', resolve));
    gate.open();
    await drained;
    while (written < lines) {
      if (!stream.write(`line ${written++}\n`)) await new Promise((r) => stream.once('drain', r));
    }
    stream.end();
    await waitFor(() => got.lines.length === lines, 'every line');
    assert.deepEqual(got.lines.slice(0, 3), ['line 0', 'line 1', 'line 2']);
    for (let i = 0; i < lines; i += 1009) assert.equal(got.lines[i], `line ${i}`);
    await pipeline.stop();
  });
});
