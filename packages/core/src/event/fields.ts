/**
 * Setting a field whose name comes from data: a received attribute key, a parsed JSON key.
 */

/**
 * Sets an own, enumerable property `key` on `into`, also when `key` is `__proto__`.
 *
 * When to use: whenever the key comes from outside the program (a request body, a parsed
 * line, an event's attributes) and `into` is a plain object literal.
 *
 * Gotchas: plain assignment `into[key] = value` with the key `__proto__` changes the object's
 * prototype instead of storing a field, so the field is lost (and a crafted value leaks into
 * later reads). Keys of received objects are data, not code.
 *
 * @example
 * ```ts
 * const attributes: Record<string, unknown> = {};
 * for (const [key, value] of received) setField(attributes, key, value);
 * ```
 */
export function setField(into: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(into, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    into[key] = value;
  }
}
