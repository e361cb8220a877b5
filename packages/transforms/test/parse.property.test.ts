// Property tests of the parse verbs: whatever the lines — random text, lone surrogates, JSON of
// every shape, truncated JSON, near-logfmt, near-syslog — process() never throws, `keep` returns
// exactly one event per line, and `drop` returns fewer with kept + dropped = lines. Seeds are
// committed so a failure reproduces; change one (or drop it) to explore further.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransformDefinition } from '@spillway/core';
import fc from 'fast-check';
import { parseJson, parseLogfmt, parseRegex, parseSyslog } from '../src/index.js';
import { build, rawBatch } from './support.js';

/** A line as a raw batch carries it: anything but a newline. */
const oneLine = (s: string) => s.replaceAll('\n', ' ');

const line: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
    fc.json({ maxDepth: 3 }),
    fc.json({ maxDepth: 3 }).map((j) => j.slice(0, Math.floor(j.length / 2))),
    fc
      .dictionary(
        fc.constantFrom('msg', 'level', 'time', 'ts', 'a', '__proto__'),
        fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
      )
      .map((o) => JSON.stringify(o)),
    fc
      .array(
        fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('=', '="', '', '=\\"'), fc.string()),
        { maxLength: 6 },
      )
      .map((pairs) => pairs.map(([k, eq, v]) => `${k}${eq}${v}`).join(' ')),
    fc
      .tuple(
        fc.constantFrom('<13>', '<34>1 ', '<191>1 2024-05-01T12:00:00Z ', '<0>', '<', '<999>'),
        fc.string({ maxLength: 60 }),
      )
      .map(([head, rest]) => head + rest),
  )
  .map(oneLine);

const verbs: [string, (onError: 'keep' | 'drop') => TransformDefinition<unknown>][] = [
  ['parseJson', (onError) => parseJson({ onError }) as TransformDefinition<unknown>],
  ['parseLogfmt', (onError) => parseLogfmt({ onError }) as TransformDefinition<unknown>],
  [
    'parseRegex',
    (onError) =>
      parseRegex({
        pattern: '^(?<a>\\w+)=(?<severity>\\w*)',
        onError,
      }) as TransformDefinition<unknown>,
  ],
  ['parseSyslog', (onError) => parseSyslog({ onError }) as TransformDefinition<unknown>],
];

describe('parse verbs on arbitrary lines', () => {
  verbs.forEach(([name, make], index) => {
    it(`${name}: keep returns one event per line and never throws`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), async (lines) => {
          const v = await build(make('keep'));
          const out = await v.events(rawBatch(lines));
          assert.equal(out.length, lines.length);
          let errors = 0;
          out.forEach((event, i) => {
            assert.equal(typeof event.message, 'string');
            assert.equal(typeof event.timestamp, 'number');
            const error = event.attributes?.error;
            if (typeof error === 'string' && error.startsWith(`${name}: `)) {
              errors++;
              assert.equal(event.message, lines[i], 'a line in error keeps its raw text');
            }
          });
          assert.equal(v.counters.get('parse_errors'), errors);
        }),
        { seed: 0x5a17 + index, numRuns: 300 },
      );
    });

    it(`${name}: drop keeps the others, and kept + dropped = lines`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), async (lines) => {
          const v = await build(make('drop'));
          const out = await v.events(rawBatch(lines));
          const dropped = v.counters.get('dropped_parse_error');
          assert.equal(out.length + dropped, lines.length);
          assert.equal(v.counters.get('parse_errors'), dropped);
        }),
        { seed: 0x0d20 + index, numRuns: 300 },
      );
    });
  });
});
