/**
 * A transform definition in the form that can cross to a worker: its factory's module, its
 * type and its options. The worker imports the module and calls the factory again, so the
 * running transform is built where it runs.
 */
import {
  factoryExportName,
  parseModuleReference,
  SpillwayError,
  type TransformDefinition,
} from '@spillway/core';

export interface StepSpec {
  readonly module: string;
  readonly type: string;
  readonly options: unknown;
}

/** Why `definition` cannot run in a worker, as sentences; empty when it can. */
export function portabilityProblems(label: string, definition: TransformDefinition): string[] {
  if (definition.kind !== 'transform') return [`${label} is a ${definition.kind}, not a transform`];
  const problems: string[] = [];
  if (!definition.module) {
    problems.push(
      `${label} (${definition.type}) names no module, so a worker cannot build it: set ` +
        '`module: import.meta.url` in its defineTransform spec, or load it with loadTransform()',
    );
  }
  try {
    structuredClone(definition.options);
  } catch (err) {
    problems.push(
      `${label} (${definition.type}) has options that cannot be sent to a worker ` +
        `(${(err as Error).message}); name a module instead of passing a function`,
    );
  }
  return problems;
}

export function toStepSpec(definition: TransformDefinition): StepSpec {
  return { module: definition.module!, type: definition.type, options: definition.options };
}

/**
 * Imports `module` and makes a transform definition with `options` from the factory exported
 * as `exportName` (`default` when omitted; a function picks it from the module's exports).
 * Throws `ERR_PLUGIN_INVALID` when the module cannot be imported or does not export a transform
 * factory.
 */
export async function importTransform(
  module: string,
  exportName: string | undefined | ((namespace: Record<string, unknown>) => string),
  options: unknown,
): Promise<TransformDefinition> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(module)) as Record<string, unknown>;
  } catch (err) {
    throw new SpillwayError('ERR_PLUGIN_INVALID', `cannot import transform module ${module}`, {
      cause: err,
    });
  }
  const name = typeof exportName === 'function' ? exportName(namespace) : (exportName ?? 'default');
  const factory = namespace[name];
  if (typeof factory !== 'function') {
    throw new SpillwayError(
      'ERR_PLUGIN_INVALID',
      `${module} has no export "${name}" that makes a transform (exports: ${Object.keys(namespace).join(', ') || 'none'})`,
    );
  }
  const definition = (factory as (o: unknown) => unknown)(options) as TransformDefinition | null;
  if (definition === null || typeof definition !== 'object' || definition.kind !== 'transform') {
    throw new SpillwayError(
      'ERR_PLUGIN_INVALID',
      `export "${name}" of ${module} did not return a transform definition (use defineTransform)`,
    );
  }
  return definition;
}

/**
 * A step's definition, rebuilt from its spec: the factory the module reference names (see
 * `factoryExportName` in core).
 */
export async function resolveStep(spec: StepSpec): Promise<TransformDefinition> {
  const { url } = parseModuleReference(spec.module);
  const definition = await importTransform(
    url,
    (namespace) => factoryExportName(spec.module, namespace, spec.type),
    spec.options,
  );
  if (definition.type !== spec.type) {
    throw new SpillwayError(
      'ERR_PLUGIN_INVALID',
      `${url} made a "${definition.type}" transform where "${spec.type}" was expected`,
    );
  }
  return definition;
}
