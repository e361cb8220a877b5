/**
 * Where this package's verbs can be imported from, for definitions that are rebuilt elsewhere
 * (a worker thread imports `module` and calls the export named `type` with the options).
 *
 * The URL points at the package entry, not at the file that defines a verb: the entry exports
 * every factory under its `type` name, so one URL serves them all and a verb can move between
 * files without breaking configurations that were made before.
 */

/**
 * The file URL of `src/index.ts` (compiled: `dist/src/index.js`). Every built-in verb's
 * definition carries it as `module`, unless its options hold a function (see `defineVerb`).
 */
export const TRANSFORMS_MODULE: string = new URL('../index.js', import.meta.url).href;
