// The line feed behind the pino transport: text written in chunks cut anywhere (inside lines,
// inside multi-byte characters) comes out as whole lines, in order, in batches; when full, each
// policy keeps its bound and drops whole lines, counted.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineFeed, type LineFeedOptions } from '../src/index.js';

const runs = { seed: 20_261_123, numRuns: 200 } as const;
const NEVER = new AbortController().signal;

/** Writes every chunk (each after the previous one's callback), then ends the feed. */
async function feedAll(feed: LineFeed, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) =>
      feed.write(chunk, (e) => (e ? reject(e) : resolve())),
    );
  }
  await new Promise<void>((resolve, reject) => feed.end((e) => (e ? reject(e) : resolve())));
}

/** Everything the feed hands out until its end, as the pieces it handed out. */
async function takeAll(feed: LineFeed): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let data = await feed.take(NEVER); data; data = await feed.take(NEVER)) out.push(data);
  return out;
}

/** `text` cut at the given fractions of its byte length. */
function cut(text: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * text.byteLength)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, text.byteLength]) {
    if (p > start) chunks.push(text.subarray(start, p));
    start = Math.max(start, p);
  }
  return chunks;
}

const line = fc.string({ unit: 'binary', maxLength: 300 }).map((s) => s.replaceAll('\n', ' '));
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 });

describe('LineFeed', () => {
  it('hands out whole lines, in order, in batches, however the text was cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 60 }),
        fc.boolean(),
        cuts,
        fc.integer({ min: 64, max: 4096 }),
        async (lines, lastHasNewline, at, batchBytes) => {
          const text = lines.join('\n') + (lastHasNewline && lines.length > 0 ? '\n' : '');
          const feed = new LineFeed({ maxBytes: 1 << 20, batchBytes });
          const [out] = await Promise.all([
            takeAll(feed),
            feedAll(feed, cut(Buffer.from(text), at)),
          ]);
          const expected = text === '' || text.endsWith('\n') ? text : `${text}\n`;
          assert.equal(Buffer.concat(out).toString(), expected);
          for (const piece of out) {
            assert.equal(piece.at(-1), 0x0a, 'every batch ends with a newline');
            // Under twice the batch size (the piece that fills a batch may overflow it), or one
            // long line.
            const oneLine = piece.subarray(0, -1).indexOf(0x0a) === -1;
            assert.ok(piece.byteLength < 2 * batchBytes || oneLine, `${piece.byteLength} bytes`);
          }
          assert.deepEqual(feed.stats().droppedLines, 0);
        },
      ),
      runs,
    );
  });

  for (const whenFull of ['drop-newest', 'drop-oldest'] as const) {
    it(`${whenFull}: keeps its byte bound and drops whole lines, each counted`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(line, { minLength: 1, maxLength: 200 }),
          cuts,
          async (lines, at) => {
            const options: LineFeedOptions = { maxBytes: 2048, batchBytes: 256, whenFull };
            const feed = new LineFeed(options);
            const text = `${lines.map((l, i) => `${i} ${l}`).join('\n')}\n`;
            // Nobody takes while writing: everything past the bound is dropped.
            await feedAll(feed, cut(Buffer.from(text), at));
            assert.ok(feed.stats().queuedBytes <= 2048);
            const out = Buffer.concat(await takeAll(feed)).toString();
            const kept = out === '' ? [] : out.slice(0, -1).split('\n');
            const all = text.slice(0, -1).split('\n');
            // Whole lines only, in order, each once.
            let from = 0;
            for (const k of kept) {
              const i = all.indexOf(k, from);
              assert.ok(i >= from, `kept line ${JSON.stringify(k.slice(0, 40))} is an input line`);
              from = i + 1;
            }
            const stats = feed.stats();
            assert.equal(
              kept.length + stats.droppedLines,
              all.length,
              'every line kept or counted',
            );
            assert.equal(stats.droppedBytes, Buffer.byteLength(text) - Buffer.byteLength(out));
          },
        ),
        runs,
      );
    });
  }

  it('block: holds the writer until the source takes, then goes on', async () => {
    const feed = new LineFeed({ maxBytes: 1024, batchBytes: 256, whenFull: 'block' });
    const lines = Array.from({ length: 400 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
    let written = false;
    const writing = feedAll(feed, [Buffer.from(`${lines.join('\n')}\n`)]).then(() => {
      written = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(written, false, 'the writer waits while the feed is full');
    assert.ok(feed.stats().queuedBytes <= 1024);
    const out = Buffer.concat(await takeAll(feed)).toString();
    await writing;
    assert.equal(out, `${lines.join('\n')}\n`);
    assert.equal(feed.stats().droppedLines, 0);
  });

  it('block with blockTimeoutMs: gives up on what does not fit in time, counted', async () => {
    const feed = new LineFeed({
      maxBytes: 1024,
      batchBytes: 256,
      whenFull: 'block',
      blockTimeoutMs: 20,
    });
    const text = `${'x'.repeat(99)}\n`.repeat(30);
    await feedAll(feed, [Buffer.from(text)]);
    const stats = feed.stats();
    assert.ok(stats.droppedLines > 0, 'some lines were given up on');
    const out = Buffer.concat(await takeAll(feed));
    assert.equal(out.byteLength + stats.droppedBytes, text.length);
    assert.equal(stats.droppedLines * 100, stats.droppedBytes, 'whole lines only');
  });

  it('drops, counted, a line longer than the whole feed, and goes on', async () => {
    const feed = new LineFeed({ maxBytes: 1024, batchBytes: 256 });
    const long = 'y'.repeat(3000);
    await feedAll(feed, cut(Buffer.from(`a\n${long}\nb\n${long}`), [0.1, 0.5, 0.7, 0.99]));
    assert.equal(Buffer.concat(await takeAll(feed)).toString(), 'a\nb\n');
    assert.equal(feed.stats().droppedLines, 2);
  });

  it('at a stop, hands out what is queued without waiting for more', async () => {
    const feed = new LineFeed();
    await new Promise<void>((resolve) => feed.write(Buffer.from('one\ntwo\nthr'), () => resolve()));
    const stop = new AbortController();
    stop.abort();
    assert.equal((await feed.take(stop.signal))?.toString(), 'one\ntwo\n');
    assert.equal(await feed.take(stop.signal), undefined, 'empty and stopping: the end');
  });
});
