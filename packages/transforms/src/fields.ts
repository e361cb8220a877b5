/**
 * The attribute verbs: `addFields`, `dropFields` and `rename`. They change attributes only; an
 * event's own `timestamp`, `message` and `severity` are not attributes, and an attribute named
 * `message` is an attribute like any other here (the parse verbs are what promote fields).
 *
 * All three are cheap: an event they do not change is passed on as it is, and a batch in which
 * they change nothing is passed on as it is (a raw batch stays raw).
 */
import {
  type Batch,
  eventsOf,
  type LogEvent,
  optionChecks,
  setField,
  type Transform,
  withEvents,
} from '@spillway/core';
import { defineVerb } from './internal/define-verb.js';

/** Options of {@link addFields}. */
export interface AddFieldsOptions {
  /** Attribute name → value. Values must be JSON values (they may travel to a worker). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Replace an attribute the event already has (default true); false keeps the event's own. */
  readonly overwrite?: boolean;
}

/** Options of {@link dropFields}. */
export interface DropFieldsOptions {
  /** Attribute names to remove. */
  readonly fields: readonly string[];
}

/** Options of {@link rename}. */
export interface RenameOptions {
  /** Attribute name → its new name. */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Sets attributes to fixed values on every event.
 *
 * When to use: to tag events with where they came from (`env`, `region`, `pipeline`) before
 * they are merged with other streams.
 *
 * Gotchas:
 * - Values are shared by every event, not copied: an object value is the same object in each.
 *   Events are immutable in a pipeline, so this is safe as long as no stage modifies them.
 * - With `overwrite: false`, an event that already has every field passes unchanged.
 *
 * Counters: none.
 *
 * @example
 * ```ts
 * stage: addFields({ fields: { env: 'prod', region: 'eu-west-1' } })
 * ```
 */
export const addFields = defineVerb<AddFieldsOptions>({
  type: 'addFields',
  validate(o) {
    const problems: string[] = [];
    optionChecks(problems).record('fields', o.fields, (_, value) =>
      isJsonValue(value, 0)
        ? undefined
        : 'must be a JSON value (string, finite number, boolean, null, array or object of these)',
    );
    optionChecks(problems).boolean('overwrite', o.overwrite);
    return problems;
  },
  build(o): Transform {
    const fields = o.fields;
    const names = Object.keys(fields);
    const overwrite = o.overwrite ?? true;
    return {
      process: eachEvent((event) => {
        const existing = event.attributes;
        if (existing === undefined) return { ...event, attributes: { ...fields } };
        if (overwrite) return { ...event, attributes: { ...existing, ...fields } };
        if (names.every((name) => Object.hasOwn(existing, name))) return event;
        return { ...event, attributes: { ...fields, ...existing } };
      }),
    };
  },
});

/**
 * Removes attributes from every event.
 *
 * When to use: to stop paying for fields no one reads (a bulky `stack` in info logs, a
 * `request.headers` object) before they are encoded and sent.
 *
 * Gotchas: names are top-level attribute names; `a.b` is the attribute named `a.b`, not the
 * field `b` of the object `a`.
 *
 * Counters: none.
 *
 * @example
 * ```ts
 * stage: dropFields({ fields: ['pid', 'hostname'] })
 * ```
 */
export const dropFields = defineVerb<DropFieldsOptions>({
  type: 'dropFields',
  validate(o) {
    const problems: string[] = [];
    optionChecks(problems).stringList('fields', o.fields);
    return problems;
  },
  build(o): Transform {
    const dropped = new Set(o.fields);
    return {
      process: eachEvent((event) => {
        const existing = event.attributes;
        if (existing === undefined || !hasAnyKey(existing, o.fields)) return event;
        const attributes: Record<string, unknown> = {};
        for (const key in existing) {
          if (!dropped.has(key)) setField(attributes, key, existing[key]);
        }
        return { ...event, attributes };
      }),
    };
  },
});

/**
 * Renames attributes on every event. All renames apply at once, to the names the event had, so
 * `{ a: 'b', b: 'a' }` swaps two attributes.
 *
 * When to use: to make streams from different loggers agree (`req_id` → `request_id`), or to fit
 * the names a sink expects.
 *
 * Gotchas:
 * - A new name that the event already uses is overwritten by the renamed value.
 * - Two names may not be renamed to the same new name (`validate()` says so).
 * - Only attributes: to make an attribute the message, parse it with a `message` key or group,
 *   or use `map`.
 *
 * Counters: none.
 *
 * @example
 * ```ts
 * stage: rename({ fields: { req_id: 'request_id', lvl: 'level' } })
 * ```
 */
export const rename = defineVerb<RenameOptions>({
  type: 'rename',
  validate(o) {
    const problems: string[] = [];
    const targets = new Map<string, string>();
    optionChecks(problems).record('fields', o.fields, (from, to) => {
      if (typeof to !== 'string' || to.length === 0) return 'must be a non-empty string';
      const earlier = targets.get(to);
      targets.set(to, from);
      return earlier === undefined ? undefined : `renames to "${to}" as fields.${earlier} does`;
    });
    return problems;
  },
  build(o): Transform {
    const renames = Object.entries(o.fields);
    const sources = renames.map(([from]) => from);
    const renamed = new Set(sources);
    return {
      process: eachEvent((event) => {
        const existing = event.attributes;
        if (existing === undefined || !hasAnyKey(existing, sources)) return event;
        const attributes: Record<string, unknown> = {};
        for (const key in existing) {
          if (!renamed.has(key)) setField(attributes, key, existing[key]);
        }
        for (const [from, to] of renames) {
          if (Object.hasOwn(existing, from)) setField(attributes, to, existing[from]);
        }
        return { ...event, attributes };
      }),
    };
  },
});

/**
 * A `process` that replaces each event with `change(event)`; the input batch itself when no
 * event changed (an event is unchanged when `change` returns the same object).
 */
function eachEvent(change: (event: LogEvent) => LogEvent): (batch: Batch) => Batch {
  return (batch) => {
    const events = eventsOf(batch);
    let out: LogEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const changed = change(event);
      if (out === undefined) {
        if (changed === event) continue;
        out = events.slice(0, i);
      }
      out.push(changed);
    }
    return out === undefined ? batch : withEvents(batch, out);
  };
}

function hasAnyKey(
  attributes: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): boolean {
  for (const key of keys) if (Object.hasOwn(attributes, key)) return true;
  return false;
}

/** True for what JSON can carry: deep, but bounded (a cycle is not a JSON value either). */
function isJsonValue(value: unknown, depth: number): boolean {
  if (depth > 64) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
      if (
        Object.getPrototypeOf(value) !== Object.prototype &&
        Object.getPrototypeOf(value) !== null
      ) {
        return false;
      }
      return Object.values(value).every((item) => isJsonValue(item, depth + 1));
    default:
      return false;
  }
}
