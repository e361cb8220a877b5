import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '@spillway/core';
import fc from 'fast-check';
import { sample, sampleHash } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

describe('sampleHash', () => {
  it('is pinned: changing it would change which events every deployment keeps', () => {
    assert.equal(sampleHash(''), fmix32(0x811c9dc5), 'FNV-1a offset basis, then fmix32');
    assert.equal(sampleHash(''), 2872998923);
    assert.equal(sampleHash('a'), 444641715);
    assert.equal(sampleHash('q'), 1560842042, 'same low nibble as "a", different fate');
    assert.equal(sampleHash('trace-42'), 4284419037);
  });
});

describe('sample', () => {
  it('keeps the same events on every run, counted as sampled_out otherwise', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `GET /items/${i}`);
    const a = await build(sample({ rate: 5 }));
    const b = await build(sample({ rate: 5 }));
    const keptA = (await a.events(rawBatch(lines))).map((e) => e.message);
    const keptB = (await b.events(rawBatch(lines))).map((e) => e.message);
    assert.deepEqual(keptA, keptB);
    assert.deepEqual(
      keptA,
      lines.filter((l) => sampleHash(l) % 5 === 0),
    );
    assert.equal(a.counters.get('sampled_out'), lines.length - keptA.length);
  });

  it('samples by an attribute, so every event of a kept key is kept', async () => {
    const events: LogEvent[] = [];
    for (let t = 0; t < 50; t++) {
      for (let line = 0; line < 4; line++) {
        events.push({ timestamp: line, message: `line ${line}`, attributes: { trace: `t${t}` } });
      }
    }
    const v = await build(sample({ rate: 3, key: 'trace' }));
    const kept = await v.events(eventBatch(events));
    const byTrace = new Map<unknown, number>();
    for (const e of kept)
      byTrace.set(e.attributes?.trace, (byTrace.get(e.attributes?.trace) ?? 0) + 1);
    for (const [trace, n] of byTrace) {
      assert.equal(n, 4, `all lines of ${String(trace)}`);
      assert.equal(sampleHash(String(trace)) % 3, 0);
    }
  });

  it('falls back to the message for events without the key; hashes non-strings as JSON', async () => {
    const v = await build(sample({ rate: 2, key: 'k' }));
    const events: LogEvent[] = Array.from({ length: 40 }, (_, i) => ({
      timestamp: i,
      message: `m${i}`,
      ...(i % 2 === 0 ? { attributes: { k: { id: i } } } : {}),
    }));
    const kept = await v.events(eventBatch(events));
    const expected = events.filter((e) => {
      const key = e.attributes === undefined ? e.message : JSON.stringify(e.attributes.k);
      return sampleHash(key) % 2 === 0;
    });
    assert.deepEqual(kept, expected);
  });

  it('passes everything with rate 1, and the batch itself when nothing is removed', async () => {
    const v = await build(sample({ rate: 1 }));
    const input = rawBatch(['a', 'b']);
    assert.equal(await v.run(input), input);
  });

  it('returns null when nothing is kept', async () => {
    const line = ['x', 'y', 'z', 'w'].find((l) => sampleHash(l) % 1000 !== 0)!;
    const v = await build(sample({ rate: 1000 }));
    assert.equal(await v.run(rawBatch([line])), null);
    assert.equal(v.counters.get('sampled_out'), 1);
  });

  it('keeps close to 1 in N of many distinct keys', async () => {
    // Loose bounds: at 20 000 keys the standard deviation of the kept share is about 0.2% for
    // N = 10, so ±20% of 1/N is never reached by chance; it fails only for a biased hash.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 16 }),
        fc.string({ maxLength: 8 }),
        async (rate, prefix) => {
          const lines = Array.from({ length: 20_000 }, (_, i) => `${prefix}${i}`);
          const v = await build(sample({ rate }));
          const kept = (await v.events(rawBatch(lines))).length;
          const expected = lines.length / rate;
          assert.ok(Math.abs(kept - expected) < expected * 0.2, `rate ${rate}: kept ${kept}`);
        },
      ),
      { seed: 0x5a3c1e, numRuns: 20 },
    );
  });

  it('validates rate and key', () => {
    assert.deepEqual(sample({ rate: 0 }).validate(), ['rate must be an integer ≥ 1, not 0']);
    assert.deepEqual(sample({ rate: 2.5, key: '' }).validate(), [
      'rate must be an integer ≥ 1, not 2.5',
      'key must be a non-empty string, not an empty string',
    ]);
    assert.deepEqual(sample({} as never).validate(), [
      'rate is missing: it must be an integer ≥ 1',
    ]);
  });
});

function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
