/**
 * `defineVerb`: `defineTransform` with what every built-in verb shares, so that no verb can
 * forget it:
 *
 * - `module` is {@link TRANSFORMS_MODULE}, so the verb can be rebuilt in a worker thread from
 *   `type` and `options` — except when `inProcessOnly(options)` says the options hold a
 *   JavaScript function, which cannot cross a thread: that definition gets no `module`, which
 *   is how the contract says "runs only where it was made".
 * - `validate` first checks that the options are an object at all (they may come from a
 *   configuration file), so each verb's own check can read its fields.
 * - `build` validates again and throws `ERR_INVALID_OPTION` with every problem: a worker that
 *   rebuilds a definition never got to run the pipeline's validation, and a verb must not run
 *   on options it would have refused.
 */
import {
  defineTransform,
  isRecord,
  SpillwayError,
  type StageSpec,
  type Transform,
  type TransformDefinition,
} from '@spillway/core';
import { TRANSFORMS_MODULE } from './module.js';

/** What a verb declares: `StageSpec` without `module`, which {@link defineVerb} sets. */
export interface VerbSpec<O> {
  type: string;
  /** Every problem with options that are known to be an object. */
  validate(options: O): string[];
  build: StageSpec<O, Transform>['build'];
  /** True when these options hold a function: the definition then has no `module`. */
  inProcessOnly?(options: O): boolean;
}

/**
 * Declares a built-in verb; returns its factory, to be exported from the package entry under
 * exactly `spec.type` (see the module header for what it adds to `defineTransform`).
 *
 * @example
 * ```ts
 * export const upper = defineVerb<{ field?: string }>({
 *   type: 'upper',
 *   validate: (o) => { const p: string[] = []; optionChecks(p).nonEmptyString('field', o.field); return p; },
 *   build: () => ({ process: (batch) => batch }),
 * });
 * ```
 */
export function defineVerb<O>(spec: VerbSpec<O>): (options: O) => TransformDefinition<O> {
  const validate = (options: O): string[] =>
    isRecord(options) ? spec.validate(options) : [`${spec.type} options must be an object`];
  const factory = defineTransform<O>({
    type: spec.type,
    module: TRANSFORMS_MODULE,
    validate,
    build(options, ctx) {
      const problems = validate(options);
      if (problems.length > 0) {
        throw new SpillwayError(
          'ERR_INVALID_OPTION',
          `${spec.type} "${ctx.name}": ${problems.join('; ')}`,
        );
      }
      return spec.build(options, ctx);
    },
  });
  const { inProcessOnly } = spec;
  if (inProcessOnly === undefined) return factory;
  return (options) => {
    const definition = factory(options);
    if (!inProcessOnly(options)) return definition;
    const { kind, type, resources, build } = definition;
    return { kind, type, options, validate: definition.validate, resources, build };
  };
}
