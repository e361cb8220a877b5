/**
 * Checks of single options for a source's `validate`. Each adds a sentence naming the option to
 * `problems` when the option is set and wrong; an option left out passes, as it gets its default
 * (a required option is checked where it is declared). One wording for one kind of mistake,
 * whichever source and option it is found in.
 */
export function optionChecks(problems: string[]) {
  return {
    /** An integer ≥ 1 (a count or a size). */
    positiveInteger(name: string, value: number | undefined): void {
      if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
        problems.push(`${name} must be a positive integer`);
      }
    },

    /** An integer from `min` to `max`, both included. */
    integerBetween(name: string, value: number | undefined, min: number, max: number): void {
      if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
        problems.push(`${name} must be an integer between ${min} and ${max}`);
      }
    },

    /** A finite number ≥ 0 (a duration where 0 means "at once" or "never"). */
    nonNegativeNumber(name: string, value: number | undefined): void {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        problems.push(`${name} must be a number ≥ 0`);
      }
    },

    /** A finite number > 0 (a period). */
    positiveNumber(name: string, value: number | undefined): void {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        problems.push(`${name} must be a number > 0`);
      }
    },

    /** One of `allowed`; the sentence lists them, e.g. `must be "a", "b" or "c"`. */
    oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[]): void {
      if (value !== undefined && !allowed.includes(value)) {
        const quoted = allowed.map((a) => `"${a}"`);
        problems.push(`${name} must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`);
      }
    },
  };
}
