/**
 * The validation check, the same for every kind: `validate()` returns sentences and never
 * throws, is empty for the options of `make()`, and finds something wrong with each of the
 * author's invalid definitions; `resources()` returns well-formed claims.
 */
import type { StageDefinition } from '@spillway/core';
import type { StageKind } from '../conformance/report.js';
import { definitionOf, failed, type Outcome, passed } from './check.js';
import { describeError, plural, preview } from './format.js';

/** The problems `definition` reports, or a sentence saying why they are not a list of them. */
function problemsOf(definition: StageDefinition): string[] | string {
  let problems: unknown;
  try {
    problems = definition.validate();
  } catch (err) {
    return `validate() threw (${describeError(err)}) instead of returning problems`;
  }
  if (!Array.isArray(problems)) return `validate() returned ${preview(problems)}, not an array`;
  const bad = problems.find((p) => typeof p !== 'string' || p.trim() === '');
  if (bad !== undefined) {
    return `validate() returned ${preview(bad)} among its problems; each must be a sentence`;
  }
  return problems as string[];
}

function resourceProblem(definition: StageDefinition): string | undefined {
  let resources: unknown;
  try {
    resources = definition.resources();
  } catch (err) {
    return `resources() threw: ${describeError(err)}`;
  }
  if (!Array.isArray(resources)) return `resources() returned ${preview(resources)}, not an array`;
  for (const resource of resources as unknown[]) {
    const { kind, id } = (resource ?? {}) as { kind?: unknown; id?: unknown };
    if ((kind !== 'port' && kind !== 'path') || typeof id !== 'string' || id === '') {
      return `resources() returned ${preview(resource)}; each claim is { kind: 'port' | 'path', id }`;
    }
  }
  return undefined;
}

export function checkValidation<D extends StageDefinition>(
  make: () => D,
  kind: StageKind,
  invalid: readonly D[],
): Outcome {
  const definition = definitionOf(make, kind);
  const problems: string[] = [];
  const valid = problemsOf(definition);
  if (typeof valid === 'string') problems.push(`for the options of make(), ${valid}`);
  else if (valid.length > 0) {
    problems.push(
      `the options of make() are reported invalid (${preview(valid)}); make() must return a ` +
        'valid definition',
    );
  }
  const resources = resourceProblem(definition);
  if (resources) problems.push(resources);
  let found = 0;
  let example = '';
  invalid.forEach((bad, i) => {
    const label = `invalid[${i}] (options ${preview(bad?.options, 60)})`;
    if (bad?.kind !== kind) {
      problems.push(`${label} is not a ${kind} definition`);
      return;
    }
    const result = problemsOf(bad);
    if (typeof result === 'string') problems.push(`for ${label}, ${result}`);
    else if (result.length === 0) problems.push(`${label} passed validate() with no problem`);
    else {
      found += result.length;
      example ||= result[0]!;
    }
  });
  if (problems.length > 0) return failed(`${problems.join('; ')}.`);
  return passed(
    invalid.length === 0
      ? 'the options of make() validate; no invalid definitions were given to check refusals'
      : `the options of make() validate; ${plural(invalid.length, 'invalid definition')} ` +
          `gave ${plural(found, 'problem')}, e.g. "${preview(example, 100)}"`,
  );
}
