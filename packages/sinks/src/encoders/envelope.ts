/**
 * The `envelope` encoder: each record inside a JSON document of the receiver's design — for
 * aggregators that want the record as a JSON *string* inside an object of their own (Splunk's
 * HEC `event`, many SIEM webhooks).
 *
 *     template  { "sourcetype": "app", "time": "{{timestamp}}", "event": "{{record}}" }
 *     record    { "sourcetype": "app", "time": 1714564800123, "event": "{\"timestamp\":1714564800123,\"message\":\"…\"}" }
 *
 * Placeholders, each the whole of a string value of the template (spaces inside the braces are
 * allowed):
 *
 * | placeholder               | becomes                                               |
 * |---------------------------|-------------------------------------------------------|
 * | `{{record}}`              | the record's JSON text (core's shape), as a string    |
 * | `{{message}}`             | the message, a string                                 |
 * | `{{timestamp}}`           | the time in ms since the epoch, a number (or `null`)  |
 * | `{{severity}}`            | the severity, a string, or `null` when it has none    |
 * | `{{attributes.<key>}}`    | attribute `<key>` with its JSON type, `null` if absent |
 *
 * `<key>` is the attribute's whole name, dots included: `{{attributes.service.name}}` reads
 * `attributes['service.name']`. The template is compiled once, into the literal JSON text
 * between placeholders and one function per placeholder: a record costs a string
 * concatenation, not a copy of the template.
 */
import {
  type BatchPayload,
  eventToJson,
  type FlattenConflicts,
  isRecord,
  type LogEvent,
  optionChecks,
  SpillwayError,
  wrong,
} from '@spillway/core';
import { conflictCounters, forEachEvent } from './each-event.js';
import type { Encoder } from './encoder.js';

/** Options of {@link envelope}. */
export interface EnvelopeOptions {
  /** The JSON document sent per record; string values may be placeholders (see the module). */
  readonly template: Readonly<Record<string, unknown>>;
  /** `ndjson` (default): one document per line; `array`: one JSON array of them. */
  readonly framing?: 'ndjson' | 'array';
  /** For `{{record}}`: attributes beside `timestamp`, `message` and `severity`. */
  readonly flatten?: boolean;
}

/** A placeholder's value as JSON text. */
type Fill = (event: LogEvent) => string;

/** A compiled template: literal JSON text around the fills (`texts.length === fills.length + 1`). */
interface Compiled {
  readonly texts: readonly string[];
  readonly fills: readonly Fill[];
}

/** `{{name}}` as a whole string; a group with the name. */
const PLACEHOLDER = /^\{\{([^{}]*)\}\}$/;
/** `{{name}}` anywhere in a string: a placeholder inside longer text, which is not supported. */
const EMBEDDED = /\{\{[^{}]*\}\}/;
const PLACEHOLDERS = '{{record}}, {{message}}, {{timestamp}}, {{severity}} or {{attributes.<key>}}';

/**
 * An encoder that sends each record inside a JSON document built from `template`.
 *
 * When to use: when the receiver defines the document and wants the record in one of its
 * fields, as a JSON string (`{{record}}`) or as separate fields (`{{message}}`,
 * `{{attributes.host}}`), with constant fields beside them.
 *
 * Gotchas:
 * - Only whole-string placeholders: `"{{message}}"` works, `"at {{timestamp}}"` is reported
 *   by `validate()` (there is no interpolation inside longer strings). Keys are never
 *   placeholders. A template without any placeholder is reported too: every record would be
 *   sent as the same document.
 * - `{{record}}` is a string holding JSON: the receiver must parse it a second time.
 * - A raw line becomes an event stamped with the time of encoding.
 *
 * @example
 * ```ts
 * http({
 *   url: 'https://splunk.example.com:8088/services/collector/event',
 *   encoder: envelope({ template: { sourcetype: 'spillway', time: '{{timestamp}}', event: '{{record}}' } }),
 * })
 * ```
 */
export function envelope(options: EnvelopeOptions): Encoder {
  const flatten = options.flatten ?? false;
  const conflicts: FlattenConflicts = { count: 0 };
  const templateProblems: string[] = [];
  const compiled = compileTemplate(options.template, flatten, conflicts, templateProblems);
  const array = options.framing === 'array';
  return {
    name: 'envelope',
    contentType: array ? 'application/json' : 'application/x-ndjson',
    validate() {
      const problems: string[] = [...templateProblems];
      const check = optionChecks(problems);
      check.oneOf('framing', options.framing, ['ndjson', 'array']);
      check.boolean('flatten', options.flatten);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      if (compiled === undefined) {
        throw new SpillwayError('ERR_INVALID_OPTION', `envelope: ${templateProblems.join('; ')}`);
      }
      let text = array ? '[' : '';
      forEachEvent(parts, Date.now(), (event, index) => {
        if (array && index > 0) text += ',';
        text += render(compiled, event);
        if (!array) text += '\n';
      });
      return Buffer.from(array ? `${text}]` : text);
    },
    counters: conflictCounters(conflicts),
  };
}

function render(compiled: Compiled, event: LogEvent): string {
  const { texts, fills } = compiled;
  let out = texts[0]!;
  for (let i = 0; i < fills.length; i++) out += fills[i]!(event) + texts[i + 1]!;
  return out;
}

/** The template compiled, or undefined with its problems added to `problems`. */
function compileTemplate(
  template: unknown,
  flatten: boolean,
  conflicts: FlattenConflicts,
  problems: string[],
): Compiled | undefined {
  if (!isRecord(template)) {
    problems.push(wrong('template', 'an object (the JSON document sent per record)', template));
    return undefined;
  }
  const texts: string[] = [''];
  const fills: Fill[] = [];
  const literal = (text: string) => {
    texts[texts.length - 1] += text;
  };
  const fillOf = (name: string, path: string): Fill | undefined => {
    switch (name) {
      case 'record':
        return (e) => JSON.stringify(eventToJson(e, flatten, conflicts));
      case 'message':
        return (e) => JSON.stringify(e.message);
      case 'timestamp':
        return (e) => (Number.isFinite(e.timestamp) ? String(e.timestamp) : 'null');
      case 'severity':
        return (e) => (e.severity === undefined ? 'null' : JSON.stringify(e.severity));
    }
    const key = name.startsWith('attributes.') ? name.slice('attributes.'.length) : '';
    if (key !== '') {
      return (e) => {
        const attributes = e.attributes;
        if (attributes === undefined || !Object.hasOwn(attributes, key)) return 'null';
        return JSON.stringify(attributes[key]) ?? 'null';
      };
    }
    problems.push(`${path} is an unknown placeholder "{{${name}}}": use ${PLACEHOLDERS}`);
    return undefined;
  };
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      const name = PLACEHOLDER.exec(value)?.[1];
      if (name === undefined) {
        if (EMBEDDED.test(value)) {
          problems.push(
            `${path} mixes a placeholder with other text (${JSON.stringify(value)}): a placeholder must be the whole string value`,
          );
        }
        literal(JSON.stringify(value));
        return;
      }
      const fill = fillOf(name.trim(), path);
      if (fill !== undefined) {
        fills.push(fill);
        texts.push('');
      }
    } else if (typeof value === 'boolean' || value === null) {
      literal(JSON.stringify(value));
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      literal(String(value));
    } else if (Array.isArray(value)) {
      literal('[');
      value.forEach((item, i) => {
        if (i > 0) literal(',');
        walk(item, `${path}[${i}]`);
      });
      literal(']');
    } else if (isPlainObject(value)) {
      literal('{');
      Object.keys(value).forEach((key, i) => {
        if (EMBEDDED.test(key)) {
          problems.push(
            `${path}: the key ${JSON.stringify(key)} holds a placeholder; only values can`,
          );
        }
        literal(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
        walk(value[key], `${path}.${key}`);
      });
      literal('}');
    } else {
      problems.push(
        wrong(path, 'JSON: a string, finite number, boolean, null, array or object', value),
      );
    }
  };
  const before = problems.length;
  walk(template, 'template');
  if (problems.length === before && fills.length === 0) {
    problems.push(
      `template has no placeholder: every record would be sent as the same document; use ${PLACEHOLDERS}`,
    );
  }
  return problems.length === before ? { texts, fills } : undefined;
}

/** An object literal (or one without a prototype): a `Date` or a `Map` is not JSON. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
