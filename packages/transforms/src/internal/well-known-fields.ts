/**
 * Well-known fields: how the parse verbs turn the keys of a parsed line into an event's own
 * `message`, `timestamp` and `severity` (promotion), and every other key into an attribute.
 *
 * ```
 * {"time":1700000000,"level":"warn","msg":"disk 91% full","disk":"/data"}
 *   → { timestamp: 1700000000000, severity: 'warn', message: 'disk 91% full',
 *       attributes: { disk: '/data' } }
 * ```
 *
 * Rules, the same for every parse verb:
 * - Each of the three has a list of candidate keys, tried in order; the first whose value
 *   converts is promoted and not kept as an attribute. A value that does not convert (a `msg`
 *   that is an object, a `level` of `"loud"`) stays an attribute under its key, so nothing is
 *   lost, and the next candidate is tried.
 * - Parsed keys overwrite the event's attributes of the same name.
 * - What is promoted replaces the event's own field; what is not keeps it — except the message
 *   when the line parsed was the message itself: its content now lives in the attributes, so
 *   without a message key the message becomes `''` rather than a second copy of the line.
 */
import type { LogEvent, Severity } from '@spillway/core';
import { optionChecks, setField } from '@spillway/core';

/** The candidate keys of each promoted field, in the order they are tried. */
export interface WellKnownKeys {
  readonly message: readonly string[];
  readonly timestamp: readonly string[];
  readonly severity: readonly string[];
}

/** The default candidates: what pino, bunyan, zap, logrus, winston and Logstash write. */
export const DEFAULT_WELL_KNOWN_KEYS: WellKnownKeys = {
  message: ['msg', 'message'],
  timestamp: ['time', 'timestamp', 'ts', '@timestamp'],
  severity: ['level', 'severity'],
};

/** Options of the parse verbs that name the promoted keys; one name replaces the default list. */
export interface PromotionOptions {
  /** The key whose string value becomes the message. Default: `msg`, then `message`. */
  messageField?: string;
  /** The key whose value becomes the timestamp. Default: `time`, `timestamp`, `ts`, `@timestamp`. */
  timestampField?: string;
  /** The key whose value becomes the severity. Default: `level`, then `severity`. */
  severityField?: string;
}

/** Adds the problems with `messageField`, `timestampField` and `severityField` to `problems`. */
export function checkPromotionOptions(o: PromotionOptions, problems: string[]): void {
  const check = optionChecks(problems);
  check.nonEmptyString('messageField', o.messageField);
  check.nonEmptyString('timestampField', o.timestampField);
  check.nonEmptyString('severityField', o.severityField);
}

/** The candidate keys for these options: a configured name replaces its default list. */
export function wellKnownKeys(o: PromotionOptions): WellKnownKeys {
  const d = DEFAULT_WELL_KNOWN_KEYS;
  return {
    message: o.messageField === undefined ? d.message : [o.messageField],
    timestamp: o.timestampField === undefined ? d.timestamp : [o.timestampField],
    severity: o.severityField === undefined ? d.severity : [o.severityField],
  };
}

/**
 * The event made from `fields`, parsed out of `base`'s field `source` (`message` or an
 * attribute name). `consumed`: the fields are the whole content of the source (a JSON object,
 * a logfmt line), so a parsed attribute is removed and a parsed message without a message key
 * becomes `''`; otherwise (a regular expression that matched part of a line) the source stays.
 * Undefined values are skipped (a group that did not take part in the match). Allocates the
 * event and one attributes object, and no closures: it runs per event.
 */
export function promote(
  fields: Record<string, unknown>,
  base: LogEvent,
  source: string,
  consumed: boolean,
  keys: WellKnownKeys,
): LogEvent {
  let message: string | undefined;
  let messageKey: string | undefined;
  for (const key of keys.message) {
    const value = fields[key];
    if (typeof value === 'string') {
      message = value;
      messageKey = key;
      break;
    }
  }
  let timestamp: number | undefined;
  let timestampKey: string | undefined;
  for (const key of keys.timestamp) {
    const value = fields[key];
    if (value === undefined) continue;
    timestamp = toTimestamp(value);
    if (timestamp !== undefined) {
      timestampKey = key;
      break;
    }
  }
  let severity: Severity | undefined;
  let severityKey: string | undefined;
  for (const key of keys.severity) {
    const value = fields[key];
    if (value === undefined) continue;
    severity = toSeverity(value);
    if (severity !== undefined) {
      severityKey = key;
      break;
    }
  }

  const attributes = mergeAttributes(
    base.attributes,
    consumed ? source : undefined,
    fields,
    messageKey,
    timestampKey,
    severityKey,
  );
  const event: LogEvent = {
    timestamp: timestamp ?? base.timestamp,
    message: message ?? (consumed && source === 'message' ? '' : base.message),
  };
  severity ??= base.severity;
  if (severity !== undefined) event.severity = severity;
  if (attributes !== undefined) event.attributes = attributes;
  return event;
}

/**
 * `base` without the key `without`, then `fields` over it without the keys `skip*` and without
 * undefined values; undefined when that leaves nothing (an event without attributes).
 */
export function mergeAttributes(
  base: Readonly<Record<string, unknown>> | undefined,
  without: string | undefined,
  fields: Readonly<Record<string, unknown>> | undefined,
  skipA?: string,
  skipB?: string,
  skipC?: string,
): Record<string, unknown> | undefined {
  let attributes: Record<string, unknown> | undefined;
  for (const key in base) {
    if (key === without) continue;
    attributes ??= {};
    setField(attributes, key, base[key]);
  }
  for (const key in fields) {
    if (key === skipA || key === skipB || key === skipC) continue;
    const value = fields[key];
    if (value === undefined) continue;
    attributes ??= {};
    setField(attributes, key, value);
  }
  return attributes;
}

/**
 * A timestamp in milliseconds since the epoch, or undefined when `value` is not one.
 *
 * - Numbers are read by magnitude, as epoch seconds, milliseconds, microseconds or
 *   nanoseconds: below 1e11 seconds (1e11 s is the year 5138, 1e11 ms is March 1973), below
 *   1e14 milliseconds, below 1e17 microseconds, otherwise nanoseconds. Fractions are kept.
 * - Strings of digits (with an optional fraction and sign) are read as numbers, by the same rule.
 * - Other strings must start like an ISO 8601 date (`YYYY-MM-DD`) and are read by `Date.parse`:
 *   with `Z` or an offset they are exact; a date-time without a zone is read as local time.
 */
export function toTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? fromEpoch(value) : undefined;
  if (typeof value !== 'string') return undefined;
  if (isDecimal(value)) return fromEpoch(Number(value));
  if (!looksLikeIsoDate(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function fromEpoch(n: number): number {
  const magnitude = Math.abs(n);
  if (magnitude < 1e11) return n * 1000;
  if (magnitude < 1e14) return n;
  if (magnitude < 1e17) return n / 1000;
  return n / 1e6;
}

/** `-?digits(.digits)?`, checked with a loop: this runs per event. */
function isDecimal(s: string): boolean {
  let i = s.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const start = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === start) return false;
  if (i === s.length) return true;
  if (s.charCodeAt(i) !== 46 /* . */) return false;
  const fraction = ++i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  return i === s.length && i > fraction;
}

/** `YYYY-MM-DD` at the start. Date.parse alone would take `"1"` for the year 2001. */
function looksLikeIsoDate(s: string): boolean {
  return (
    s.length >= 10 &&
    isDigit(s.charCodeAt(0)) &&
    isDigit(s.charCodeAt(1)) &&
    isDigit(s.charCodeAt(2)) &&
    isDigit(s.charCodeAt(3)) &&
    s.charCodeAt(4) === 45 &&
    isDigit(s.charCodeAt(5)) &&
    isDigit(s.charCodeAt(6)) &&
    s.charCodeAt(7) === 45 &&
    isDigit(s.charCodeAt(8)) &&
    isDigit(s.charCodeAt(9))
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Level names as logging libraries spell them (lower case), by severity. */
const SEVERITY_NAMES: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ...names('trace', ['trace', 'trc', 'silly', 'finest', 'finer']),
  ...names('debug', ['debug', 'dbg', 'verbose', 'fine']),
  ...names('info', ['info', 'inf', 'information', 'informational', 'notice']),
  ...names('warn', ['warn', 'warning', 'wrn']),
  ...names('error', ['error', 'err', 'severe']),
  ...names('fatal', ['fatal', 'ftl', 'crit', 'critical', 'alert', 'emerg', 'emergency', 'panic']),
]);

function names(severity: Severity, spellings: readonly string[]): [string, Severity][] {
  return spellings.map((s) => [s, severity]);
}

/**
 * A severity, or undefined when `value` is not one.
 *
 * - Names, in any case: trace (`trace`, `trc`, `silly`, `finest`, `finer`), debug (`debug`,
 *   `dbg`, `verbose`, `fine`), info (`info`, `inf`, `information`, `informational`, `notice`),
 *   warn (`warn`, `warning`, `wrn`), error (`error`, `err`, `severe`), fatal (`fatal`, `ftl`,
 *   `crit`, `critical`, `alert`, `emerg`, `emergency`, `panic`).
 * - Numbers (or strings of digits) as pino's levels, by band: 10–19 trace, 20–29 debug, 30–39
 *   info, 40–49 warn, 50–59 error, 60 and above fatal (so custom levels such as 35 fall in the
 *   band below them). Numbers under 10 are not severities: syslog's 0–7 run the other way.
 */
export function toSeverity(value: unknown): Severity | undefined {
  if (typeof value === 'string') {
    const named = SEVERITY_NAMES.get(value) ?? SEVERITY_NAMES.get(value.toLowerCase());
    if (named !== undefined) return named;
    return isDecimal(value) ? fromPinoLevel(Number(value)) : undefined;
  }
  return typeof value === 'number' ? fromPinoLevel(value) : undefined;
}

function fromPinoLevel(n: number): Severity | undefined {
  if (!(n >= 10)) return undefined;
  if (n < 20) return 'trace';
  if (n < 30) return 'debug';
  if (n < 40) return 'info';
  if (n < 50) return 'warn';
  if (n < 60) return 'error';
  return 'fatal';
}
