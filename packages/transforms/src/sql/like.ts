/**
 * LIKE and ILIKE, matched without regular expressions.
 *
 * `%` matches any run of characters, `_` exactly one (one UTF-16 code unit), and the escape
 * character (backslash unless ESCAPE says otherwise; `ESCAPE ''` turns escaping off) makes the next
 * character literal. Every other character is literal, regex metacharacters included: there is no
 * regex to escape into, so `.`, `(`, `[` or `$` in a pattern can never change its meaning.
 *
 * Why not translate to a RegExp: a pattern such as `%a%a%a%a%b` becomes `^.*a.*a.*a.*a.*b$`,
 * which backtracks exponentially on a long line without the `b`. Here the pattern is cut at its
 * `%` into segments:
 *
 *     pattern   ab%c_d%%e
 *     segments  [ab] [c_d] [] [e]
 *                ^first            ^last
 *
 * The first segment must match at the start of the text, the last at the end, and each middle
 * segment is taken at its leftmost match after the previous one. Leftmost is always safe when
 * segments are separated by `%` (a later match never leaves more room than an earlier one), so
 * the matcher never backtracks across segments: O(text × pattern) in the worst case, and a single
 * `indexOf` for the common `%word%`.
 */

/** A compiled LIKE pattern. */
export interface LikeMatcher {
  matches(text: string): boolean;
}

interface Segment {
  /** The segment's characters; a wildcard position holds any placeholder. */
  readonly text: string;
  /** Positions of `_` in `text`, or null when there are none (then plain string search works). */
  readonly wildcards: readonly boolean[] | null;
}

/**
 * Compiles a LIKE pattern. `escapeCharacter` is the escape character, or `''` for none.
 * Returns a sentence instead when the pattern is invalid (it ends with the escape character).
 */
export function compileLike(
  pattern: string,
  escapeCharacter: string,
  caseInsensitive: boolean,
): LikeMatcher | string {
  const source = caseInsensitive ? pattern.toLowerCase() : pattern;
  const escapeChar = caseInsensitive ? escapeCharacter.toLowerCase() : escapeCharacter;
  const segments: Segment[] = [];
  let text = '';
  let wildcards: boolean[] | null = null;
  for (let i = 0; i < source.length; i++) {
    let c = source[i] as string;
    if (escapeChar !== '' && c === escapeChar) {
      i++;
      if (i >= source.length) {
        return `the LIKE pattern ${JSON.stringify(pattern)} ends with its escape character ${JSON.stringify(escapeCharacter)}.`;
      }
      c = source[i] as string;
    } else if (c === '%') {
      segments.push({ text, wildcards });
      text = '';
      wildcards = null;
      continue;
    } else if (c === '_') {
      wildcards ??= Array.from({ length: text.length }, () => false);
      wildcards.push(true);
      text += '_';
      continue;
    }
    wildcards?.push(false);
    text += c;
  }
  segments.push({ text, wildcards });
  return new SegmentMatcher(segments, caseInsensitive);
}

class SegmentMatcher implements LikeMatcher {
  readonly #segments: readonly Segment[];
  readonly #caseInsensitive: boolean;

  constructor(segments: readonly Segment[], caseInsensitive: boolean) {
    this.#segments = segments;
    this.#caseInsensitive = caseInsensitive;
  }

  matches(input: string): boolean {
    const text = this.#caseInsensitive ? input.toLowerCase() : input;
    const segments = this.#segments;
    const first = segments[0] as Segment;
    if (segments.length === 1) {
      return text.length === first.text.length && matchesAt(first, text, 0);
    }
    const last = segments[segments.length - 1] as Segment;
    const lastStart = text.length - last.text.length;
    if (lastStart < first.text.length) return false;
    if (!matchesAt(first, text, 0) || !matchesAt(last, text, lastStart)) return false;
    let position = first.text.length;
    for (let s = 1; s < segments.length - 1; s++) {
      const segment = segments[s] as Segment;
      const at = find(segment, text, position, lastStart);
      if (at < 0) return false;
      position = at + segment.text.length;
    }
    return true;
  }
}

function matchesAt(segment: Segment, text: string, at: number): boolean {
  const wildcards = segment.wildcards;
  if (wildcards === null) return text.startsWith(segment.text, at);
  const pattern = segment.text;
  for (let i = 0; i < pattern.length; i++) {
    if (!wildcards[i] && text.charCodeAt(at + i) !== pattern.charCodeAt(i)) return false;
  }
  return true;
}

/** Leftmost position ≥ `from` where `segment` matches and ends by `end`; -1 when there is none. */
function find(segment: Segment, text: string, from: number, end: number): number {
  const length = segment.text.length;
  if (segment.wildcards === null) {
    const at = text.indexOf(segment.text, from);
    return at >= 0 && at + length <= end ? at : -1;
  }
  for (let at = from; at + length <= end; at++) {
    if (matchesAt(segment, text, at)) return at;
  }
  return -1;
}
