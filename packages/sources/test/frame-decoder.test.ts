// The TCP frame decoder on its own: however the stream is cut into chunks, the same frames come
// out, oversize frames are truncated or dropped without losing sync, and what it holds stays
// within a frame plus a chunk. The seed is committed so a failure reproduces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, type Framing } from '../src/internal/frame-decoder.js';

interface Decoded {
  frames: string[];
  truncated: number;
  dropped: number;
  maxHeld: number;
  incomplete: boolean;
}

function decode(
  framing: Framing | 'auto',
  chunks: Buffer[],
  maxFrameBytes: number,
  onOversize: 'truncate' | 'drop',
): Decoded {
  const out: Decoded = { frames: [], truncated: 0, dropped: 0, maxHeld: 0, incomplete: false };
  const decoder = new FrameDecoder({
    framing,
    maxFrameBytes,
    onOversize,
    onOversizeFrame: (action) => (action === 'truncated' ? out.truncated++ : out.dropped++),
  });
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f; f = decoder.next()) out.frames.push(f.data.toString('latin1'));
    out.maxHeld = Math.max(out.maxHeld, decoder.bufferedBytes);
    assert.equal(decoder.error, undefined);
  }
  const last = decoder.finish(true);
  if (last.frame) out.frames.push(last.frame.data.toString('latin1'));
  out.incomplete = last.incomplete;
  return out;
}

/** Cuts `data` at the given points (taken modulo its length). */
function cut(data: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...at, data.length]) {
    if (p > start) chunks.push(data.subarray(start, p));
    start = p;
  }
  return chunks;
}

const byte = (except: number[]) =>
  fc.integer({ min: 0, max: 255 }).filter((b) => !except.includes(b));
const frameBytes = (except: number[]) =>
  fc
    .array(byte(except), { minLength: 1, maxLength: 60 })
    .map((a) => Buffer.from(a).toString('latin1'));

describe('frame decoder', () => {
  it('newline: any chunking yields the same lines; oversize ones truncated or dropped', () => {
    fc.assert(
      fc.property(
        fc.array(frameBytes([10, 13]), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('truncate' as const, 'drop' as const),
        fc.boolean(),
        (lines, points, max, onOversize, crlf) => {
          const stream = Buffer.from(
            lines.map((l) => `${l}${crlf ? '\r' : ''}\n`).join(''),
            'latin1',
          );
          const got = decode('newline', cut(stream, points), max, onOversize);
          const long = (l: string) => l.length + (crlf ? 1 : 0) > max;
          const want = lines.flatMap((l) =>
            !long(l) ? [l] : onOversize === 'drop' ? [] : [`${l}${crlf ? '\r' : ''}`.slice(0, max)],
          );
          assert.deepEqual(got.frames, want);
          const oversize = lines.filter(long).length;
          assert.equal(onOversize === 'drop' ? got.dropped : got.truncated, oversize);
          const largestChunk = Math.max(0, ...cut(stream, points).map((c) => c.length));
          assert.ok(got.maxHeld <= max + largestChunk, `${got.maxHeld} > ${max} + ${largestChunk}`);
        },
      ),
      { seed: 6587, numRuns: 500 },
    );
  });

  it('octet counting: any chunking yields the same frames, newlines and all', () => {
    fc.assert(
      fc.property(
        fc.array(frameBytes([]), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('truncate' as const, 'drop' as const),
        (frames, points, max, onOversize) => {
          const stream = Buffer.from(frames.map((f) => `${f.length} ${f}`).join(''), 'latin1');
          const got = decode('auto', cut(stream, points), max, onOversize);
          const want = frames.flatMap((f) =>
            f.length <= max ? [f] : onOversize === 'drop' ? [] : [f.slice(0, max)],
          );
          assert.deepEqual(got.frames, want);
          assert.equal(got.incomplete, false);
          // Held: at most the kept part of one frame plus one chunk.
          const largestChunk = Math.max(0, ...cut(stream, points).map((c) => c.length));
          assert.ok(got.maxHeld <= max + largestChunk, `${got.maxHeld} > ${max} + ${largestChunk}`);
        },
      ),
      { seed: 5425, numRuns: 500 },
    );
  });

  it('reports an octet-counted frame cut short, and a malformed count', () => {
    assert.equal(decode('octet-counting', [Buffer.from('5 abc')], 100, 'drop').incomplete, true);
    const decoder = new FrameDecoder({
      framing: 'octet-counting',
      maxFrameBytes: 100,
      onOversize: 'drop',
      onOversizeFrame: () => {},
    });
    decoder.push(Buffer.from('3 abc007 x'));
    assert.equal(decoder.next()?.data.toString(), 'abc');
    assert.equal(decoder.next(), undefined);
    assert.match(String(decoder.error), /invalid frame length/);
  });

  it('an unterminated last line is a frame at end of stream, incomplete when cut off', () => {
    const at = (eof: boolean) => {
      const decoder = new FrameDecoder({
        framing: 'newline',
        maxFrameBytes: 100,
        onOversize: 'drop',
        onOversizeFrame: () => {},
      });
      decoder.push(Buffer.from('a\nb'));
      assert.equal(decoder.next()?.data.toString(), 'a');
      assert.equal(decoder.next(), undefined);
      return decoder.finish(eof);
    };
    assert.equal(at(true).frame?.data.toString(), 'b');
    assert.deepEqual(at(false), { frame: undefined, incomplete: true });
  });
});
