/**
 * Pieces both syslog formats share: input decoding and trimming, the `<PRI>` prefix (and so the
 * prologue of every public parser), and the construction of the event. Not exported from the
 * package.
 */
import type { LogEvent } from '@spillway/core';
import {
  SYSLOG_ATTRIBUTES as A,
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITIES,
  type SyslogErrorCode,
  type SyslogFormat,
  type SyslogParseOptions,
  type SyslogParseResult,
  type SyslogStructuredData,
  severityFromSyslog,
} from './types.js';

/**
 * The message as text, without the trailing CR, LF and NUL bytes that many senders append
 * (a newline-terminated datagram, a C string's terminator). Invalid UTF-8 becomes U+FFFD rather
 * than failing: the header checks then reject it where the RFC requires ASCII.
 */
function decodeInput(input: Uint8Array | string): string {
  const text =
    typeof input === 'string'
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

export function fail(code: SyslogErrorCode, error: string): SyslogParseResult {
  return { ok: false, code, error: `syslog: ${error}` };
}

/** PRI and the index just after `>`, or an error. Leading zeros are tolerated. */
function parsePri(text: string): { pri: number; next: number } | SyslogParseResult {
  if (text.length === 0) return fail('ERR_SYSLOG_EMPTY', 'empty message');
  if (text.charCodeAt(0) !== 60 /* < */) return fail('ERR_SYSLOG_PRI', 'no <PRI> at the start');
  let pri = 0;
  let i = 1;
  for (; i < text.length && i <= 4; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    pri = pri * 10 + (c - 48);
  }
  if (i === 1 || i > 4 || text.charCodeAt(i) !== 62 /* > */) {
    return fail('ERR_SYSLOG_PRI', 'PRI must be 1 to 3 digits between < and >');
  }
  if (pri > 191) return fail('ERR_SYSLOG_PRI', `PRI ${pri} is over 191`);
  return { pri, next: i + 1 };
}

/** A message whose PRI has been read: what a format's parser starts from. */
export interface PriParsed {
  /** The whole message, decoded and trimmed. */
  text: string;
  pri: number;
  /** The index just after `>`. */
  start: number;
  /** `options.now`, or the time of the call: the timestamp of a message that has none. */
  now: number;
}

/**
 * A parser of whole messages from a parser of what follows the PRI: the input is decoded, the
 * PRI read and `now` fixed the same way whatever the format, and a missing or invalid PRI is an
 * error before any format is tried.
 */
export function withPri(
  afterPri: (message: PriParsed, options: SyslogParseOptions) => SyslogParseResult,
): (input: Uint8Array | string, options?: SyslogParseOptions) => SyslogParseResult {
  return (input, options = {}) => {
    const text = decodeInput(input);
    const pri = parsePri(text);
    if ('ok' in pri) return pri;
    return afterPri(
      { text, pri: pri.pri, start: pri.next, now: options.now ?? Date.now() },
      options,
    );
  };
}

/** True for PRINTUSASCII (RFC 5424: %d33-126), the only bytes allowed in header fields. */
export function isPrintUsAscii(code: number): boolean {
  return code >= 33 && code <= 126;
}

/** Sets an own property even for keys such as `__proto__` that come from the wire. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export interface ParsedFields {
  format: SyslogFormat;
  pri: number;
  timestamp: number;
  hostname?: string | undefined;
  appName?: string | undefined;
  procId?: string | undefined;
  msgId?: string | undefined;
  structuredData?: SyslogStructuredData | undefined;
  message: string;
}

/** The event of a parsed message; absent fields are left out rather than set to undefined. */
export function toResult(fields: ParsedFields): SyslogParseResult {
  const facility = fields.pri >> 3;
  const severity = fields.pri & 7;
  const attributes: Record<string, unknown> = {
    [A.format]: fields.format,
    [A.facility]: SYSLOG_FACILITIES[facility],
    [A.facilityCode]: facility,
    [A.severity]: SYSLOG_SEVERITIES[severity],
    [A.severityCode]: severity,
  };
  if (fields.hostname !== undefined) attributes[A.hostname] = fields.hostname;
  if (fields.appName !== undefined) attributes[A.appName] = fields.appName;
  if (fields.procId !== undefined) attributes[A.procId] = fields.procId;
  if (fields.msgId !== undefined) attributes[A.msgId] = fields.msgId;
  if (fields.structuredData !== undefined) attributes[A.structuredData] = fields.structuredData;
  const event: LogEvent = {
    timestamp: fields.timestamp,
    message: fields.message,
    severity: severityFromSyslog(severity),
    attributes,
  };
  return { ok: true, format: fields.format, event };
}
