/**
 * @spillway/transforms: the built-in verbs.
 *
 * Every verb is exported here under exactly its `type` name, and every definition a verb makes
 * carries this file's URL as `module`: a worker thread rebuilds a definition with
 * `(await import(definition.module))[definition.type](definition.options)`. Keep the two in
 * step when adding a verb (a test checks every export).
 *
 * | verb          | does                                               | counters                                     |
 * |---------------|----------------------------------------------------|----------------------------------------------|
 * | `parseJson`   | JSON object lines → events                         | `parse_errors`, `dropped_parse_error`        |
 * | `parseLogfmt` | `key=value` lines → events                         | same, and `dropped_keys`                     |
 * | `parseSyslog` | RFC 5424 / 3164 lines → events                     | `parse_errors`, `dropped_parse_error`        |
 * | `parseRegex`  | named groups → attributes                          | `parse_errors`, `dropped_parse_error`        |
 * | `filter`      | keeps events passing `where` (SQL) or `when` (fn)  | `filtered`                                   |
 * | `map`         | a function per event; null drops                   | `dropped_by_map`                             |
 * | `addFields`   | sets attributes                                    | —                                            |
 * | `dropFields`  | removes attributes                                 | —                                            |
 * | `rename`      | renames attributes                                 | —                                            |
 * | `sample`      | keeps 1 in N keys, deterministically               | `sampled_out`                                |
 * | `redact`      | replaces secrets and personal data                 | `redactions`                                 |
 * | `sql`         | `SELECT … FROM logs WHERE …` per batch             | `filtered`                                   |
 * | `encode`      | events → ndjson / json / msgpack bytes (terminal)  | `flatten_conflicts`                          |
 */

export * from './encode.js';
export * from './fields.js';
export * from './filter.js';
export type { FunctionRef } from './internal/function-ref.js';
export type { OnParseError, ParseOptions } from './internal/parse-policy.js';
export type { PromotionOptions } from './internal/well-known-fields.js';
export * from './map.js';
export * from './parse/json.js';
export * from './parse/logfmt.js';
export * from './parse/regex.js';
export * from './parse/syslog.js';
export * from './redact.js';
export * from './sample.js';
export {
  type CompiledQuery,
  checkSql,
  checkWhere,
  compileSql,
  compileWhere,
} from './sql/index.js';
export * from './sql.js';
