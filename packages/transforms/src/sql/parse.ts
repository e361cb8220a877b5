/**
 * Parsing: the one module that touches node-sql-parser, and the narrow AST types we rely on.
 *
 * Dialect: we load `node-sql-parser/build/postgresql.js` alone (about 190 KB) rather than the
 * package entry, which bundles every dialect (several MB), because each worker thread that runs
 * a SQL transform loads this module. PostgreSQL's grammar is the one that covers what log queries
 * need: the JSON operators `->`, `->>`, `#>`, `#>>`; regex match `~`, `~*`, `!~`, `!~*`; ILIKE;
 * `::` casts next to CAST(… AS …); both forms of CASE; `||` as string concatenation (MySQL's
 * grammar reads it as OR); and standard quoting, '…' for strings and "…" for identifiers (in
 * MySQL "…" is a string, so `"http.method"` could not name an attribute).
 *
 * String literals follow standard SQL (PostgreSQL with standard_conforming_strings): a backslash
 * is an ordinary character and `''` is a quote. The grammar instead decodes some backslash
 * sequences (`\n`, `\t`, `\b`, `\uXXXX`) and keeps others, so `'\bword\b'` would reach the regex
 * engine as two backspace characters. So before parsing, every backslash inside a '…' literal is
 * rewritten as `\u005C`, which the grammar decodes back into exactly one backslash; after parsing,
 * {@link stringLiteralValue} turns `''` into `'`. Positions the parser reports are mapped back to
 * the caller's text, so a syntax error points at what the user wrote.
 *
 * The AST types below describe only the fields this compiler reads, as node-sql-parser 5.x
 * produces them for the PostgreSQL grammar. They are checked at run time where the shape varies
 * (a column is sometimes a string, sometimes an object), and trusted elsewhere.
 */

import { createRequire } from 'node:module';
import type postgresql from 'node-sql-parser/build/postgresql.js';

/** Queries longer than this are refused before parsing: the parser's cost grows with length. */
export const MAX_QUERY_LENGTH = 65_536;

/** Any AST node: every node has a `type`, except subqueries (`{ ast, tableList, … }`). */
export interface AstNode {
  readonly type?: string;
  readonly [key: string]: unknown;
}

/** `{ type: 'default' | 'double_quote_string', value }`: an identifier, quoted or not. */
export interface IdentifierNode extends AstNode {
  readonly value: string;
}

export interface ColumnRefNode extends AstNode {
  readonly type: 'column_ref';
  /** Three-part names (`a.b.c`) put the first part here. */
  readonly schema?: string | null;
  /** The qualifier: a string, an identifier node (for `logs.*`) or null. */
  readonly table: string | IdentifierNode | null;
  /** `'*'` for a star, otherwise `{ expr: identifier }`. */
  readonly column: string | { readonly expr: IdentifierNode };
}

export interface BinaryExprNode extends AstNode {
  readonly type: 'binary_expr';
  readonly operator: string;
  readonly left: AstNode;
  /** For IN and BETWEEN an `expr_list`; for LIKE the pattern, possibly with an `escape`. */
  readonly right: AstNode;
}

export interface UnaryExprNode extends AstNode {
  readonly type: 'unary_expr';
  readonly operator: string;
  readonly expr: AstNode;
}

export interface ExprListNode extends AstNode {
  readonly type: 'expr_list';
  readonly value: readonly AstNode[];
}

export interface FunctionNode extends AstNode {
  readonly type: 'function';
  readonly name: { readonly name: readonly IdentifierNode[]; readonly schema?: IdentifierNode };
  /** Absent for keyword functions such as CURRENT_TIMESTAMP. */
  readonly args?: ExprListNode;
  readonly over?: unknown;
}

export interface CaseNode extends AstNode {
  readonly type: 'case';
  /** The operand of the simple form `CASE x WHEN …`; null for the searched form. */
  readonly expr: AstNode | null;
  readonly args: readonly {
    readonly type: 'when' | 'else';
    readonly cond?: AstNode;
    readonly result: AstNode;
  }[];
}

export interface CastNode extends AstNode {
  readonly type: 'cast';
  readonly expr: AstNode;
  /** One entry per `::` in a chain such as `x::text::int`. */
  readonly target: readonly { readonly dataType: string }[];
}

export interface ExtractNode extends AstNode {
  readonly type: 'extract';
  readonly args: { readonly field: string; readonly source: AstNode };
}

export interface FromItem {
  readonly db?: string | null;
  readonly table?: string;
  readonly as?: string | null;
  readonly join?: string;
  /** Set for a subquery in FROM. */
  readonly expr?: unknown;
}

export interface SelectColumn {
  readonly expr: AstNode;
  readonly as: string | null;
}

export interface SelectNode extends AstNode {
  readonly type: 'select';
  readonly with: unknown;
  readonly options: unknown;
  readonly distinct: { readonly type: string | null } | null;
  readonly columns: readonly SelectColumn[];
  readonly into: { readonly position: unknown } | null;
  readonly from: readonly FromItem[] | null;
  readonly where: AstNode | null;
  readonly groupby: unknown;
  readonly having: unknown;
  readonly orderby: unknown;
  readonly limit: { readonly seperator?: string; readonly value: readonly unknown[] } | null;
  readonly window: unknown;
  readonly _next?: unknown;
  readonly set_op?: string;
}

/** What {@link parseStatements} returns: the statements, or one sentence saying what is wrong. */
export type ParseOutcome =
  | { readonly ok: true; readonly statements: readonly AstNode[] }
  | { readonly ok: false; readonly problem: string };

// Loaded on first use, not on import: every worker thread imports this package for its other
// transforms, and the grammar costs ~70 ms of CPU to load.
let loaded: InstanceType<typeof postgresql.Parser> | undefined;
function parser(): InstanceType<typeof postgresql.Parser> {
  if (loaded === undefined) {
    const grammar = createRequire(import.meta.url)(
      'node-sql-parser/build/postgresql.js',
    ) as typeof postgresql;
    loaded = new grammar.Parser();
  }
  return loaded;
}
const parseOptions = { database: 'postgresql' } as const;

/**
 * Parses `source` once. `hidden` leading characters of `source` were added by the caller (the
 * `SELECT * FROM logs WHERE ` around a filter expression) and are left out of reported positions.
 * Never throws.
 */
export function parseStatements(source: string, hidden = 0): ParseOutcome {
  const length = source.length - hidden;
  if (length > MAX_QUERY_LENGTH) {
    return {
      ok: false,
      problem: `the text is ${length} characters long; the limit is ${MAX_QUERY_LENGTH}.`,
    };
  }
  const prepared = prepare(source);
  if (prepared.problem !== undefined) return { ok: false, problem: prepared.problem };
  try {
    const ast: unknown = parser().astify(prepared.text, parseOptions);
    const statements = (Array.isArray(ast) ? ast : [ast]) as AstNode[];
    return { ok: true, statements: statements.filter((s) => s !== null && s !== undefined) };
  } catch (error) {
    return { ok: false, problem: describeParseError(error, source, prepared.backslashes, hidden) };
  }
}

/** SQL text of an expression node, for messages. Never throws. */
export function renderExpression(node: unknown): string {
  try {
    const text = parser().exprToSQL(node, parseOptions);
    // The rewrite of backslashes is an implementation detail: do not show it.
    return typeof text === 'string' ? text.replaceAll('\\u005C', '\\') : 'expression';
  } catch {
    return 'expression';
  }
}

/** The value of a `single_quote_string` node: `''` (kept doubled by the grammar) becomes `'`. */
export function stringLiteralValue(raw: string): string {
  return raw.includes("''") ? raw.replaceAll("''", "'") : raw;
}

interface Prepared {
  readonly text: string;
  /** Offsets, in the original text, of the backslashes rewritten as `\u005C`. */
  readonly backslashes: readonly number[];
  readonly problem?: string;
}

const ESCAPED_BACKSLASH = '\\u005C';

/**
 * Scans `source` for '…' literals (skipping comments, "…" identifiers and $$…$$ strings, where
 * a quote does not open a literal) and rewrites the backslashes inside them; see the module
 * header.
 */
function prepare(source: string): Prepared {
  const backslashes: number[] = [];
  let out = '';
  let copied = 0;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '-' && next === '-') {
      const end = source.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '$' && next === '$') {
      const end = source.indexOf('$$', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"') {
      const end = source.indexOf('"', i + 1);
      if (end < 0) break;
      if (source[end + 1] === '"' && end > i + 1) {
        return {
          text: source,
          backslashes,
          problem: `quoted identifiers with a doubled quote ("") inside are not supported: near ${JSON.stringify(source.slice(i, i + 24))}.`,
        };
      }
      i = end + 1;
    } else if (c === "'") {
      i++;
      while (i < n) {
        const d = source[i];
        if (d === "'") {
          if (source[i + 1] === "'") {
            i += 2;
            continue;
          }
          break;
        }
        if (d === '\\') {
          out += source.slice(copied, i) + ESCAPED_BACKSLASH;
          copied = i + 1;
          backslashes.push(i);
        }
        i++;
      }
      i++;
    } else {
      i++;
    }
  }
  if (backslashes.length === 0) return { text: source, backslashes };
  return { text: out + source.slice(copied), backslashes };
}

/** Maps an offset in the prepared text back to the original text. */
function originalOffset(offset: number, backslashes: readonly number[]): number {
  let shift = 0;
  for (const at of backslashes) {
    const preparedAt = at + shift;
    if (offset < preparedAt + ESCAPED_BACKSLASH.length) {
      return offset <= preparedAt ? offset - shift : at;
    }
    shift += ESCAPED_BACKSLASH.length - 1;
  }
  return offset - shift;
}

interface PegSyntaxError {
  readonly name: string;
  readonly found: string | null;
  readonly location: { readonly start: { readonly offset: number } };
}

function isPegSyntaxError(error: unknown): error is PegSyntaxError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; location?: { start?: { offset?: unknown } } };
  return candidate.name === 'SyntaxError' && typeof candidate.location?.start?.offset === 'number';
}

function describeParseError(
  error: unknown,
  source: string,
  backslashes: readonly number[],
  hidden: number,
): string {
  if (error instanceof RangeError) return 'the text is nested too deeply to parse.';
  if (!isPegSyntaxError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return `the parser failed: ${message}.`;
  }
  const text = source.slice(hidden);
  const offset = Math.max(
    0,
    Math.min(originalOffset(error.location.start.offset, backslashes) - hidden, text.length),
  );
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const where = `syntax error at line ${line}, column ${offset - lineStart + 1}`;
  if (error.found === null || offset >= text.length) {
    return `${where}: the text ends too early (an expression, keyword or closing parenthesis is missing).`;
  }
  const lineEnd = text.indexOf('\n', offset);
  const near = text.slice(offset, lineEnd < 0 ? undefined : lineEnd).slice(0, 24);
  return `${where}, near "${near}": unexpected ${JSON.stringify(error.found)}.`;
}
