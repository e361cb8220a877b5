/**
 * The SQL functions a transform query may call, looked up by lower-cased name.
 *
 * Each entry states its arity and builds, once per call site at compile time, the closure that
 * computes its value per event. Arguments arrive compiled; an argument that is a constant carries
 * its value, which lets a function validate it (a regex, a date_trunc unit) and prepare it (compile
 * the regex) once. Unless stated otherwise a function is strict: any NULL argument makes it NULL.
 *
 * Errors on data never escape: the compiler wraps every call so that a throw yields NULL, and
 * functions here prefer returning NULL to throwing in the first place.
 */

import type { LogEvent } from '@spillway/core';
import type { JsonTextCache } from './json.js';
import { getPath } from './json.js';
import {
  compileRegex,
  groupCount,
  parseReplacement,
  type RegexCache,
  regexFlags,
  replaceMatches,
} from './regex.js';
import {
  EXTRACT_FIELDS,
  type ExtractField,
  extract,
  extractField,
  TRUNCATE_UNITS,
  type TruncateUnit,
  toEpochMillis,
  truncate,
  truncateUnit,
} from './time.js';
import { compare, type Evaluator, isNull, sqlEquals, toNumber, toText } from './values.js';

/** A compiled argument. */
export interface Argument {
  readonly evaluate: Evaluator;
  /** Present when the argument is constant: its value, computed at compile time. */
  readonly constant?: { readonly value: unknown };
}

/** What a function may use while it is built. */
export interface BuildContext {
  readonly regexes: RegexCache;
  readonly json: JsonTextCache;
  /** `now` is set once per batch (per call for a compiled WHERE). */
  readonly clock: { now: number };
  /** Records a validation problem (a sentence). */
  problem(message: string): void;
}

export interface FunctionSpec {
  readonly minArgs: number;
  /** `Infinity` for variadic functions. */
  readonly maxArgs: number;
  /** How to call it, for messages: `substr(text, start [, count])`. */
  readonly usage: string;
  /** False when the result may change between calls with the same arguments (now()). */
  readonly pure: boolean;
  build(args: readonly Argument[], context: BuildContext): Evaluator;
}

type Builder = FunctionSpec['build'];

const NULL: Evaluator = () => null;

function arg(args: readonly Argument[], index: number): Argument {
  return args[index] as Argument;
}

/** A strict function of its argument values. */
function strict(fn: (...values: unknown[]) => unknown): Builder {
  return (args) => {
    if (args.length === 1) {
      const a = arg(args, 0).evaluate;
      return (event) => {
        const x = a(event);
        return isNull(x) ? null : fn(x);
      };
    }
    if (args.length === 2) {
      const a = arg(args, 0).evaluate;
      const b = arg(args, 1).evaluate;
      return (event) => {
        const x = a(event);
        if (isNull(x)) return null;
        const y = b(event);
        return isNull(y) ? null : fn(x, y);
      };
    }
    const all = args.map((a) => a.evaluate);
    return (event) => {
      const values: unknown[] = [];
      for (const evaluate of all) {
        const value = evaluate(event);
        if (isNull(value)) return null;
        values.push(value);
      }
      return fn(...values);
    };
  };
}

/** A strict function whose arguments are all read as text. */
function textual(fn: (...texts: string[]) => unknown): Builder {
  return strict((...values) => {
    const texts: string[] = [];
    for (const value of values) {
      const text = toText(value);
      if (text === null) return null;
      texts.push(text);
    }
    return fn(...texts);
  });
}

/** A strict function of one number. */
function numeric(fn: (x: number) => number): Builder {
  return strict((value) => {
    const x = toNumber(value);
    return x === null ? null : fn(x);
  });
}

function integer(value: unknown): number | null {
  const n = toNumber(value);
  return n === null || !Number.isFinite(n) ? null : Math.trunc(n);
}

function trimChars(text: string, chars: string, start: boolean, end: boolean): string {
  let from = 0;
  let to = text.length;
  if (start) while (from < to && chars.includes(text[from] as string)) from++;
  if (end) while (to > from && chars.includes(text[to - 1] as string)) to--;
  return text.slice(from, to);
}

function trimmer(start: boolean, end: boolean): Builder {
  return textual((text, chars) => {
    if (chars !== undefined) return trimChars(text, chars, start, end);
    if (start && end) return text.trim();
    return start ? text.trimStart() : text.trimEnd();
  });
}

/** PostgreSQL substring: 1-based; characters before position 1 count against `count`. */
function substring(text: string, startValue: unknown, countValue?: unknown): string | null {
  const start = integer(startValue);
  if (start === null) return null;
  let stop = Number.POSITIVE_INFINITY;
  if (countValue !== undefined) {
    const count = integer(countValue);
    if (count === null || count < 0) return null;
    stop = start + count;
  }
  const begin = Math.max(start, 1);
  if (stop <= begin) return '';
  return text.slice(begin - 1, stop === Number.POSITIVE_INFINITY ? undefined : stop - 1);
}

/** Half away from zero, like PostgreSQL's numeric round; `digits` may be negative. */
function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  if (digits === 0) return sign * Math.round(Math.abs(x));
  // Shift by exponent notation rather than multiplying, so 1.005 rounds to 1.01.
  const shifted = Math.round(Number(`${Math.abs(x)}e${digits}`));
  return sign * Number(`${shifted}e${-digits}`);
}

/** greatest / least: the extreme non-NULL argument; NULL only when all are NULL. */
function extreme(sign: 1 | -1): Builder {
  return (args) => {
    const all = args.map((a) => a.evaluate);
    return (event) => {
      let best: unknown = null;
      for (const evaluate of all) {
        const value = evaluate(event);
        if (isNull(value)) continue;
        if (best === null || (compare(value, best) ?? 0) * sign > 0) best = value;
      }
      return best;
    };
  };
}

/**
 * How a regex argument is turned into a RegExp per row: a constant pattern (with constant flags)
 * is compiled now, and an invalid one is a validation problem; otherwise each row's pattern goes
 * through the bounded cache. `flags` is a fixed flag string (`~*` gives 'i') or an argument.
 */
export function regexOperand(
  name: string,
  pattern: Argument,
  flags: string | Argument | undefined,
  allowGlobal: boolean,
  context: BuildContext,
): (event: LogEvent) => RegExp | null {
  let fixedFlags: string | null = typeof flags === 'string' ? flags : '';
  if (flags !== undefined && typeof flags !== 'string') {
    if (flags.constant === undefined) fixedFlags = null;
    else {
      const text = toText(flags.constant.value);
      const translated = text === null ? null : regexFlags(text, allowGlobal);
      if (translated === null) return () => null;
      if (typeof translated !== 'string') {
        context.problem(`${name}: ${translated.problem}`);
        return () => null;
      }
      fixedFlags = translated;
    }
  }
  if (pattern.constant !== undefined && fixedFlags !== null) {
    const text = toText(pattern.constant.value);
    if (text === null) return () => null;
    const compiled = compileRegex(text, fixedFlags);
    if (!(compiled instanceof RegExp)) {
      context.problem(`${name}: ${compiled.problem}`);
      return () => null;
    }
    return () => compiled;
  }
  const patternOf = pattern.evaluate;
  const flagsOf = flags !== undefined && typeof flags !== 'string' ? flags.evaluate : null;
  const regexes = context.regexes;
  return (event) => {
    const text = toText(patternOf(event));
    if (text === null) return null;
    let regexFlagText = fixedFlags;
    if (regexFlagText === null && flagsOf !== null) {
      const flagText = toText(flagsOf(event));
      if (flagText === null) return null;
      const translated = regexFlags(flagText, allowGlobal);
      if (typeof translated !== 'string') return null;
      regexFlagText = translated;
    }
    return regexes.get(text, regexFlagText ?? '');
  };
}

const regexpLike: Builder = (args, context) => {
  const text = arg(args, 0).evaluate;
  const regexOf = regexOperand('regexp_like', arg(args, 1), args[2], false, context);
  return (event) => {
    const value = toText(text(event));
    if (value === null) return null;
    const regex = regexOf(event);
    return regex === null ? null : regex.test(value);
  };
};

const regexpReplace: Builder = (args, context) => {
  const text = arg(args, 0).evaluate;
  const regexOf = regexOperand('regexp_replace', arg(args, 1), args[3], true, context);
  const replacement = arg(args, 2);
  const fixed = replacement.constant === undefined ? null : toText(replacement.constant.value);
  const fixedParts = fixed === null ? null : parseReplacement(fixed);
  return (event) => {
    const value = toText(text(event));
    if (value === null) return null;
    const regex = regexOf(event);
    if (regex === null) return null;
    let parts = fixedParts;
    if (parts === null) {
      const template = toText(replacement.evaluate(event));
      if (template === null) return null;
      parts = parseReplacement(template);
    }
    return replaceMatches(value, regex, parts);
  };
};

const regexpExtract: Builder = (args, context) => {
  const text = arg(args, 0).evaluate;
  const pattern = arg(args, 1);
  const regexOf = regexOperand('regexp_extract', pattern, undefined, false, context);
  const group = args[2];
  if (group?.constant !== undefined) {
    const n = integer(group.constant.value);
    if (n === null || n < 0) {
      context.problem('regexp_extract: the group must be a whole number, 0 or more.');
      return NULL;
    }
    if (pattern.constant !== undefined) {
      const regex = regexOf({ timestamp: 0, message: '' });
      if (regex !== null && n > groupCount(regex)) {
        context.problem(
          `regexp_extract: group ${n} does not exist; the pattern has ${groupCount(regex)}.`,
        );
        return NULL;
      }
    }
  }
  const groupOf = group?.evaluate;
  return (event) => {
    const value = toText(text(event));
    if (value === null) return null;
    const regex = regexOf(event);
    if (regex === null) return null;
    let n = 0;
    if (groupOf !== undefined) {
      const g = integer(groupOf(event));
      if (g === null || g < 0) return null;
      n = g;
    }
    const match = regex.exec(value);
    if (match === null || n >= match.length) return null;
    return match[n] ?? null;
  };
};

/** date_trunc / date_part: the first argument names a unit, checked now when it is constant. */
function unitThen<U extends string>(
  name: string,
  parse: (text: string) => U | null,
  known: readonly string[],
  apply: (unit: U, ms: number) => number,
): Builder {
  return (args, context) => {
    const unitArg = arg(args, 0);
    const source = arg(args, 1).evaluate;
    let fixed: U | null = null;
    if (unitArg.constant !== undefined) {
      const text = toText(unitArg.constant.value);
      if (text === null) return NULL;
      fixed = parse(text);
      if (fixed === null) {
        context.problem(
          `${name}: unit ${JSON.stringify(text)} is not supported (use one of ${known.join(', ')}).`,
        );
        return NULL;
      }
    }
    const unitOf = unitArg.evaluate;
    return (event) => {
      let unit = fixed;
      if (unit === null) {
        const text = toText(unitOf(event));
        unit = text === null ? null : parse(text);
        if (unit === null) return null;
      }
      const ms = toEpochMillis(source(event));
      return ms === null ? null : apply(unit, ms);
    };
  };
}

/** Builds date_part's closure; EXTRACT(field FROM x) compiles to the same. */
export const datePart: Builder = unitThen<ExtractField>(
  'date_part',
  extractField,
  EXTRACT_FIELDS,
  extract,
);

const dateTrunc: Builder = unitThen<TruncateUnit>(
  'date_trunc',
  truncateUnit,
  TRUNCATE_UNITS,
  truncate,
);

function jsonPath(asText: boolean): Builder {
  return (args, context) => {
    const source = arg(args, 0).evaluate;
    const keys = args.slice(1).map((a) => a.evaluate);
    const json = context.json;
    return (event) => {
      const path: unknown[] = [];
      for (const key of keys) {
        const k = key(event);
        if (isNull(k)) return null;
        path.push(k);
      }
      const value = getPath(source(event), path, json);
      return asText ? toText(value) : value;
    };
  };
}

function spec(
  minArgs: number,
  maxArgs: number,
  usage: string,
  build: Builder,
  pure = true,
): FunctionSpec {
  return { minArgs, maxArgs, usage, build, pure };
}

const lower = spec(
  1,
  1,
  'lower(text)',
  textual((s) => s.toLowerCase()),
);
const length = spec(
  1,
  1,
  'length(text)',
  textual((s) => s.length),
);
const trim = spec(1, 2, 'trim(text [, characters])', trimmer(true, true));
const substr = spec(
  2,
  3,
  'substr(text, start [, count])',
  strict((value, start, count) => {
    const text = toText(value);
    return text === null ? null : substring(text, start, count);
  }),
);
const strpos = spec(
  2,
  2,
  'strpos(text, substring)',
  textual((s, sub) => s.indexOf(sub) + 1),
);
const ceil = spec(1, 1, 'ceil(number)', numeric(Math.ceil));
const now = spec(0, 0, 'now()', (_args, context) => () => context.clock.now, false);
const toTimestamp = spec(
  1,
  1,
  'to_timestamp(seconds)',
  numeric((s) => s * 1000),
);

const table: Record<string, FunctionSpec> = {
  abs: spec(1, 1, 'abs(number)', numeric(Math.abs)),
  ceil,
  ceiling: ceil,
  char_length: length,
  coalesce: spec(1, Number.POSITIVE_INFINITY, 'coalesce(value, …)', (args) => {
    const all = args.map((a) => a.evaluate);
    return (event) => {
      for (const evaluate of all) {
        const value = evaluate(event);
        if (!isNull(value)) return value;
      }
      return null;
    };
  }),
  concat: spec(1, Number.POSITIVE_INFINITY, 'concat(value, …)', (args) => {
    const all = args.map((a) => a.evaluate);
    return (event) => {
      let out = '';
      for (const evaluate of all) out += toText(evaluate(event)) ?? '';
      return out;
    };
  }),
  current_timestamp: now,
  date_part: spec(2, 2, "date_part('field', timestamp)", datePart),
  date_trunc: spec(2, 2, "date_trunc('unit', timestamp)", dateTrunc),
  floor: spec(1, 1, 'floor(number)', numeric(Math.floor)),
  from_unixtime: toTimestamp,
  greatest: spec(1, Number.POSITIVE_INFINITY, 'greatest(value, …)', extreme(1)),
  json_extract_path: spec(
    2,
    Number.POSITIVE_INFINITY,
    'json_extract_path(json, key, …)',
    jsonPath(false),
  ),
  json_extract_path_text: spec(
    2,
    Number.POSITIVE_INFINITY,
    'json_extract_path_text(json, key, …)',
    jsonPath(true),
  ),
  least: spec(1, Number.POSITIVE_INFINITY, 'least(value, …)', extreme(-1)),
  length,
  lower,
  ltrim: spec(1, 2, 'ltrim(text [, characters])', trimmer(true, false)),
  now,
  nullif: spec(2, 2, 'nullif(value, value)', (args) => {
    const a = arg(args, 0).evaluate;
    const b = arg(args, 1).evaluate;
    return (event) => {
      const value = a(event);
      return sqlEquals(value, b(event)) === true ? null : value;
    };
  }),
  regexp_extract: spec(2, 3, 'regexp_extract(text, pattern [, group])', regexpExtract),
  regexp_like: spec(2, 3, 'regexp_like(text, pattern [, flags])', regexpLike),
  regexp_replace: spec(3, 4, 'regexp_replace(text, pattern, replacement [, flags])', regexpReplace),
  replace: spec(
    3,
    3,
    'replace(text, from, to)',
    textual((s, from, to) => (from === '' ? s : s.split(from).join(to))),
  ),
  round: spec(
    1,
    2,
    'round(number [, digits])',
    strict((value, digitsValue) => {
      const x = toNumber(value);
      if (x === null) return null;
      const digits = digitsValue === undefined ? 0 : integer(digitsValue);
      return digits === null ? null : round(x, digits);
    }),
  ),
  rtrim: spec(1, 2, 'rtrim(text [, characters])', trimmer(false, true)),
  split_part: spec(
    3,
    3,
    'split_part(text, delimiter, n)',
    strict((value, delimiterValue, nValue) => {
      const text = toText(value);
      const delimiter = toText(delimiterValue);
      const n = integer(nValue);
      if (text === null || delimiter === null || n === null || n === 0) return null;
      const parts = delimiter === '' ? [text] : text.split(delimiter);
      return parts[n > 0 ? n - 1 : parts.length + n] ?? '';
    }),
  ),
  starts_with: spec(
    2,
    2,
    'starts_with(text, prefix)',
    textual((s, prefix) => s.startsWith(prefix)),
  ),
  strpos,
  substr,
  substring: substr,
  to_timestamp: toTimestamp,
  trim,
  btrim: trim,
  upper: spec(
    1,
    1,
    'upper(text)',
    textual((s) => s.toUpperCase()),
  ),
};

/** Every supported function, by lower-cased name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(Object.entries(table));

/** The supported names, sorted, for messages. */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()].sort();

/** `expects 2 or 3 arguments`, `expects at least 1 argument`, … */
export function describeArity(spec: FunctionSpec): string {
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (spec.maxArgs === Number.POSITIVE_INFINITY) return `at least ${plural(spec.minArgs)}`;
  if (spec.minArgs === spec.maxArgs) return plural(spec.minArgs);
  if (spec.maxArgs === spec.minArgs + 1) return `${spec.minArgs} or ${plural(spec.maxArgs)}`;
  return `${spec.minArgs} to ${plural(spec.maxArgs)}`;
}
