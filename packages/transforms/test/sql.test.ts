// The SQL transform compiler: projection, WHERE with NULL logic, every operator and function,
// LIKE escaping, JSON access, validation messages, and compileWhere / checkWhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogEvent, SpillwayError } from '@spillway/core';
import { checkSql, checkWhere, compileSql, compileWhere } from '../src/sql/index.js';
import { compileLike } from '../src/sql/like.js';
import { MAX_PATTERN_LENGTH, REGEX_CACHE_SIZE, RegexCache } from '../src/sql/regex.js';

const T0 = Date.UTC(2024, 2, 15, 13, 45, 30, 123); // Friday 2024-03-15T13:45:30.123Z

function event(attributes?: Record<string, unknown>, extra: Partial<LogEvent> = {}): LogEvent {
  const e: LogEvent = { timestamp: T0, message: 'hello world', ...extra };
  if (attributes !== undefined) e.attributes = attributes;
  return e;
}

function run(query: string, events: readonly LogEvent[]): LogEvent[] {
  return compileSql(query).run(events);
}

/** The value of one expression over one event: SELECT expr AS v, read back (NULL is null). */
function value(
  expression: string,
  attributes?: Record<string, unknown>,
  extra?: Partial<LogEvent>,
) {
  const out = run(`SELECT ${expression} AS v FROM logs`, [event(attributes, extra)]);
  assert.equal(out.length, 1);
  return out[0]?.attributes?.v ?? null;
}

/** Asserts that checkSql reports a problem matching `pattern` (and compileSql throws it). */
function rejects(query: string, pattern: RegExp): void {
  const problems = checkSql(query);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern} for ${query}, got ${JSON.stringify(problems)}`,
  );
  assert.throws(
    () => compileSql(query),
    (error: unknown) =>
      SpillwayError.is(error, 'ERR_INVALID_OPTION') &&
      error.message
        .split('\n  - ')
        .slice(1)
        .some((p) => pattern.test(p)),
  );
}

describe('sql: projection', () => {
  const input = [
    event({ status: 200, host: 'a', user: { id: 7 } }, { severity: 'info' }),
    event(undefined, { message: 'bare' }),
  ];

  it('SELECT * returns the input events themselves', () => {
    const out = run('SELECT * FROM logs', input);
    assert.equal(out.length, 2);
    assert.equal(out[0], input[0]);
    assert.equal(out[1], input[1]);
    assert.deepEqual(run('select * from LOGS', input), input);
  });

  it('SELECT *, expr AS name adds and overwrites, without touching the input', () => {
    const out = run("SELECT *, upper(host) AS host, 'x' AS extra FROM logs", input);
    assert.deepEqual(out[0], {
      timestamp: T0,
      message: 'hello world',
      severity: 'info',
      attributes: { status: 200, host: 'A', user: { id: 7 }, extra: 'x' },
    });
    assert.deepEqual(out[1], { timestamp: T0, message: 'bare', attributes: { extra: 'x' } });
    assert.equal(input[0]?.attributes?.host, 'a');
  });

  it('SELECT *, NULL AS key removes the key; NULL AS severity drops severity', () => {
    const out = run('SELECT *, NULL AS status, NULL AS severity FROM logs', input);
    assert.deepEqual(out[0], {
      timestamp: T0,
      message: 'hello world',
      attributes: { host: 'a', user: { id: 7 } },
    });
  });

  it('without *: timestamp kept, message empty, severity only when selected', () => {
    const out = run('SELECT status, host FROM logs', input);
    assert.deepEqual(out[0], {
      timestamp: T0,
      message: '',
      attributes: { status: 200, host: 'a' },
    });
    // No attribute written: no attributes key at all.
    assert.deepEqual(out[1], { timestamp: T0, message: '' });
    const withFields = run('SELECT timestamp, message, severity FROM logs', input);
    assert.deepEqual(withFields[0], { timestamp: T0, message: 'hello world', severity: 'info' });
    assert.deepEqual(withFields[1], { timestamp: T0, message: 'bare' });
  });

  it('a bare column keeps its name; qualifiers attributes., logs. and the FROM alias', () => {
    const e = event({ 'http.method': 'GET', timestamp: 'attr-ts', host: 'h' });
    assert.deepEqual(run('SELECT attributes.host, logs.message, "http.method" FROM logs', [e]), [
      { timestamp: T0, message: 'hello world', attributes: { host: 'h', 'http.method': 'GET' } },
    ]);
    assert.deepEqual(run("SELECT l.host AS h FROM logs l WHERE l.host = 'h'", [e]), [
      { timestamp: T0, message: '', attributes: { h: 'h' } },
    ]);
    // attributes.timestamp reads the attribute, not the event's timestamp.
    assert.equal(value('attributes.timestamp', { timestamp: 'attr-ts' }), 'attr-ts');
    assert.equal(value('timestamp', { timestamp: 'attr-ts' }), T0);
  });

  it('aliases name outputs, and may target the top-level fields', () => {
    const out = run(
      "SELECT host AS message, 'WARN' AS severity, timestamp + 1000 AS timestamp FROM logs",
      input,
    );
    assert.deepEqual(out[0], { timestamp: T0 + 1000, message: 'a', severity: 'warn' });
    assert.deepEqual(out[1], { timestamp: T0 + 1000, message: '', severity: 'warn' });
  });

  it('a severity that is not a level goes to attributes.severity', () => {
    assert.deepEqual(run("SELECT 'loud' AS severity FROM logs", [input[0] as LogEvent]), [
      { timestamp: T0, message: '', attributes: { severity: 'loud' } },
    ]);
    const star = run("SELECT *, 'loud' AS severity FROM logs", [input[0] as LogEvent]);
    assert.equal(star[0]?.severity, undefined);
    assert.ok(!Object.hasOwn(star[0] as object, 'severity'));
    assert.equal(star[0]?.attributes?.severity, 'loud');
  });

  it('a timestamp that is not a finite number keeps the input timestamp', () => {
    assert.deepEqual(run("SELECT 'soon' AS timestamp FROM logs", [input[0] as LogEvent]), [
      { timestamp: T0, message: '', attributes: { timestamp: 'soon' } },
    ]);
    assert.deepEqual(run('SELECT NULL AS timestamp FROM logs', [input[0] as LogEvent]), [
      { timestamp: T0, message: '' },
    ]);
  });

  it('message is always text', () => {
    assert.deepEqual(run('SELECT status AS message FROM logs', [input[0] as LogEvent]), [
      { timestamp: T0, message: '200' },
    ]);
    assert.deepEqual(run('SELECT user AS message FROM logs', [input[0] as LogEvent]), [
      { timestamp: T0, message: '{"id":7}' },
    ]);
  });

  it('a column named attributes merges an object into the output attributes first', () => {
    const out = run('SELECT upper(host) AS host, attributes FROM logs', [input[0] as LogEvent]);
    assert.deepEqual(out[0]?.attributes, { status: 200, host: 'A', user: { id: 7 } });
    const scalar = run("SELECT 'x' AS attributes FROM logs", [input[0] as LogEvent]);
    assert.deepEqual(scalar[0]?.attributes, { attributes: 'x' });
  });

  it('an expression without AS, or a repeated name, is a validation error', () => {
    rejects('SELECT lower(message) FROM logs', /SELECT item 1 \(lower\(message\)\) needs a name/);
    rejects('SELECT host, lower(x) AS host FROM logs', /host is named more than once/);
    rejects('SELECT *, * FROM logs', /\* appears more than once/);
    rejects('SELECT attributes.* FROM logs', /attributes\.\* is not supported/);
  });

  it('reads own attributes only, and writes __proto__ as a plain key', () => {
    assert.equal(value('constructor', {}), null);
    assert.equal(value('"toString"', {}), null);
    assert.equal(value('"constructor"', { constructor: 'mine' }), 'mine');
    const out = run('SELECT *, \'x\' AS "__proto__" FROM logs', [event({})]);
    const attributes = out[0]?.attributes as Record<string, unknown>;
    assert.ok(Object.hasOwn(attributes, '__proto__'));
    assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
  });
});

describe('sql: WHERE and NULL', () => {
  const events = [
    event({ n: 1, s: 'a' }),
    event({ n: 2 }),
    event({ n: null, s: 'c' }),
    event(undefined),
  ];
  const ns = (where: string) =>
    run(`SELECT * FROM logs WHERE ${where}`, events).map((e) => e.attributes?.n ?? null);

  it('a comparison with NULL is not true: the row is filtered either way', () => {
    assert.deepEqual(ns('n = 1'), [1]);
    assert.deepEqual(ns('n <> 1'), [2]);
    assert.deepEqual(ns('NOT (n = 1)'), [2]);
    assert.deepEqual(ns("s = 'a'"), [1]);
    assert.deepEqual(ns("NOT s = 'a'"), [null]);
  });

  it('IS [NOT] NULL sees missing keys, null values and missing attributes alike', () => {
    assert.deepEqual(ns('n IS NULL'), [null, null]);
    assert.deepEqual(ns('n IS NOT NULL'), [1, 2]);
    assert.deepEqual(ns('s IS NULL'), [2, null]);
  });

  it('three-valued AND, OR and NOT', () => {
    const cases: [string, boolean | null][] = [
      ['TRUE AND NULL', null],
      ['FALSE AND NULL', false],
      ['NULL AND FALSE', false],
      ['TRUE OR NULL', true],
      ['NULL OR TRUE', true],
      ['FALSE OR NULL', null],
      ['NOT NULL', null],
      ['NOT TRUE', false],
      ['missing = 1 OR 1 = 1', true],
      ['missing = 1 AND 1 = 2', false],
    ];
    for (const [expression, expected] of cases) {
      assert.equal(value(expression, {}), expected, expression);
    }
    assert.deepEqual(ns('n = 1 OR s IS NULL'), [1, 2, null]);
  });

  it('IN and NOT IN with NULL in the list', () => {
    assert.equal(value('1 IN (2, NULL)'), null);
    assert.equal(value('1 IN (1, NULL)'), true);
    assert.equal(value('1 NOT IN (2, NULL)'), null);
    assert.equal(value('1 NOT IN (2, 3)'), true);
    assert.equal(value('NULL IN (1)'), null);
    assert.deepEqual(ns('n IN (1, 2)'), [1, 2]);
    assert.deepEqual(ns('n NOT IN (1)'), [2]);
  });

  it('truth of non-booleans in WHERE', () => {
    const flags = [event({ f: true }), event({ f: 'yes' }), event({ f: 0 }), event({ f: 'maybe' })];
    assert.equal(run('SELECT * FROM logs WHERE f', flags).length, 2);
  });
});

describe('sql: operators', () => {
  it('arithmetic, with numeric text, division by zero and NULL', () => {
    assert.equal(value('1 + 2 * 3'), 7);
    assert.equal(value('(1 + 2) * 3'), 9);
    assert.equal(value('10 - 4'), 6);
    assert.equal(value('7 / 2'), 3.5);
    assert.equal(value('7 % 3'), 1);
    assert.equal(value('1 / 0'), null);
    assert.equal(value('1 % 0'), null);
    assert.equal(value("n + '5'", { n: 1 }), 6);
    assert.equal(value("'abc' + 1"), null);
    assert.equal(value('missing + 1', {}), null);
    assert.equal(value('-n', { n: 4 }), -4);
    assert.equal(value('+n', { n: '4' }), 4);
    assert.equal(value('timestamp - 1000'), T0 - 1000);
  });

  it('|| concatenates text; NULL makes it NULL', () => {
    assert.equal(value("'a' || 1 || true"), 'a1true');
    assert.equal(value("'a' || missing", {}), null);
  });

  it('comparisons: numbers, text, numeric text, booleans', () => {
    const cases: [string, boolean][] = [
      ['2 = 2', true],
      ['2 != 3', true],
      ['2 <> 2', false],
      ['2 < 3', true],
      ['3 <= 3', true],
      ['4 > 3', true],
      ['3 >= 4', false],
      ["'b' > 'a'", true],
      ["'10' < '9'", true],
      ["status = '200'", true],
      ["status > '99'", true],
      ["flag = 'true'", true],
      ['flag = TRUE', true],
    ];
    for (const [expression, expected] of cases) {
      assert.equal(value(expression, { status: 200, flag: true }), expected, expression);
    }
  });

  it('IS TRUE, IS FALSE, IS NOT TRUE never yield NULL', () => {
    assert.equal(value('missing IS TRUE', {}), false);
    assert.equal(value('missing IS NOT TRUE', {}), true);
    assert.equal(value('(1 = 2) IS FALSE'), true);
  });

  it('[NOT] BETWEEN', () => {
    assert.equal(value('5 BETWEEN 1 AND 10'), true);
    assert.equal(value('5 NOT BETWEEN 1 AND 10'), false);
    assert.equal(value('0 BETWEEN 1 AND 10'), false);
    assert.equal(value('0 BETWEEN 1 AND NULL'), false);
    assert.equal(value('5 BETWEEN 1 AND NULL'), null);
    assert.equal(value("'b' BETWEEN 'a' AND 'c'"), true);
  });

  it('[NOT] LIKE and [NOT] ILIKE', () => {
    assert.equal(value("message LIKE 'hello%'"), true);
    assert.equal(value("message LIKE 'Hello%'"), false);
    assert.equal(value("message ILIKE 'HELLO%'"), true);
    assert.equal(value("message NOT LIKE '%world'"), false);
    assert.equal(value("message NOT ILIKE '%WORLD'"), false);
    assert.equal(value("message LIKE 'hello_world'"), true);
    assert.equal(value("message LIKE 'hello__world'"), false);
    assert.equal(value("message LIKE '%o w%'"), true);
    assert.equal(value("missing LIKE '%'", {}), null);
    assert.equal(value('message LIKE p', { p: '%WORLD' }), false);
    assert.equal(value('message ILIKE p', { p: '%WORLD' }), true);
  });

  it('~, ~*, !~, !~* and the backslash in literals', () => {
    assert.equal(value("message ~ '^hel+o'"), true);
    assert.equal(value("message ~ 'WORLD'"), false);
    assert.equal(value("message ~* 'WORLD'"), true);
    assert.equal(value("message !~ 'xyz'"), true);
    assert.equal(value("message !~* 'WORLD'"), false);
    // A backslash is an ordinary character in a SQL literal, so \b reaches the regex as \b.
    assert.equal(value("message ~ '\\bworld\\b'"), true);
    assert.equal(value("message ~ '\\bworl\\b'"), false);
    assert.equal(value("'a1' ~ '^\\w\\d$'"), true);
    assert.equal(value("length('a\\nb')"), 4);
    assert.equal(value("'it''s'"), "it's");
    // A pattern from data: compiled through the cache, invalid gives NULL.
    assert.equal(value('message ~ p', { p: 'wor' }), true);
    assert.equal(value('message ~ p', { p: '(' }), null);
  });

  it('CASE, both forms, with and without ELSE', () => {
    const searched = "CASE WHEN n > 10 THEN 'big' WHEN n > 1 THEN 'some' ELSE 'few' END";
    assert.equal(value(searched, { n: 50 }), 'big');
    assert.equal(value(searched, { n: 5 }), 'some');
    assert.equal(value(searched, { n: 1 }), 'few');
    assert.equal(value(searched, {}), 'few');
    const simple = "CASE severity WHEN 'error' THEN 2 WHEN 'warn' THEN 1 END";
    assert.equal(value(simple, {}, { severity: 'error' }), 2);
    assert.equal(value(simple, {}, { severity: 'warn' }), 1);
    assert.equal(value(simple, {}, { severity: 'info' }), null);
    assert.equal(value('CASE missing WHEN NULL THEN 1 ELSE 0 END', {}), 0);
  });

  it('CAST and ::', () => {
    assert.equal(value("CAST('42' AS int)"), 42);
    assert.equal(value('CAST(2.5 AS int)'), 3);
    assert.equal(value('CAST(-2.5 AS integer)'), -3);
    assert.equal(value("CAST('2.5' AS float)"), 2.5);
    assert.equal(value("'x'::int"), null);
    assert.equal(value('CAST(12 AS text)'), '12');
    assert.equal(value("CAST('yes' AS boolean)"), true);
    assert.equal(value("CAST('off' AS bool)"), false);
    assert.equal(value('CAST(TRUE AS int)'), 1);
    assert.equal(value("CAST('{\"a\":1}' AS json)->>'a'"), '1');
    assert.equal(value("CAST('2024-03-15T13:45:30.123Z' AS timestamp)"), T0);
    assert.equal(value("'7'::text::int + 1"), 8);
    assert.equal(value('CAST(n AS double precision)', { n: '1e3' }), 1000);
    rejects('SELECT CAST(x AS date) AS d FROM logs', /CAST to DATE is not supported/);
  });

  it('-> and ->> on nested attributes and JSON strings', () => {
    const attributes = {
      http: { request: { method: 'GET', headers: ['a', 'b'] }, status: 200 },
      payload: '{"user":{"id":7,"tags":["x","y"]}}',
      broken: '{"user":',
    };
    assert.equal(value("attributes->'http'->'request'->>'method'", attributes), 'GET');
    assert.equal(value("http->'request'->>'method'", attributes), 'GET');
    assert.equal(value("http->>'status'", attributes), '200');
    assert.equal(value("http->'status'", attributes), 200);
    assert.deepEqual(value("http->'request'", attributes), attributes.http.request);
    assert.equal(value("http->'request'->'headers'->>1", attributes), 'b');
    assert.equal(value("http->'request'->'headers'->>-1", attributes), 'b');
    assert.equal(value("payload->'user'->>'id'", attributes), '7');
    assert.equal(value("payload #>> '{user,tags,0}'", attributes), 'x');
    assert.deepEqual(value("payload #> '{user,tags}'", attributes), ['x', 'y']);
    assert.equal(value("broken->>'user'", attributes), null);
    assert.equal(value("http->>'missing'", attributes), null);
    assert.equal(value("http->'constructor'", attributes), null);
    assert.equal(
      value("message->>'level'", {}, { message: '{"level":"warn"}' }),
      'warn',
      'a JSON log line is parsed on demand',
    );
  });

  it('precedence: AND binds tighter than OR, NOT tighter than AND', () => {
    assert.equal(value('TRUE OR TRUE AND FALSE'), true);
    assert.equal(value('NOT FALSE AND FALSE'), false);
  });
});

describe('sql: LIKE escaping', () => {
  const like = (text: string, pattern: string, escapeWith = '\\', ci = false) => {
    const matcher = compileLike(pattern, escapeWith, ci);
    assert.ok(typeof matcher !== 'string', String(matcher));
    return matcher.matches(text);
  };

  it('% and _ escaped with the default backslash are literal', () => {
    assert.equal(value("'100%' LIKE '100\\%'"), true);
    assert.equal(value("'1000' LIKE '100\\%'"), false);
    assert.equal(value("'a_b' LIKE 'a\\_b'"), true);
    assert.equal(value("'axb' LIKE 'a\\_b'"), false);
    assert.equal(value("'a\\b' LIKE 'a\\\\b'"), true);
  });

  it('ESCAPE picks another escape character; ESCAPE empty turns escaping off', () => {
    assert.equal(value("'50%' LIKE '50!%' ESCAPE '!'"), true);
    assert.equal(value("'50x' LIKE '50!%' ESCAPE '!'"), false);
    assert.equal(value("'a\\x' LIKE 'a\\_' ESCAPE ''"), true);
    rejects("SELECT a LIKE 'x' ESCAPE 'ab' AS v FROM logs", /ESCAPE must be a literal of one/);
  });

  it('regex metacharacters in a pattern are literal', () => {
    for (const special of ['.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '^', '$', '|', '/']) {
      assert.equal(like(`a${special}b`, `a${special}b`), true, special);
      assert.equal(like('axb', `a${special}b`), false, special);
      assert.equal(like(`x${special}`, `%${special}`), true, special);
    }
    assert.equal(value("'a.c' LIKE 'a.c'"), true);
    assert.equal(value("'abc' LIKE 'a.c'"), false);
    assert.equal(value("'f(x)' LIKE 'f(%)'"), true);
    assert.equal(value("'[1]' LIKE '[_]'"), true);
  });

  it('% spans newlines; matching is whole-string; ILIKE folds case', () => {
    assert.equal(like('a\nb', 'a%b'), true);
    assert.equal(like('xab', 'ab'), false);
    assert.equal(like('abx', 'ab'), false);
    assert.equal(like('', '%'), true);
    assert.equal(like('', '_'), false);
    assert.equal(like('aXb', 'AxB', '\\', true), true);
    assert.equal(like('abab', '%ab%ab%'), true);
    assert.equal(like('aab', '%a_b'), true);
    assert.equal(like('ab', 'a%%b'), true);
    assert.equal(like('abc', 'a%b%c%'), true);
    assert.equal(like('acb', 'a%b%c'), false);
  });

  it('a pattern ending with the escape character is a validation error', () => {
    rejects("SELECT message LIKE 'abc\\' AS v FROM logs", /ends with its escape character/);
    assert.equal(value('message LIKE p', { p: 'abc\\' }), null);
  });

  it('many % do not backtrack', () => {
    const started = performance.now();
    assert.equal(like('a'.repeat(20_000), `${'%a'.repeat(40)}%b`), false);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('sql: functions', () => {
  it('text functions', () => {
    assert.equal(value("lower('AbC')"), 'abc');
    assert.equal(value("UPPER('AbC')"), 'ABC');
    assert.equal(value("length('héllo')"), 5);
    assert.equal(value("char_length('ab')"), 2);
    assert.equal(value("trim('  x \\n')"), 'x \\n');
    assert.equal(value("trim(' \t x  ')"), 'x');
    assert.equal(value("trim('xxaxx', 'x')"), 'a');
    assert.equal(value("btrim('xyaxy', 'xy')"), 'a');
    assert.equal(value("ltrim('  a  ')"), 'a  ');
    assert.equal(value("rtrim('  a  ')"), '  a');
    assert.equal(value("rtrim('axx', 'x')"), 'a');
    assert.equal(value("TRIM(LEADING 'x' FROM 'xxaxx')"), 'axx');
    assert.equal(value("TRIM(TRAILING 'x' FROM 'xxaxx')"), 'xxa');
    assert.equal(value("TRIM(BOTH FROM '  a ')"), 'a');
    assert.equal(value("substr('hello', 2, 3)"), 'ell');
    assert.equal(value("substr('hello', 2)"), 'ello');
    assert.equal(value("substring('hello', 0, 2)"), 'h');
    assert.equal(value("substr('hello', 1, -1)"), null);
    assert.equal(value("concat('a', NULL, 1, true)"), 'a1true');
    assert.equal(value("replace('a.b.c', '.', '$&')"), 'a$&b$&c');
    assert.equal(value("replace('abc', '', 'x')"), 'abc');
    assert.equal(value("split_part('a,b,c', ',', 2)"), 'b');
    assert.equal(value("split_part('a,b,c', ',', -1)"), 'c');
    assert.equal(value("split_part('a,b,c', ',', 5)"), '');
    assert.equal(value("split_part('a,b,c', ',', 0)"), null);
    assert.equal(value("starts_with('hello', 'he')"), true);
    assert.equal(value("starts_with('hello', 'lo')"), false);
    assert.equal(value("position('l' IN 'hello')"), 3);
    assert.equal(value("strpos('hello', 'z')"), 0);
    assert.equal(value('lower(missing)', {}), null);
  });

  it('NULL handling: coalesce, nullif, greatest, least', () => {
    assert.equal(value("coalesce(missing, NULL, 'x', 'y')", {}), 'x');
    assert.equal(value('coalesce(missing)', {}), null);
    assert.equal(value('nullif(1, 1)'), null);
    assert.equal(value('nullif(1, 2)'), 1);
    assert.equal(value('greatest(1, 5, NULL, 3)'), 5);
    assert.equal(value("least('b', 'a', 'c')"), 'a');
    assert.equal(value('greatest(NULL, NULL)'), null);
  });

  it('regexp_replace, regexp_extract, regexp_like', () => {
    assert.equal(value("regexp_replace('a1b22', '\\d+', 'N')"), 'aNb22');
    assert.equal(value("regexp_replace('a1b22', '\\d+', 'N', 'g')"), 'aNbN');
    assert.equal(value("regexp_replace('a1', '(\\w)(\\d)', '\\2\\1 $1 \\& \\\\')"), '1a $1 a1 \\');
    assert.equal(value("regexp_replace('ABC', 'b', 'x', 'i')"), 'AxC');
    assert.equal(value("regexp_extract('id=42;', 'id=(\\d+)', 1)"), '42');
    assert.equal(value("regexp_extract('id=42;', 'id=\\d+')"), 'id=42');
    assert.equal(value("regexp_extract('nothing', 'id=(\\d+)', 1)"), null);
    assert.equal(value("regexp_extract('ab', 'a(x)?b', 1)"), null);
    assert.equal(value("regexp_like('ABC', 'b', 'i')"), true);
    assert.equal(value("regexp_like('ABC', 'b')"), false);
    assert.equal(value("REGEXP_LIKE('ABC', 'b', 'ic')"), false);
    assert.equal(value('regexp_like(message, p)', { p: '^hello' }), true);
    assert.equal(value('regexp_extract(message, p, 1)', { p: '(o) (w)' }), 'o');
    assert.equal(value('regexp_extract(message, p, 3)', { p: '(o) (w)' }), null);
  });

  it('numeric functions', () => {
    assert.equal(value('abs(-3)'), 3);
    assert.equal(value('round(2.5)'), 3);
    assert.equal(value('round(-2.5)'), -3);
    assert.equal(value('round(1.005, 2)'), 1.01);
    assert.equal(value('round(1234, -2)'), 1200);
    assert.equal(value('floor(1.7)'), 1);
    assert.equal(value('ceil(1.2)'), 2);
    assert.equal(value('CEILING(-1.2)'), -1);
    assert.equal(value("abs('x')"), null);
  });

  it('time functions (UTC, milliseconds)', () => {
    const before = Date.now();
    const now = value('now()') as number;
    assert.ok(now >= before && now <= Date.now());
    assert.equal(typeof value('current_timestamp'), 'number');
    assert.equal(value('to_timestamp(1700000000)'), 1_700_000_000_000);
    assert.equal(value('from_unixtime(1.5)'), 1500);
    const trunc = (unit: string) => value(`date_trunc('${unit}', timestamp)`);
    assert.equal(trunc('second'), Date.UTC(2024, 2, 15, 13, 45, 30));
    assert.equal(trunc('minute'), Date.UTC(2024, 2, 15, 13, 45));
    assert.equal(trunc('hour'), Date.UTC(2024, 2, 15, 13));
    assert.equal(trunc('DAY'), Date.UTC(2024, 2, 15));
    assert.equal(trunc('week'), Date.UTC(2024, 2, 11));
    assert.equal(trunc('month'), Date.UTC(2024, 2, 1));
    assert.equal(trunc('quarter'), Date.UTC(2024, 0, 1));
    assert.equal(trunc('year'), Date.UTC(2024, 0, 1));
    const fields: [string, number][] = [
      ['year', 2024],
      ['quarter', 1],
      ['month', 3],
      ['day', 15],
      ['hour', 13],
      ['minute', 45],
      ['second', 30.123],
      ['milliseconds', 30_123],
      ['dow', 5],
      ['isodow', 5],
      ['doy', 75],
      ['week', 11],
      ['epoch', T0 / 1000],
    ];
    for (const [field, expected] of fields) {
      assert.equal(value(`extract(${field} FROM timestamp)`), expected, field);
      assert.equal(value(`date_part('${field}', timestamp)`), expected, field);
    }
    assert.equal(value("date_part('week', '2021-01-01T00:00:00Z')"), 53);
    assert.equal(value("date_part('week', '2024-12-30T00:00:00Z')"), 1);
    assert.equal(value("date_part('dow', '2024-03-17T00:00:00Z')"), 0);
    assert.equal(value("date_part('isodow', '2024-03-17T00:00:00Z')"), 7);
    assert.equal(value('date_trunc(u, timestamp)', { u: 'fortnight' }), null);
    assert.equal(value("date_trunc('day', 'not a date')"), null);
    rejects("SELECT date_trunc('fortnight', timestamp) AS d FROM logs", /unit "fortnight"/);
    rejects('SELECT extract(century FROM timestamp) AS d FROM logs', /EXTRACT field century/);
  });

  it('JSON functions', () => {
    const attributes = { doc: { a: { b: [10, 20] } }, text: '{"a":{"b":"c"}}' };
    assert.equal(value("json_extract_path_text(doc, 'a', 'b', '1')", attributes), '20');
    assert.equal(value("json_extract_path_text(attributes, 'doc', 'a', 'b', 0)", attributes), '10');
    assert.equal(value("json_extract_path_text(text, 'a', 'b')", attributes), 'c');
    assert.deepEqual(value("json_extract_path(doc, 'a')", attributes), { b: [10, 20] });
    assert.equal(value("json_extract_path_text(doc, 'zz')", attributes), null);
  });

  it('names are case-insensitive; unknown names and wrong arity are validation errors', () => {
    assert.equal(value("LoWeR('A')"), 'a');
    rejects('SELECT frobnicate(message) AS f FROM logs', /unknown function frobnicate: .*lower/);
    rejects(
      'SELECT lower() AS f FROM logs',
      /function lower expects 1 argument, got 0: lower\(text\)/,
    );
    rejects("SELECT substr('a') AS f FROM logs", /function substr expects 2 or 3 arguments, got 1/);
    rejects('SELECT coalesce() AS f FROM logs', /coalesce expects at least 1 argument, got 0/);
    rejects('SELECT now(1) AS f FROM logs', /function now expects 0 arguments, got 1/);
    rejects('SELECT pg_catalog.lower(message) AS f FROM logs', /schema-qualified/);
  });
});

describe('sql: regular expressions are bounded', () => {
  it('an invalid literal regex is a validation error, wherever it appears', () => {
    rejects(
      "SELECT * FROM logs WHERE message ~ '('",
      /operator ~: invalid regular expression "\("/,
    );
    rejects("SELECT regexp_like(message, '[') AS v FROM logs", /regexp_like: invalid regular/);
    rejects("SELECT regexp_replace(message, 'a{2,1}', '') AS v FROM logs", /regexp_replace/);
    rejects("SELECT regexp_extract(message, '(a)', 2) AS v FROM logs", /group 2 does not exist/);
    rejects("SELECT regexp_like(message, 'a', 'q') AS v FROM logs", /flag "q" is not supported/);
    rejects("SELECT regexp_like(message, 'a', 'g') AS v FROM logs", /flag "g" is not supported/);
    // A constant built from literals is checked too.
    rejects("SELECT * FROM logs WHERE message ~ ('(' || 'x')", /invalid regular expression "\(x"/);
  });

  it('a pattern longer than the limit is refused; from data it gives NULL', () => {
    const long = 'a'.repeat(MAX_PATTERN_LENGTH + 1);
    rejects(`SELECT * FROM logs WHERE message ~ '${long}'`, /the limit is 1000/);
    assert.equal(value('message ~ p', { p: long }), null);
    assert.equal(value('message ~ p', { p: 'a'.repeat(MAX_PATTERN_LENGTH) }), false);
  });

  it('a literal pattern is compiled once, at compile time; patterns from data once each', () => {
    const literal = compileSql(
      "SELECT *, regexp_replace(message, 'o', '0', 'g') AS r FROM logs WHERE message ~* 'WORLD'",
    );
    const fromData = compileSql('SELECT * FROM logs WHERE message ~ p');
    const events = Array.from({ length: 100 }, (_, i) => event({ p: ['^h', 'd$', 'x'][i % 3] }));
    const original = globalThis.RegExp;
    let constructed = 0;
    globalThis.RegExp = new Proxy(original, {
      construct(target, args: [string, string?]) {
        constructed++;
        return new target(...args);
      },
    });
    try {
      assert.equal(literal.run(events).length, 100);
      assert.equal(constructed, 0);
      assert.equal(fromData.run(events).length, 67);
      assert.equal(constructed, 3);
    } finally {
      globalThis.RegExp = original;
    }
  });

  it('the cache of patterns from data is bounded', () => {
    const cache = new RegexCache();
    for (let i = 0; i < 5 * REGEX_CACHE_SIZE; i++) cache.get(`p${i}`, '');
    assert.equal(cache.size, REGEX_CACHE_SIZE);
    assert.equal(cache.get('(', ''), null);
    assert.ok(cache.get('p1', 'i') instanceof RegExp);
    const query = compileSql('SELECT * FROM logs WHERE message ~ p');
    const events = Array.from({ length: 500 }, (_, i) =>
      event({ p: i % 2 === 0 ? `^hel{1,${i + 2}}o` : `(${i}` }),
    );
    assert.equal(query.run(events).length, 250);
  });
});

describe('sql: validation', () => {
  it('names each unsupported construct', () => {
    rejects(
      'SELECT host FROM logs GROUP BY host',
      /^GROUP BY is not supported: a transform sees one batch at a time/,
    );
    rejects("SELECT host FROM logs GROUP BY host HAVING host = 'a'", /^HAVING is not supported/);
    rejects('SELECT * FROM logs ORDER BY timestamp', /^ORDER BY is not supported/);
    rejects('SELECT * FROM logs LIMIT 10', /^LIMIT is not supported/);
    rejects('SELECT * FROM logs LIMIT 10 OFFSET 5', /^LIMIT … OFFSET is not supported/);
    rejects('SELECT DISTINCT host FROM logs', /^DISTINCT is not supported/);
    rejects('SELECT * FROM logs UNION SELECT * FROM logs', /^UNION is not supported/);
    rejects('WITH x AS (SELECT 1) SELECT * FROM logs', /^WITH \(common table expressions\)/);
    rejects(
      'SELECT * FROM logs JOIN users ON logs.user = users.id',
      /^INNER JOIN is not supported/,
    );
    rejects('SELECT * FROM logs LEFT JOIN users ON a = b', /^LEFT JOIN is not supported/);
    rejects('SELECT * FROM logs, users', /^reading several tables is not supported/);
    rejects('SELECT * FROM events', /^FROM must name the table logs, not events\./);
    rejects('SELECT * FROM public.logs', /^FROM must name the table logs, not public\.logs\./);
    rejects('SELECT 1 AS one', /^FROM logs is missing/);
    rejects('SELECT * FROM (SELECT * FROM logs) t', /^subqueries are not supported/);
    rejects('SELECT * FROM logs WHERE host IN (SELECT host FROM logs)', /^subqueries are not/);
    rejects('SELECT (SELECT 1) AS x FROM logs', /^subqueries are not supported/);
    rejects('SELECT * FROM logs WHERE EXISTS (SELECT 1)', /^EXISTS \(subquery\) is not supported/);
    rejects('SELECT count(*) AS n FROM logs', /^aggregate function COUNT is not supported/);
    rejects('SELECT sum(bytes) AS n FROM logs', /^aggregate function SUM is not supported/);
    rejects('SELECT row_number() OVER (ORDER BY timestamp) AS n FROM logs', /^window function/);
    rejects('DELETE FROM logs', /^only SELECT is supported, not DELETE/);
    rejects('SELECT * FROM logs; SELECT * FROM logs', /holds 2 statements/);
    rejects('', /^the query is empty/);
    rejects('  -- nothing\n', /^the query is empty/);
    rejects(
      "SELECT * FROM logs WHERE ts > now() - INTERVAL '1 hour'",
      /^INTERVAL is not supported/,
    );
    rejects('SELECT * FROM logs WHERE a IS DISTINCT FROM b', /IS \[NOT\] DISTINCT FROM/);
    rejects('SELECT * FROM logs WHERE a = $1', /parameters and dollar-quoted strings/);
    rejects("SELECT * FROM logs WHERE a = E'x'", /E'…' escape strings are not supported/);
    rejects("SELECT * FROM logs WHERE a SIMILAR TO 'x'", /operator SIMILAR TO is not supported/);
    rejects("SELECT * FROM logs WHERE other.a = 'x'", /unknown qualifier other in other\.a/);
    rejects("SELECT * FROM logs WHERE a.b.c = 'x'", /has too many parts/);
    rejects('SELECT "a""b" FROM logs', /doubled quote/);
  });

  it('lists every problem at once', () => {
    const problems = checkSql(
      "SELECT count(*) AS n, frob(x) AS f, lower() AS l FROM events WHERE m ~ '(' GROUP BY a ORDER BY b",
    );
    assert.equal(problems.length, 7, problems.join('\n'));
    assert.throws(
      () => compileSql("SELECT frob(x) AS f FROM logs WHERE m ~ '('"),
      (error: unknown) => {
        assert.ok(SpillwayError.is(error, 'ERR_INVALID_OPTION'));
        assert.match(error.message, /unknown function frob/);
        assert.match(error.message, /invalid regular expression/);
        return true;
      },
    );
  });

  it('reports syntax errors with the position in the text as written', () => {
    assert.deepEqual(checkSql('SELECT * FROM logs WHERE'), [
      'syntax error at line 1, column 25: the text ends too early (an expression, keyword or closing parenthesis is missing).',
    ]);
    const [problem] = checkSql('SELECT *\nFROM logs\nWHERE a = = 1');
    assert.match(problem ?? '', /^syntax error at line 3, column 11, near "= 1": unexpected "="/);
    // Backslashes in literals are rewritten before parsing; positions still match the input.
    const [after] = checkSql("SELECT '\\\\\\' AS x FROM logs WHERE a = = 1");
    assert.match(after ?? '', /column 39, near "= 1"/);
  });

  it('checkSql never throws and returns [] for a valid query', () => {
    assert.deepEqual(checkSql("SELECT *, lower(host) AS h FROM logs WHERE host ~ 'a'"), []);
    assert.deepEqual(checkSql('x'.repeat(70_000)).length, 1);
    assert.match(checkSql('x'.repeat(70_000))[0] ?? '', /the limit is 65536/);
    assert.ok(
      checkSql(`SELECT ${'('.repeat(5000)}1${')'.repeat(5000)} AS x FROM logs`).length >= 0,
    );
    assert.ok(checkSql(null as unknown as string).length > 0);
  });
});

describe('sql: compileWhere / checkWhere', () => {
  it('compiles a boolean expression into a predicate; NULL is false', () => {
    const keep = compileWhere("severity = 'error' OR status >= 500");
    assert.equal(keep(event({ status: 503 })), true);
    assert.equal(keep(event({ status: '200' }, { severity: 'error' })), true);
    assert.equal(keep(event({ status: 200 })), false);
    assert.equal(keep(event()), false);
    const recent = compileWhere('timestamp > now() - 60000');
    assert.equal(recent(event({}, { timestamp: Date.now() })), true);
    assert.equal(recent(event({}, { timestamp: Date.now() - 120_000 })), false);
  });

  it('checkWhere lists problems; compileWhere throws them', () => {
    assert.deepEqual(checkWhere("message ILIKE '%timeout%' AND host IN ('a', 'b')"), []);
    assert.deepEqual(checkWhere(''), ['the WHERE expression is empty.']);
    assert.match(checkWhere('a = ')[0] ?? '', /^syntax error at line 1, column \d: the text ends/);
    assert.match(checkWhere('a = = 1')[0] ?? '', /^syntax error at line 1, column 5, near "= 1"/);
    assert.match(
      checkWhere('true LIMIT 4')[0] ?? '',
      /^LIMIT is not allowed in a WHERE expression/,
    );
    assert.match(checkWhere('true; DELETE FROM logs')[0] ?? '', /one boolean expression/);
    assert.match(checkWhere('count(*) > 1')[0] ?? '', /aggregate function COUNT/);
    assert.match(checkWhere("x ~ '['")[0] ?? '', /invalid regular expression/);
    assert.throws(
      () => compileWhere('nope('),
      (e: unknown) => SpillwayError.is(e, 'ERR_INVALID_OPTION'),
    );
  });
});

describe('sql: data never makes a query throw', () => {
  it('odd values give NULL, not exceptions', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const odd = event({
      cyclic,
      big: 10n,
      sym: Symbol('s'),
      fn: () => 1,
      date: new Date(T0),
      bad: new Date(Number.NaN),
      nan: Number.NaN,
    });
    const query = compileSql(
      "SELECT cyclic || 'x' AS a, CAST(sym AS text) AS b, lower(fn) AS c, big + 1 AS d, date_trunc('day', date) AS e, CAST(bad AS text) AS f, nan AS g, upper(cyclic) AS h, cyclic->>'self' AS i FROM logs",
    );
    const [out] = query.run([odd]);
    assert.deepEqual(out, {
      timestamp: T0,
      message: '',
      attributes: { d: 11, e: Date.UTC(2024, 2, 15) },
    });
  });
});
