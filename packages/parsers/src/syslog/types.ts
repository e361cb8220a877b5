/**
 * What the syslog parsers return, the stable error codes of a message that could not be parsed,
 * and the names of facilities and severities.
 *
 * The parsers never throw: a receiver decides per message whether to keep what it got (raw, with
 * the error as an attribute) or to drop it and count it, and that decision must not depend on
 * catching exceptions in a socket callback.
 */
import type { LogEvent, Severity } from '@spillway/core';

/** Which syslog wire format a message was parsed as. */
export type SyslogFormat = 'rfc5424' | 'rfc3164';

/**
 * Why a message could not be parsed. Stable: match on these, never on `error`.
 *
 * - `ERR_SYSLOG_EMPTY`: nothing left after trailing CR, LF and NUL were removed.
 * - `ERR_SYSLOG_PRI`: no `<PRI>` at the start, or a PRI outside 0..191.
 * - `ERR_SYSLOG_VERSION`: RFC 5424 framing with a version other than 1.
 * - `ERR_SYSLOG_HEADER`: an RFC 5424 header field is missing, too long or not printable ASCII.
 * - `ERR_SYSLOG_TIMESTAMP`: an RFC 5424 timestamp that is not a valid RFC 3339 date-time.
 * - `ERR_SYSLOG_STRUCTURED_DATA`: malformed RFC 5424 structured data.
 */
export type SyslogErrorCode =
  | 'ERR_SYSLOG_EMPTY'
  | 'ERR_SYSLOG_PRI'
  | 'ERR_SYSLOG_VERSION'
  | 'ERR_SYSLOG_HEADER'
  | 'ERR_SYSLOG_TIMESTAMP'
  | 'ERR_SYSLOG_STRUCTURED_DATA';

/** A parsed message, or why it is not one. */
export type SyslogParseResult =
  | { readonly ok: true; readonly format: SyslogFormat; readonly event: LogEvent }
  | { readonly ok: false; readonly code: SyslogErrorCode; readonly error: string };

export interface SyslogParseOptions {
  /**
   * "Now", in milliseconds since the epoch: the timestamp of a message that carries none
   * (RFC 5424 `-`, or an RFC 3164 message without a date), and the reference from which the year
   * of an RFC 3164 date is chosen. Default `Date.now()`; receivers pass the receive time.
   */
  now?: number;
  /**
   * The zone of RFC 3164 dates, which carry none: `local` (default, the zone of this process, as
   * a receiver on the same host as its senders assumes) or `utc`.
   */
  rfc3164TimeZone?: 'local' | 'utc';
}

/**
 * Structured data (RFC 5424 §6.3): SD-ID → PARAM-NAME → value. A parameter repeated within an
 * element (allowed by the RFC) has all its values, in order, as an array.
 */
export type SyslogStructuredData = Record<string, Record<string, string | string[]>>;

/**
 * The attribute keys the parsers set on an event. Fields that are absent from the message
 * (RFC 5424 NILVALUE `-`, or not present in an RFC 3164 message) are left out.
 */
export const SYSLOG_ATTRIBUTES = {
  /** `rfc5424` or `rfc3164`. */
  format: 'syslog.format',
  /** Facility name, e.g. `local0` (see {@link SYSLOG_FACILITIES}). */
  facility: 'syslog.facility',
  /** Facility number 0..23. */
  facilityCode: 'syslog.facility_code',
  /** Severity name, e.g. `err` (see {@link SYSLOG_SEVERITIES}). */
  severity: 'syslog.severity',
  /** Severity number 0..7; `event.severity` is its coarser spillway equivalent. */
  severityCode: 'syslog.severity_code',
  hostname: 'syslog.hostname',
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG. */
  appName: 'syslog.app_name',
  /** RFC 5424 PROCID, or the `[pid]` after an RFC 3164 TAG. */
  procId: 'syslog.proc_id',
  msgId: 'syslog.msg_id',
  /** {@link SyslogStructuredData}. */
  structuredData: 'syslog.sd',
} as const;

/** Facility names by number (RFC 5424 §6.2.1), as syslog daemons spell them. */
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** Severity names by number (RFC 5424 §6.2.1). */
export const SYSLOG_SEVERITIES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;

/** emerg, alert and crit are all `fatal`; notice and info are both `info`. */
const SEVERITY_MAP: readonly Severity[] = [
  'fatal',
  'fatal',
  'fatal',
  'error',
  'warn',
  'info',
  'info',
  'debug',
];

/** The spillway severity of a syslog severity number (0..7). */
export function severityFromSyslog(code: number): Severity {
  return SEVERITY_MAP[code] ?? 'info';
}
