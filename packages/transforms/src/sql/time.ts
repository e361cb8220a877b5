/**
 * Time values: timestamps are milliseconds since the Unix epoch (as `LogEvent.timestamp` is), and
 * every calendar computation is in UTC.
 *
 * Read as a timestamp: a number (milliseconds), a Date, numeric text (milliseconds), or other
 * text that `Date.parse` understands (ISO 8601). Anything else is NULL.
 */

import { parseNumber } from './values.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The timestamp, in milliseconds, that `value` stands for; null when none. */
export function toEpochMillis(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? null : ms;
  }
  if (typeof value === 'string') {
    const n = parseNumber(value);
    if (n !== null) return Number.isFinite(n) ? n : null;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/** Units date_trunc accepts. */
export const TRUNCATE_UNITS = [
  'millisecond',
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
] as const;

export type TruncateUnit = (typeof TRUNCATE_UNITS)[number];

/** The unit a date_trunc argument names (case-insensitive, plural accepted), or null. */
export function truncateUnit(text: string): TruncateUnit | null {
  const unit = text.trim().toLowerCase().replace(/s$/, '');
  return (TRUNCATE_UNITS as readonly string[]).includes(unit) ? (unit as TruncateUnit) : null;
}

/** Rounds `ms` down to the start of its `unit` (weeks start on Monday, ISO style). */
export function truncate(unit: TruncateUnit, ms: number): number {
  switch (unit) {
    case 'millisecond':
      return Math.floor(ms);
    case 'second':
      return floorTo(ms, SECOND);
    case 'minute':
      return floorTo(ms, MINUTE);
    case 'hour':
      return floorTo(ms, HOUR);
    case 'day':
      return floorTo(ms, DAY);
    case 'week': {
      const day = floorTo(ms, DAY);
      return day - isoWeekday(day) * DAY + DAY;
    }
    default: {
      const date = new Date(ms);
      const year = date.getUTCFullYear();
      if (unit === 'year') return Date.UTC(year, 0, 1);
      const month = date.getUTCMonth();
      return Date.UTC(year, unit === 'quarter' ? month - (month % 3) : month, 1);
    }
  }
}

function floorTo(ms: number, step: number): number {
  return Math.floor(ms / step) * step;
}

/** 1 (Monday) … 7 (Sunday). */
function isoWeekday(ms: number): number {
  const day = new Date(ms).getUTCDay();
  return day === 0 ? 7 : day;
}

/** Fields EXTRACT and date_part accept. */
export const EXTRACT_FIELDS = [
  'epoch',
  'year',
  'quarter',
  'month',
  'week',
  'day',
  'dow',
  'isodow',
  'doy',
  'hour',
  'minute',
  'second',
  'milliseconds',
] as const;

export type ExtractField = (typeof EXTRACT_FIELDS)[number];

/** The field an EXTRACT / date_part argument names (case-insensitive), or null. */
export function extractField(text: string): ExtractField | null {
  let field = text.trim().toLowerCase();
  if (field === 'millisecond') field = 'milliseconds';
  return (EXTRACT_FIELDS as readonly string[]).includes(field) ? (field as ExtractField) : null;
}

/**
 * A field of a timestamp, as PostgreSQL computes it in UTC: `epoch` in seconds (with fraction),
 * `second` with its fraction (12.5), `milliseconds` as second × 1000, `dow` 0 (Sunday) … 6,
 * `isodow` 1 (Monday) … 7, `week` the ISO week number, `doy` 1 … 366.
 */
export function extract(field: ExtractField, ms: number): number {
  const date = new Date(ms);
  switch (field) {
    case 'epoch':
      return ms / SECOND;
    case 'year':
      return date.getUTCFullYear();
    case 'quarter':
      return Math.floor(date.getUTCMonth() / 3) + 1;
    case 'month':
      return date.getUTCMonth() + 1;
    case 'week':
      return isoWeek(ms);
    case 'day':
      return date.getUTCDate();
    case 'dow':
      return date.getUTCDay();
    case 'isodow':
      return isoWeekday(ms);
    case 'doy':
      return Math.floor((floorTo(ms, DAY) - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY) + 1;
    case 'hour':
      return date.getUTCHours();
    case 'minute':
      return date.getUTCMinutes();
    case 'second':
      return date.getUTCSeconds() + (ms - floorTo(ms, SECOND)) / SECOND;
    case 'milliseconds':
      return date.getUTCSeconds() * SECOND + (ms - floorTo(ms, SECOND));
  }
}

/** ISO 8601 week number: week 1 is the one with the year's first Thursday. */
function isoWeek(ms: number): number {
  const day = floorTo(ms, DAY);
  const thursday = day + (4 - isoWeekday(day)) * DAY;
  const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
  return Math.floor((thursday - yearStart) / DAY / 7) + 1;
}
