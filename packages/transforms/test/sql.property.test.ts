// Property tests of the SQL transform compiler: random events through fixed queries never throw
// and keep the output well-formed; SELECT * is the identity; garbage text always yields problems
// and never an exception; LIKE agrees with a regex model; AND/OR/NOT follow the SQL truth
// tables. The seed is committed so a failure reproduces; change it locally to explore further.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import type { LogEvent } from '@spillway/core';
import fc from 'fast-check';
import { checkSql, checkWhere, compileSql, compileWhere } from '../src/sql/index.js';
import { compileLike } from '../src/sql/like.js';

const runs = { seed: 20_251_123, numRuns: 300 } as const;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const KEYS = [
  'status',
  'host',
  'user',
  'payload',
  'pattern',
  'n',
  'tags',
  'constructor',
  '__proto__',
];

/** Values an event may hold: JSON, plus what msgpack and careless producers bring. */
const attributeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('(', '[a-', '%_\\', '{"a":{"b":[1,2]}}', '{"a":', '[1,', '200', ' 42 ', 'true'),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.date({ noInvalidDate: false }),
  fc.double(),
  fc.constant(undefined),
  fc.anything({ maxDepth: 2 }),
);

const logEvent: fc.Arbitrary<LogEvent> = fc
  .record(
    {
      timestamp: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double()),
      message: fc.oneof(fc.string(), fc.constantFrom('{"user":"bob","n":3}', 'GET /a 200')),
      severity: fc.constantFrom(...LEVELS),
      attributes: fc.dictionary(fc.constantFrom(...KEYS), attributeValue, {
        maxKeys: 6,
        noNullPrototype: true,
      }),
    },
    { requiredKeys: ['timestamp', 'message'], noNullPrototype: true },
  )
  .map((e) => e as LogEvent);

const QUERIES = [
  'SELECT * FROM logs',
  "SELECT *, lower(host) AS host, status + 1 AS next FROM logs WHERE status >= 200 OR host ILIKE '%a_%'",
  "SELECT message, severity, payload->'a'->>'b' AS ab, payload #>> '{a,b,0}' AS first, message->>'user' AS user FROM logs",
  "SELECT CASE WHEN n > 1 THEN 'many' WHEN n IS NULL THEN 'none' ELSE 'one' END AS size, CAST(status AS int) AS s, CAST(n AS text) AS t, n::boolean AS b FROM logs",
  "SELECT regexp_replace(message, pattern, 'x', 'g') AS r, message ~ pattern AS m, message LIKE pattern AS l, regexp_extract(message, pattern, 1) AS e FROM logs",
  "SELECT date_trunc('hour', timestamp) AS h, extract(dow FROM timestamp) AS d, to_timestamp(n) AS ts, now() - timestamp AS age FROM logs",
  "SELECT concat(host, '/', user) AS who, coalesce(user, host, 'none') AS c, greatest(n, status) AS g, least(n, 1) AS l, nullif(host, '') AS h FROM logs",
  "SELECT split_part(message, ' ', 2) AS p, substr(message, n, 3) AS s, round(n, 2) AS r, abs(n) AS a, length(user) AS len, json_extract_path_text(attributes, 'payload', 'a') AS j FROM logs",
  "SELECT host AS severity, status AS timestamp, user AS message, tags AS attributes FROM logs WHERE NOT (host IN ('a', NULL)) OR status BETWEEN 1 AND n",
] as const;

/**
 * Checks an output event's shape. An attribute may be undefined only when `SELECT *` carried it
 * over from an input that had it so (`passedThrough`): the compiler itself never writes one.
 */
function assertWellFormed(out: LogEvent, passedThrough: ReadonlySet<string> = new Set()): void {
  assert.equal(typeof out.timestamp, 'number');
  assert.equal(typeof out.message, 'string');
  if (out.severity !== undefined) assert.ok((LEVELS as readonly string[]).includes(out.severity));
  if (out.attributes !== undefined) {
    assert.equal(typeof out.attributes, 'object');
    for (const key of Object.keys(out.attributes)) {
      if (passedThrough.has(key)) continue;
      assert.notEqual(out.attributes[key], undefined, `attribute ${key} is undefined`);
    }
  }
}

describe('sql properties', () => {
  const compiled = QUERIES.map((query) => compileSql(query));

  it('random events through fixed queries never throw and stay well-formed', () => {
    fc.assert(
      fc.property(fc.array(logEvent, { maxLength: 8 }), (events) => {
        // inspect, not structuredClone: deepStrictEqual holds an Invalid Date unequal to itself.
        const before = inspect(events, { depth: Number.POSITIVE_INFINITY });
        const undefinedKeys = undefinedAttributeKeys(events);
        for (const query of compiled.slice(1)) {
          const out = query.run(events);
          assert.ok(out.length <= events.length);
          for (const e of out) assertWellFormed(e, undefinedKeys);
        }
        const after = inspect(events, { depth: Number.POSITIVE_INFINITY });
        assert.equal(after, before, 'a query changed its input');
      }),
      runs,
    );
  });

  it('SELECT * FROM logs returns events deep-equal to the input', () => {
    const query = compiled[0] as ReturnType<typeof compileSql>;
    fc.assert(
      fc.property(fc.array(logEvent, { maxLength: 8 }), (events) => {
        assert.deepEqual(query.run(events), events);
      }),
      runs,
    );
  });

  it('garbage text: checkSql returns problems and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (text) => {
        const problems = checkSql(text);
        assert.ok(Array.isArray(problems));
        for (const p of problems) assert.equal(typeof p, 'string');
        // A valid query names the table logs; anything else must have a problem.
        if (!/logs/i.test(text)) assert.ok(problems.length > 0, JSON.stringify(text));
        checkWhere(text);
      }),
      runs,
    );
  });

  const TOKENS = [
    'SELECT',
    '*',
    'FROM',
    'logs',
    'WHERE',
    'AND',
    'OR',
    'NOT',
    '(',
    ')',
    ',',
    'AS',
    'x',
    'message',
    'status',
    "'a%'",
    "'('",
    '1',
    '0',
    'NULL',
    '=',
    '<>',
    '<',
    '+',
    '/',
    '||',
    'LIKE',
    'ILIKE',
    '~',
    '->>',
    "'k'",
    'IN',
    'BETWEEN',
    'IS',
    'CASE',
    'WHEN',
    'THEN',
    'ELSE',
    'END',
    'CAST',
    'int',
    'lower',
    'regexp_like',
    'now()',
    'count(*)',
    'GROUP BY',
    'LIMIT 1',
    ';',
    '"q"',
    '::',
    'text',
  ];

  it('token soup: checkSql agrees with compileSql, and what compiles runs on any events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }),
        fc.array(logEvent, { maxLength: 4 }),
        (tokens, events) => {
          const query = tokens.join(' ');
          const problems = checkSql(query);
          let compiledQuery: ReturnType<typeof compileSql> | null = null;
          try {
            compiledQuery = compileSql(query);
          } catch (error) {
            assert.ok(problems.length > 0, `compileSql threw but checkSql found nothing: ${query}`);
            assert.equal((error as { code?: string }).code, 'ERR_INVALID_OPTION');
          }
          if (compiledQuery !== null) {
            assert.deepEqual(problems, []);
            for (const e of compiledQuery.run(events)) assertWellFormed(e);
          }
          const whereProblems = checkWhere(tokens.join(' '));
          if (whereProblems.length === 0) {
            const predicate = compileWhere(tokens.join(' '));
            for (const e of events) assert.equal(typeof predicate(e), 'boolean');
          }
        },
      ),
      runs,
    );
  });

  // Random well-formed expressions: most compile, so this exercises the closures on odd data.
  const expression = fc.letrec<{ expression: string }>((tie) => ({
    expression: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(
        'message',
        'status',
        'n',
        'user',
        'payload',
        'pattern',
        'timestamp',
        'severity',
        'attributes',
        'attributes.tags',
        "'a'",
        "'%a_'",
        "'('",
        '\'{"a":1}\'',
        '1',
        '0',
        '-2.5',
        'NULL',
        'TRUE',
        'now()',
      ),
      fc
        .tuple(
          tie('expression'),
          fc.constantFrom(
            'AND',
            'OR',
            '=',
            '<>',
            '<',
            '>=',
            '+',
            '-',
            '*',
            '/',
            '%',
            '||',
            'LIKE',
            'NOT ILIKE',
            '~',
            '!~*',
            '->',
            '->>',
            '#>>',
          ),
          tie('expression'),
        )
        .map(([a, op, b]) => `(${a} ${op} ${b})`),
      tie('expression').map((a) => `(NOT ${a})`),
      tie('expression').map((a) => `(${a} IS NOT NULL)`),
      fc
        .tuple(tie('expression'), tie('expression'), tie('expression'))
        .map(([a, b, c]) => `(${a} BETWEEN ${b} AND ${c})`),
      fc
        .tuple(tie('expression'), fc.array(tie('expression'), { minLength: 1, maxLength: 3 }))
        .map(([a, list]) => `(${a} IN (${list.join(', ')}))`),
      fc
        .tuple(tie('expression'), tie('expression'), tie('expression'))
        .map(([a, b, c]) => `CASE WHEN ${a} THEN ${b} ELSE ${c} END`),
      fc
        .tuple(
          tie('expression'),
          fc.constantFrom('int', 'float', 'text', 'boolean', 'json', 'timestamp'),
        )
        .map(([a, type]) => `CAST(${a} AS ${type})`),
      fc
        .tuple(
          fc.constantFrom(
            'lower',
            'length',
            'trim',
            'substr',
            'concat',
            'coalesce',
            'nullif',
            'replace',
            'split_part',
            'starts_with',
            'strpos',
            'regexp_replace',
            'regexp_extract',
            'regexp_like',
            'abs',
            'round',
            'floor',
            'greatest',
            'least',
            'to_timestamp',
            'date_trunc',
            'date_part',
            'json_extract_path_text',
          ),
          fc.array(tie('expression'), { maxLength: 3 }),
        )
        .map(([name, args]) => `${name}(${args.join(', ')})`),
    ),
  })).expression;

  it('random expressions: what compiles runs on any events without throwing', () => {
    let compiledCount = 0;
    fc.assert(
      fc.property(
        fc.boolean(),
        expression,
        expression,
        expression,
        fc.array(logEvent, { maxLength: 4 }),
        (star, a, b, where, events) => {
          const query = `SELECT ${star ? '*, ' : ''}${a} AS a, ${b} AS b FROM logs WHERE ${where}`;
          const problems = checkSql(query);
          let compiledQuery: ReturnType<typeof compileSql> | null = null;
          try {
            compiledQuery = compileSql(query);
          } catch {
            assert.ok(problems.length > 0, query);
          }
          if (compiledQuery !== null) {
            compiledCount++;
            const passedThrough = undefinedAttributeKeys(events);
            for (const e of compiledQuery.run(events)) assertWellFormed(e, passedThrough);
          }
          if (checkWhere(where).length === 0) {
            const predicate = compileWhere(where);
            for (const e of events) assert.equal(typeof predicate(e), 'boolean');
          }
        },
      ),
      runs,
    );
    assert.ok(compiledCount > runs.numRuns / 4, `only ${compiledCount} queries compiled`);
  });

  it('LIKE agrees with a regex model over a small alphabet', () => {
    const toRegex = (pattern: string, caseInsensitive: boolean): RegExp | null => {
      let source = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] as string;
        if (c === '\\') {
          i++;
          if (i >= pattern.length) return null;
          source += (pattern[i] as string).replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
        } else if (c === '%') source += '[\\s\\S]*';
        else if (c === '_') source += '[\\s\\S]';
        else source += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
      }
      return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '');
    };
    const alphabet = fc.constantFrom('a', 'b', 'A', '%', '_', '\\', '.', '*', '\n');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({
          unit: fc.constantFrom('a', 'b', 'A', '%', '_', '\\', '.', '\n'),
          maxLength: 10,
        }),
        fc.boolean(),
        (pattern, text, caseInsensitive) => {
          const model = toRegex(pattern, caseInsensitive);
          const matcher = compileLike(pattern, '\\', caseInsensitive);
          if (model === null) {
            assert.equal(typeof matcher, 'string');
            return;
          }
          assert.ok(typeof matcher !== 'string');
          assert.equal(
            matcher.matches(text),
            model.test(text),
            `${JSON.stringify(text)} LIKE ${JSON.stringify(pattern)}`,
          );
        },
      ),
      { ...runs, numRuns: 2000 },
    );
  });

  it('AND, OR, NOT and IS NULL follow the three-valued truth tables', () => {
    const truth = fc.constantFrom<boolean | null>(true, false, null);
    const and = (a: boolean | null, b: boolean | null) =>
      a === false || b === false ? false : a === null || b === null ? null : true;
    const or = (a: boolean | null, b: boolean | null) =>
      a === true || b === true ? true : a === null || b === null ? null : false;
    const not = (a: boolean | null) => (a === null ? null : !a);
    const query = compileSql(
      'SELECT a AND b AS "and", a OR b AS "or", NOT a AS "not", a IS NULL AS isnull FROM logs',
    );
    fc.assert(
      fc.property(truth, truth, (a, b) => {
        const [out] = query.run([{ timestamp: 0, message: '', attributes: { a, b } }]);
        const get = (k: string) => out?.attributes?.[k] ?? null;
        assert.equal(get('and'), and(a, b));
        assert.equal(get('or'), or(a, b));
        assert.equal(get('not'), not(a));
        assert.equal(get('isnull'), a === null);
      }),
      runs,
    );
  });
});

/** Attribute keys some input holds with the value undefined (SELECT * carries them over). */
function undefinedAttributeKeys(events: readonly LogEvent[]): Set<string> {
  return new Set(
    events.flatMap((e) =>
      Object.entries(e.attributes ?? {})
        .filter(([, v]) => v === undefined)
        .map(([k]) => k),
    ),
  );
}
