/**
 * Severity both ways. OTLP's `severityNumber` runs 1–24, four numbers per level (TRACE 1–4 …
 * FATAL 21–24); a spillway severity is written as the first number of its level.
 */
import type { Severity } from '@spillway/core';

const severities: readonly Severity[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const severityNames = new Map<string, Severity>([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['information', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['fatal', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
]);

/** Severity from `severityNumber` (1–24, four per level), else from a conventional text. */
export function severityOf(number: number, text: string | undefined): Severity | undefined {
  if (number >= 1 && number <= 24) return severities[Math.floor((number - 1) / 4)];
  return text ? severityNames.get(text.toLowerCase()) : undefined;
}

/**
 * The `severityNumber` of a severity: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21;
 * 0 (unspecified) for a value that is not one (events built outside TypeScript).
 */
export function severityNumberOf(severity: Severity): number {
  const level = severities.indexOf(severity);
  return level === -1 ? 0 : level * 4 + 1;
}
