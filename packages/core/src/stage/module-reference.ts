/**
 * The form of a definition's `module`: a module URL (or package name), optionally followed by
 * `#export=<name>` when the factory is exported under a name that is neither the stage's type nor
 * `default`. Everything that rebuilds a definition from its module (worker threads, the
 * conformance kit) reads it with these functions, so the rule lives in one place.
 */

/** `file:///p.js#export=mask` → `{ url: 'file:///p.js', exportName: 'mask' }`. */
export function parseModuleReference(module: string): { url: string; exportName?: string } {
  const at = module.lastIndexOf('#export=');
  if (at === -1) return { url: module };
  return { url: module.slice(0, at), exportName: module.slice(at + '#export='.length) };
}

/** The `module` for a factory exported as `exportName` (omitted when the lookup finds it anyway). */
export function moduleReference(url: string, exportName: string | undefined, type: string): string {
  if (exportName === undefined || exportName === 'default' || exportName === type) return url;
  return `${url}#export=${exportName}`;
}

/**
 * Where a definition's factory is in its imported module: the name the reference gives, else
 * the stage's type when that export is a function, else `default`.
 */
export function factoryExportName(
  module: string,
  namespace: Readonly<Record<string, unknown>>,
  type: string,
): string {
  const { exportName } = parseModuleReference(module);
  if (exportName !== undefined) return exportName;
  return typeof namespace[type] === 'function' ? type : 'default';
}
