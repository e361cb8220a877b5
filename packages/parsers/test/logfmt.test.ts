// Example-based tests of the logfmt parser: the grammar in the module header, its edge cases, and
// what a malformed line still yields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogfmtErrorCode, type LogfmtParseResult, parseLogfmt } from '../src/index.js';

function ok(result: LogfmtParseResult) {
  if (!result.ok) assert.fail(`expected a parse, got ${result.code}: ${result.error}`);
  assert.equal(result.droppedKeys, 0);
  return result.fields;
}

function err(result: LogfmtParseResult, code: LogfmtErrorCode) {
  if (result.ok) assert.fail(`expected ${code}, got ${JSON.stringify(result.fields)}`);
  assert.equal(result.code, code);
  assert.match(result.error, /^logfmt: .* at offset \d+$/);
  return result.fields;
}

describe('logfmt: well-formed lines', () => {
  it('reads bare and quoted values and keys without a value', () => {
    assert.deepEqual(
      ok(parseLogfmt('level=info msg="request done" path=/items?id=7 took_ms=12 cached')),
      { level: 'info', msg: 'request done', path: '/items?id=7', took_ms: '12', cached: true },
    );
  });

  it('gives nothing, and no error, for an empty or blank line', () => {
    assert.deepEqual(ok(parseLogfmt('')), {});
    assert.deepEqual(ok(parseLogfmt('   ')), {});
    assert.deepEqual(ok(parseLogfmt(' \t\r\n')), {});
  });

  it('takes any run of whitespace, leading and trailing too, as one separator', () => {
    assert.deepEqual(ok(parseLogfmt('  a=1 \t  b=2\tc  \r\n')), { a: '1', b: '2', c: true });
    assert.deepEqual(ok(parseLogfmt('a=1\u0000b=2')), { a: '1', b: '2' }, 'NUL is a control');
  });

  it('tells an empty value from a key without one', () => {
    assert.deepEqual(ok(parseLogfmt('a= b b2="" c')), { a: '', b: true, b2: '', c: true });
    assert.deepEqual(ok(parseLogfmt('a=')), { a: '' });
  });

  it('keeps values as strings', () => {
    const fields = ok(parseLogfmt('n=007 x=1e3 t=true f=false z=null'));
    assert.deepEqual(fields, { n: '007', x: '1e3', t: 'true', f: 'false', z: 'null' });
  });

  it('accepts "=" inside a bare value', () => {
    assert.deepEqual(ok(parseLogfmt('q=a=b&c==d e==')), { q: 'a=b&c==d', e: '=' });
  });

  it('unescapes \\" \\\\ \\n \\r \\t in quoted values and keeps other backslashes', () => {
    const line = String.raw`m="say \"hi\" \\ now\nnext\r\tend" p="C:\dir\x \u00e9" q="\\"`;
    assert.deepEqual(ok(parseLogfmt(line)), {
      m: 'say "hi" \\ now\nnext\r\tend',
      p: 'C:\\dir\\x \\u00e9',
      q: '\\',
    });
  });

  it('keeps whitespace, "=" and controls inside quotes', () => {
    assert.deepEqual(ok(parseLogfmt('m=" a = b\t" n="x\ny"')), { m: ' a = b\t', n: 'x\ny' });
  });

  it('reads Unicode keys and values, astral characters included', () => {
    assert.deepEqual(ok(parseLogfmt('utilisateur=zoë 名前="山田 太郎" emoji=🚀🚀 ключ')), {
      utilisateur: 'zoë',
      名前: '山田 太郎',
      emoji: '🚀🚀',
      ключ: true,
    });
    // A non-breaking space is not ASCII whitespace: it belongs to the value.
    assert.deepEqual(ok(parseLogfmt('a=1\u00a02 b')), { a: '1\u00a02', b: true });
  });

  it('lets the last of a repeated key win, in the position of the first', () => {
    const fields = ok(parseLogfmt('a=1 b=2 a=3 b c="x" c=y'));
    assert.deepEqual(fields, { a: '3', b: true, c: 'y' });
    assert.deepEqual(Object.keys(fields), ['a', 'b', 'c']);
  });

  it('stores __proto__ and other Object.prototype names as plain own fields', () => {
    const fields = ok(parseLogfmt('__proto__=x constructor=y toString __proto__=z'));
    assert.equal(Object.getPrototypeOf(fields), Object.prototype);
    assert.deepEqual(Object.entries(fields), [
      ['__proto__', 'z'],
      ['constructor', 'y'],
      ['toString', true],
    ]);
  });

  it('runs the TSDoc example', () => {
    const r = parseLogfmt('level=warn msg="disk \\"data\\" 91% full" retry');
    assert.deepEqual(r, {
      ok: true,
      fields: { level: 'warn', msg: 'disk "data" 91% full', retry: true },
      droppedKeys: 0,
    });
    const bad = parseLogfmt('level=error msg="cut off');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, 'ERR_LOGFMT_UNTERMINATED_QUOTE');
    assert.deepEqual(bad.fields, { level: 'error' });
  });
});

describe('logfmt: malformed lines', () => {
  it('reports an unterminated quote with the pairs before it', () => {
    assert.deepEqual(err(parseLogfmt('a=1 msg="no end b=2'), 'ERR_LOGFMT_UNTERMINATED_QUOTE'), {
      a: '1',
    });
    assert.deepEqual(err(parseLogfmt('m="'), 'ERR_LOGFMT_UNTERMINATED_QUOTE'), {});
    // An escaped quote does not close the value, nor does a backslash at the very end.
    assert.deepEqual(err(parseLogfmt('a=1 m="x\\"'), 'ERR_LOGFMT_UNTERMINATED_QUOTE'), { a: '1' });
    assert.deepEqual(err(parseLogfmt('a=1 m="x\\'), 'ERR_LOGFMT_UNTERMINATED_QUOTE'), { a: '1' });
  });

  it('reports "=" without a key, skips that pair and keeps the others', () => {
    const r = parseLogfmt('a=1 =orphan b=2 ="quoted orphan" c');
    assert.deepEqual(err(r, 'ERR_LOGFMT_EMPTY_KEY'), { a: '1', b: '2', c: true });
    assert.ok(!r.ok && r.error.includes('offset 4'), !r.ok ? r.error : '');
    assert.deepEqual(err(parseLogfmt('='), 'ERR_LOGFMT_EMPTY_KEY'), {});
    assert.deepEqual(err(parseLogfmt(' = x'), 'ERR_LOGFMT_EMPTY_KEY'), { x: true });
  });

  it('reports a quote inside a key or a bare value and resumes at the next whitespace', () => {
    assert.deepEqual(err(parseLogfmt('a"b=1 c=2'), 'ERR_LOGFMT_MISPLACED_QUOTE'), { c: '2' });
    assert.deepEqual(err(parseLogfmt('a=x"y c=2'), 'ERR_LOGFMT_MISPLACED_QUOTE'), { c: '2' });
    assert.deepEqual(err(parseLogfmt('"k"=v c=2'), 'ERR_LOGFMT_MISPLACED_QUOTE'), { c: '2' });
    assert.deepEqual(err(parseLogfmt('a=1 "'), 'ERR_LOGFMT_MISPLACED_QUOTE'), { a: '1' });
  });

  it('reports a quoted value glued to what follows it', () => {
    const r = parseLogfmt('a="x"b c="y"="z" d=4');
    assert.deepEqual(err(r, 'ERR_LOGFMT_MISPLACED_QUOTE'), { d: '4' });
  });

  it('reports the first problem when there are several', () => {
    const r = parseLogfmt('=a b"c d="e');
    assert.deepEqual(err(r, 'ERR_LOGFMT_EMPTY_KEY'), {});
  });

  it('keeps error messages short whatever the key', () => {
    const r = parseLogfmt(`${'k'.repeat(10_000)}="open`);
    err(r, 'ERR_LOGFMT_UNTERMINATED_QUOTE');
    assert.ok(!r.ok && r.error.length < 120, !r.ok ? r.error : '');
  });
});

describe('logfmt: maxKeys', () => {
  it('stores at most 256 distinct keys by default and counts the rest', () => {
    const line = Array.from({ length: 300 }, (_, i) => `k${i}=${i}`).join(' ');
    const r = parseLogfmt(line);
    assert.equal(r.ok, true);
    assert.equal(Object.keys(r.fields).length, 256);
    assert.equal(r.droppedKeys, 44);
    assert.equal(r.fields.k255, '255');
    assert.equal(r.fields.k256, undefined);
  });

  it('still updates a stored key past the bound, and counts only new keys', () => {
    const r = parseLogfmt('a=1 b=2 c=3 a=4 d=5 b e=6', { maxKeys: 2 });
    assert.deepEqual(r, { ok: true, fields: { a: '4', b: true }, droppedKeys: 3 });
  });

  it('counts dropped keys on a malformed line too', () => {
    const r = parseLogfmt('a=1 b=2 =x c="open', { maxKeys: 1 });
    assert.equal(r.ok, false);
    assert.deepEqual(r.fields, { a: '1' });
    assert.equal(r.droppedKeys, 1);
  });

  it('treats 0, negative and NaN as "store nothing", Infinity as no bound, and floors', () => {
    assert.deepEqual(parseLogfmt('a b', { maxKeys: 0 }), { ok: true, fields: {}, droppedKeys: 2 });
    assert.equal(parseLogfmt('a b', { maxKeys: -1 }).droppedKeys, 2);
    assert.equal(parseLogfmt('a b', { maxKeys: Number.NaN }).droppedKeys, 2);
    assert.equal(parseLogfmt('a b c', { maxKeys: 1.9 }).droppedKeys, 2);
    const many = Array.from({ length: 1000 }, (_, i) => `k${i}`).join(' ');
    assert.equal(Object.keys(parseLogfmt(many, { maxKeys: Infinity }).fields).length, 1000);
  });
});

describe('logfmt: bounded work', () => {
  it('parses pathological lines of 1 MiB in linear time', () => {
    // Shapes that make backtracking parsers blow up: long runs of one delimiter, many escapes,
    // many tiny pairs, one huge unterminated value.
    const size = 1 << 20;
    const lines = [
      '='.repeat(size),
      '"'.repeat(size),
      `m="${'\\"'.repeat(size / 2)}`,
      'a '.repeat(size / 2),
      `k=${'x'.repeat(size)}`,
      `k="${'\\'.repeat(size)}`,
    ];
    for (const line of lines) {
      const started = performance.now();
      const r = parseLogfmt(line);
      const ms = performance.now() - started;
      assert.ok(Object.keys(r.fields).length <= 256);
      assert.ok(ms < 1000, `${JSON.stringify(line.slice(0, 8))}…: ${ms.toFixed(0)} ms`);
    }
  });
});
