/**
 * Compiles one expression node into a closure `(event) => value`: a tree of closures mirroring
 * the AST, built once, with no eval and no `new Function`.
 *
 *     lower(message) LIKE '%timeout%'
 *
 *       like(pattern)            ← matcher compiled now, from the constant pattern
 *        └─ call lower           ← wrapped: a throw inside becomes NULL
 *            └─ read message     ← (event) => event.message
 *
 * Invariants:
 * - Compilation never stops at the first problem: a node in error records a sentence in the
 *   context and compiles to NULL, so the caller can list every problem at once.
 * - A node whose children are all constants (and which does not read the clock) is evaluated once
 *   here and becomes a constant; that is how `'^' || 'x'` is a constant regex pattern.
 * - Function calls are guarded (a throw yields NULL, as does NaN); operators are written to be
 *   total, and the query compiler guards each output column and the WHERE clause as a last resort.
 */

import type { LogEvent } from '@spillway/core';
import {
  type Argument,
  type BuildContext,
  datePart,
  describeArity,
  FUNCTION_NAMES,
  FUNCTIONS,
  regexOperand,
} from './functions.js';
import { getMember, getPath, parseTextPath } from './json.js';
import { compileLike, type LikeMatcher } from './like.js';
import type {
  AstNode,
  BinaryExprNode,
  CaseNode,
  CastNode,
  ColumnRefNode,
  ExprListNode,
  ExtractNode,
  FunctionNode,
  IdentifierNode,
  UnaryExprNode,
} from './parse.js';
import { renderExpression, stringLiteralValue } from './parse.js';
import { EXTRACT_FIELDS, extractField, toEpochMillis } from './time.js';
import {
  compare,
  type Evaluator,
  isNull,
  not,
  sqlEquals,
  toBool,
  toNumber,
  toText,
} from './values.js';

/** A compiled expression; `constant` is set when its value is known at compile time. */
export type Compiled = Argument;

/** State shared by every node of one query. */
export interface CompileContext extends BuildContext {
  /** Every problem recorded so far, without duplicates. */
  readonly problems: readonly string[];
  /** Lower-cased names that qualify a column as the event's (`logs` and the FROM alias). */
  readonly tables: ReadonlySet<string>;
  /** Set when some node reads the clock: the runner must then set `clock.now`. */
  usesClock: boolean;
}

/** The event's own fields; every other column name reads `attributes[name]`. */
export const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'timestamp',
  'message',
  'severity',
  'attributes',
]);

const PROBE_EVENT: LogEvent = { timestamp: 0, message: '' };

function constant(value: unknown): Compiled {
  const v = isNull(value) ? null : value;
  return { evaluate: () => v, constant: { value: v } };
}

const NULL_CONSTANT = constant(null);

/** A node built from `children`: folded into a constant when they all are and it is pure. */
function derived(children: readonly Compiled[], evaluate: Evaluator, pure = true): Compiled {
  if (pure && children.every((c) => c.constant !== undefined)) {
    let value: unknown;
    try {
      value = evaluate(PROBE_EVENT);
    } catch {
      value = null;
    }
    return constant(value);
  }
  return { evaluate };
}

/** Wraps a function call so that a throw, or NaN, becomes NULL. */
function guard(evaluate: Evaluator): Evaluator {
  return (event) => {
    try {
      const value = evaluate(event);
      return Number.isNaN(value) ? null : value;
    } catch {
      return null;
    }
  };
}

function fail(context: CompileContext, message: string): Compiled {
  context.problem(message);
  return NULL_CONSTANT;
}

/** The name an identifier node, or a bare string, carries. */
export function identifierText(value: string | IdentifierNode | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value.value);
}

/** A column reference's column name, `*` for a star. */
export function columnName(node: ColumnRefNode): string {
  const column = node.column;
  return typeof column === 'string' ? column : String(column.expr.value);
}

/** Compiles `node`. Never throws; problems go to `context`. */
export function compileExpression(node: AstNode, context: CompileContext): Compiled {
  switch (node.type) {
    case 'column_ref':
      return compileColumn(node as ColumnRefNode, context);
    case 'single_quote_string':
    case 'string':
      return constant(stringLiteralValue(String(node.value)));
    case 'number':
    case 'bigint': {
      const n = Number(node.value);
      return constant(Number.isNaN(n) ? null : n);
    }
    case 'bool':
      return constant(node.value === true);
    case 'null':
      return NULL_CONSTANT;
    case 'binary_expr':
      return compileBinary(node as BinaryExprNode, context);
    case 'unary_expr':
      return compileUnary(node as UnaryExprNode, context);
    case 'function':
      return compileFunction(node as FunctionNode, context);
    case 'case':
      return compileCase(node as CaseNode, context);
    case 'cast':
      return compileCast(node as CastNode, context);
    case 'extract':
      return compileExtract(node as ExtractNode, context);
    case 'aggr_func':
      return fail(
        context,
        `aggregate function ${String(node.name).toUpperCase()} is not supported: a transform sees one batch at a time, so it never has a whole result to aggregate.`,
      );
    case 'window_func':
      return fail(
        context,
        `window function ${String(node.name)} is not supported: a transform sees one batch at a time.`,
      );
    case 'expr_list':
      return fail(context, 'a parenthesised list is only allowed after IN.');
    case 'interval':
      return fail(
        context,
        'INTERVAL is not supported: timestamps are milliseconds, so add or subtract a number (now() - 60000 is a minute ago).',
      );
    case 'var':
      return fail(
        context,
        `${renderExpression(node)}: parameters and dollar-quoted strings are not supported; write a '…' literal.`,
      );
    case 'star':
      return fail(context, '* is only allowed as the SELECT list item * (or logs.*).');
    case 'default':
      if (/^e'/i.test(String(node.value))) {
        return fail(
          context,
          `E'…' escape strings are not supported: write the characters directly in a '…' literal (a quote is '').`,
        );
      }
      break;
    case undefined:
      if ('ast' in node) {
        return fail(
          context,
          'subqueries are not supported: a transform sees one event at a time and logs is the only table.',
        );
      }
      break;
  }
  return fail(context, `unsupported expression: ${renderExpression(node)}.`);
}

function compileColumn(node: ColumnRefNode, context: CompileContext): Compiled {
  const name = columnName(node);
  const qualifier = identifierText(node.table);
  if (node.schema !== undefined && node.schema !== null) {
    return fail(
      context,
      `column ${node.schema}.${qualifier}.${name} has too many parts: quote a dotted attribute key ("a.b") or use -> / ->> for nested values.`,
    );
  }
  if (name === '*')
    return fail(context, '* is only allowed as the SELECT list item * (or logs.*).');
  if (qualifier === null || context.tables.has(qualifier.toLowerCase())) return readField(name);
  if (qualifier.toLowerCase() === 'attributes') return { evaluate: readAttribute(name) };
  return fail(
    context,
    `unknown qualifier ${qualifier} in ${qualifier}.${name}: columns belong to logs (or attributes.name); for an attribute key with a dot write "${qualifier}.${name}", for a nested value ${qualifier}->>'${name}'.`,
  );
}

/** Reads a top-level field, or `attributes[name]` for any other name. */
function readField(name: string): Compiled {
  switch (name) {
    case 'timestamp':
      return { evaluate: (event) => event.timestamp ?? null };
    case 'message':
      return { evaluate: (event) => event.message ?? null };
    case 'severity':
      return { evaluate: (event) => event.severity ?? null };
    case 'attributes':
      return { evaluate: (event) => event.attributes ?? null };
    default:
      return { evaluate: readAttribute(name) };
  }
}

/** Reads `attributes[name]`: own properties only, missing is NULL. */
export function readAttribute(name: string): Evaluator {
  if (name in Object.prototype || name === '__proto__') {
    // `constructor`, `toString`, …: an inherited property is not an attribute.
    return (event) => {
      const attributes = event.attributes;
      if (attributes === undefined || attributes === null || !Object.hasOwn(attributes, name)) {
        return null;
      }
      return attributes[name] ?? null;
    };
  }
  return (event) => {
    const attributes = event.attributes;
    if (attributes === undefined || attributes === null) return null;
    return attributes[name] ?? null;
  };
}

function compileBinary(node: BinaryExprNode, context: CompileContext): Compiled {
  const operator = node.operator.toUpperCase();
  switch (operator) {
    case 'AND':
    case 'OR':
      return compileLogic(operator, node, context);
    case '=':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compileComparison(operator, node, context);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return compileArithmetic(operator, node, context);
    case '||':
      return compileConcat(node, context);
    case 'LIKE':
    case 'NOT LIKE':
    case 'ILIKE':
    case 'NOT ILIKE':
      return compileLikeOperator(operator, node, context);
    case '~':
    case '~*':
    case '!~':
    case '!~*':
      return compileRegexMatch(operator, node, context);
    case 'IN':
    case 'NOT IN':
      return compileIn(operator === 'NOT IN', node, context);
    case 'BETWEEN':
    case 'NOT BETWEEN':
      return compileBetween(operator === 'NOT BETWEEN', node, context);
    case 'IS':
    case 'IS NOT':
      return compileIs(operator === 'IS NOT', node, context);
    case '->':
    case '->>':
      return compileMember(operator === '->>', node, context);
    case '#>':
    case '#>>':
      return compilePath(operator === '#>>', node, context);
    default:
      compileExpression(node.left, context);
      compileExpression(node.right, context);
      return fail(context, `operator ${operator} is not supported.`);
  }
}

function both(node: BinaryExprNode, context: CompileContext): [Compiled, Compiled] {
  return [compileExpression(node.left, context), compileExpression(node.right, context)];
}

function compileLogic(
  operator: 'AND' | 'OR',
  node: BinaryExprNode,
  context: CompileContext,
): Compiled {
  const [l, r] = both(node, context);
  const left = l.evaluate;
  const right = r.evaluate;
  // Three-valued: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE, otherwise NULL wins.
  const evaluate: Evaluator =
    operator === 'AND'
      ? (event) => {
          const a = toBool(left(event));
          if (a === false) return false;
          const b = toBool(right(event));
          if (b === false) return false;
          return a === null || b === null ? null : true;
        }
      : (event) => {
          const a = toBool(left(event));
          if (a === true) return true;
          const b = toBool(right(event));
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
  return derived([l, r], evaluate);
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function compileComparison(
  operator: string,
  node: BinaryExprNode,
  context: CompileContext,
): Compiled {
  const [l, r] = both(node, context);
  const left = l.evaluate;
  const right = r.evaluate;
  const test = COMPARISONS[operator] as (c: number) => boolean;
  return derived([l, r], (event) => {
    const c = compare(left(event), right(event));
    return c === null ? null : test(c);
  });
}

const ARITHMETIC: Record<string, (a: number, b: number) => number | null> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  // Division and remainder by zero are errors in PostgreSQL; on data we never throw: NULL.
  '/': (a, b) => (b === 0 ? null : a / b),
  '%': (a, b) => (b === 0 ? null : a % b),
};

function compileArithmetic(
  operator: string,
  node: BinaryExprNode,
  context: CompileContext,
): Compiled {
  const [l, r] = both(node, context);
  const left = l.evaluate;
  const right = r.evaluate;
  const apply = ARITHMETIC[operator] as (a: number, b: number) => number | null;
  return derived([l, r], (event) => {
    const a = toNumber(left(event));
    if (a === null) return null;
    const b = toNumber(right(event));
    if (b === null) return null;
    const result = apply(a, b);
    return result === null || Number.isNaN(result) ? null : result;
  });
}

function compileConcat(node: BinaryExprNode, context: CompileContext): Compiled {
  const [l, r] = both(node, context);
  const left = l.evaluate;
  const right = r.evaluate;
  return derived([l, r], (event) => {
    const a = toText(left(event));
    if (a === null) return null;
    const b = toText(right(event));
    return b === null ? null : a + b;
  });
}

function compileLikeOperator(
  operator: string,
  node: BinaryExprNode,
  context: CompileContext,
): Compiled {
  const negated = operator.startsWith('NOT ');
  const caseInsensitive = operator.endsWith('ILIKE');
  const [l, r] = both(node, context);
  let escapeChar = '\\';
  const escapeNode = (node.right as { escape?: { value?: AstNode } }).escape?.value;
  if (escapeNode !== undefined) {
    const e = compileExpression(escapeNode, context);
    const text = e.constant === undefined ? null : toText(e.constant.value);
    if (text === null || text.length > 1) {
      return fail(context, 'ESCAPE must be a literal of one character, or the empty string.');
    }
    escapeChar = text;
  }
  const text = l.evaluate;
  const apply = (matcher: LikeMatcher | null, value: string): boolean | null => {
    if (matcher === null) return null;
    return matcher.matches(value) !== negated;
  };
  if (r.constant !== undefined) {
    const pattern = toText(r.constant.value);
    if (pattern === null) return NULL_CONSTANT;
    const matcher = compileLike(pattern, escapeChar, caseInsensitive);
    if (typeof matcher === 'string') return fail(context, `operator ${operator}: ${matcher}`);
    return derived([l], (event) => {
      const value = toText(text(event));
      return value === null ? null : apply(matcher, value);
    });
  }
  const patternOf = r.evaluate;
  return {
    evaluate: (event) => {
      const value = toText(text(event));
      if (value === null) return null;
      const pattern = toText(patternOf(event));
      if (pattern === null) return null;
      // Compiling a LIKE pattern is linear in its length: no cache needed.
      const matcher = compileLike(pattern, escapeChar, caseInsensitive);
      return apply(typeof matcher === 'string' ? null : matcher, value);
    },
  };
}

function compileRegexMatch(
  operator: string,
  node: BinaryExprNode,
  context: CompileContext,
): Compiled {
  const [l, r] = both(node, context);
  const negated = operator.startsWith('!');
  const regexOf = regexOperand(
    `operator ${operator}`,
    r,
    operator.endsWith('*') ? 'i' : '',
    false,
    context,
  );
  const text = l.evaluate;
  return derived([l, r], (event) => {
    const value = toText(text(event));
    if (value === null) return null;
    const regex = regexOf(event);
    return regex === null ? null : regex.test(value) !== negated;
  });
}

function compileIn(negated: boolean, node: BinaryExprNode, context: CompileContext): Compiled {
  const l = compileExpression(node.left, context);
  if (node.right.type !== 'expr_list') {
    compileExpression(node.right, context);
    return fail(context, 'IN must be followed by a parenthesised list of values.');
  }
  const items = (node.right as ExprListNode).value.map((item) => compileExpression(item, context));
  const left = l.evaluate;
  const evaluators = items.map((item) => item.evaluate);
  return derived([l, ...items], (event) => {
    const value = left(event);
    if (isNull(value)) return null;
    let sawNull = false;
    for (const item of evaluators) {
      const equal = sqlEquals(value, item(event));
      if (equal === true) return !negated;
      if (equal === null) sawNull = true;
    }
    // x IN (…, NULL) without a match is NULL, not FALSE; so is x NOT IN (…, NULL).
    return sawNull ? null : negated;
  });
}

function compileBetween(negated: boolean, node: BinaryExprNode, context: CompileContext): Compiled {
  const l = compileExpression(node.left, context);
  const bounds = node.right.type === 'expr_list' ? (node.right as ExprListNode).value : [];
  if (bounds.length !== 2) return fail(context, 'BETWEEN needs two bounds: x BETWEEN a AND b.');
  const low = compileExpression(bounds[0] as AstNode, context);
  const high = compileExpression(bounds[1] as AstNode, context);
  const value = l.evaluate;
  const lowOf = low.evaluate;
  const highOf = high.evaluate;
  return derived([l, low, high], (event) => {
    const v = value(event);
    const a = compare(v, lowOf(event));
    const b = compare(v, highOf(event));
    const aboveLow = a === null ? null : a >= 0;
    const belowHigh = b === null ? null : b <= 0;
    const inside =
      aboveLow === false || belowHigh === false
        ? false
        : aboveLow === null || belowHigh === null
          ? null
          : true;
    return negated ? not(inside) : inside;
  });
}

function compileIs(negated: boolean, node: BinaryExprNode, context: CompileContext): Compiled {
  const l = compileExpression(node.left, context);
  const value = l.evaluate;
  const right = node.right;
  if (right.type === 'null') {
    return derived([l], (event) => isNull(value(event)) !== negated);
  }
  if (right.type === 'bool') {
    const wanted = right.value === true;
    return derived([l], (event) => (toBool(value(event)) === wanted) !== negated);
  }
  if (right.type === 'default' && /^distinct\s+from/i.test(String(right.value))) {
    return fail(
      context,
      'IS [NOT] DISTINCT FROM is not supported: use coalesce() or IS NULL checks with =.',
    );
  }
  return fail(context, 'IS must be followed by NULL, TRUE or FALSE (optionally with NOT).');
}

function compileMember(asText: boolean, node: BinaryExprNode, context: CompileContext): Compiled {
  const [l, r] = both(node, context);
  const container = l.evaluate;
  const key = r.evaluate;
  const json = context.json;
  return derived([l, r], (event) => {
    const k = key(event);
    if (isNull(k)) return null;
    const member = getMember(container(event), k, json);
    return asText ? toText(member) : member;
  });
}

function compilePath(asText: boolean, node: BinaryExprNode, context: CompileContext): Compiled {
  const [l, r] = both(node, context);
  const container = l.evaluate;
  const json = context.json;
  let fixed: string[] | null = null;
  if (r.constant !== undefined) {
    const text = toText(r.constant.value);
    fixed = text === null ? null : parseTextPath(text);
    if (fixed === null) {
      return fail(context, `${asText ? '#>>' : '#>'} needs a text path such as '{a,b}'.`);
    }
  }
  const pathOf = r.evaluate;
  return derived([l, r], (event) => {
    let path = fixed;
    if (path === null) {
      const text = toText(pathOf(event));
      path = text === null ? null : parseTextPath(text);
      if (path === null) return null;
    }
    const value = getPath(container(event), path, json);
    return asText ? toText(value) : value;
  });
}

function compileUnary(node: UnaryExprNode, context: CompileContext): Compiled {
  const operand = compileExpression(node.expr, context);
  const value = operand.evaluate;
  switch (node.operator.toUpperCase()) {
    case 'NOT':
      return derived([operand], (event) => not(toBool(value(event))));
    case '-':
      return derived([operand], (event) => {
        const n = toNumber(value(event));
        return n === null ? null : -n;
      });
    case '+':
      return derived([operand], (event) => toNumber(value(event)));
    default:
      return fail(context, `operator ${node.operator} is not supported.`);
  }
}

/** The argument list of TRIM([BOTH|LEADING|TRAILING] [chars] FROM text) or POSITION(a IN b). */
function rewriteKeywordSyntax(
  name: string,
  args: readonly AstNode[],
): { name: string; args: readonly AstNode[] } | null {
  const keyword = (node: AstNode | undefined) =>
    node?.type === 'origin' ? String(node.value).toLowerCase() : null;
  if (!args.some((a) => a.type === 'origin')) return { name, args };
  if (name === 'position' && args.length === 3 && keyword(args[1]) === 'in') {
    return { name: 'strpos', args: [args[2] as AstNode, args[0] as AstNode] };
  }
  if (name === 'trim') {
    let rest = args;
    let variant = 'btrim';
    const side = keyword(rest[0]);
    if (side === 'both' || side === 'leading' || side === 'trailing') {
      variant = side === 'leading' ? 'ltrim' : side === 'trailing' ? 'rtrim' : 'btrim';
      rest = rest.slice(1);
    }
    const from = rest.findIndex((a) => keyword(a) === 'from');
    if (from < 0 || from > 1 || from !== rest.length - 2) return null;
    const source = rest[rest.length - 1] as AstNode;
    return { name: variant, args: from === 1 ? [source, rest[0] as AstNode] : [source] };
  }
  return null;
}

function compileFunction(node: FunctionNode, context: CompileContext): Compiled {
  const parts = node.name.name.map((part) => String(part.value));
  const written = parts.join('.');
  let name = written.toLowerCase();
  const rawArgs = node.args?.value ?? [];
  if (node.name.schema !== undefined && node.name.schema !== null) {
    return fail(context, `schema-qualified function names are not supported: ${written}.`);
  }
  if (node.over !== undefined && node.over !== null) {
    return fail(
      context,
      `window functions (${written} … OVER) are not supported: a transform sees one batch at a time.`,
    );
  }
  if (name === 'not' && rawArgs.length === 1) {
    // The grammar reads `NOT (a = 1)` as a call of a function named NOT.
    const operand = compileExpression(rawArgs[0] as AstNode, context);
    const value = operand.evaluate;
    return derived([operand], (event) => not(toBool(value(event))));
  }
  if (name === 'exists') {
    return fail(
      context,
      'EXISTS (subquery) is not supported: subqueries are not supported, and logs is the only table.',
    );
  }
  if (name === 'any' || name === 'all' || name === 'some') {
    return fail(context, `${written.toUpperCase()} (…) is not supported: use IN (…).`);
  }
  const rewritten = rewriteKeywordSyntax(name, rawArgs);
  if (rewritten === null) return fail(context, `unsupported syntax in ${written}(…).`);
  name = rewritten.name;
  const args = rewritten.args.map((a) => compileExpression(a, context));
  const spec = FUNCTIONS.get(name);
  if (spec === undefined) {
    return fail(
      context,
      `unknown function ${written}: supported functions are ${FUNCTION_NAMES.join(', ')}.`,
    );
  }
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    return fail(
      context,
      `function ${written} expects ${describeArity(spec)}, got ${args.length}: ${spec.usage}.`,
    );
  }
  if (!spec.pure) context.usesClock = true;
  return derived(args, guard(spec.build(args, context)), spec.pure);
}

function compileCase(node: CaseNode, context: CompileContext): Compiled {
  const operand = node.expr === null ? null : compileExpression(node.expr, context);
  const whens: { cond: Compiled; result: Compiled }[] = [];
  let otherwise: Compiled = NULL_CONSTANT;
  for (const branch of node.args) {
    if (branch.type === 'else') otherwise = compileExpression(branch.result, context);
    else {
      whens.push({
        cond: compileExpression(branch.cond as AstNode, context),
        result: compileExpression(branch.result, context),
      });
    }
  }
  const conds = whens.map((w) => w.cond.evaluate);
  const results = whens.map((w) => w.result.evaluate);
  const fallback = otherwise.evaluate;
  const children = [...whens.flatMap((w) => [w.cond, w.result]), otherwise];
  if (operand === null) {
    return derived(children, (event) => {
      for (let i = 0; i < conds.length; i++) {
        if (toBool((conds[i] as Evaluator)(event)) === true)
          return (results[i] as Evaluator)(event);
      }
      return fallback(event);
    });
  }
  const subject = operand.evaluate;
  return derived([operand, ...children], (event) => {
    const value = subject(event);
    for (let i = 0; i < conds.length; i++) {
      if (sqlEquals(value, (conds[i] as Evaluator)(event)) === true) {
        return (results[i] as Evaluator)(event);
      }
    }
    return fallback(event);
  });
}

type Converter = (value: unknown) => unknown;

function toJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}

function toInteger(value: unknown): number | null {
  const n = typeof value === 'boolean' ? Number(value) : toNumber(value);
  if (n === null || !Number.isFinite(n)) return null;
  // PostgreSQL rounds half away from zero when casting to an integer type.
  return Math.sign(n) * Math.round(Math.abs(n));
}

const CAST_TYPES: ReadonlyMap<string, Converter> = (() => {
  const int: Converter = toInteger;
  const float: Converter = (v) => (typeof v === 'boolean' ? Number(v) : toNumber(v));
  const map = new Map<string, Converter>();
  for (const t of ['INT', 'INTEGER', 'BIGINT', 'SMALLINT', 'INT2', 'INT4', 'INT8']) map.set(t, int);
  for (const t of ['FLOAT', 'FLOAT4', 'FLOAT8', 'REAL', 'DOUBLE', 'DOUBLE PRECISION', 'NUMERIC']) {
    map.set(t, float);
  }
  map.set('DECIMAL', float);
  for (const t of ['TEXT', 'VARCHAR', 'CHAR', 'CHARACTER', 'CHARACTER VARYING', 'STRING']) {
    map.set(t, toText);
  }
  map.set('BOOLEAN', toBool);
  map.set('BOOL', toBool);
  map.set('JSON', toJson);
  map.set('JSONB', toJson);
  map.set('TIMESTAMP', toEpochMillis);
  map.set('TIMESTAMPTZ', toEpochMillis);
  return map;
})();

function compileCast(node: CastNode, context: CompileContext): Compiled {
  const operand = compileExpression(node.expr, context);
  const converters: Converter[] = [];
  for (const target of node.target) {
    const type = String(target.dataType).toUpperCase();
    const converter = CAST_TYPES.get(type);
    if (converter === undefined) {
      return fail(
        context,
        `CAST to ${type} is not supported: use int, float, text, boolean, json or timestamp (milliseconds).`,
      );
    }
    converters.push(converter);
  }
  const value = operand.evaluate;
  if (converters.length === 1) {
    const convert = converters[0] as Converter;
    return derived([operand], (event) => {
      const v = value(event);
      return isNull(v) ? null : convert(v);
    });
  }
  return derived([operand], (event) => {
    let v = value(event);
    for (const convert of converters) {
      if (isNull(v)) return null;
      v = convert(v);
    }
    return v;
  });
}

function compileExtract(node: ExtractNode, context: CompileContext): Compiled {
  const source = compileExpression(node.args.source, context);
  const field = extractField(String(node.args.field));
  if (field === null) {
    return fail(
      context,
      `EXTRACT field ${String(node.args.field)} is not supported (use one of ${EXTRACT_FIELDS.join(', ')}).`,
    );
  }
  return derived([source], guard(datePart([constant(field), source], context)));
}
