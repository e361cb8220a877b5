/**
 * Checks of single options for a stage's `validate`. Each adds a sentence naming the option to
 * `problems` when the option is wrong; an optional option that is left out passes, since it gets
 * its default. Options can come from a configuration file rather than from TypeScript, so every
 * check also catches a value of the wrong type and says what was expected instead. One wording
 * for one kind of mistake, whichever stage and option it is found in.
 */

/** A non-null object that is not an array: an options object, or a record of fields. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The sentence for a wrong value: `x is missing: it must be …` or `x must be …, not 42`.
 * Exported for checks that only one verb needs.
 */
export function wrong(name: string, expected: string, value: unknown): string {
  return value === undefined
    ? `${name} is missing: it must be ${expected}`
    : `${name} must be ${expected}, not ${shown(value)}`;
}

/**
 * The checks, each adding its sentence to `problems`.
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * const check = optionChecks(problems);
 * check.integerAtLeast('rate', o.rate, 1, true); // "rate must be an integer ≥ 1, not 0"
 * ```
 */
/**
 * The option checks, adding their sentences to `problems`.
 *
 * When to use: in a stage spec's `validate`, for every option of a simple kind; write the
 * checks only one stage needs with {@link wrong} for the wording.
 *
 * @example
 * ```ts
 * validate(o) {
 *   const problems: string[] = [];
 *   const check = optionChecks(problems);
 *   check.positiveInteger('batchSize', o.batchSize);
 *   check.oneOf('format', o.format, ['raw', 'syslog']);
 *   return problems;
 * }
 * ```
 */
export function optionChecks(problems: string[]) {
  const integerIn = (
    name: string,
    value: unknown,
    min: number,
    max: number,
    expected: string,
    required = false,
  ) => {
    if (
      (value !== undefined || required) &&
      !(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)
    ) {
      problems.push(wrong(name, expected, value));
    }
  };
  const numberOver = (name: string, value: unknown, min: number, orEqual: boolean) => {
    if (value === undefined) return;
    const ok =
      typeof value === 'number' && Number.isFinite(value) && (orEqual ? value >= min : value > min);
    if (!ok) problems.push(wrong(name, `a number ${orEqual ? '≥' : '>'} ${min}`, value));
  };
  return {
    /** An integer ≥ 1 (a count or a size). */
    positiveInteger(name: string, value: unknown): void {
      integerIn(name, value, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
    },

    /** An integer from `min` to `max`, both included. `required`: absence is a problem too. */
    integerBetween(name: string, value: unknown, min: number, max: number, required = false): void {
      integerIn(name, value, min, max, `an integer between ${min} and ${max}`, required);
    },

    /** A finite number ≥ 0 (a duration where 0 means "at once" or "never"). */
    nonNegativeNumber(name: string, value: unknown): void {
      numberOver(name, value, 0, true);
    },

    /** A finite number > 0 (a period). */
    positiveNumber(name: string, value: unknown): void {
      numberOver(name, value, 0, false);
    },

    /** A string, not empty. `required`: absence is a problem too. */
    nonEmptyString(name: string, value: unknown, required = false): void {
      if (value === undefined && !required) return;
      if (typeof value !== 'string' || value.length === 0) {
        problems.push(wrong(name, 'a non-empty string', value));
      }
    },

    /** One of `allowed`; the sentence lists them, e.g. `must be "a", "b" or "c"`. */
    oneOf(name: string, value: unknown, allowed: readonly string[], required = false): void {
      if (value === undefined && !required) return;
      if (typeof value !== 'string' || !allowed.includes(value)) {
        const quoted = allowed.map((a) => `"${a}"`);
        problems.push(wrong(name, `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`, value));
      }
    },

    boolean(name: string, value: unknown): void {
      if (value !== undefined && typeof value !== 'boolean') {
        problems.push(wrong(name, 'true or false', value));
      }
    },

    /** An integer ≥ `min`. */
    integerAtLeast(name: string, value: unknown, min: number, required = false): void {
      if (value === undefined && !required) return;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
        problems.push(wrong(name, `an integer ≥ ${min}`, value));
      }
    },

    /** A non-empty array of non-empty strings (required). */
    stringList(name: string, value: unknown): void {
      if (!Array.isArray(value) || value.length === 0) {
        problems.push(wrong(name, 'a non-empty array of strings', value));
        return;
      }
      value.forEach((item, i) => {
        if (typeof item !== 'string' || item.length === 0) {
          problems.push(wrong(`${name}[${i}]`, 'a non-empty string', item));
        }
      });
    },

    /** A non-empty object (required), each of whose values passes `check`. */
    record(
      name: string,
      value: unknown,
      check: (key: string, item: unknown) => string | undefined,
    ): void {
      if (!isRecord(value) || Object.keys(value).length === 0) {
        problems.push(wrong(name, 'an object with at least one field', value));
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        const problem = check(key, item);
        if (problem !== undefined) problems.push(`${name}.${key} ${problem}`);
      }
    },
  };
}

/** A value in a sentence: short primitives as written, anything else by its type. */
function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    if (value.length === 0) return 'an empty string';
    return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
