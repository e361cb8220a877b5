/**
 * A stage definition whose `validate()` and `resources()` cannot throw.
 *
 * A stage's checks are written for the options its TypeScript type allows; a config file can
 * give anything (a number where a string goes, an option left out), and a check that reads
 * `o.url.length` then throws instead of answering. One throwing check would take the whole
 * validation down, and with it every other problem the operator should see in the same run —
 * so a throw becomes one more problem, naming the stage.
 */
import type { StageDefinition } from '@spillway/core';

/** `definition` with validate() and resources() that report a throw instead of throwing. */
export function guardDefinition<D extends StageDefinition>(definition: D): D {
  const { validate, resources } = definition;
  return {
    ...definition,
    validate: () => {
      try {
        return validate();
      } catch (err) {
        return [
          `its options could not be checked (${err instanceof Error ? err.message : String(err)}): is an option missing or of the wrong type?`,
        ];
      }
    },
    resources: () => {
      try {
        return resources();
      } catch {
        // validate() says what is wrong with the options; no claim can be made from them.
        return [];
      }
    },
  };
}
