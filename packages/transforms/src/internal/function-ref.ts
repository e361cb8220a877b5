/**
 * Options that take a JavaScript function (filter's `when`, map's `fn`) take, in its place, a
 * reference to a module that exports one, so the verb can run in a worker thread: a function
 * cannot be cloned into another thread, a module URL can, and the worker imports it at build.
 */
import { isRecord, SpillwayError, wrong } from '@spillway/core';

/**
 * A function exported by a module: `module` is what `import()` is given — a file URL (e.g.
 * `new URL('./keep-errors.js', import.meta.url).href`) or a package name — and `export` the
 * name it is exported under (default `default`).
 */
export interface FunctionRef {
  readonly module: string;
  readonly export?: string;
}

/** Adds a sentence to `problems` unless `value` is a function or a well-formed {@link FunctionRef}. */
export function checkFunctionOption(name: string, value: unknown, problems: string[]): void {
  if (typeof value === 'function') return;
  if (!isRecord(value)) {
    problems.push(
      wrong(name, 'a function or { module: string (a file URL), export?: string }', value),
    );
    return;
  }
  const { module, export: exported } = value;
  if (typeof module !== 'string' || module.length === 0) {
    problems.push(wrong(`${name}.module`, 'a non-empty string (a file URL)', module));
  } else if (module.startsWith('.') || module.startsWith('/') || /^[A-Za-z]:[\\/]/.test(module)) {
    // A relative path would be resolved against this package, not against the file that wrote
    // it, and a bare path is not portable: ask for the URL, which is unambiguous.
    problems.push(
      `${name}.module must be a file URL or a package name, not the path ${JSON.stringify(module)} (use pathToFileURL(path).href or new URL('./file.js', import.meta.url).href)`,
    );
  }
  if (exported !== undefined && (typeof exported !== 'string' || exported.length === 0)) {
    problems.push(wrong(`${name}.export`, 'a non-empty string', exported));
  }
}

/**
 * The function itself, or the one `ref` names, imported now. Throws `ERR_INVALID_OPTION` (with
 * the import error as `cause`) when the module cannot be imported or does not export a function
 * under that name.
 */
export async function loadFunction<F extends (...args: never[]) => unknown>(
  name: string,
  value: F | FunctionRef,
): Promise<F> {
  if (typeof value === 'function') return value;
  const exported = value.export ?? 'default';
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(value.module)) as Record<string, unknown>;
  } catch (cause) {
    throw new SpillwayError(
      'ERR_INVALID_OPTION',
      `${name}.module ${JSON.stringify(value.module)} could not be imported: ${String(cause)}`,
      { cause },
    );
  }
  const fn = namespace[exported];
  if (typeof fn !== 'function') {
    throw new SpillwayError(
      'ERR_INVALID_OPTION',
      `${name}: ${JSON.stringify(value.module)} exports no function named "${exported}"`,
    );
  }
  return fn as F;
}
