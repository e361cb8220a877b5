/**
 * SQL values over JavaScript values: NULL, conversions, comparison and three-valued logic.
 *
 * A value is whatever an event holds: string, number, boolean, an object or array from the
 * attributes, sometimes a bigint or a Date (msgpack decodes both). `null` and `undefined` are
 * SQL NULL, and so is NaN. Every function here is total: it returns null rather than throw,
 * whatever it is given, because a transform must never fail on data.
 *
 * Comparison rules (used by `=`, `<`, IN, BETWEEN, CASE x WHEN, greatest, least):
 * - NULL on either side: NULL.
 * - two numbers, two strings (binary, code-unit order), two booleans (false < true): natively.
 * - a number, bigint or Date against a number, bigint, Date or numeric string: as numbers, so
 *   `status = '200'` holds for the number 200.
 * - anything else: as text (see {@link toText}), so `flag = 'true'` holds for `true`.
 */

import type { LogEvent } from '@spillway/core';

/** A compiled expression: computes one value from one event. */
export type Evaluator = (event: LogEvent) => unknown;

/** True for SQL NULL: null, undefined or NaN. */
export function isNull(value: unknown): boolean {
  return value === null || value === undefined || Number.isNaN(value);
}

/**
 * The text of a value, as CAST(x AS text) gives it: numbers in JavaScript notation, booleans as
 * `true`/`false`, Dates in ISO 8601, objects and arrays as JSON. Null for NULL and for values
 * with no text (symbols, functions, objects JSON cannot encode).
 */
export function toText(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isNaN(value) ? null : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      return value === null ? null : objectText(value);
    default:
      return null;
  }
}

function objectText(value: object): string | null {
  try {
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? null : value.toISOString();
    }
    const text: unknown = JSON.stringify(value);
    return typeof text === 'string' ? text : null;
  } catch {
    // Cycles, bigints inside, a throwing toJSON.
    return null;
  }
}

/** Decimal numbers with optional sign, fraction and exponent; also Infinity. No hex, no spaces. */
const NUMERIC_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$|^[+-]?Infinity$/i;

/** The number a string spells in decimal notation (surrounding whitespace allowed), or null. */
export function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!NUMERIC_TEXT.test(trimmed)) return null;
  const n = Number(trimmed.replace(/infinity$/i, 'Infinity'));
  return Number.isNaN(n) ? null : n;
}

/**
 * The number a value stands for in arithmetic: numbers, bigints, Dates (milliseconds) and numeric
 * strings. Null for everything else, booleans included (as in PostgreSQL, `true + 1` is an error;
 * here it is NULL).
 */
export function toNumber(value: unknown): number | null {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) ? null : value;
    case 'string':
      return parseNumber(value);
    case 'bigint':
      return Number(value);
    case 'object':
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? null : ms;
      }
      return null;
    default:
      return null;
  }
}

const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', 'off', '0']);

/**
 * The truth value of a value, as WHERE, AND, OR, NOT and CASE WHEN read it, and as CAST(x AS
 * boolean) gives it: booleans as they are; numbers true unless 0; the strings PostgreSQL accepts
 * for booleans (`t`, `true`, `yes`, `on`, `1` and their opposites, any case); NULL otherwise.
 */
export function toBool(value: unknown): boolean | null {
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return Number.isNaN(value) ? null : value !== 0;
    case 'bigint':
      return value !== 0n;
    case 'string': {
      const text = value.trim().toLowerCase();
      if (TRUE_TEXT.has(text)) return true;
      if (FALSE_TEXT.has(text)) return false;
      return null;
    }
    default:
      return null;
  }
}

/** The number for a value that takes part in numeric comparison, or null when it does not. */
function numericOperand(value: unknown): number | null {
  switch (typeof value) {
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
    case 'string':
      return parseNumber(value);
    case 'object':
      return value instanceof Date ? value.getTime() : null;
    default:
      return null;
  }
}

function order(a: number | string, b: number | string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two values by the rules in the module header: -1, 0, 1, or null (NULL). */
export function compare(a: unknown, b: unknown): -1 | 0 | 1 | null {
  if (isNull(a) || isNull(b)) return null;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === tb && (ta === 'number' || ta === 'string')) return order(a as never, b as never);
  if (ta === 'boolean' && tb === 'boolean') return a === b ? 0 : a ? 1 : -1;
  // Not two strings (handled above): a number-like value meets a number-like value or numeric
  // text, so compare as numbers.
  const na = numericOperand(a);
  const nb = numericOperand(b);
  if (na !== null && nb !== null) {
    if (Number.isNaN(na) || Number.isNaN(nb)) return null;
    return order(na, nb);
  }
  const sa = toText(a);
  const sb = toText(b);
  if (sa === null || sb === null) return null;
  return order(sa, sb);
}

/** SQL `=`: true, false, or null when either side is NULL. */
export function sqlEquals(a: unknown, b: unknown): boolean | null {
  const c = compare(a, b);
  return c === null ? null : c === 0;
}

/** Three-valued NOT. */
export function not(value: boolean | null): boolean | null {
  return value === null ? null : !value;
}
