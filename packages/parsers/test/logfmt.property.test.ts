// Property tests of the logfmt parser: arbitrary text never throws and always gives a
// well-formed result, and lines encoded from generated pairs (quoted where needed, sometimes
// where not) parse back to those pairs. Seeds are committed so a failure reproduces; change one
// (or drop it) to explore further.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type LogfmtFields, type LogfmtParseResult, parseLogfmt } from '../src/index.js';

const CODES = new Set([
  'ERR_LOGFMT_EMPTY_KEY',
  'ERR_LOGFMT_MISPLACED_QUOTE',
  'ERR_LOGFMT_UNTERMINATED_QUOTE',
]);

/** Whitespace as the grammar has it: space and the ASCII controls. */
const isSpace = (c: string) => c.charCodeAt(0) <= 32;

function assertWellFormed(line: string, result: LogfmtParseResult, maxKeys = 256): void {
  if (!result.ok) {
    assert.ok(CODES.has(result.code), result.code);
    assert.ok(result.error.startsWith('logfmt: '), result.error);
  }
  assert.equal(Object.getPrototypeOf(result.fields), Object.prototype);
  assert.ok(Number.isInteger(result.droppedKeys) && result.droppedKeys >= 0);
  const keys = Object.keys(result.fields);
  assert.ok(keys.length <= Math.max(0, maxKeys));
  for (const key of keys) {
    assert.ok(key.length > 0, 'no empty key');
    assert.ok(![...key].some((c) => isSpace(c) || c === '=' || c === '"'), key);
    assert.ok(line.includes(key), `key ${JSON.stringify(key)} comes from the line`);
    const value = result.fields[key];
    assert.ok(value === true || typeof value === 'string');
  }
}

/** Characters that exercise every branch of the scanner, mixed with arbitrary code points. */
const SPECIALS = [' ', '\t', '\n', '\r', '\0', '=', '"', '\\', 'n', 't', '\u00a0', 'é', '🚀'];
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const trickyChar = fc.oneof(fc.constantFrom(...SPECIALS), anyChar);

const keyChar = fc.oneof(
  fc.constantFrom('a', 'k', '_', '.', '-', '0', '\\', 'é', '名', '🚀'),
  anyChar.filter((c) => !isSpace(c) && c !== '=' && c !== '"'),
);
const key = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: keyChar, minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '0', '42') },
);
const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant(true as const) },
  { weight: 4, arbitrary: fc.string({ unit: trickyChar, maxLength: 16 }) },
);
/** A pair, and whether to quote its value even where a bare one would do. */
const pair = fc.tuple(key, value, fc.boolean());
const separator = fc.string({ unit: fc.constantFrom(' ', '\t'), minLength: 1, maxLength: 3 });
const edge = fc.string({ unit: fc.constantFrom(' ', '\t', '\r', '\n'), maxLength: 2 });

function encodeValue(v: string, quoteAnyway: boolean): string {
  const needsQuotes = [...v].some((c) => isSpace(c) || c === '"');
  if (!needsQuotes && !quoteAnyway) return v;
  // \n, \r and \t escaped as writers do; other controls are fine raw inside quotes.
  const escaped = v.replace(/[\\"\n\r\t]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\${c}`,
  );
  return `"${escaped}"`;
}

function encode(
  pairs: readonly (readonly [string, string | true, boolean])[],
  separators: readonly string[],
  lead: string,
  trail: string,
): string {
  const encoded = pairs.map(([k, v, quote]) => (v === true ? k : `${k}=${encodeValue(v, quote)}`));
  let line = lead;
  encoded.forEach((p, i) => {
    line += (i === 0 ? '' : (separators[i % separators.length] ?? ' ')) + p;
  });
  return line + trail;
}

/** What the parser promises for a sequence of pairs: last value wins, at most maxKeys keys. */
function model(pairs: readonly (readonly [string, string | true, boolean])[], maxKeys: number) {
  const fields: LogfmtFields = {};
  let stored = 0;
  let droppedKeys = 0;
  for (const [k, v] of pairs) {
    if (Object.hasOwn(fields, k)) {
      Object.defineProperty(fields, k, { value: v });
    } else if (stored < maxKeys) {
      stored++;
      Object.defineProperty(fields, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      droppedKeys++;
    }
  }
  return { fields, droppedKeys };
}

describe('logfmt parser properties', () => {
  it('never throws on arbitrary text, and returns a well-formed result', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: trickyChar, maxLength: 80 }),
          fc.string({ unit: fc.constantFrom('a', '=', '"', '\\', ' '), maxLength: 40 }),
        ),
        fc.option(fc.integer({ min: -1, max: 6 }), { nil: undefined }),
        (line, maxKeys) => {
          const result = parseLogfmt(line, maxKeys === undefined ? {} : { maxKeys });
          assertWellFormed(line, result, maxKeys);
        },
      ),
      { seed: 4_711, numRuns: 3000 },
    );
  });

  it('never throws on valid lines with one character changed, inserted or removed', () => {
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 8 }),
        fc.nat(),
        trickyChar,
        fc.constantFrom('replace', 'insert', 'remove'),
        (pairs, where, c, how) => {
          const line = encode(pairs, [' '], '', '');
          const i = where % (line.length + 1);
          const mutated =
            how === 'insert'
              ? line.slice(0, i) + c + line.slice(i)
              : line.slice(0, i) + (how === 'replace' ? c : '') + line.slice(i + 1);
          assertWellFormed(mutated, parseLogfmt(mutated));
        },
      ),
      { seed: 1_337, numRuns: 2000 },
    );
  });

  it('parses encoded maps back to the same map, in the same key order', () => {
    const map = fc.uniqueArray(pair, { selector: ([k]) => k, maxLength: 12 });
    fc.assert(
      fc.property(
        map,
        fc.array(separator, { minLength: 1, maxLength: 4 }),
        edge,
        edge,
        (pairs, seps, lead, trail) => {
          const line = encode(pairs, seps, lead, trail);
          const result = parseLogfmt(line);
          if (!result.ok) assert.fail(`${result.error}\n  in ${JSON.stringify(line)}`);
          const expected = model(pairs, Number.POSITIVE_INFINITY).fields;
          assert.deepEqual(result.fields, expected, JSON.stringify(line));
          assert.deepEqual(Object.keys(result.fields), Object.keys(expected));
          assert.equal(result.droppedKeys, 0);
        },
      ),
      { seed: 20_250_101, numRuns: 1000 },
    );
  });

  it('with repeated keys and any maxKeys: last value wins, new keys past the bound are counted', () => {
    const fewKeys = fc.constantFrom('a', 'b', 'c', 'd', 'e', '__proto__');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fewKeys, value, fc.boolean()), { maxLength: 20 }),
        fc.integer({ min: 0, max: 7 }),
        (pairs, maxKeys) => {
          const line = encode(pairs, [' '], '', '');
          const result = parseLogfmt(line, { maxKeys });
          if (!result.ok) assert.fail(`${result.error}\n  in ${JSON.stringify(line)}`);
          const expected = model(pairs, maxKeys);
          assert.deepEqual(result.fields, expected.fields, JSON.stringify(line));
          assert.deepEqual(Object.keys(result.fields), Object.keys(expected.fields));
          assert.equal(result.droppedKeys, expected.droppedKeys);
        },
      ),
      { seed: 256, numRuns: 1000 },
    );
  });

  it('keeps the well-formed pairs around one malformed pair', () => {
    const garbage = fc.constantFrom('=x', '="x y"', 'a"b', 'k=v"w', 'k="x"y', '"q"');
    fc.assert(
      fc.property(
        fc.uniqueArray(pair, { selector: ([k]) => k, maxLength: 6 }),
        fc.uniqueArray(pair, { selector: ([k]) => k, maxLength: 6 }),
        garbage,
        (before, after, bad) => {
          // Keys on the two sides kept apart, so that the model need not know about the order.
          const left = before.map(([k, v, q]) => [`l${k}`, v, q] as const);
          const right = after.map(([k, v, q]) => [`r${k}`, v, q] as const);
          const line = `${encode(left, [' '], '', '')} ${bad} ${encode(right, [' '], '', '')}`;
          const result = parseLogfmt(line);
          assert.equal(result.ok, false, JSON.stringify(line));
          assert.deepEqual(
            result.fields,
            model([...left, ...right], Number.POSITIVE_INFINITY).fields,
            JSON.stringify(line),
          );
        },
      ),
      { seed: 9_001, numRuns: 500 },
    );
  });
});
