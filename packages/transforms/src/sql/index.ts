/**
 * SQL over log events: `SELECT … FROM logs [WHERE …]`, compiled once into closures and run over
 * each batch (in-process or in a worker thread).
 *
 * The query is parsed once, with node-sql-parser's PostgreSQL grammar (see parse.ts for why that
 * dialect), and compiled to a tree of closures: no eval, no `new Function`. Everything that can be
 * decided at compile time is: literal regexes and LIKE patterns are compiled, constant
 * sub-expressions folded, units and arities checked. Validation reports every problem at once.
 *
 * ## Rows and columns
 * - `FROM logs` is the only table; `FROM logs AS l` makes `l.x` mean `logs.x`.
 * - `timestamp` (ms since the epoch), `message`, `severity` and `attributes` are the event's own
 *   fields; any other name reads `attributes[name]` (own keys only). `attributes.x` always reads
 *   the attribute, even for `attributes.timestamp`; `logs.x` means the same as `x`. Identifiers
 *   are case-sensitive as written (PostgreSQL would fold unquoted names to lower case; attribute
 *   keys are often camelCase). Quote keys that are not plain identifiers: `"http.method"`.
 * - Nested values: `attributes->'http'->>'status'`, `payload #>> '{a,b}'`,
 *   `json_extract_path_text(payload, 'a', 'b')`. A string that holds a JSON object or array is
 *   parsed when a JSON operator reaches it, so `message->>'user'` works on JSON log lines.
 * - A missing field or key is NULL (JavaScript null and undefined are NULL, and so is NaN).
 *
 * ## NULL and truth
 * Three-valued logic, as in SQL: comparisons with NULL are NULL; `FALSE AND NULL` is FALSE,
 * `TRUE OR NULL` is TRUE, `NOT NULL` is NULL; `x IN (…)` with no match and a NULL in the list is
 * NULL. WHERE keeps a row only when its condition is TRUE. Truth of a non-boolean: numbers are true
 * unless 0, the texts t/true/yes/on/1 and f/false/no/off/0 (any case) are booleans, anything else
 * is NULL. Comparison of mixed types: a number meets numeric text as a number (`status = '200'`),
 * other mixes compare as text; text compares by UTF-16 code unit (no collation).
 *
 * ## Projection
 * - `SELECT *` keeps the whole event; `SELECT *, expr AS name` adds or overwrites `name`.
 *   `SELECT *` alone returns the input event objects unchanged (events are immutable).
 * - Without `*` the output has `timestamp` (the input's, unless a column is named timestamp),
 *   `message` ('' unless a column is named message) and `severity` only when a column is named
 *   severity; every other column goes into `attributes` (left out when empty).
 * - A bare column keeps its name (`attributes.user` gives `user`); any other expression needs
 *   `AS name`: compile-time error otherwise. An output name may appear once.
 * - A column named `attributes` whose value is an object is merged into the output attributes
 *   before the other columns, so `SELECT attributes, lower(user) AS user` rewrites one key.
 * - A NULL value writes nothing: the attribute key is removed, severity left out, message ''.
 * - A value that does not fit its top-level field is kept in `attributes` under the field's name:
 *   a severity that is not one of trace/debug/info/warn/error/fatal (any case is accepted and
 *   lower-cased) leaves severity out and sets `attributes.severity`; a timestamp that is not a
 *   finite number (or Date) keeps the input's timestamp and sets `attributes.timestamp`. A
 *   message is always text: other values are converted (CAST AS text).
 *
 * ## Expressions
 * Literals ('…' with '' for a quote and backslash as an ordinary character; numbers; TRUE, FALSE,
 * NULL); `+ - * / %` (`/` is floating-point; dividing by zero is NULL); `||`; `= != <> < <= > >=`;
 * AND, OR, NOT; IS [NOT] NULL / TRUE / FALSE; [NOT] IN (list); [NOT] BETWEEN; [NOT] LIKE and
 * ILIKE (`%`, `_`, backslash escapes unless ESCAPE says otherwise); `~ ~* !~ !~*` and
 * regexp_like (JavaScript RegExp syntax); CASE in both forms; CAST(x AS int | float | text |
 * boolean | json | timestamp) and `::`; `-> ->> #> #>>`. Functions (any case): abs, btrim, ceil,
 * ceiling, char_length, coalesce, concat, current_timestamp, date_part, date_trunc, EXTRACT,
 * floor, from_unixtime, greatest, json_extract_path, json_extract_path_text, least, length,
 * lower, ltrim, now, nullif, position, regexp_extract, regexp_like, regexp_replace, replace,
 * round, rtrim, split_part, starts_with, strpos, substr, substring, to_timestamp, trim, upper.
 * Lengths and positions count UTF-16 code units; dates are computed in UTC. Names the grammar
 * reserves (json, group, order, limit, offset, table, end, session) must be double-quoted.
 *
 * ## Not supported, each with its own message
 * JOIN (or several tables), subqueries, GROUP BY, HAVING, aggregates (COUNT(*), SUM, …), window
 * functions, ORDER BY, LIMIT/OFFSET, DISTINCT, UNION/INTERSECT/EXCEPT, WITH, SELECT INTO,
 * statements other than SELECT, INTERVAL, E'…' strings, `$1` parameters, IS DISTINCT FROM.
 *
 * ## Data never makes a query throw
 * A function that fails on a row's values (bad regex from data, bad JSON, division by zero)
 * gives NULL for that value; a WHERE that cannot be decided drops the row.
 *
 * @packageDocumentation
 */

import type { LogEvent } from '@spillway/core';
import { SpillwayError } from '@spillway/core';
import { compileQueryText, compileWhereText } from './compile-query.js';

/**
 * A compiled `SELECT … FROM logs [WHERE …]`.
 *
 * When to use: build once (in the transform's `build()`), call `run` for every batch.
 * Gotchas: a compiled query is closures, which cannot be posted to a worker: send the query text
 * and compile it in each worker. Output events may be the input objects themselves (`SELECT *`)
 * or share nested attribute values with them: treat both as immutable.
 */
export interface CompiledQuery {
  /**
   * Runs over one batch: the events that pass WHERE, projected, in input order. Never throws on
   * data: a function error on a row (e.g. bad regex input) yields null for that value.
   * `now()` is read once per call.
   */
  run(events: readonly LogEvent[]): LogEvent[];
}

function invalidError(what: string, problems: readonly string[]): SpillwayError {
  return new SpillwayError(
    'ERR_INVALID_OPTION',
    `invalid ${what}:\n  - ${problems.join('\n  - ')}`,
  );
}

/**
 * Every problem with `query`, as sentences; [] when it compiles. Never throws.
 *
 * When to use: to validate a pipeline specification up front and show all the problems at once.
 * Gotchas: the messages are for people; do not match on their text.
 *
 * @example
 * ```ts
 * checkSql('SELECT count(*) FROM logs GROUP BY host');
 * // [ 'GROUP BY is not supported: a transform sees one batch at a time, …',
 * //   'aggregate function COUNT is not supported: …' ]
 * ```
 */
export function checkSql(query: string): string[] {
  return [...compileQueryText(String(query)).problems];
}

/**
 * Compiles `SELECT … FROM logs [WHERE …]`; throws SpillwayError('ERR_INVALID_OPTION') listing
 * every problem.
 *
 * When to use: in a transform's `build()`, once; then `run` per batch. See the module
 * documentation for the columns, NULL rules and projection.
 * Gotchas: the query runs per batch, so anything that needs the whole stream (GROUP BY, ORDER BY,
 * LIMIT, DISTINCT, aggregates) is rejected rather than computed per batch.
 *
 * @example
 * ```ts
 * const query = compileSql(
 *   "SELECT *, lower(attributes->>'user') AS user FROM logs WHERE severity IN ('warn', 'error')",
 * );
 * const out = query.run(batch.events);
 * ```
 */
export function compileSql(query: string): CompiledQuery {
  const compiled = compileQueryText(String(query));
  if (compiled.value === null) throw invalidError('SQL query', compiled.problems);
  const run = compiled.value;
  return { run };
}

/**
 * For `filter({ where })`: every problem with a boolean SQL expression over one event, as
 * sentences; [] when it compiles. Never throws.
 *
 * @example
 * ```ts
 * checkWhere("message ~ '('"); // [ '~: invalid regular expression "(": …' ]
 * ```
 */
export function checkWhere(expression: string): string[] {
  return [...compileWhereText(String(expression)).problems];
}

/**
 * For `filter({ where })`: compiles a boolean SQL expression over one event (the part after
 * WHERE) into a predicate. True only when the expression is TRUE: NULL and FALSE are false.
 * Throws SpillwayError('ERR_INVALID_OPTION') listing every problem.
 *
 * Gotchas: `now()` is read at each call of the predicate.
 *
 * @example
 * ```ts
 * const keep = compileWhere("severity = 'error' OR status >= 500");
 * const errors = events.filter(keep);
 * ```
 */
export function compileWhere(expression: string): (event: LogEvent) => boolean {
  const compiled = compileWhereText(String(expression));
  if (compiled.value === null) throw invalidError('WHERE expression', compiled.problems);
  return compiled.value;
}
