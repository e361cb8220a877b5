/** The one-line picture of a pipeline that `spillway validate` and `spillway run` print. */
import type { PipelineSpec } from '@spillway/core';

/**
 * `"demo": sources app (file); transforms parse (parseJson ← app); sinks out (http ← parse)`.
 *
 * @example
 * ```ts
 * console.log(`OK ${file}: ${describePipeline(definition.spec)}`);
 * ```
 */
export function describePipeline(spec: PipelineSpec): string {
  const part = (
    section: string,
    stages: [string, { type: string }, readonly string[] | undefined][],
  ): string | undefined =>
    stages.length === 0
      ? undefined
      : `${section} ${stages
          .map(([name, def, inputs]) =>
            inputs ? `${name} (${def.type} ← ${inputs.join(', ')})` : `${name} (${def.type})`,
          )
          .join(', ')}`;
  const parts = [
    part(
      'sources',
      Object.entries(spec.sources).map(([name, def]) => [name, def, undefined]),
    ),
    part(
      'transforms',
      Object.entries(spec.transforms ?? {}).map(([name, t]) => [name, t.stage, t.inputs]),
    ),
    part(
      'sinks',
      Object.entries(spec.sinks).map(([name, s]) => [name, s.stage, s.inputs]),
    ),
  ].filter((p) => p !== undefined);
  return `"${spec.name ?? 'pipeline'}": ${parts.join('; ')}`;
}
