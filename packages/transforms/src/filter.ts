/**
 * The `filter` verb: keeps the events that pass a condition — a SQL `WHERE` expression, or a
 * JavaScript predicate (in-process, or exported by a module so it can run in a worker).
 */
import {
  type Batch,
  eventsOf,
  type LogEvent,
  optionChecks,
  type Transform,
  withEvents,
} from '@spillway/core';
import { defineVerb } from './internal/define-verb.js';
import { checkFunctionOption, type FunctionRef, loadFunction } from './internal/function-ref.js';
import { checkWhere, compileWhere } from './sql/index.js';

/** A predicate over one event: true keeps it. */
export type EventPredicate = (event: LogEvent) => boolean;

/**
 * Options of {@link filter}: exactly one of `where` (a SQL expression) and `when` (a function,
 * or a {@link FunctionRef} to a module that exports one).
 */
export type FilterOptions =
  | { readonly where: string; readonly when?: never }
  | { readonly when: EventPredicate | FunctionRef; readonly where?: never };

/**
 * Keeps the events for which the condition holds and removes the others.
 *
 * - `where`: a SQL boolean expression over the event, as the `sql` verb's `WHERE` clause reads
 *   it (a name other than timestamp, message, severity reads an attribute), e.g.
 *   `severity IN ('warn', 'error') AND message LIKE '%timeout%'`. Checked by
 *   `validate()` (see `checkWhere`), compiled once at build.
 * - `when`: a function `(event) => boolean`, or `{ module, export? }` naming a module that
 *   exports one (`export` defaults to `default`), imported at build.
 *
 * When to use: to drop noise before it costs anything downstream. Put it as early as the
 * fields it reads exist (after the parse verb that makes them).
 *
 * Gotchas:
 * - A `when` given as a function runs only in this process: the definition then has no
 *   `module`, so it cannot be moved into a worker thread. Name a module to make it portable.
 * - The predicate must not modify the event (the same event may be on its way to other
 *   stages), and what it throws rejects the whole batch (counted as the stage's `errors`).
 * - When nothing is removed the input batch is passed on as it is (a raw batch stays raw);
 *   when everything is, the result is `null` and the batch's acknowledgement settles as
 *   delivered.
 *
 * Counters: `filtered` (events removed).
 *
 * @example
 * ```ts
 * stage: filter({ where: "severity = 'error' OR status >= 500" }) // status: an attribute
 * stage: filter({ when: (e) => !e.message.startsWith('GET /health') })
 * stage: filter({ when: { module: new URL('./keep.js', import.meta.url).href, export: 'keep' } })
 * ```
 */
export const filter = defineVerb<FilterOptions>({
  type: 'filter',
  validate(o) {
    const problems: string[] = [];
    const hasWhere = o.where !== undefined;
    const hasWhen = o.when !== undefined;
    if (hasWhere === hasWhen) {
      problems.push('filter needs exactly one of where (a SQL expression) and when (a function)');
    }
    if (hasWhere) {
      optionChecks(problems).nonEmptyString('where', o.where);
      if (typeof o.where === 'string' && o.where.length > 0) {
        for (const problem of checkWhere(o.where)) problems.push(`where: ${problem}`);
      }
    }
    if (hasWhen) checkFunctionOption('when', o.when, problems);
    return problems;
  },
  inProcessOnly: (o) => typeof o.when === 'function',
  async build(o, ctx): Promise<Transform> {
    const keep: EventPredicate =
      o.where !== undefined ? compileWhere(o.where) : await loadFunction('when', o.when);
    const counters = ctx.counters;
    return {
      process(batch: Batch) {
        const events = eventsOf(batch);
        const kept: LogEvent[] = [];
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          if (keep(event)) kept.push(event);
        }
        const removed = events.length - kept.length;
        if (removed === 0) return batch;
        counters.add('filtered', removed);
        return kept.length === 0 ? null : withEvents(batch, kept);
      },
    };
  },
});
