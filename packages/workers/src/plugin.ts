/**
 * Loading transform plugins by path, as config files name them.
 */

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleReference, type TransformDefinition } from '@spillway/core';
import { importTransform } from './internal/step-spec.js';

export interface LoadTransformOptions {
  /** The export that holds the factory. Default `default`. */
  export?: string;
}

/**
 * Loads a transform plugin — a module whose default export (or `export`) is a factory made with
 * `defineTransform` — and makes its definition with `options`. Validation then runs on this
 * thread before anything starts, as for any stage; the returned definition names the module, so
 * `workers()` can build the same plugin inside its threads.
 *
 * When to use: a plugin named by path in a config file, or your own plugin module that does not
 * set `module` in its spec.
 *
 * Gotchas: `module` is a file path (absolute, or relative to the working directory) or a URL;
 * options must be structured-cloneable to run in workers (no functions).
 *
 * @example
 * ```ts
 * const mask = await loadTransform('./plugins/mask-digits.js', { field: 'message' });
 * transforms: { cpu: { inputs: ['file'], stage: workers({ steps: [parseJson({}), mask] }) } }
 * ```
 */
export async function loadTransform(
  module: string | URL,
  options: unknown,
  load: LoadTransformOptions = {},
): Promise<TransformDefinition> {
  const url = toModuleUrl(module);
  const definition = await importTransform(url, load.export, options);
  if (definition.module) return definition;
  return { ...definition, module: moduleReference(url, load.export, definition.type) };
}

function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : `${process.cwd()}/${module}`).href;
}
