/** The structured record of one log line, once something has parsed it. */

export type Severity = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogEvent {
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  message: string;
  severity?: Severity;
  /** Structured fields. Values should be JSON- and msgpack-encodable. */
  attributes?: Record<string, unknown>;
}

/** Fixed per-event overhead in the byte estimate: object header, timestamp, pointers. */
const EVENT_OVERHEAD = 48;

/**
 * A cheap estimate of an event's size in bytes, used for channel byte bounds. It walks the
 * attributes one level deep and counts strings by their length: close to the encoded size for
 * log records, at a fraction of the cost of encoding them.
 */
export function estimateEventBytes(event: LogEvent): number {
  let size = EVENT_OVERHEAD + event.message.length;
  const attributes = event.attributes;
  if (attributes) {
    for (const key in attributes) {
      const value = attributes[key];
      size += key.length + 8;
      if (typeof value === 'string') size += value.length;
      else if (value !== null && typeof value === 'object') size += 64;
    }
  }
  return size;
}
