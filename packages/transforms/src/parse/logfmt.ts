/**
 * The `parseLogfmt` verb: `key=value` lines (logrus, Heroku, Go's slog text handler, …) into
 * events, with the logfmt parser of `@spillway/parsers`.
 */
import type { Transform } from '@spillway/core';
import { optionChecks } from '@spillway/core';
import { parseLogfmt as parseLogfmtLine } from '@spillway/parsers';
import { defineVerb } from '../internal/define-verb.js';
import {
  checkParseOptions,
  type ParseOptions,
  parseBatches,
  withoutPrefix,
} from '../internal/parse-policy.js';
import {
  checkPromotionOptions,
  type PromotionOptions,
  promote,
  wellKnownKeys,
} from '../internal/well-known-fields.js';

/** Options of {@link parseLogfmt}. */
export interface ParseLogfmtOptions extends ParseOptions, PromotionOptions {
  /** Most distinct keys kept per line (default 256); further ones are counted in `dropped_keys`. */
  maxKeys?: number;
}

/**
 * Parses each event's `field` (default: the message) as a logfmt line: every pair becomes an
 * attribute (values are strings; a key without `=` is `true`), except the well-known keys,
 * promoted as by {@link parseJson}: `msg`/`message` to the message, `time`/`timestamp`/`ts`/
 * `@timestamp` to the timestamp (epoch numbers by magnitude, or ISO 8601), `level`/`severity`
 * to the severity.
 *
 * When to use: on `level=info msg="…" key=value` lines. For JSON lines use {@link parseJson}.
 *
 * Gotchas:
 * - A line needs at least one `key=value` pair. logfmt reads any word as a flag
 *   (`Starting server` would be `{ Starting: true, server: true }`), so a plain-text line would
 *   otherwise lose its text; here it is a parse error (`no key=value pair`) and keeps it.
 * - A malformed pair (a stray `"`, an unterminated quote) makes the line a parse error, even
 *   though the other pairs were readable: half a line is not silently passed on.
 * - Parse errors are settled by `onError` (`keep`: unchanged, with the attribute `error`, e.g.
 *   `parseLogfmt: unterminated quoted value of key "msg" at offset 10
 *   (ERR_LOGFMT_UNTERMINATED_QUOTE)`; `drop`: removed). Never throws on data.
 * - Without a message key, the message becomes `''` (its content is in the attributes).
 *
 * Counters: `parse_errors`; `dropped_parse_error` (with `onError: 'drop'`); `dropped_keys`
 * (pairs beyond `maxKeys`, not kept anywhere).
 *
 * @example
 * ```ts
 * stage: parseLogfmt({})
 * // time=2024-05-01T12:00:00Z level=warn msg="disk 91% full" disk=/data
 * //   → { timestamp: 1714564800000, severity: 'warn', message: 'disk 91% full',
 * //       attributes: { disk: '/data' } }
 * ```
 */
export const parseLogfmt = defineVerb<ParseLogfmtOptions>({
  type: 'parseLogfmt',
  validate(o) {
    const problems: string[] = [];
    checkParseOptions(o, problems);
    checkPromotionOptions(o, problems);
    optionChecks(problems).integerAtLeast('maxKeys', o.maxKeys, 1);
    return problems;
  },
  build(o, ctx): Transform {
    const keys = wellKnownKeys(o);
    const source = o.field ?? 'message';
    const options = o.maxKeys === undefined ? {} : { maxKeys: o.maxKeys };
    const counters = ctx.counters;
    const process = parseBatches('parseLogfmt', o, counters, (text, event) => {
      const result = parseLogfmtLine(text, options);
      if (result.droppedKeys > 0) counters.add('dropped_keys', result.droppedKeys);
      if (!result.ok) return `${withoutPrefix(result.error, 'logfmt: ')} (${result.code})`;
      if (!hasPair(result.fields)) return 'no key=value pair';
      return promote(result.fields, event, source, true, keys);
    });
    return { process };
  },
});

function hasPair(fields: Readonly<Record<string, string | true>>): boolean {
  for (const key in fields) if (fields[key] !== true) return true;
  return false;
}
