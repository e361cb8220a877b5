// The file sink on real files in a temporary directory: NDJSON and raw bytes, rotation under
// concurrent write() calls (at most maxFiles, batches whole, content complete and in order), a
// file removed or replaced from outside, write errors and recovery, close, fsync policies, the
// abort signal, a pipeline end to end, and the conformance kit.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type AckOutcome,
  type Batch,
  Counters,
  createEventBatch,
  createRawBatch,
  definePipeline,
  type Sink,
  SpillwayError,
} from '@spillway/core';
import { assertConformance, batchSource, checkSink } from '@spillway/testing';
import { type FileSinkOptions, fileSink } from '../src/basic.js';

const scratch = await mkdtemp(join(tmpdir(), 'spillway-file-sink-'));
after(() => rm(scratch, { recursive: true, force: true }));
let dirs = 0;
/** A new empty directory, and the path `app.log` in it. */
async function freshDir() {
  const dir = join(scratch, `d${dirs++}`);
  await mkdir(dir);
  return { dir, path: join(dir, 'app.log') };
}

const live = () => new AbortController().signal;
const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

async function build(options: FileSinkOptions): Promise<Sink> {
  return fileSink(options).build({ name: 'out', signal: live(), counters: new Counters() });
}

/** The lines of batch `b`: `b<b> l<i>`, so that every line says which batch it belongs to. */
function numberedText(b: number, lines: number): string {
  let text = '';
  for (let i = 0; i < lines; i++) text += `b${b} l${i}\n`;
  return text;
}

const numbered = (b: number, lines: number): Batch =>
  createRawBatch({ source: 't', data: Buffer.from(numberedText(b, lines)) });

/** The files of a rotated set, oldest first (`app.log.<n>` … `app.log.1`, `app.log`). */
async function rotatedSet(dir: string): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(dir)).filter((n) => /^app\.log(\.\d+)?$/.test(n));
  const age = (n: string) => Number(n.slice('app.log.'.length) || 0);
  names.sort((a, b) => age(b) - age(a));
  return Promise.all(
    names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })),
  );
}

/** The batch numbers of a file's lines, once per batch, in order of appearance. */
function batchesIn(text: string): number[] {
  const seen: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const b = Number(line.slice(1, line.indexOf(' ')));
    if (seen.at(-1) !== b) seen.push(b);
  }
  return seen;
}

describe('file sink', () => {
  it('writes events as NDJSON and raw bytes as they are, adding a missing final newline', async () => {
    const { path } = await freshDir();
    const sink = await build({ path });
    const events = createEventBatch({
      source: 't',
      events: [
        { timestamp: 1, message: 'a', severity: 'warn', attributes: { port: 80 } },
        { timestamp: 2, message: 'b' },
      ],
    });
    await sink.write(events, live());
    await sink.write(createRawBatch({ source: 't', data: Buffer.from('x\ny') }), live());
    await sink.write(createRawBatch({ source: 't', data: Buffer.from('') }), live());
    await sink.close!(live());
    assert.equal(
      await readFile(path, 'utf8'),
      '{"timestamp":1,"message":"a","severity":"warn","attributes":{"port":80}}\n' +
        '{"timestamp":2,"message":"b"}\nx\ny\n',
    );
  });

  it('rotates under concurrent writes: every batch whole, in order, nothing lost', async () => {
    const { dir, path } = await freshDir();
    const maxBytes = 2000;
    const sink = await build({ path, maxBytes, maxFiles: 1000 });
    const count = 300;
    const linesOf = (b: number) => 1 + ((b * 7) % 23);
    // All calls at once (more than any pool would make): the sink must keep dispatch order.
    await Promise.all(
      Array.from({ length: count }, (_, b) => sink.write(numbered(b, linesOf(b)), live())),
    );
    const stats = sink.stats!() as Record<string, number>;
    await sink.close!(live());

    const files = await rotatedSet(dir);
    assert.ok(files.length > 10, `rotated into ${files.length} files`);
    assert.equal(stats.rotations, files.length - 1);
    const all = files.map((f) => f.text).join('');
    let expected = '';
    for (let b = 0; b < count; b++) expected += numberedText(b, linesOf(b));
    assert.equal(all, expected, 'the files hold every batch, in order');
    assert.equal(stats.bytesWritten, Buffer.byteLength(expected));
    for (const { name, text } of files) {
      const inFile = batchesIn(text);
      // No file past maxBytes, unless it holds one batch (never split).
      assert.ok(Buffer.byteLength(text) <= maxBytes || inFile.length === 1, name);
    }
    // Each batch in exactly one file: never split across two.
    const perFile = files.flatMap((f) => batchesIn(f.text));
    assert.deepEqual(
      perFile,
      Array.from({ length: count }, (_, b) => b),
    );
  });

  it('keeps at most maxFiles files, the newest batches, in order', async () => {
    const { dir, path } = await freshDir();
    const sink = await build({ path, maxBytes: 500, maxFiles: 3 });
    const count = 200;
    await Promise.all(Array.from({ length: count }, (_, b) => sink.write(numbered(b, 5), live())));
    await sink.close!(live());

    const files = await rotatedSet(dir);
    assert.deepEqual(
      files.map((f) => f.name),
      ['app.log.2', 'app.log.1', 'app.log'],
    );
    assert.deepEqual((await readdir(dir)).sort(), ['app.log', 'app.log.1', 'app.log.2']);
    const kept = files.flatMap((f) => batchesIn(f.text));
    // The newest batches, whole and in order, ending with the last one written.
    const first = kept[0]!;
    assert.deepEqual(
      kept,
      Array.from({ length: count - first }, (_, i) => first + i),
    );
  });

  it('with maxFiles 1, starts the file afresh at each rotation', async () => {
    const { dir, path } = await freshDir();
    const sink = await build({ path, maxBytes: 100, maxFiles: 1 });
    for (let b = 0; b < 5; b++) await sink.write(numbered(b, 4), live());
    await sink.close!(live());
    assert.deepEqual(await readdir(dir), ['app.log']);
    assert.deepEqual(batchesIn(await readFile(path, 'utf8')), [4]);
  });

  it('gives a batch larger than maxBytes a file of its own', async () => {
    const { dir, path } = await freshDir();
    const sink = await build({ path, maxBytes: 100 });
    await sink.write(numbered(0, 2), live());
    await sink.write(numbered(1, 50), live()); // ~350 bytes
    await sink.write(numbered(2, 2), live());
    await sink.close!(live());
    const files = await rotatedSet(dir);
    assert.deepEqual(
      files.map((f) => [f.name, batchesIn(f.text)]),
      [
        ['app.log.2', [0]],
        ['app.log.1', [1]],
        ['app.log', [2]],
      ],
    );
  });

  it('opens a new file when the file was removed from outside', async () => {
    const { path } = await freshDir();
    const sink = await build({ path, pathCheckMs: 0 });
    await sink.write(numbered(0, 1), live());
    await rm(path);
    await sink.write(numbered(1, 1), live());
    assert.equal(await readFile(path, 'utf8'), 'b1 l0\n');
    assert.equal((sink.stats!() as Record<string, number>).reopens, 1);
    await sink.close!(live());
  });

  it('follows a rename from outside within pathCheckMs', async () => {
    const { dir, path } = await freshDir();
    const sink = await build({ path, pathCheckMs: 50 });
    await sink.write(numbered(0, 1), live());
    await rename(path, join(dir, 'moved.log'));
    // Within pathCheckMs the sink has not looked yet: this batch follows the renamed file.
    await sink.write(numbered(1, 1), live());
    await delay(60);
    await sink.write(numbered(2, 1), live());
    await sink.close!(live());
    assert.equal(await readFile(join(dir, 'moved.log'), 'utf8'), 'b0 l0\nb1 l0\n');
    assert.equal(await readFile(path, 'utf8'), 'b2 l0\n');
  });

  it('rejects a write that cannot open the file, with a code and the cause; works once fixed', async () => {
    const { dir } = await freshDir();
    // A read-only directory; as root (which may write anyway) a path under a file instead.
    const root = process.getuid?.() === 0;
    const parent = join(dir, 'parent');
    if (root) await writeFile(parent, '');
    else await mkdir(parent, { mode: 0o500 });
    const path = join(parent, 'app.log');
    const sink = await build({ path });

    await assert.rejects(sink.write(numbered(0, 1), live()), (err: unknown) => {
      assert.ok(SpillwayError.is(err, 'ERR_STAGE_FAILED'));
      assert.equal((err.cause as NodeJS.ErrnoException).code, root ? 'ENOTDIR' : 'EACCES');
      return true;
    });
    if (root) {
      await rm(parent);
      await mkdir(parent);
    } else await chmod(parent, 0o700);
    await sink.write(numbered(1, 1), live());
    await sink.close!(live());
    assert.equal(await readFile(path, 'utf8'), 'b1 l0\n');
    assert.equal((sink.stats!() as Record<string, number>).writeErrors, 1);
  });

  it('cuts off the part of a batch written before a failure (a file size limit: EFBIG)', {
    skip: hasPrlimit ? false : 'needs prlimit (util-linux) to set a file size limit',
  }, async () => {
    const { path } = await freshDir();
    // A child process whose files may not grow past 1000 bytes: batch b (600 bytes) is
    // written in part, up to the limit, then fails; the sink must cut that part off.
    const script = `
        process.on('SIGXFSZ', () => {}); // fail the write with EFBIG rather than die
        const { fileSink } = await import(${JSON.stringify(import.meta.resolve('../src/basic.js'))});
        const { Counters, createRawBatch } = await import(${JSON.stringify(import.meta.resolve('@spillway/core'))});
        const signal = new AbortController().signal;
        const sink = await fileSink({ path: ${JSON.stringify(path)} })
          .build({ name: 'out', signal, counters: new Counters() });
        const outcomes = [];
        for (const [c, n] of [['a', 600], ['b', 600], ['c', 300]]) {
          const batch = createRawBatch({ source: 't', data: Buffer.from(c.repeat(n - 1) + '\\n') });
          await sink.write(batch, signal).then(
            () => outcomes.push('ok'),
            (err) => outcomes.push(err.code + ' ' + err.cause?.code),
          );
        }
        await sink.close(signal);
        console.log(JSON.stringify(outcomes));`;
    const child = spawn(
      'prlimit',
      ['--fsize=1000', process.execPath, '--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    for await (const chunk of child.stdout) out += String(chunk);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out), ['ok', 'ERR_STAGE_FAILED EFBIG', 'ok']);
    assert.equal(await readFile(path, 'utf8'), `${'a'.repeat(599)}\n${'c'.repeat(299)}\n`);
  });

  it('rejects a write whose rotation fails, leaves none of it behind, and rotates later', async () => {
    const { dir, path } = await freshDir();
    const sink = await build({ path, maxBytes: 20, maxFiles: 2 });
    await sink.write(numbered(0, 2), live());
    // A directory where the rotated file must go: the rename fails (EISDIR), even for root.
    await mkdir(join(dir, 'app.log.1'));
    await writeFile(join(dir, 'app.log.1', 'x'), '');
    await assert.rejects(sink.write(numbered(1, 2), live()), (err: unknown) =>
      SpillwayError.is(err, 'ERR_STAGE_FAILED'),
    );
    await rm(join(dir, 'app.log.1'), { recursive: true });
    await sink.write(numbered(2, 2), live());
    await sink.close!(live());
    const files = await rotatedSet(dir);
    assert.deepEqual(
      files.map((f) => [f.name, batchesIn(f.text)]),
      [
        ['app.log.1', [0]],
        ['app.log', [2]],
      ],
    );
  });

  it('close() finishes the writes in flight, syncs, and refuses writes after it', async () => {
    const { path } = await freshDir();
    const sink = await build({ path, fsync: 'interval', fsyncIntervalMs: 60_000 });
    const writes = Array.from({ length: 20 }, (_, b) => sink.write(numbered(b, 3), live()));
    await sink.close!(live());
    await Promise.all(writes);
    assert.deepEqual(
      batchesIn(await readFile(path, 'utf8')),
      Array.from({ length: 20 }, (_, b) => b),
    );
    assert.equal((sink.stats!() as Record<string, number>).fsyncs, 1, 'synced once, at close');
    await assert.rejects(sink.write(numbered(20, 1), live()), (err: unknown) =>
      SpillwayError.is(err, 'ERR_CHANNEL_CLOSED'),
    );
  });

  it('syncs per its fsync policy', async () => {
    const fsyncsAfter = async (options: Omit<FileSinkOptions, 'path'>, wait: number) => {
      const sink = await build({ ...options, path: (await freshDir()).path });
      for (let b = 0; b < 3; b++) await sink.write(numbered(b, 1), live());
      await delay(wait);
      const fsyncs = (sink.stats!() as Record<string, number>).fsyncs;
      await sink.close!(live());
      return fsyncs;
    };
    assert.equal(await fsyncsAfter({ fsync: 'always' }, 0), 3, 'one per batch');
    assert.equal(await fsyncsAfter({ fsync: 'never' }, 0), 0);
    assert.ok((await fsyncsAfter({ fsync: 'interval', fsyncIntervalMs: 10 }, 100))! >= 1);
  });

  it('writes nothing for a signal that has aborted, and throws its reason', async () => {
    const { path } = await freshDir();
    const sink = await build({ path });
    const reason = new Error('hard stop');
    await assert.rejects(
      sink.write(numbered(0, 1), AbortSignal.abort(reason)),
      (err) => err === reason,
    );
    await sink.close!(live());
    await assert.rejects(readFile(path), { code: 'ENOENT' });
  });

  it('validates its options and claims its path', () => {
    assert.deepEqual(fileSink({ path: '/var/log/app.log' }).validate(), []);
    assert.deepEqual(
      fileSink({
        path: 'app.log',
        maxBytes: 0,
        maxFiles: 1001,
        fsync: 'sometimes' as never,
        fsyncIntervalMs: -1,
        pathCheckMs: -1,
      }).validate(),
      [
        'path must be an absolute path, not "app.log"',
        'maxBytes must be a positive integer, not 0',
        'maxFiles must be an integer between 1 and 1000, not 1001',
        'fsync must be "always", "interval" or "never", not "sometimes"',
        'fsyncIntervalMs must be a number > 0, not -1',
        'pathCheckMs must be a number ≥ 0, not -1',
      ],
    );
    assert.deepEqual(fileSink({} as never).validate(), [
      'path is missing: it must be a non-empty string',
    ]);
    assert.deepEqual(fileSink(null as never).validate(), ['options must be an object, not null']);
    assert.deepEqual(fileSink({ path: '/var/log/./app.log' }).resources(), [
      { kind: 'path', id: '/var/log/app.log' },
    ]);
    assert.deepEqual(fileSink({ path: 'app.log' }).resources(), []);
  });

  it('runs in a pipeline: four pool workers, rotation, every batch delivered and in order', async () => {
    const { dir, path } = await freshDir();
    const count = 100;
    let b = 0;
    const log = { outcomes: [] as AckOutcome[], emitted: [] as Batch[] };
    const pipeline = await definePipeline({
      sources: { numbers: batchSource({ make: () => numbered(b++, 10), count, log }) },
      sinks: {
        out: {
          inputs: ['numbers'],
          stage: fileSink({ path, maxBytes: 4096, maxFiles: 100 }),
          pool: { maxWorkers: 4 },
        },
      },
    }).build();
    pipeline.start();
    await pipeline.done();
    const metrics = pipeline.metrics.snapshot().entries.find((e) => e.id === 'out')!.stats;
    await pipeline.stop();

    assert.equal(log.outcomes.length, count);
    assert.ok(log.outcomes.every((o) => o.status === 'delivered'));
    const files = await rotatedSet(dir);
    assert.deepEqual(
      files.flatMap((f) => batchesIn(f.text)),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.ok((metrics.rotations as number) > 0);
    assert.equal(metrics.batchesWritten, count);
    assert.equal(metrics.eventsWritten, count * 10);
  });

  it('passes the conformance kit', async () => {
    const { dir } = await freshDir();
    let n = 0;
    assertConformance(
      await checkSink(() => fileSink({ path: join(dir, `out-${n++}.log`) }), {
        invalid: [
          fileSink({ path: 'relative.log' }),
          fileSink({ path: join(dir, 'x.log'), maxFiles: 0 }),
          fileSink({ path: join(dir, 'x.log'), fsync: 'sometimes' as never }),
        ],
      }),
    );
  });
});
