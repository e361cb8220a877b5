/**
 * The `parseJson` verb: one JSON object per line (pino, bunyan, zap, Docker's json-file, …) into
 * a structured event.
 */
import type { Transform } from '@spillway/core';
import { defineVerb } from '../internal/define-verb.js';
import { checkParseOptions, type ParseOptions, parseBatches } from '../internal/parse-policy.js';
import {
  checkPromotionOptions,
  type PromotionOptions,
  promote,
  wellKnownKeys,
} from '../internal/well-known-fields.js';

/** Options of {@link parseJson}. */
export interface ParseJsonOptions extends ParseOptions, PromotionOptions {}

/**
 * Parses each event's `field` (default: the message) as a JSON object: its top-level keys become
 * attributes, except the well-known ones, which become the event's own fields:
 *
 * - message: `msg`, then `message` (a string) — or `messageField`;
 * - timestamp: `time`, `timestamp`, `ts`, `@timestamp` — or `timestampField`. A number is read
 *   by its magnitude: below 1e11 epoch seconds, below 1e14 milliseconds, below 1e17
 *   microseconds, else nanoseconds (a string of digits the same way); other strings must be
 *   ISO 8601 dates (`2024-05-01T12:00:00.123Z`);
 * - severity: `level`, then `severity` — or `severityField`. Names in any case (`INFO`,
 *   `warning`, `err`, `crit`, …) or pino's numbers (10 trace, 20 debug, 30 info, 40 warn,
 *   50 error, 60 fatal).
 *
 * A key whose value does not convert stays an attribute. Nested objects stay nested.
 *
 * When to use: on lines written by a JSON logger, from a file or a socket (raw batches are split
 * into lines here). For `key=value` lines use {@link parseLogfmt}.
 *
 * Gotchas:
 * - Without a message key, the message becomes `''`: the line's content is in the attributes,
 *   and a second copy of it in the message would double every event.
 * - A line that is not JSON, or JSON that is not an object (`42`, `[1]`, `null`), is a parse
 *   error, settled by `onError`: `keep` (default) leaves the event as it was with the attribute
 *   `error` (`parseJson: not a JSON object`, or JSON.parse's reason); `drop` removes it. Never
 *   throws on data.
 * - Parsed keys overwrite attributes of the same name that the event already had.
 *
 * Counters: `parse_errors`; `dropped_parse_error` (with `onError: 'drop'`).
 *
 * @example
 * ```ts
 * transforms: { parse: { inputs: ['file'], stage: parseJson({ onError: 'drop' }) } }
 * // {"level":30,"time":1714564800123,"msg":"listening","port":8080}
 * //   → { timestamp: 1714564800123, severity: 'info', message: 'listening',
 * //       attributes: { port: 8080 } }
 * ```
 */
export const parseJson = defineVerb<ParseJsonOptions>({
  type: 'parseJson',
  validate(o) {
    const problems: string[] = [];
    checkParseOptions(o, problems);
    checkPromotionOptions(o, problems);
    return problems;
  },
  build(o, ctx): Transform {
    const keys = wellKnownKeys(o);
    const source = o.field ?? 'message';
    const process = parseBatches('parseJson', o, ctx.counters, (text, event) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return (err as Error).message;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return 'not a JSON object';
      }
      return promote(value as Record<string, unknown>, event, source, true, keys);
    });
    return { process };
  },
});
