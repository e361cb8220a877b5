/**
 * The `loki` encoder: Grafana Loki's push API body (`POST /loki/api/v1/push`, JSON).
 *
 *     {"streams":[
 *       {"stream":{"job":"spillway","service_name":"checkout"},
 *        "values":[["1714564800123000000","payment failed"],["1714564800124000000","retrying"]]}
 *     ]}
 *
 * A stream is one set of label values. Records go to the stream of their labels — static
 * labels, then the configured attributes — in request order within each stream, and streams
 * are in order of first appearance. Times are nanoseconds since the epoch, as decimal strings.
 *
 * Label names follow Loki's (Prometheus') rule `[a-zA-Z_][a-zA-Z0-9_]*`: an attribute key is
 * sanitised to it — each other character becomes `_`, and a leading digit gets a `_` before it
 * — so `service.name` is the label `service_name`. Label values are strings: a number or
 * boolean as written in JSON, an object or array as its JSON text; a missing, `null` or empty
 * attribute leaves the label out, as Loki reads an empty value as no label.
 */
import {
  type BatchPayload,
  eventToJson,
  isRecord,
  type LogEvent,
  optionChecks,
  SpillwayError,
  unixNanos,
  wrong,
} from '@spillway/core';
import { forEachEvent } from './each-event.js';
import type { Encoder } from './encoder.js';

/** Options of {@link loki}. */
export interface LokiOptions {
  /** Attribute keys whose values become labels, named by the sanitised key. May be empty. */
  readonly labels: readonly string[];
  /** Labels every stream carries, e.g. `{ job: 'spillway' }`; names must already be valid. */
  readonly staticLabels?: Readonly<Record<string, string>>;
  /**
   * Distinct streams one request may hold (default 100). More is `ERR_ITEM_TOO_LARGE`, on
   * which the sink splits the request: a label of high cardinality costs more, smaller pushes
   * instead of one push that creates streams without bound.
   */
  readonly maxStreams?: number;
  /** The log line: `message` (default), or `json` — the record in core's JSON shape. */
  readonly line?: 'message' | 'json';
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Label names that begin with `__` are Prometheus' and Loki's own (`__name__`, relabelling). */
const RESERVED = 'begins with "__", reserved for Loki\'s internal labels';
const DEFAULT_MAX_STREAMS = 100;

/**
 * The Loki label name for an attribute key: characters outside `[a-zA-Z0-9_]` become `_`, and
 * a leading digit gets a `_` before it. `service.name` → `service_name`, `2xx` → `_2xx`.
 */
export function lokiLabelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/**
 * An encoder of Loki push requests.
 *
 * When to use: to ship to Grafana Loki (or anything speaking its push API, e.g. Grafana
 * Alloy), with a few low-cardinality attributes as labels (service, environment, level).
 *
 * Gotchas:
 * - Labels are an index: an attribute with many values (a user id, a request id) makes a
 *   stream per value, which Loki handles badly. Keep such values in the line (`line: 'json'`).
 * - Loki refuses a stream without labels. Give a static label (`job`), so that a record
 *   lacking every labelled attribute still has one.
 * - A record whose timestamp cannot be written (not finite, before 1970, after 2262) gets the
 *   time of encoding. Loki may refuse records older than its `reject_old_samples_max_age`.
 * - Two keys that sanitise to the same label name (`service.name`, `service_name`) are
 *   reported by `validate()`.
 *
 * @example
 * ```ts
 * http({
 *   url: 'http://loki:3100/loki/api/v1/push',
 *   encoder: loki({ labels: ['service.name', 'env'], staticLabels: { job: 'spillway' } }),
 *   tenant: { field: 'team', allowed: ['payments'], header: 'X-Scope-OrgID' },
 * })
 * ```
 */
export function loki(options: LokiOptions): Encoder {
  const keys = Array.isArray(options.labels) ? options.labels : [];
  const names = keys.map((key) => (typeof key === 'string' ? lokiLabelName(key) : ''));
  const fixed = isRecord(options.staticLabels) ? options.staticLabels : {};
  // The stream object's text up to the attribute labels, made once.
  const staticText = Object.entries(fixed)
    .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`)
    .join(',');
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  const json = options.line === 'json';
  return {
    name: 'loki',
    contentType: 'application/json',
    validate() {
      const problems: string[] = [];
      const check = optionChecks(problems);
      validateLabels(options, names, problems);
      check.positiveInteger('maxStreams', options.maxStreams);
      check.oneOf('line', options.line, ['message', 'json']);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      const now = Date.now();
      // Date.now() is a whole number of ms: its nanoseconds are its digits and six zeros.
      const nowNanos = `${now}000000`;
      const streams = new Map<string, { labels: string; values: string }>();
      forEachEvent(parts, now, (event) => {
        const values = keys.map((key) => labelValue(event, key));
        const id = JSON.stringify(values);
        let stream = streams.get(id);
        if (stream === undefined) {
          if (streams.size === maxStreams) {
            throw new SpillwayError(
              'ERR_ITEM_TOO_LARGE',
              `the request holds more than maxStreams (${maxStreams}) Loki streams: split it`,
            );
          }
          stream = { labels: labelsText(staticText, names, values), values: '' };
          streams.set(id, stream);
        }
        const time = unixNanos(event.timestamp) ?? nowNanos;
        const line = json ? eventToJson(event) : event.message;
        stream.values += `${stream.values === '' ? '' : ','}["${time}",${JSON.stringify(line)}]`;
      });
      let text = '{"streams":[';
      let first = true;
      for (const stream of streams.values()) {
        text += `${first ? '' : ','}{"stream":${stream.labels},"values":[${stream.values}]}`;
        first = false;
      }
      return Buffer.from(`${text}]}`);
    },
  };
}

/** A label's value for an event: a non-empty string, or undefined for no label. */
function labelValue(event: LogEvent, key: string): string | undefined {
  const attributes = event.attributes;
  if (attributes === undefined || !Object.hasOwn(attributes, key)) return undefined;
  const value = attributes[key];
  const text =
    typeof value === 'string'
      ? value
      : value === null || value === undefined
        ? undefined
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  return text === '' ? undefined : text;
}

/** The `stream` object's JSON text: the static labels, then the attribute labels present. */
function labelsText(
  staticText: string,
  names: readonly string[],
  values: readonly (string | undefined)[],
): string {
  let text = `{${staticText}`;
  let empty = staticText === '';
  for (let i = 0; i < names.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    text += `${empty ? '' : ','}${JSON.stringify(names[i])}:${JSON.stringify(value)}`;
    empty = false;
  }
  return `${text}}`;
}

/** `labels` and `staticLabels`: well-formed, at least one label, no two with one name. */
function validateLabels(o: LokiOptions, names: readonly string[], problems: string[]): void {
  if (!Array.isArray(o.labels)) {
    problems.push(wrong('labels', 'an array of attribute keys (it may be empty)', o.labels));
  } else {
    o.labels.forEach((key: unknown, i) => {
      if (typeof key !== 'string' || key === '') {
        problems.push(wrong(`labels[${i}]`, 'a non-empty string', key));
      }
    });
  }
  const seen = new Map<string, string>();
  if (o.staticLabels !== undefined) {
    optionChecks(problems).record('staticLabels', o.staticLabels, (name, value) => {
      if (!LABEL_NAME.test(name)) return 'is not a Loki label name: use [a-zA-Z_][a-zA-Z0-9_]*';
      if (name.startsWith('__')) return RESERVED;
      if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
      seen.set(name, `staticLabels.${name}`);
      return undefined;
    });
  }
  names.forEach((name, i) => {
    if (name === '') return;
    if (name.startsWith('__'))
      problems.push(`labels[${i}] is the label "${name}", which ${RESERVED}`);
    const other = seen.get(name);
    if (other !== undefined) {
      problems.push(
        `labels[${i}] is the label "${name}", as ${other} is: give them different names`,
      );
    } else seen.set(name, `labels[${i}]`);
  });
  if (seen.size === 0 && problems.length === 0) {
    problems.push('loki needs at least one label: list attributes in labels, or set staticLabels');
  }
}
