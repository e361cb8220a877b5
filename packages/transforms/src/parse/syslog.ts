/**
 * The `parseSyslog` verb: syslog lines (RFC 5424 or RFC 3164, detected per line) into events,
 * with the parser of `@spillway/parsers` that the syslog receivers use.
 */

import type { LogEvent, Transform } from '@spillway/core';
import { optionChecks } from '@spillway/core';
import { parseSyslog as parseSyslogMessage } from '@spillway/parsers';
import { defineVerb } from '../internal/define-verb.js';
import {
  checkParseOptions,
  type ParseOptions,
  parseBatches,
  withoutPrefix,
} from '../internal/parse-policy.js';
import { mergeAttributes } from '../internal/well-known-fields.js';

/** Options of {@link parseSyslog}. */
export interface ParseSyslogOptions extends ParseOptions {
  /**
   * The zone of RFC 3164 dates, which carry none: `local` (default, this process's zone) or
   * `utc`.
   */
  rfc3164TimeZone?: 'local' | 'utc';
}

/**
 * Parses each event's `field` (default: the message) as one syslog message: the event gets the
 * message's time, severity (from the PRI) and text, and the attributes `syslog.format`,
 * `syslog.facility`, `syslog.severity`, `syslog.hostname`, `syslog.app_name`, `syslog.proc_id`,
 * `syslog.msg_id`, `syslog.sd` … (see `SYSLOG_ATTRIBUTES` in `@spillway/parsers`), over the
 * attributes it already had.
 *
 * When to use: on syslog that arrives as lines — a file written by a relay, a TCP stream framed
 * by newlines, a UDP source that does not parse itself.
 *
 * Gotchas:
 * - A message without a time (RFC 5424 `-`) keeps the event's timestamp, which for a raw batch
 *   is the time the source made the batch; RFC 3164 dates have no year, chosen from that
 *   timestamp too.
 * - A line that is not syslog is a parse error, settled by `onError` (`keep`: unchanged, with
 *   the attribute `error`, e.g. `parseSyslog: no <PRI> at the start (ERR_SYSLOG_PRI)`; `drop`:
 *   removed). Never throws on data.
 *
 * Counters: `parse_errors`; `dropped_parse_error` (with `onError: 'drop'`).
 *
 * @example
 * ```ts
 * stage: parseSyslog({ rfc3164TimeZone: 'utc' })
 * // <34>1 2024-05-01T12:00:00Z web1 sshd 42 - - login failed
 * //   → { timestamp: 1714564800000, severity: 'fatal', message: 'login failed',
 * //       attributes: { 'syslog.facility': 'auth', 'syslog.hostname': 'web1', … } }
 * ```
 */
export const parseSyslog = defineVerb<ParseSyslogOptions>({
  type: 'parseSyslog',
  validate(o) {
    const problems: string[] = [];
    checkParseOptions(o, problems);
    optionChecks(problems).oneOf('rfc3164TimeZone', o.rfc3164TimeZone, ['local', 'utc']);
    return problems;
  },
  build(o, ctx): Transform {
    const source = o.field ?? 'message';
    const rfc3164TimeZone = o.rfc3164TimeZone ?? 'local';
    const process = parseBatches('parseSyslog', o, ctx.counters, (text, event) => {
      const result = parseSyslogMessage(text, { now: event.timestamp, rfc3164TimeZone });
      if (!result.ok) return `${withoutPrefix(result.error, 'syslog: ')} (${result.code})`;
      const parsed = result.event;
      const out: LogEvent = { timestamp: parsed.timestamp, message: parsed.message };
      const severity = parsed.severity ?? event.severity;
      if (severity !== undefined) out.severity = severity;
      const attributes = mergeAttributes(event.attributes, source, parsed.attributes);
      if (attributes !== undefined) out.attributes = attributes;
      return out;
    });
    return { process };
  },
});
