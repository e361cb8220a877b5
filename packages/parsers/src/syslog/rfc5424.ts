/**
 * RFC 5424 syslog messages:
 *
 * ```
 * <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
 *   <165>1 2024-05-06T07:08:09.123+02:00 web-1 nginx 812 ACCESS [req@32473 id="7"] GET /
 * ```
 *
 * Strict where the RFC is precise (header fields are printable ASCII of bounded length, the
 * timestamp is RFC 3339 with at most 6 fraction digits, structured data is well formed), lenient
 * where senders commonly stray and nothing is ambiguous: `]` unescaped inside a quoted value, a
 * repeated SD-ID (merged), lowercase `t`/`z` in timestamps. Timestamps keep millisecond precision.
 */
import { fail, isPrintUsAscii, type PriParsed, setOwn, toResult, withPri } from './common.js';
import type { SyslogParseResult, SyslogStructuredData } from './types.js';

const NIL = '-';
/** RFC 5424 §6: maximum lengths of HOSTNAME, APP-NAME, PROCID, MSGID and of an SD-NAME. */
const MAX_HOSTNAME = 255;
const MAX_APP_NAME = 48;
const MAX_PROCID = 128;
const MAX_MSGID = 32;
const MAX_SD_NAME = 32;

/**
 * Parses one RFC 5424 message (without any transport framing).
 *
 * When to use: the input is known to be RFC 5424; otherwise {@link parseSyslog} detects the
 * format. Never throws: garbage gives `{ ok: false, code, error }`.
 *
 * @example
 * ```ts
 * const r = parseRfc5424('<34>1 2024-01-02T03:04:05Z host app - - - hello');
 * if (r.ok) r.event.attributes?.['syslog.hostname']; // 'host'
 * ```
 */
export const parseRfc5424 = withPri(parseRfc5424After);

/** The rest of a message whose PRI has been read. */
export function parseRfc5424After({ text, pri, start, now }: PriParsed): SyslogParseResult {
  let i = start;
  // VERSION: NONZERO-DIGIT 0*2DIGIT. Only version 1 exists.
  let version = 0;
  const versionStart = i;
  while (i < text.length && i - versionStart < 3) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    version = version * 10 + (c - 48);
    i++;
  }
  if (i === versionStart || text.charCodeAt(i) !== 32) {
    return fail('ERR_SYSLOG_VERSION', 'no VERSION after PRI');
  }
  if (version !== 1) return fail('ERR_SYSLOG_VERSION', `unsupported version ${version}`);
  i++;

  const fields: (string | undefined)[] = [];
  const limits = [Number.POSITIVE_INFINITY, MAX_HOSTNAME, MAX_APP_NAME, MAX_PROCID, MAX_MSGID];
  const names = ['TIMESTAMP', 'HOSTNAME', 'APP-NAME', 'PROCID', 'MSGID'];
  for (let f = 0; f < 5; f++) {
    const end = text.indexOf(' ', i);
    if (end === -1) return fail('ERR_SYSLOG_HEADER', `message ends before ${names[f]}`);
    if (end === i) return fail('ERR_SYSLOG_HEADER', `empty ${names[f]}`);
    if (end - i > limits[f]!) {
      return fail('ERR_SYSLOG_HEADER', `${names[f]} longer than ${limits[f]} characters`);
    }
    for (let k = i; k < end; k++) {
      if (!isPrintUsAscii(text.charCodeAt(k))) {
        return fail('ERR_SYSLOG_HEADER', `${names[f]} is not printable ASCII`);
      }
    }
    const token = text.slice(i, end);
    fields.push(token === NIL ? undefined : token);
    i = end + 1;
  }

  let timestamp = now;
  if (fields[0] !== undefined) {
    const parsed = parseRfc3339(fields[0]);
    if (parsed === undefined) {
      return fail('ERR_SYSLOG_TIMESTAMP', `invalid TIMESTAMP ${JSON.stringify(fields[0])}`);
    }
    timestamp = parsed;
  }

  let structuredData: SyslogStructuredData | undefined;
  if (text.charCodeAt(i) === 45 /* - */) {
    i++;
  } else if (text.charCodeAt(i) === 91 /* [ */) {
    const sd = parseStructuredData(text, i);
    if ('error' in sd) return fail('ERR_SYSLOG_STRUCTURED_DATA', sd.error);
    structuredData = sd.data;
    i = sd.next;
  } else {
    return fail('ERR_SYSLOG_STRUCTURED_DATA', 'STRUCTURED-DATA must be "-" or start with "["');
  }

  let message = '';
  if (i < text.length) {
    if (text.charCodeAt(i) !== 32) {
      return fail('ERR_SYSLOG_STRUCTURED_DATA', 'no space between STRUCTURED-DATA and MSG');
    }
    message = text.slice(i + 1);
    // MSG-UTF8 starts with a BOM (RFC 5424 §6.4): a marker, not content.
    if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  }

  return toResult({
    format: 'rfc5424',
    pri,
    timestamp,
    hostname: fields[1],
    appName: fields[2],
    procId: fields[3],
    msgId: fields[4],
    structuredData,
    message,
  });
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp as RFC 5424 restricts it (at most 6
 * fraction digits, no leap second), or undefined. Fractions below a millisecond are truncated.
 */
export function parseRfc3339(token: string): number | undefined {
  const m = RFC3339.exec(token);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  let offsetMinutes = 0;
  if (!m[8]) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMinutes * 60_000;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `1*SD-ELEMENT` from `start` (which is `[`). PARAM-VALUE escapes are `\"`, `\\` and `\]`; a
 * backslash before anything else is kept as is (RFC 5424 §6.3.3).
 */
function parseStructuredData(
  text: string,
  start: number,
): { data: SyslogStructuredData; next: number } | { error: string } {
  const data: SyslogStructuredData = {};
  let i = start;
  while (text.charCodeAt(i) === 91 /* [ */) {
    i++;
    const idEnd = scanName(text, i);
    if (idEnd === i) return { error: 'empty SD-ID' };
    if (idEnd - i > MAX_SD_NAME) return { error: `SD-ID longer than ${MAX_SD_NAME} characters` };
    const id = text.slice(i, idEnd);
    i = idEnd;
    let params = Object.hasOwn(data, id) ? data[id]! : undefined;
    if (!params) {
      params = {};
      setOwn(data, id, params);
    }
    while (text.charCodeAt(i) === 32) {
      i++;
      const nameEnd = scanName(text, i);
      if (nameEnd === i) return { error: `empty PARAM-NAME in [${id}]` };
      if (nameEnd - i > MAX_SD_NAME) {
        return { error: `PARAM-NAME longer than ${MAX_SD_NAME} characters in [${id}]` };
      }
      const name = text.slice(i, nameEnd);
      i = nameEnd;
      if (text.charCodeAt(i) !== 61 /* = */ || text.charCodeAt(i + 1) !== 34 /* " */) {
        return { error: `PARAM-NAME ${name} in [${id}] must be followed by ="` };
      }
      i += 2;
      let value = '';
      let runStart = i;
      for (;;) {
        if (i >= text.length) return { error: `unterminated value of ${name} in [${id}]` };
        const c = text.charCodeAt(i);
        if (c === 34 /* " */) break;
        if (c === 92 /* \ */) {
          const n = text.charCodeAt(i + 1);
          if (n === 34 || n === 92 || n === 93) {
            value += text.slice(runStart, i) + text[i + 1];
            i += 2;
            runStart = i;
            continue;
          }
        }
        i++;
      }
      value += text.slice(runStart, i);
      i++; // closing quote
      const earlier = Object.hasOwn(params, name) ? params[name] : undefined;
      if (earlier === undefined) setOwn(params, name, value);
      else if (Array.isArray(earlier)) earlier.push(value);
      else setOwn(params, name, [earlier, value]);
    }
    if (text.charCodeAt(i) !== 93 /* ] */) return { error: `[${id}] is not closed by ]` };
    i++;
  }
  return { data, next: i };
}

/** End of an SD-NAME: PRINTUSASCII except `=`, space, `]` and `"`. */
function scanName(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (!isPrintUsAscii(c) || c === 61 || c === 93 || c === 34) break;
    i++;
  }
  return i;
}
