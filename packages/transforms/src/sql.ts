/**
 * The `sql` verb: a `SELECT … FROM logs WHERE …` query run on each batch, to filter and reshape
 * events in one declarative step. The dialect is that of `./sql/index.ts` (`checkSql`,
 * `compileSql`), which documents what a query may say.
 */
import { type Batch, eventsOf, optionChecks, type Transform, withEvents } from '@spillway/core';
import { defineVerb } from './internal/define-verb.js';
import { checkSql, compileSql } from './sql/index.js';

/** Options of {@link sql}. */
export interface SqlOptions {
  /** The query, e.g. `SELECT *, upper(severity) AS level FROM logs WHERE status >= 500`. */
  readonly query: string;
}

/**
 * Runs `query` on every batch: its `WHERE` keeps events, its `SELECT` list shapes them. The
 * query is checked by `validate()` (every problem at once) and compiled once at build.
 *
 * When to use: for filters and projections that are easier to say in SQL than as a chain of
 * verbs, and that should be readable in a configuration file.
 *
 * Gotchas:
 * - A transform sees one batch at a time: nothing in a query can relate events of different
 *   batches (no windows, no `GROUP BY` across a stream).
 * - An empty result is `null`: the batch's acknowledgement settles as delivered.
 *
 * Counters: `filtered` (events the query removed: events in minus events out).
 *
 * @example
 * ```ts
 * stage: sql({ query: "SELECT * FROM logs WHERE severity IN ('warn', 'error')" })
 * ```
 */
export const sql = defineVerb<SqlOptions>({
  type: 'sql',
  validate(o) {
    const problems: string[] = [];
    optionChecks(problems).nonEmptyString('query', o.query, true);
    if (typeof o.query === 'string' && o.query.length > 0) {
      for (const problem of checkSql(o.query)) problems.push(`query: ${problem}`);
    }
    return problems;
  },
  build(o, ctx): Transform {
    const compiled = compileSql(o.query);
    const counters = ctx.counters;
    return {
      process(batch: Batch) {
        const events = eventsOf(batch);
        const out = compiled.run(events);
        if (out.length < events.length) counters.add('filtered', events.length - out.length);
        return out.length === 0 ? null : withEvents(batch, out);
      },
    };
  },
});
