/**
 * JSON access for `->`, `->>`, `#>`, `#>>`, json_extract_path and json_extract_path_text.
 *
 * A container is an object or array already in the event (attributes are structured), or a
 * string holding JSON: a string that starts with `{` or `[` is parsed on demand, so
 * `message->>'user'` works on a JSON log line and `attributes->'payload'->>'id'` on a JSON string
 * attribute. A string that does not parse is not a container (NULL).
 *
 * Keys: on an object, a key is compared as text and only own properties count (`constructor` is
 * not a key of `{}`). On an array, an integer key, or integer-looking text (as in PostgreSQL's
 * path functions), indexes from 0, and a negative one counts from the end. Anything else: NULL.
 */

/**
 * Remembers the last JSON string parsed and its value, so several `->` on the same string in one
 * row (`message->>'a', message->>'b'`) parse it once. One entry: bounded by construction. The
 * cached value is shared, never mutated.
 */
export class JsonTextCache {
  #text: string | undefined;
  #value: unknown = null;

  parse(text: string): unknown {
    if (text === this.#text) return this.#value;
    let value: unknown = null;
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
    this.#text = text;
    this.#value = value;
    return value;
  }
}

const INTEGER_TEXT = /^-?\d+$/;

/** The object or array `value` stands for, or null. */
export function asContainer(value: unknown, cache: JsonTextCache): object | null {
  if (typeof value === 'object') return value;
  if (typeof value !== 'string') return null;
  let i = 0;
  while (i < value.length && value.charCodeAt(i) <= 32) i++;
  const first = value[i];
  if (first !== '{' && first !== '[') return null;
  const parsed = cache.parse(value);
  return typeof parsed === 'object' ? parsed : null;
}

/** `container -> key`: the member or element, or null. `undefined` never escapes. */
export function getMember(container: unknown, key: unknown, cache: JsonTextCache): unknown {
  const target = asContainer(container, cache);
  if (target === null) return null;
  if (Array.isArray(target)) {
    let index: number;
    if (typeof key === 'number') index = key;
    else if (typeof key === 'string' && INTEGER_TEXT.test(key)) index = Number(key);
    else return null;
    if (!Number.isInteger(index)) return null;
    if (index < 0) index += target.length;
    const element: unknown = target[index];
    return element === undefined ? null : element;
  }
  let name: string;
  if (typeof key === 'string') name = key;
  else if (typeof key === 'number' && Number.isFinite(key)) name = String(key);
  else return null;
  if (!Object.hasOwn(target, name)) return null;
  const member: unknown = (target as Record<string, unknown>)[name];
  return member === undefined ? null : member;
}

/** Follows `path` from `container`; null as soon as a step is missing. */
export function getPath(
  container: unknown,
  path: readonly unknown[],
  cache: JsonTextCache,
): unknown {
  let value = container;
  for (const key of path) {
    if (value === null) return null;
    value = getMember(value, key, cache);
  }
  return value;
}

/**
 * Parses a PostgreSQL text path, `'{a,b,0}'`, into its keys; null when it is not one. Elements
 * may be double-quoted to hold commas or braces (`'{"a,b",c}'`).
 */
export function parseTextPath(text: string): string[] | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return null;
  const body = trimmed.slice(1, -1);
  if (body.trim() === '') return [];
  const keys: string[] = [];
  let i = 0;
  while (i <= body.length) {
    while (i < body.length && body[i] === ' ') i++;
    let key = '';
    if (body[i] === '"') {
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\' && i + 1 < body.length) i++;
        key += body[i];
        i++;
      }
      if (body[i] !== '"') return null;
      i++;
      while (i < body.length && body[i] === ' ') i++;
    } else {
      const end = body.indexOf(',', i);
      key = body.slice(i, end < 0 ? body.length : end).trim();
      i = end < 0 ? body.length : end;
    }
    keys.push(key);
    if (i >= body.length) break;
    if (body[i] !== ',') return null;
    i++;
  }
  return keys;
}
