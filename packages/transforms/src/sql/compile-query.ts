/**
 * Compiles a whole `SELECT … FROM logs [WHERE …]` (or a bare WHERE expression) into a runner.
 *
 * Validation lists every problem, not just the first: each unsupported clause gets its own
 * sentence, and expressions keep compiling past their errors (see compile-expression.ts).
 *
 * Projection, per output event (see index.ts for the user-facing rules):
 *
 *     draft  ← SELECT * ? copy of the input : { timestamp: input's, message: '' }
 *     draft  ← merge every column named `attributes` whose value is an object
 *     draft  ← every other column, in SELECT order, through its field's setter
 *     output ← draft (attributes left out when empty and there was no *)
 *
 * `SELECT *` alone returns the input event objects themselves: events are treated as immutable
 * everywhere in a pipeline, and not copying is what makes a pure filter cheap. Any other
 * projection builds new events with the four LogEvent fields (properties outside LogEvent are
 * not carried over) and copies `attributes` before its first write.
 */

import { type LogEvent, type Severity, setField } from '@spillway/core';
import {
  type CompileContext,
  type Compiled,
  columnName,
  compileExpression,
  identifierText,
} from './compile-expression.js';
import { JsonTextCache } from './json.js';
import {
  type AstNode,
  type ColumnRefNode,
  parseStatements,
  renderExpression,
  type SelectNode,
} from './parse.js';
import { RegexCache } from './regex.js';
import { type Evaluator, isNull, toBool, toText } from './values.js';

/** A compiled query's runner. */
export type BatchRunner = (events: readonly LogEvent[]) => LogEvent[];

/** The result of compiling: every problem found, and the runner when there are none. */
export type Compilation<T> =
  | { readonly problems: readonly []; readonly value: T }
  | { readonly problems: readonly string[]; readonly value: null };

const BATCH_NOTE = 'a transform sees one batch at a time';

function createContext(tables: Iterable<string>): CompileContext {
  const problems: string[] = [];
  return {
    problems,
    tables: new Set(tables),
    regexes: new RegexCache(),
    json: new JsonTextCache(),
    clock: { now: Date.now() },
    usesClock: false,
    problem(message: string) {
      if (!problems.includes(message)) problems.push(message);
    },
  };
}

/** Compiles a query. Never throws. */
export function compileQueryText(query: string): Compilation<BatchRunner> {
  return safely(() => compileQueryUnsafe(query));
}

/** Compiles a WHERE expression. Never throws. */
export function compileWhereText(expression: string): Compilation<(event: LogEvent) => boolean> {
  return safely(() => compileWhereUnsafe(expression));
}

function safely<T>(compile: () => Compilation<T>): Compilation<T> {
  try {
    return compile();
  } catch (error) {
    const reason =
      error instanceof RangeError
        ? 'the text is nested too deeply'
        : error instanceof Error
          ? error.message
          : String(error);
    return { problems: [`the SQL could not be compiled: ${reason}.`], value: null };
  }
}

function invalid(problems: readonly string[]): Compilation<never> {
  return { problems, value: null };
}

/** Sentences for the statement-level constructs a transform cannot run. */
function statementProblems(select: SelectNode): string[] {
  const problems: string[] = [];
  if (select.with !== null && select.with !== undefined) {
    problems.push('WITH (common table expressions) is not supported: logs is the only table.');
  }
  if (select._next !== undefined && select._next !== null && select._next !== false) {
    const op = (select.set_op ?? 'union').toUpperCase();
    problems.push(`${op} is not supported: a transform runs one SELECT over each batch.`);
  }
  if (select.distinct?.type !== null && select.distinct?.type !== undefined) {
    problems.push(
      `DISTINCT is not supported: ${BATCH_NOTE}, so it cannot know which events it has already seen.`,
    );
  }
  if (select.into?.position !== null && select.into?.position !== undefined) {
    problems.push('SELECT … INTO is not supported: a transform only returns events.');
  }
  if (hasContent(select.groupby)) {
    problems.push(
      `GROUP BY is not supported: ${BATCH_NOTE}, so it never has a whole group to aggregate.`,
    );
  }
  if (hasContent(select.having)) {
    problems.push(`HAVING is not supported: ${BATCH_NOTE}, so there are no groups to filter.`);
  }
  if (hasContent(select.orderby)) {
    problems.push(
      `ORDER BY is not supported: ${BATCH_NOTE} and events keep the order they arrive in.`,
    );
  }
  if (select.limit !== null && select.limit !== undefined && select.limit.value.length > 0) {
    const what = select.limit.seperator === 'offset' ? 'LIMIT … OFFSET' : 'LIMIT';
    problems.push(
      `${what} is not supported: ${BATCH_NOTE}, so there is no whole result to cut; to keep a share of events use the sample transform.`,
    );
  }
  if (hasContent(select.window)) {
    problems.push(`WINDOW is not supported: ${BATCH_NOTE}.`);
  }
  return problems;
}

function hasContent(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') {
    const columns = (value as { columns?: unknown }).columns;
    return (
      columns === undefined || columns === null || !Array.isArray(columns) || columns.length > 0
    );
  }
  return true;
}

/** Checks FROM; returns the names (lower-cased) that qualify columns, `logs` and its alias. */
function fromTables(select: SelectNode, problems: string[]): string[] {
  const from = select.from;
  if (from === null || from === undefined || from.length === 0) {
    problems.push('FROM logs is missing: a transform query reads the table logs.');
    return ['logs'];
  }
  const tables = ['logs'];
  from.forEach((item, index) => {
    if (index > 0) {
      problems.push(
        item.join !== undefined
          ? `${item.join} is not supported: logs is the only table.`
          : 'reading several tables is not supported: logs is the only table.',
      );
      return;
    }
    if (item.expr !== undefined && item.expr !== null) {
      problems.push('subqueries are not supported: FROM must name the table logs.');
      return;
    }
    const table = String(item.table ?? '');
    const qualified = item.db !== null && item.db !== undefined ? `${item.db}.${table}` : table;
    if (qualified.toLowerCase() !== 'logs') {
      problems.push(`FROM must name the table logs, not ${qualified}.`);
      return;
    }
    if (typeof item.as === 'string' && item.as !== '') tables.push(item.as.toLowerCase());
  });
  return tables;
}

function compileQueryUnsafe(query: string): Compilation<BatchRunner> {
  const parsed = parseStatements(query);
  if (!parsed.ok) return invalid([parsed.problem]);
  const statements = parsed.statements;
  if (statements.length === 0) {
    return invalid(['the query is empty: write SELECT … FROM logs [WHERE …].']);
  }
  if (statements.length > 1) {
    return invalid([
      `the text holds ${statements.length} statements; a transform runs exactly one SELECT.`,
    ]);
  }
  const statement = statements[0] as AstNode;
  if (statement.type !== 'select') {
    return invalid([
      `only SELECT is supported, not ${String(statement.type).toUpperCase()}: a transform returns events and changes nothing else.`,
    ]);
  }
  const select = statement as SelectNode;
  const problems = statementProblems(select);
  const context = createContext(fromTables(select, problems));
  const projection = compileProjection(select, context, problems);
  const where =
    select.where === null || select.where === undefined
      ? null
      : compileExpression(select.where, context);
  const all = [...problems, ...context.problems];
  if (all.length > 0 || projection === null) return invalid(all);
  return { problems: [], value: makeRunner(projection, where, context) };
}

const WHERE_PREFIX = 'SELECT * FROM logs WHERE ';

function compileWhereUnsafe(expression: string): Compilation<(event: LogEvent) => boolean> {
  if (expression.trim() === '') return invalid(['the WHERE expression is empty.']);
  const parsed = parseStatements(WHERE_PREFIX + expression, WHERE_PREFIX.length);
  if (!parsed.ok) return invalid([parsed.problem]);
  const select = parsed.statements[0] as SelectNode | undefined;
  if (parsed.statements.length !== 1 || select?.type !== 'select' || !select.where) {
    return invalid(['a WHERE expression must be one boolean expression, without ; or a SELECT.']);
  }
  const extra = statementProblems(select);
  if (extra.length > 0) {
    return invalid(
      extra.map(
        (p) =>
          `${p.split(' is not supported')[0]} is not allowed in a WHERE expression: give one boolean expression, such as severity = 'error'.`,
      ),
    );
  }
  const context = createContext(['logs']);
  const condition = compileExpression(select.where, context);
  const problems = context.problems;
  if (problems.length > 0) return invalid(problems);
  const test = passes(condition.evaluate);
  const clock = context.clock;
  const predicate = context.usesClock
    ? (event: LogEvent) => {
        clock.now = Date.now();
        return test(event);
      }
    : test;
  return { problems: [], value: predicate };
}

/** WHERE semantics: only TRUE passes; NULL, FALSE and a throw do not. */
function passes(condition: Evaluator): (event: LogEvent) => boolean {
  return (event) => {
    try {
      return toBool(condition(event)) === true;
    } catch {
      return false;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Projection

/** Per-row working copy of the output event. */
interface Draft {
  timestamp: number;
  message: string;
  severity: Severity | undefined;
  attributes: Record<string, unknown> | undefined;
  /** False while `attributes` is still the input's object (copy before writing). */
  ownsAttributes: boolean;
}

type Setter = (draft: Draft, value: unknown) => void;

interface OutputColumn {
  readonly name: string;
  readonly evaluate: Evaluator;
  readonly set: Setter;
}

interface Projection {
  readonly star: boolean;
  readonly merges: readonly Evaluator[];
  readonly columns: readonly OutputColumn[];
}

const SEVERITIES: ReadonlySet<string> = new Set([
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
]);

function writableAttributes(draft: Draft): Record<string, unknown> {
  if (!draft.ownsAttributes || draft.attributes === undefined) {
    draft.attributes = draft.attributes === undefined ? {} : copyRecord(draft.attributes);
    draft.ownsAttributes = true;
  }
  return draft.attributes;
}

/** A shallow copy of own enumerable keys; several times faster than `{ ...source }` in V8 here. */
function copyRecord(source: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) setField(copy, key, source[key]);
  return copy;
}

function setAttribute(draft: Draft, name: string, value: unknown): void {
  if (isNull(value)) {
    // NULL is absence: the key goes (it is NULL when read back either way).
    if (draft.attributes !== undefined && Object.hasOwn(draft.attributes, name)) {
      delete writableAttributes(draft)[name];
    }
    return;
  }
  setField(writableAttributes(draft), name, value);
}

function setterFor(name: string): Setter {
  switch (name) {
    case 'timestamp':
      return (draft, value) => {
        if (typeof value === 'number' && Number.isFinite(value)) draft.timestamp = value;
        else if (value instanceof Date && !Number.isNaN(value.getTime())) {
          draft.timestamp = value.getTime();
        } else if (!isNull(value)) setAttribute(draft, 'timestamp', value);
      };
    case 'message':
      return (draft, value) => {
        draft.message = toText(value) ?? '';
      };
    case 'severity':
      return (draft, value) => {
        const level = typeof value === 'string' ? value.toLowerCase() : null;
        if (level !== null && SEVERITIES.has(level)) {
          draft.severity = level as Severity;
          return;
        }
        draft.severity = undefined;
        if (!isNull(value)) setAttribute(draft, 'severity', value);
      };
    default:
      return (draft, value) => setAttribute(draft, name, value);
  }
}

function mergeAttributes(draft: Draft, value: unknown): void {
  if (isNull(value)) return;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Date
  ) {
    setAttribute(draft, 'attributes', value);
    return;
  }
  for (const key of Object.keys(value)) {
    setAttribute(draft, key, (value as Record<string, unknown>)[key]);
  }
}

function compileProjection(
  select: SelectNode,
  context: CompileContext,
  problems: string[],
): Projection | null {
  let star = false;
  const merges: Evaluator[] = [];
  const columns: OutputColumn[] = [];
  const names = new Set<string>();
  const items = Array.isArray(select.columns) ? select.columns : [];
  items.forEach((item, index) => {
    const expr = item.expr;
    if (expr.type === 'column_ref' && columnName(expr as ColumnRefNode) === '*') {
      const qualifier = identifierText((expr as ColumnRefNode).table);
      if (qualifier !== null && !context.tables.has(qualifier.toLowerCase())) {
        problems.push(`${qualifier}.* is not supported: use * (or logs.*) for the whole event.`);
      } else if (star) problems.push('* appears more than once in the SELECT list.');
      star = true;
      return;
    }
    const known = context.problems.length;
    const compiled: Compiled = compileExpression(expr, context);
    let name = item.as;
    if (name === null || name === undefined) {
      if (expr.type !== 'column_ref') {
        // An item that is wrong in itself gets that sentence, not a second one about its name.
        if (context.problems.length > known) return;
        problems.push(
          `SELECT item ${index + 1} (${renderExpression(expr)}) needs a name: write ${renderExpression(expr)} AS some_name.`,
        );
        return;
      }
      name = columnName(expr as ColumnRefNode);
    }
    if (names.has(name)) {
      problems.push(`the output column ${name} is named more than once in the SELECT list.`);
      return;
    }
    names.add(name);
    const evaluate = guardColumn(compiled.evaluate);
    if (name === 'attributes') merges.push(evaluate);
    else columns.push({ name, evaluate, set: setterFor(name) });
  });
  if (items.length === 0) problems.push('the SELECT list is empty.');
  return { star, merges, columns };
}

/** Last-resort guard: a throw anywhere in a column's expression makes the column NULL. */
function guardColumn(evaluate: Evaluator): Evaluator {
  return (event) => {
    try {
      return evaluate(event);
    } catch {
      return null;
    }
  };
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
}

function makeProjector(projection: Projection): (event: LogEvent) => LogEvent {
  const { star, merges, columns } = projection;
  if (star && merges.length === 0 && columns.length === 0) return (event) => event;
  return (event) => {
    const draft: Draft = star
      ? {
          timestamp: event.timestamp,
          message: event.message,
          severity: event.severity,
          attributes: event.attributes,
          ownsAttributes: false,
        }
      : {
          timestamp: event.timestamp,
          message: '',
          severity: undefined,
          attributes: undefined,
          ownsAttributes: true,
        };
    for (const merge of merges) mergeAttributes(draft, merge(event));
    for (const column of columns) column.set(draft, column.evaluate(event));
    // A fresh object with the four LogEvent fields, always in this order (one hidden class).
    const out: LogEvent = { timestamp: draft.timestamp, message: draft.message };
    if (draft.severity !== undefined) out.severity = draft.severity;
    const attributes = draft.attributes;
    if (attributes !== undefined && (star || hasKeys(attributes))) out.attributes = attributes;
    return out;
  };
}

function makeRunner(
  projection: Projection,
  where: Compiled | null,
  context: CompileContext,
): BatchRunner {
  const project = makeProjector(projection);
  const test = where === null ? null : passes(where.evaluate);
  const clock = context.usesClock ? context.clock : null;
  return (events) => {
    if (clock !== null) clock.now = Date.now();
    const out: LogEvent[] = [];
    for (const event of events) {
      if (test !== null && !test(event)) continue;
      out.push(project(event));
    }
    return out;
  };
}
