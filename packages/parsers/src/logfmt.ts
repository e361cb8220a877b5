/**
 * logfmt: a line of `key=value` pairs separated by whitespace.
 *
 * ```
 * level=info msg="request done" path=/items?id=7 took_ms=12 cached
 *   → { level: 'info', msg: 'request done', path: '/items?id=7', took_ms: '12', cached: true }
 * ```
 *
 * logfmt has no specification, only writers that agree on most things. The variant accepted here
 * is the common core they share — bare or double-quoted values, backslash escapes inside quotes,
 * keys that are never quoted — read strictly where a lenient reading would have to guess (a stray
 * `"`), and leniently in two places where nothing is ambiguous:
 *
 * ```
 * line    = *WS [ pair *( 1*WS pair ) ] *WS
 * pair    = key [ "=" value ]         ; no "=": the key is a flag, its value `true`
 * key     = 1*( any but WS, "=", DQUOTE )
 * value   = quoted / bare
 * bare    = *( any but WS, DQUOTE )  ; may be empty (`k=` is ""), may contain "=" (leniency 1)
 * quoted  = DQUOTE *( any but DQUOTE and "\" / "\" any ) DQUOTE   ; then WS or the end
 * WS      = %x00-20                   ; space, tab, CR, LF and the other ASCII controls
 * ```
 *
 * - Escapes in quoted values: `\"`, `\\`, and `\n`, `\r`, `\t` (how writers keep a value on one
 *   line). A backslash before anything else is kept as is, with the character after it
 *   (leniency 2), as RFC 5424 structured data does: `\u00e9` stays six characters, never an error.
 * - Values are strings; nothing is converted to a number or boolean, since `code=007` and
 *   `id=1e3` are identifiers as often as numbers. A bare key is `true`, which no value can be.
 * - A repeated key: the last value wins (the order of keys is that of first occurrence).
 *
 * Errors, and why the parser goes on after them: a line is usually one event, and a stray quote
 * in one pair should not cost the other pairs. So a malformed pair is skipped — never stored
 * half-parsed — parsing resumes at the next whitespace, and the result reports the first problem
 * with a stable code next to every well-formed pair. An unterminated quote takes the rest of the
 * line with it: there is nothing after it to resume at.
 *
 * Bounds: one pass over the line, each character looked at a bounded number of times (no
 * regular expressions, no backtracking); at most `maxKeys` distinct keys are stored, further ones
 * are counted, not kept.
 */

import { setField } from '@spillway/core';

/** A parsed line: key → value, or `true` for a key without `=`. */
export type LogfmtFields = Record<string, string | true>;

/**
 * Why a line is not well-formed logfmt. Stable: match on these, never on `error`.
 *
 * - `ERR_LOGFMT_EMPTY_KEY`: a `=` with no key before it (`=value`, ` = `).
 * - `ERR_LOGFMT_MISPLACED_QUOTE`: a `"` inside a key or inside a bare value, or a quoted value
 *   followed by something other than whitespace (`k="a"b`).
 * - `ERR_LOGFMT_UNTERMINATED_QUOTE`: a quoted value that the line ends inside.
 */
export type LogfmtErrorCode =
  | 'ERR_LOGFMT_EMPTY_KEY'
  | 'ERR_LOGFMT_MISPLACED_QUOTE'
  | 'ERR_LOGFMT_UNTERMINATED_QUOTE';

/**
 * A parsed line, or the first reason it is not well formed — with, either way, every pair that
 * was well formed. `droppedKeys` counts pairs not stored because `maxKeys` distinct keys already
 * were; it does not make a line an error, since nothing in the line was wrong. `error` is for
 * people: the problem and where it starts, as an offset in UTF-16 code units (string indices).
 */
export type LogfmtParseResult =
  | { readonly ok: true; readonly fields: LogfmtFields; readonly droppedKeys: number }
  | {
      readonly ok: false;
      readonly code: LogfmtErrorCode;
      readonly error: string;
      readonly fields: LogfmtFields;
      readonly droppedKeys: number;
    };

/** Options of {@link parseLogfmt}. */
export interface LogfmtParseOptions {
  /**
   * Most distinct keys stored in `fields`; a pair with a new key beyond that is counted in
   * `droppedKeys` and not stored (a repeated key already stored still takes its last value).
   * Default 256. `Infinity` lifts the bound; a negative value or NaN stores no key.
   */
  maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 256;
/** Keys quoted in error messages are cut to this length: a message must stay small. */
const MAX_KEY_IN_ERROR = 40;

const QUOTE = 34; // "
const EQUALS = 61; // =
const BACKSLASH = 92; // \

/** Whitespace, for this grammar: space and every ASCII control character. */
function isSpace(code: number): boolean {
  return code <= 32;
}

/**
 * Parses one logfmt line into its key/value pairs.
 *
 * When to use: on a message known (or suspected) to be logfmt, e.g. in a transform that lifts
 * `level=… msg=…` lines into attributes. The line should be one line: a newline is whitespace
 * here, so two lines would be read as one.
 *
 * Gotchas:
 * - Never throws: a malformed line gives `{ ok: false, code, error, fields }`, where `fields`
 *   still holds every well-formed pair (before and after the problem, except after an
 *   unterminated quote, which runs to the end of the line). Keep the fields or the raw line as
 *   you see fit; do not assume `ok: false` means `fields` is empty.
 * - Values are always strings (`n=1` is `'1'`); a key without `=` is `true`, and `k=` is `''`.
 * - Duplicate keys: the last value wins. Key order is first occurrence, except that JavaScript
 *   puts integer-like keys (`0`, `42`) first in any object.
 * - `droppedKeys > 0` means the line had more than `maxKeys` distinct keys: count it, since the
 *   dropped pairs are not anywhere else.
 * - Keys are any run of characters but whitespace, `=` and `"`; there is no way to quote a key.
 *   `__proto__` is stored as an ordinary own property.
 *
 * @example
 * ```ts
 * const r = parseLogfmt('level=warn msg="disk \\"data\\" 91% full" retry');
 * // r.ok === true
 * // r.fields: { level: 'warn', msg: 'disk "data" 91% full', retry: true }
 * const bad = parseLogfmt('level=error msg="cut off');
 * // bad.ok === false, bad.code === 'ERR_LOGFMT_UNTERMINATED_QUOTE', bad.fields: { level: 'error' }
 * ```
 */
export function parseLogfmt(line: string, options: LogfmtParseOptions = {}): LogfmtParseResult {
  const requested = options.maxKeys ?? DEFAULT_MAX_KEYS;
  // `>= 0` is false for NaN too.
  const maxKeys = requested >= 0 ? Math.floor(requested) : 0;
  const fields: LogfmtFields = {};
  let stored = 0;
  let droppedKeys = 0;
  let code: LogfmtErrorCode | undefined;
  let error = '';

  const problem = (c: LogfmtErrorCode, message: string, at: number) => {
    if (code !== undefined) return;
    code = c;
    error = `logfmt: ${message} at offset ${at}`;
  };
  const store = (key: string, value: string | true) => {
    if (Object.hasOwn(fields, key)) {
      fields[key] = value;
    } else if (stored >= maxKeys) {
      droppedKeys++;
    } else {
      stored++;
      setField(fields, key, value);
    }
  };
  /** The index of the next whitespace (or the end) from `from`: where a bad pair is cut off. */
  const skipToSpace = (from: number) => {
    let j = from;
    while (j < line.length && !isSpace(line.charCodeAt(j))) j++;
    return j;
  };

  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;

    const keyStart = i;
    let c = line.charCodeAt(i);
    while (i < n && !isSpace(c) && c !== EQUALS && c !== QUOTE) c = line.charCodeAt(++i);
    const key = line.slice(keyStart, i);

    if (i < n && c === QUOTE) {
      const where = key.length === 0 ? 'where a key should start' : `in ${showKey(key)}`;
      problem('ERR_LOGFMT_MISPLACED_QUOTE', `'"' ${where}`, i);
      i = skipToSpace(i);
      continue;
    }
    if (i >= n || isSpace(c)) {
      store(key, true);
      continue;
    }

    // c is `=`.
    if (key.length === 0) problem('ERR_LOGFMT_EMPTY_KEY', `'=' without a key`, i);
    i++;
    let value: string;
    if (line.charCodeAt(i) === QUOTE) {
      const quoteAt = i;
      i++;
      value = '';
      let runStart = i;
      let closed = false;
      while (i < n) {
        const d = line.charCodeAt(i);
        if (d === QUOTE) {
          closed = true;
          break;
        }
        if (d === BACKSLASH && i + 1 < n) {
          const unescaped = escapedChar(line.charCodeAt(i + 1));
          if (unescaped !== undefined) {
            value += line.slice(runStart, i) + unescaped;
            i += 2;
            runStart = i;
            continue;
          }
        }
        i++;
      }
      if (!closed) {
        problem(
          'ERR_LOGFMT_UNTERMINATED_QUOTE',
          `unterminated quoted value of ${showKey(key)}`,
          quoteAt,
        );
        break;
      }
      value += line.slice(runStart, i);
      i++; // the closing quote
      if (i < n && !isSpace(line.charCodeAt(i))) {
        problem(
          'ERR_LOGFMT_MISPLACED_QUOTE',
          `no whitespace after the quoted value of ${showKey(key)}`,
          i,
        );
        i = skipToSpace(i);
        continue;
      }
    } else {
      const valueStart = i;
      let d = line.charCodeAt(i);
      while (i < n && !isSpace(d) && d !== QUOTE) d = line.charCodeAt(++i);
      if (i < n && d === QUOTE) {
        problem('ERR_LOGFMT_MISPLACED_QUOTE', `'"' inside the value of ${showKey(key)}`, i);
        i = skipToSpace(i);
        continue;
      }
      value = line.slice(valueStart, i);
    }
    if (key.length > 0) store(key, value);
  }

  return code === undefined
    ? { ok: true, fields, droppedKeys }
    : { ok: false, code, error, fields, droppedKeys };
}

/** The character an escape `\x` stands for, or undefined when `\x` is kept as written. */
function escapedChar(code: number): string | undefined {
  switch (code) {
    case QUOTE:
      return '"';
    case BACKSLASH:
      return '\\';
    case 110: // n
      return '\n';
    case 114: // r
      return '\r';
    case 116: // t
      return '\t';
    default:
      return undefined;
  }
}

/** A key as error messages show it: quoted, and cut short. */
function showKey(key: string): string {
  if (key.length === 0) return 'the empty key';
  const shown = key.length > MAX_KEY_IN_ERROR ? `${key.slice(0, MAX_KEY_IN_ERROR)}…` : key;
  return `key ${JSON.stringify(shown)}`;
}
