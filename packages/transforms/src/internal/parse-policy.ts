/**
 * What every parse verb does with a line it cannot parse, and the loop they all run.
 *
 * Parse verbs never throw on data: a line is one event, and one bad line must not reject the
 * batch it came in (which would send the good lines back to a retry or a dead-letter file).
 * Instead each failure is settled by the `onError` policy and counted:
 *
 * | onError          | the event                                                  | counters                              |
 * |------------------|------------------------------------------------------------|---------------------------------------|
 * | `keep` (default) | unchanged (its raw line stays), plus attribute `error`     | `parse_errors`                        |
 * | `drop`           | removed                                                    | `parse_errors`, `dropped_parse_error` |
 *
 * `error` is `"<verb>: <why>"`, e.g. `parseJson: not a JSON object`. A batch whose events are all
 * dropped becomes `null`: nothing to pass on, and its acknowledgement settles as delivered.
 */
import {
  type Batch,
  type Counters,
  eventsOf,
  type LogEvent,
  optionChecks,
  setField,
  withEvents,
} from '@spillway/core';

/** What a parse verb does with an event it cannot parse: see the module header. */
export type OnParseError = 'keep' | 'drop';

/** The options every parse verb has. */
export interface ParseOptions {
  /**
   * What to parse: `message` (default) or the name of an attribute. An attribute that was
   * parsed is replaced by what came out of it; an event without it, or where it is not a
   * string, is a parse error.
   */
  field?: string;
  /** `keep` (default) or `drop`; see the parse verbs' common policy. */
  onError?: OnParseError;
}

/** Adds the problems with `field` and `onError` to `problems`. */
export function checkParseOptions(o: ParseOptions, problems: string[]): void {
  const check = optionChecks(problems);
  check.nonEmptyString('field', o.field);
  check.oneOf('onError', o.onError, ['keep', 'drop']);
}

/**
 * Parses one event's text: the new event, or why the text is not parseable (a string, without
 * the verb's name). `event` is the input, for what the parsed line does not replace.
 */
export type ParseOne = (text: string, event: LogEvent) => LogEvent | string;

/**
 * The `process` of a parse verb: runs `parseOne` on the `field` of every event of the batch
 * (a raw batch is split into lines first) and settles failures by `onError`.
 */
export function parseBatches(
  verb: string,
  o: ParseOptions,
  counters: Counters,
  parseOne: ParseOne,
): (batch: Batch) => Batch | null {
  const field = o.field ?? 'message';
  const drop = o.onError === 'drop';
  const notString = `field "${field}" is not a string`;
  return (batch) => {
    const events = eventsOf(batch);
    const out: LogEvent[] = [];
    let errors = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const text = field === 'message' ? event.message : event.attributes?.[field];
      const result = typeof text === 'string' ? parseOne(text, event) : notString;
      if (typeof result !== 'string') {
        out.push(result);
        continue;
      }
      errors++;
      if (!drop) out.push(withError(event, `${verb}: ${result}`));
    }
    if (errors > 0) {
      counters.add('parse_errors', errors);
      if (drop) counters.add('dropped_parse_error', errors);
    }
    return out.length === 0 ? null : withEvents(batch, out);
  };
}

/** A copy of `event` with the attribute `error`; the input event is shared, never modified. */
function withError(event: LogEvent, error: string): LogEvent {
  const attributes: Record<string, unknown> = {};
  for (const key in event.attributes) setField(attributes, key, event.attributes[key]);
  attributes.error = error;
  return { ...event, attributes };
}

/** The parsers of `@spillway/parsers` name themselves in their errors; the verb's name replaces it. */
export function withoutPrefix(error: string, prefix: string): string {
  return error.startsWith(prefix) ? error.slice(prefix.length) : error;
}
