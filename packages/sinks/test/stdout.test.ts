// The stdout sink: in a real child process whose stdout is a pipe to `head -c` (EPIPE: batches
// dropped and counted, no crash) or to a reader that pauses (backpressure without blocking the
// event loop, nothing lost); in this process on streams that fail or never drain; and the
// conformance kit.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Counters, createEventBatch, createRawBatch, type Sink } from '@spillway/core';
import { assertConformance, checkSink } from '@spillway/testing';
import { STDOUT_CLOSED, type StdoutOptions, stdout } from '../src/basic.js';

const child = join(import.meta.dirname, 'stdout-child.js');

/** What stdout-child.js writes for `batches` batches: 100 numbered lines each. */
const expectedOutput = (batches: number) =>
  Array.from({ length: batches * 100 }, (_, n) => `line ${n}\n`).join('');

interface ChildReport {
  sink: Record<string, number | boolean>;
  pool: Record<string, number>;
  maxGapMs: number;
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** The child's exit code, its stderr, and the report on its last line. Call at spawn. */
async function finished(proc: ChildProcess) {
  const exited = once(proc, 'exit') as Promise<[number | null]>;
  const text = await collect(proc.stderr!);
  const [code] = await exited;
  const report = JSON.parse(text.trim().split('\n').at(-1) ?? 'null') as ChildReport | null;
  return { code, report, stderr: text };
}

async function build(options: StdoutOptions): Promise<Sink> {
  return stdout(options).build({
    name: 'out',
    signal: new AbortController().signal,
    counters: new Counters(),
  });
}

const raw = (text: string) => createRawBatch({ source: 't', data: Buffer.from(text) });

describe('stdout sink, in a child process', () => {
  it('drops and counts batches once the reader is gone (| head -c), and exits cleanly', async () => {
    const batches = 2000;
    // A real pipe from the child to `head`: the parent keeps no end of it, so once head exits
    // the child's next write gets EPIPE.
    const head = spawn('head', ['-c', '1000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const proc = spawn(process.execPath, [child, String(batches)], {
      stdio: ['ignore', head.stdin!, 'pipe'],
    });
    head.stdin!.destroy();
    const [headOut, result] = await Promise.all([collect(head.stdout!), finished(proc)]);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(headOut, expectedOutput(batches).slice(0, 1000));
    const { sink, pool } = result.report!;
    assert.equal(sink.closed, true);
    assert.ok((sink.batchesDropped as number) > 0, 'some batches were dropped');
    assert.equal((sink.batchesWritten as number) + (sink.batchesDropped as number), batches);
    assert.equal((sink.eventsWritten as number) + (sink.eventsDropped as number), batches * 100);
    // Dropped with a reason, not rejected as failures.
    assert.equal(pool.dropped, sink.batchesDropped);
    assert.equal(pool.rejected, 0);
    assert.equal(pool.delivered, sink.batchesWritten);
  });

  it('waits for a slow reader without blocking the event loop, and loses nothing', async () => {
    const batches = 300;
    const proc = spawn(process.execPath, [child, String(batches)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = finished(proc);
    // Read nothing for a while: the pipe fills, the sink's writes wait, then the pool's.
    proc.stdout!.pause();
    await delay(1000);
    const out = await collect(proc.stdout!);
    const { code, report, stderr } = await result;

    assert.equal(code, 0, stderr);
    assert.equal(out, expectedOutput(batches));
    const { sink, pool, maxGapMs } = report!;
    assert.equal(sink.batchesWritten, batches);
    assert.equal(sink.batchesDropped, 0);
    assert.ok(pool.waitMs! > 300, `the pool waited for the sink (${pool.waitMs} ms)`);
    assert.ok(maxGapMs < 250, `timers kept running while stdout was full (gap ${maxGapMs} ms)`);
  });
});

describe('stdout sink, on streams made here', () => {
  it('writes NDJSON for events and raw bytes with a final newline, in order', async () => {
    let text = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const sink = await build({ stream });
    const signal = new AbortController().signal;
    const events = createEventBatch({
      source: 't',
      events: [
        { timestamp: 1, message: 'a', severity: 'info', attributes: { k: 1 } },
        { timestamp: 2, message: 'b' },
      ],
    });
    // Concurrent calls, as the pool makes them: written in call order.
    const outcomes = await Promise.all([
      sink.write(events, signal),
      sink.write(raw('x\ny'), signal),
      sink.write(raw('z\n'), signal),
      sink.write(raw(''), signal),
    ]);
    assert.deepEqual(outcomes, [undefined, undefined, undefined, undefined]);
    assert.equal(
      text,
      '{"timestamp":1,"message":"a","severity":"info","attributes":{"k":1}}\n' +
        '{"timestamp":2,"message":"b"}\n' +
        'x\ny\nz\n',
    );
    assert.deepEqual(sink.stats!(), {
      bytesWritten: Buffer.byteLength(text),
      batchesWritten: 3,
      eventsWritten: 2 + 1 + 1,
      batchesDropped: 0,
      eventsDropped: 0,
      closed: false,
    });
    await sink.close!(signal);
    assert.equal(stream.listenerCount('error'), 0, 'its error listener is gone after close');
  });

  it('reports an EPIPE as dropped (stdout_closed) and drops the batches after it unwritten', async () => {
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, done) {
        writes++;
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const sink = await build({ stream });
    const signal = new AbortController().signal;
    const dropped = { status: 'dropped', reason: STDOUT_CLOSED };
    assert.deepEqual(await sink.write(raw('a\n'), signal), dropped);
    assert.deepEqual(await sink.write(raw('b\nc\n'), signal), dropped);
    assert.equal(writes, 1, 'nothing is written once the reader is gone');
    assert.deepEqual(sink.stats!(), {
      bytesWritten: 0,
      batchesWritten: 0,
      eventsWritten: 0,
      batchesDropped: 2,
      eventsDropped: 3,
      closed: true,
    });
    await sink.close!(signal);
  });

  it('rejects other write errors with ERR_STAGE_FAILED and the cause', async () => {
    const failure = Object.assign(new Error('i/o error'), { code: 'EIO' });
    const stream = new Writable({
      write(_chunk, _encoding, done) {
        done(failure);
      },
    });
    const sink = await build({ stream });
    await assert.rejects(sink.write(raw('a\n'), new AbortController().signal), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_STAGE_FAILED');
      assert.equal((err as Error).cause, failure);
      return true;
    });
  });

  it('gives up waiting on a stream that never drains as soon as the signal aborts', async () => {
    const stream = new Writable({ highWaterMark: 1, write() {} }); // never calls back
    const sink = await build({ stream });
    const first = new AbortController();
    const pending = sink.write(raw('a\n'), first.signal);
    await delay(20);
    const reason = new Error('hard stop');
    first.abort(reason);
    await assert.rejects(pending, (err) => err === reason);

    // Queued behind the write that never completes; its own signal lets it go too.
    const second = new AbortController();
    const queued = sink.write(raw('b\n'), second.signal);
    second.abort(reason);
    await assert.rejects(queued, (err) => err === reason);
    // close() is bounded by its signal, and keeps the error listener while a write is open.
    // (Not AbortSignal.timeout: its timer does not keep the test's event loop alive.)
    const closing = new AbortController();
    setTimeout(() => closing.abort(), 20);
    await sink.close!(closing.signal);
    assert.equal(stream.listenerCount('error'), 1);
  });

  it('refuses options that are not an object or a stream that cannot be written', () => {
    assert.deepEqual(stdout({}).validate(), []);
    assert.deepEqual(stdout(42 as never).validate(), ['options must be an object, not 42']);
    assert.deepEqual(stdout({ stream: {} as never }).validate(), [
      'stream must be a writable stream, not an object',
    ]);
  });

  it('passes the conformance kit', async () => {
    const discard = () =>
      new Writable({
        write(_chunk, _encoding, done) {
          setImmediate(done);
        },
      });
    assertConformance(
      await checkSink(() => stdout({ stream: discard() }), {
        invalid: [stdout({ stream: 'stdout' as never })],
      }),
    );
  });
});
