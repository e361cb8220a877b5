/**
 * The `parseRegex` verb: a regular expression with named groups, for line formats that have no
 * parser of their own (access logs, application banners).
 */
import type { Transform } from '@spillway/core';
import { optionChecks } from '@spillway/core';
import { defineVerb } from '../internal/define-verb.js';
import { checkParseOptions, type ParseOptions, parseBatches } from '../internal/parse-policy.js';
import { promote, type WellKnownKeys } from '../internal/well-known-fields.js';

/** Options of {@link parseRegex}. */
export interface ParseRegexOptions extends ParseOptions {
  /** The regular expression, as `new RegExp` takes it, with at least one named group. */
  pattern: string;
  /** Its flags, e.g. `i`; `g` and `y` are refused (each line is matched once, from its start). */
  flags?: string;
}

/** Groups with these names set the event's own fields; every other group is an attribute. */
const GROUP_KEYS: WellKnownKeys = {
  message: ['message'],
  timestamp: ['timestamp'],
  severity: ['severity'],
};

/**
 * Matches each event's `field` (default: the message) against `pattern`: every named group
 * that took part in the match becomes an attribute (a string). Groups named `message`,
 * `timestamp` and `severity` set the event's own fields instead, converted as {@link parseJson}
 * converts them (epoch numbers by magnitude or ISO 8601; level names); one that does not
 * convert stays an attribute.
 *
 * When to use: for a line format without a dedicated parser. Prefer {@link parseJson},
 * {@link parseLogfmt} and {@link parseSyslog} where they apply: they are faster and stricter.
 *
 * Gotchas:
 * - The message and the parsed attribute stay as they were unless a `message` group replaces
 *   the message: a pattern often matches part of a line, and the rest must not be lost.
 * - A line that does not match is a parse error (`parseRegex: no match`), settled by `onError`
 *   (`keep`: unchanged, with the attribute `error`; `drop`: removed).
 * - JavaScript regular expressions backtrack: a pattern such as `(a+)+$` can take exponential
 *   time on a hostile line. Anchor patterns and avoid nested quantifiers.
 *
 * Counters: `parse_errors`; `dropped_parse_error` (with `onError: 'drop'`).
 *
 * @example
 * ```ts
 * stage: parseRegex({ pattern: '^(?<ip>\\S+) \\S+ \\S+ \\[[^\\]]+\\] "(?<method>\\w+) (?<path>\\S+)[^"]*" (?<status>\\d{3})' })
 * // 10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /a HTTP/1.1" 200 …
 * //   → attributes: { ip: '10.0.0.1', method: 'GET', path: '/a', status: '200' }
 * ```
 */
export const parseRegex = defineVerb<ParseRegexOptions>({
  type: 'parseRegex',
  validate(o) {
    const problems: string[] = [];
    checkParseOptions(o, problems);
    const check = optionChecks(problems);
    check.nonEmptyString('pattern', o.pattern, true);
    check.nonEmptyString('flags', o.flags);
    if (typeof o.flags === 'string' && /[gy]/.test(o.flags)) {
      problems.push('flags must not contain "g" or "y": each line is matched once, from its start');
    }
    if (typeof o.pattern !== 'string' || (o.flags !== undefined && typeof o.flags !== 'string')) {
      return problems;
    }
    try {
      new RegExp('', o.flags);
    } catch {
      problems.push(`flags must be regular expression flags (d, i, m, s, u, v), not "${o.flags}"`);
      return problems;
    }
    let regex: RegExp;
    try {
      regex = new RegExp(o.pattern, o.flags);
    } catch (err) {
      problems.push(`pattern is not a valid regular expression: ${(err as Error).message}`);
      return problems;
    }
    if (namedGroups(regex).length === 0) {
      problems.push('pattern has no named group (?<name>…): nothing would be parsed out');
    }
    return problems;
  },
  build(o, ctx): Transform {
    const regex = new RegExp(o.pattern, o.flags);
    const source = o.field ?? 'message';
    const process = parseBatches('parseRegex', o, ctx.counters, (text, event) => {
      const match = regex.exec(text);
      if (match === null) return 'no match';
      return promote(match.groups!, event, source, false, GROUP_KEYS);
    });
    return { process };
  },
});

/**
 * The names of `regex`'s named groups. A match always has a `groups` object with every name
 * (undefined for groups that did not take part), and an alternative that matches the empty
 * string makes any pattern match.
 */
function namedGroups(regex: RegExp): string[] {
  const anything = new RegExp(`(?:${regex.source})|`, regex.flags);
  return Object.keys(anything.exec('')?.groups ?? {});
}
