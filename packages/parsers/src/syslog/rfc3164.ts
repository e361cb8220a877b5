/**
 * RFC 3164 ("BSD") syslog messages, as senders actually write them:
 *
 * ```
 * <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: CONTENT
 *   <38>Mar  9 14:02:51 bastion sshd[2231]: session opened for user ops
 * ```
 *
 * RFC 3164 describes observed practice rather than a grammar, so everything after the PRI is
 * optional and the parser takes what it recognises:
 * - a date `Mmm dd hh:mm:ss` (day space- or zero-padded, optional fraction) — without a year,
 *   which is chosen so that the time is not more than a day in the future (a message from the
 *   last seconds of December received in January belongs to the year before); an RFC 3339
 *   timestamp is accepted in its place, as rsyslog and others send it;
 * - after a date, a HOSTNAME — unless the next word looks like a TAG (ends with `:` or has a
 *   `[`), which is how local senders that omit the hostname are told apart;
 * - a TAG (`app`, `app[pid]`) followed by `:`.
 * Whatever follows is the message. Only a missing or invalid PRI is an error.
 */
import { type PriParsed, toResult, withPri } from './common.js';
import { daysInMonth, parseRfc3339 } from './rfc5424.js';
import type { SyslogParseOptions, SyslogParseResult } from './types.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DATE = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?: |$)/;
const RFC3339_PREFIX = /^\d{4}-\d{2}-\d{2}[Tt]\S+(?: |$)/;
const TAG = /^([^\s:[\]]{1,48})(?:\[([^\s\]]{1,128})\])?:(?: |$)/;
const DAY_MS = 86_400_000;

/**
 * Parses one RFC 3164 message (without any transport framing).
 *
 * When to use: the input is known to be BSD syslog; otherwise {@link parseSyslog} detects the
 * format. Never throws: garbage gives `{ ok: false, code, error }`.
 *
 * Gotcha: dates carry neither year nor zone. The zone is `options.rfc3164TimeZone` (default the
 * process's local zone); the year is the latest one that puts the time at most one day after
 * `options.now`.
 */
export const parseRfc3164 = withPri(parseRfc3164After);

/** The rest of a message whose PRI has been read. */
export function parseRfc3164After(
  { text, pri, start, now }: PriParsed,
  options: SyslogParseOptions,
): SyslogParseResult {
  let rest = text.slice(start);
  let timestamp: number | undefined;

  const date = DATE.exec(rest);
  if (date) {
    timestamp = legacyDate(date, now, options.rfc3164TimeZone === 'utc');
    if (timestamp !== undefined) rest = rest.slice(date[0].length);
  } else {
    const iso = RFC3339_PREFIX.exec(rest);
    if (iso) {
      timestamp = parseRfc3339(iso[0].trimEnd());
      if (timestamp !== undefined) rest = rest.slice(iso[0].length);
    }
  }

  let hostname: string | undefined;
  if (timestamp !== undefined) {
    const space = rest.indexOf(' ');
    const word = space === -1 ? rest : rest.slice(0, space);
    if (word.length > 0 && !TAG.test(`${word} `) && !word.includes('[')) {
      hostname = word;
      rest = space === -1 ? '' : rest.slice(space + 1);
    }
  }

  let appName: string | undefined;
  let procId: string | undefined;
  const tag = TAG.exec(rest);
  if (tag) {
    appName = tag[1];
    procId = tag[2];
    rest = rest.slice(tag[0].length);
  }

  return toResult({
    format: 'rfc3164',
    pri,
    timestamp: timestamp ?? now,
    hostname,
    appName,
    procId,
    message: rest,
  });
}

/** The time of a `Mmm dd hh:mm:ss` date in the latest year not more than a day after `now`. */
function legacyDate(m: RegExpExecArray, now: number, utc: boolean): number | undefined {
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  const day = Number(m[2]);
  const hour = Number(m[3]);
  const minute = Number(m[4]);
  const second = Number(m[5]);
  const ms = m[6] ? Number(m[6].padEnd(3, '0').slice(0, 3)) : 0;
  if (month === -1 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const reference = new Date(now);
  const nowYear = utc ? reference.getUTCFullYear() : reference.getFullYear();
  // Next year first (a sender slightly ahead across New Year), then back; Feb 29 may need up to
  // eight years to find a leap year.
  for (let year = nowYear + 1; year >= nowYear - 8; year--) {
    if (day > daysInMonth(year, month + 1)) continue;
    const t = utc
      ? Date.UTC(year, month, day, hour, minute, second, ms)
      : new Date(year, month, day, hour, minute, second, ms).getTime();
    if (t <= now + DAY_MS) return t;
  }
  return undefined;
}
