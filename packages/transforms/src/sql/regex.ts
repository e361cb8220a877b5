/**
 * Regular expressions for `~`, `~*`, `!~`, `!~*`, regexp_like, regexp_replace and regexp_extract.
 *
 * Patterns use JavaScript RegExp syntax (close to PostgreSQL's for everyday patterns: classes,
 * `\d`, `\w`, `\s`, `\b`, groups, alternation, anchors). Costs are bounded two ways:
 * - a pattern longer than {@link MAX_PATTERN_LENGTH} is refused (a validation error when it is a
 *   literal; NULL for that row when it comes from data);
 * - a literal pattern is compiled once, when the query is compiled; a pattern computed per row is
 *   looked up in a {@link RegexCache} of {@link REGEX_CACHE_SIZE} entries, so a column of distinct
 *   patterns costs at most that many live RegExps.
 * What no bound here covers is backtracking inside one match (`(a+)+$`): V8's engine is a
 * backtracking one. Literal patterns are the query author's; patterns from data are the risk.
 */

/** Longest pattern accepted, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 1000;

/** Entries kept by a {@link RegexCache}. */
export const REGEX_CACHE_SIZE = 64;

/** Flags a query may pass to regexp_like / regexp_replace: `c` means case-sensitive (the default). */
const QUERY_FLAGS = new Set(['i', 'c', 'm', 's', 'g']);

/**
 * Translates query flags (`i`, `c`, `m`, `s`, and `g` where `allowGlobal`) into RegExp flags.
 * Returns a sentence instead when a flag is not supported.
 */
export function regexFlags(
  flags: string,
  allowGlobal: boolean,
): string | { readonly problem: string } {
  let insensitive = false;
  let out = '';
  for (const flag of flags) {
    if (!QUERY_FLAGS.has(flag) || (flag === 'g' && !allowGlobal)) {
      const allowed = allowGlobal ? 'i, c, m, s and g' : 'i, c, m and s';
      return { problem: `regex flag ${JSON.stringify(flag)} is not supported (use ${allowed}).` };
    }
    if (flag === 'i') insensitive = true;
    else if (flag === 'c') insensitive = false;
    else if (!out.includes(flag)) out += flag;
  }
  return insensitive ? `${out}i` : out;
}

/** Compiles a pattern, or returns a sentence saying why it cannot be. */
export function compileRegex(
  pattern: string,
  flags: string,
): RegExp | { readonly problem: string } {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return {
      problem: `the regular expression is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}.`,
    };
  }
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    // V8 says "Invalid regular expression: /(/: Unterminated group"; keep the reason only.
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { problem: `invalid regular expression ${JSON.stringify(pattern)}: ${reason}.` };
  }
}

/** Number of capture groups in `regex`. */
export function groupCount(regex: RegExp): number {
  // An empty alternative makes any regex match '', and exec reports one slot per group.
  const probe = new RegExp(`${regex.source}|`, regex.flags.replace('g', ''));
  return (probe.exec('') as RegExpExecArray).length - 1;
}

/**
 * A small cache of compiled patterns for patterns that come from data. Bounded: when full, the
 * oldest entry goes (FIFO). Invalid patterns are cached too, as null, so a bad pattern repeated
 * on every row is not recompiled every row.
 *
 *     key = flags + '/' + pattern  ──►  RegExp | null
 */
export class RegexCache {
  readonly #entries = new Map<string, RegExp | null>();
  readonly #capacity: number;

  constructor(capacity = REGEX_CACHE_SIZE) {
    this.#capacity = capacity;
  }

  /** Number of cached patterns. */
  get size(): number {
    return this.#entries.size;
  }

  /** The compiled pattern, or null when it is invalid or too long. */
  get(pattern: string, flags: string): RegExp | null {
    const key = `${flags}/${pattern}`;
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const compiled = compileRegex(pattern, flags);
    const regex = compiled instanceof RegExp ? compiled : null;
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, regex);
    return regex;
  }
}

/** One piece of a replacement: literal text, or the number of a group (0 for the whole match). */
type ReplacementPart = string | number;

/**
 * Parses a regexp_replace replacement, PostgreSQL style: `\1` … `\9` insert a group, `\&` the
 * whole match, `\\` a backslash; everything else, `$` included, is literal.
 */
export function parseReplacement(template: string): readonly ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    const next = template[i + 1];
    if (c === '\\' && next !== undefined) {
      if (next >= '1' && next <= '9') {
        if (text !== '') parts.push(text);
        text = '';
        parts.push(Number(next));
        i++;
        continue;
      }
      if (next === '&') {
        if (text !== '') parts.push(text);
        text = '';
        parts.push(0);
        i++;
        continue;
      }
      if (next === '\\') {
        text += '\\';
        i++;
        continue;
      }
    }
    text += c;
  }
  if (text !== '') parts.push(text);
  return parts;
}

/** Replaces the first match of `regex` in `text` (every match when it has the g flag). */
export function replaceMatches(
  text: string,
  regex: RegExp,
  parts: readonly ReplacementPart[],
): string {
  if (parts.length === 0) return text.replace(regex, '');
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const literal = parts[0];
    return text.replace(regex, () => literal);
  }
  return text.replace(regex, (...args: unknown[]) => {
    // args: match, group 1 … group n, offset, input[, named groups]
    const groups = args.length - (typeof args[args.length - 1] === 'object' ? 3 : 2);
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if (part < groups) {
        const group = args[part];
        if (typeof group === 'string') out += group;
      }
    }
    return out;
  });
}
