/**
 * Event time on the wire. An event's `timestamp` is milliseconds since the Unix epoch, a
 * JavaScript number; protocols such as OTLP and Loki carry nanoseconds in a 64-bit integer,
 * which a number cannot hold exactly past 2^53 (about 104 days after the epoch).
 */

/**
 * The first millisecond whose nanosecond count no longer fits a signed 64-bit integer
 * (2^63 ns is in April 2262). Signed, because Loki and most OTLP implementations read it so.
 */
const END_MS = 9_223_372_036_854;

/**
 * Nanoseconds since the Unix epoch as a decimal string, exact to the nanosecond for the
 * fraction a millisecond timestamp carries; `undefined` when it cannot be written.
 *
 * When to use: to put an event's `timestamp` into a protocol field of 64-bit nanoseconds
 * (OTLP's `timeUnixNano`, Loki's entry time), in JSON as the string itself, in protobuf
 * through a 64-bit integer parser.
 *
 * Gotchas: `undefined` below 1 ms (OTLP reads 0 as "unknown", and a time before 1970 has no
 * unsigned form), at or after 2^63 ns (April 2262), and for a non-finite timestamp; the caller
 * chooses the fallback (leave the field out, or use the time of sending).
 *
 * @example
 * ```ts
 * unixNanos(1714564800123); // '1714564800123000000'
 * unixNanos(1.5);           // '1500000'
 * ```
 */
export function unixNanos(ms: number): string | undefined {
  if (!(ms >= 1 && ms < END_MS)) return undefined;
  const whole = Math.floor(ms);
  // Digits side by side rather than ms * 1e6: the product is past 2^53 and loses its low digits.
  const fraction = Math.min(Math.round((ms - whole) * 1e6), 999_999);
  return `${whole}${String(fraction).padStart(6, '0')}`;
}
