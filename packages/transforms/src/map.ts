/**
 * The `map` verb: a JavaScript function applied to every event, for the changes no other verb
 * makes.
 */
import { type Batch, eventsOf, type LogEvent, type Transform, withEvents } from '@spillway/core';
import { defineVerb } from './internal/define-verb.js';
import { checkFunctionOption, type FunctionRef, loadFunction } from './internal/function-ref.js';

/** The function of {@link map}: the new event, or `null` (or `undefined`) to drop it. */
export type EventMapper = (event: LogEvent) => LogEvent | null | undefined;

/** Options of {@link map}. */
export interface MapOptions {
  /** A function, or `{ module, export? }` naming a module that exports one (default export). */
  readonly fn: EventMapper | FunctionRef;
}

/**
 * Replaces each event with what `fn` returns; `null` or `undefined` removes it.
 *
 * When to use: for a computed field, a reshaped message, a condition that SQL cannot say.
 * Prefer the declarative verbs (`addFields`, `rename`, `filter({ where })`, `sql`) when they
 * do the job: they can be checked before the pipeline starts.
 *
 * Gotchas:
 * - Return a new event rather than modifying the one given: the same event object may be on its
 *   way to another stage too. `{ ...e, message: e.message.trim() }` is cheap.
 * - A function given as such runs only in this process (the definition has no `module`); name a
 *   module (`{ module: new URL('./fix.js', import.meta.url).href }`) to run it in a worker.
 * - What `fn` throws, or a return value that is not an object, rejects the whole batch (counted
 *   as the stage's `errors`).
 *
 * Counters: `dropped_by_map` (events for which `fn` returned null or undefined).
 *
 * @example
 * ```ts
 * stage: map({ fn: (e) => (e.message === '' ? null : { ...e, message: e.message.toLowerCase() }) })
 * ```
 */
export const map = defineVerb<MapOptions>({
  type: 'map',
  validate(o) {
    const problems: string[] = [];
    checkFunctionOption('fn', o.fn, problems);
    return problems;
  },
  inProcessOnly: (o) => typeof o.fn === 'function',
  async build(o, ctx): Promise<Transform> {
    const fn = await loadFunction<EventMapper>('fn', o.fn);
    const counters = ctx.counters;
    return {
      process(batch: Batch) {
        const events = eventsOf(batch);
        const out: LogEvent[] = [];
        for (let i = 0; i < events.length; i++) {
          const result = fn(events[i]!);
          if (result == null) continue;
          if (typeof result !== 'object') {
            throw new TypeError(`map: fn returned ${typeof result}, not an event or null`);
          }
          out.push(result);
        }
        const dropped = events.length - out.length;
        if (dropped > 0) counters.add('dropped_by_map', dropped);
        return out.length === 0 ? null : withEvents(batch, out);
      },
    };
  },
});
