/**
 * The `redact` verb: replaces secrets and personal data in messages and attributes before
 * they leave the process.
 *
 * Every pattern is a global regular expression run with `String.prototype.replace` and a
 * callback, compiled once at build. The callback is what lets a built-in pattern refuse a match
 * (a digit run that fails the Luhn check is not a card number) and keep part of one (`Bearer `
 * stays, the token goes), and it means the replacement is inserted literally: `$&` in it is not
 * expanded.
 *
 * The built-in patterns are written not to backtrack badly on hostile lines: each starts with a
 * lookbehind that fails inside a run it would already have tried, and repeats are bounded.
 */
import {
  type Batch,
  eventsOf,
  isRecord,
  type LogEvent,
  optionChecks,
  setField,
  type Transform,
  withEvents,
  wrong,
} from '@spillway/core';
import { defineVerb } from './internal/define-verb.js';

/** The names of the built-in patterns: see {@link redact}. */
export type BuiltinRedaction = 'email' | 'ipv4' | 'credit-card' | 'bearer';

/** A pattern of {@link redact}: a regular expression (source text), or a built-in by name. */
export type RedactPattern = string | { readonly name: BuiltinRedaction };

/** Options of {@link redact}. */
export interface RedactOptions {
  readonly patterns: readonly RedactPattern[];
  /**
   * Where to look: `message` and attribute names. Default: the message and every attribute whose
   * value is a string. Non-string values are never looked into.
   */
  readonly fields?: readonly string[];
  /** What a match becomes; default `[REDACTED]`. Inserted as written (`$&` is not expanded). */
  readonly replacement?: string;
}

interface Builtin {
  readonly regex: RegExp;
  /** A match that fails this is left as it is. */
  readonly accept?: (match: string) => boolean;
  /** Group 1 is a prefix to keep in front of the replacement. */
  readonly keepsPrefix?: boolean;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

const BUILTINS: Readonly<Record<BuiltinRedaction, Builtin>> = {
  email: {
    regex: /(?<![\w.%+-])[\w.%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,63}/g,
  },
  ipv4: {
    regex: new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?!\\.?\\d)`, 'g'),
  },
  'credit-card': {
    // 13 to 19 digits, optionally grouped by single spaces or dashes.
    regex: /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g,
    accept: luhn,
  },
  bearer: {
    // RFC 6750 b64token after the scheme; the scheme and its space are kept.
    regex: /(\bbearer\s{1,16})[A-Za-z0-9\-._~+/]+=*/gi,
    keepsPrefix: true,
  },
};

/**
 * Replaces every match of `patterns` in the message and string attributes (or in `fields`) with
 * `replacement`. Built-in patterns, by `{ name }`:
 *
 * - `email`: `local@domain.tld` addresses;
 * - `ipv4`: dotted quads with octets 0–255;
 * - `credit-card`: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn
 *   check (order numbers and timestamps of that length mostly do not);
 * - `bearer`: the token after `Bearer ` (any case); the word itself is kept.
 *
 * A string pattern is a regular expression source, run with the `g` flag.
 *
 * When to use: before a sink that leaves your control (a vendor, a shared index), and before
 * `encode`. Put it after the parse verbs, so that it sees attributes one by one.
 *
 * Gotchas:
 * - Only top-level string values are looked into: an object or array attribute is passed as
 *   it is. Flatten or drop such fields if they can hold secrets.
 * - Patterns run one after the other, each on the previous one's output; a pattern can match
 *   the replacement text of an earlier one.
 * - A user pattern that can backtrack exponentially (`(a+)+$`) can stall the stage on a hostile
 *   line; keep them simple and anchored on literal text.
 *
 * Counters: `redactions` (matches replaced).
 *
 * @example
 * ```ts
 * stage: redact({ patterns: [{ name: 'email' }, { name: 'bearer' }, 'password=\\S+'] })
 * // "login bob@example.com with Bearer abc.def" → "login [REDACTED] with Bearer [REDACTED]"
 * ```
 */
export const redact = defineVerb<RedactOptions>({
  type: 'redact',
  validate(o) {
    const problems: string[] = [];
    const check = optionChecks(problems);
    if (!Array.isArray(o.patterns) || o.patterns.length === 0) {
      problems.push(
        wrong('patterns', 'a non-empty array of regular expressions or { name }', o.patterns),
      );
    } else {
      o.patterns.forEach((pattern: unknown, i) => {
        checkPattern(`patterns[${i}]`, pattern, problems);
      });
    }
    if (o.fields !== undefined) check.stringList('fields', o.fields);
    if (o.replacement !== undefined && typeof o.replacement !== 'string') {
      problems.push(wrong('replacement', 'a string', o.replacement));
    }
    return problems;
  },
  build(o, ctx): Transform {
    const replacement = o.replacement ?? '[REDACTED]';
    let matches = 0;
    const passes = o.patterns.map(
      (pattern): [RegExp, (match: string, ...rest: unknown[]) => string] => {
        const builtin: Builtin =
          typeof pattern === 'string'
            ? { regex: new RegExp(pattern, 'g') }
            : BUILTINS[pattern.name];
        const { accept, keepsPrefix } = builtin;
        return [
          builtin.regex,
          (match, prefix) => {
            // An empty match would insert the replacement between characters: never a secret.
            if (match.length === 0 || (accept !== undefined && !accept(match))) return match;
            matches++;
            return keepsPrefix ? `${prefix as string}${replacement}` : replacement;
          },
        ];
      },
    );
    const redactText = (text: string): string => {
      let out = text;
      for (const [regex, replace] of passes) out = out.replace(regex, replace);
      return out;
    };
    const fields = o.fields;
    const inMessage = fields === undefined || fields.includes('message');
    const attributeNames = fields?.filter((f) => f !== 'message');
    const redactEvent = (event: LogEvent): LogEvent => {
      const message = inMessage ? redactText(event.message) : event.message;
      const existing = event.attributes;
      let attributes: Record<string, unknown> | undefined;
      if (existing !== undefined) {
        for (const key of attributeNames ?? Object.keys(existing)) {
          const value = existing[key];
          if (typeof value !== 'string' || !Object.hasOwn(existing, key)) continue;
          const redacted = redactText(value);
          if (redacted === value) continue;
          attributes ??= copy(existing);
          setField(attributes, key, redacted);
        }
      }
      if (message === event.message && attributes === undefined) return event;
      return attributes === undefined ? { ...event, message } : { ...event, message, attributes };
    };
    return {
      process(batch: Batch) {
        const events = eventsOf(batch);
        matches = 0;
        let out: LogEvent[] | undefined;
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          const redacted = redactEvent(event);
          if (out === undefined) {
            if (redacted === event) continue;
            out = events.slice(0, i);
          }
          out.push(redacted);
        }
        if (matches > 0) ctx.counters.add('redactions', matches);
        return out === undefined ? batch : withEvents(batch, out);
      },
    };
  },
});

function checkPattern(name: string, pattern: unknown, problems: string[]): void {
  if (typeof pattern === 'string') {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern, 'g');
    } catch (err) {
      problems.push(`${name} is not a valid regular expression: ${(err as Error).message}`);
      return;
    }
    if (pattern.length === 0 || regex.test('')) {
      problems.push(`${name} matches the empty string: it would redact nothing but insert text`);
    }
    return;
  }
  const names = Object.keys(BUILTINS);
  const expected = names.map((n) => `"${n}"`).join(', ');
  if (!isRecord(pattern)) {
    problems.push(wrong(name, `a regular expression (a string) or { name: ${expected} }`, pattern));
  } else if (typeof pattern.name !== 'string' || !names.includes(pattern.name)) {
    problems.push(wrong(`${name}.name`, `one of ${expected}`, pattern.name));
  }
}

function copy(attributes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in attributes) setField(out, key, attributes[key]);
  return out;
}

/** The Luhn checksum of the digits in `text` (separators skipped). */
function luhn(text: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
