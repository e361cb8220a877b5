/**
 * Importing a TypeScript or JavaScript config, afresh each time (a SIGHUP reload must see the
 * file as it is now), with tsx's programmatic API.
 *
 * Why not `tsImport`: it gives every import a namespace of its own, and the namespace reaches
 * into `node_modules` — the config's `@spillway/*` imports get second copies, and so does
 * undici behind `@spillway/sinks`, whose second copy throws "Illegal constructor" when the
 * process already holds the first (the CLI always does). Two copies of `@spillway/core` in one
 * pipeline would be a hazard of their own. So tsx is registered once for the process
 * (`register()` of `tsx/esm/api` and of `tsx/cjs/api`, without namespace), packages load once
 * and are shared, and freshness comes from the config file alone:
 *
 * - as an ES module (`.mts`, `.mjs`, or `"type": "module"`): a new `?spillway-load=<n>` query,
 *   which the ES module cache keys on;
 * - as CommonJS (a `.ts` or `.js` outside a `"type": "module"` package, which tsx compiles to
 *   CommonJS): its entry is removed from `require.cache`, which keys on the path alone.
 *
 * Gotcha: only the config file itself is read again; modules it imports by relative path stay
 * as first loaded until the process restarts.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

let registered = false;
let loads = 0;
const require = createRequire(import.meta.url);

/** The module at `path`, evaluated now (not from a cache), and its default export. */
export async function importFresh(path: string): Promise<unknown> {
  if (!registered) {
    registerEsm();
    registerCjs();
    registered = true;
  }
  delete require.cache[path];
  const namespace = (await import(`${pathToFileURL(path).href}?spillway-load=${++loads}`)) as {
    default?: unknown;
  };
  let exported = await namespace.default;
  // A module compiled to CommonJS arrives as `{ default: module.exports }`, whose own `default`
  // is what the file exported.
  if (
    typeof exported === 'object' &&
    exported !== null &&
    '__esModule' in exported &&
    'default' in exported
  ) {
    exported = await (exported as { default: unknown }).default;
  }
  return exported;
}
