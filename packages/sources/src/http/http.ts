/**
 * The `http` source: a generic JSON receiver. A POST body is one JSON object, a JSON array of
 * objects (`application/json`), or newline-delimited objects (`application/x-ndjson`),
 * optionally gzip-compressed; each object becomes one LogEvent.
 *
 * Behaviour under pressure is the receiver's (see `receiver.ts`): 429 with `Retry-After` when
 * the byte budget has no room for the declared body, decided before reading it; 200 only once
 * every event is queued in the pipeline; 503 with `Retry-After` when the pipeline dropped the
 * data or had no room in time; 413 above the body limit, also while inflating.
 */
import { defineSource, estimateEventBytes, type LogEvent, setField } from '@spillway/core';
import {
  type DecodedBody,
  HttpReceiver,
  type HttpReceiverOptions,
  ReceiverError,
  type ReceiverProtocol,
  receiverResources,
  validateReceiverOptions,
} from './receiver.js';

export interface HttpSourceOptions extends HttpReceiverOptions {
  /** Path served. Default `/`. */
  path?: string;
  /**
   * The field whose value is the event's message (a non-string value is JSON-encoded; absent
   * means `''`). Default `message`.
   */
  messageField?: string;
  /**
   * The field holding the event time: a number of milliseconds since the epoch, or a string
   * `Date.parse` reads (ISO 8601). Default `timestamp`. When absent or unreadable the receipt
   * time is used and the field stays among the attributes.
   */
  timestampField?: string;
  /** An object whose event is estimated above this many bytes is rejected alone. Default 1 MiB. */
  maxEventBytes?: number;
}

type BodyFormat = 'json' | 'ndjson';

const mediaTypes = new Map<string, BodyFormat>([
  ['application/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
]);

/** Reported rejections are capped so a response stays small whatever the body. */
const MAX_REPORTED = 10;

/**
 * A generic HTTP receiver for JSON logs.
 *
 * When to use: for clients that POST JSON or NDJSON logs (webhooks, log shippers, scripts)
 * and can retry on 429/503.
 *
 * Gotchas: objects that fail on their own (an NDJSON line that is not JSON, an array element
 * that is not an object, an object above `maxEventBytes`) are rejected one by one and listed in
 * the 200 response (`rejected`, `errors`), so the client does not resend the good ones; a body
 * that is not JSON at all is a 400. Default host `127.0.0.1`.
 *
 * @example
 * ```ts
 * sources: { hooks: http({ port: 8080, path: '/logs', messageField: 'msg', timestampField: 'time' }) }
 * // curl -H 'content-type: application/x-ndjson' --data-binary @events.ndjson localhost:8080/logs
 * ```
 */
export const http = defineSource<HttpSourceOptions>({
  type: 'http',
  validate(o) {
    const problems = validateReceiverOptions(o);
    if (o.port === undefined) problems.push('port is required');
    if (o.path !== undefined && !o.path.startsWith('/')) problems.push('path must start with "/"');
    if (o.messageField !== undefined && o.messageField === '') {
      problems.push('messageField must be a non-empty string');
    }
    if (o.timestampField !== undefined && o.timestampField === '') {
      problems.push('timestampField must be a non-empty string');
    }
    if (
      o.maxEventBytes !== undefined &&
      !(Number.isSafeInteger(o.maxEventBytes) && o.maxEventBytes > 0)
    ) {
      problems.push('maxEventBytes must be a positive integer');
    }
    return problems;
  },
  resources: (o) => receiverResources(o, o.port ?? 0),
  build(o) {
    const mapping: Mapping = {
      messageField: o.messageField ?? 'message',
      timestampField: o.timestampField ?? 'timestamp',
      maxEventBytes: o.maxEventBytes ?? 1024 * 1024,
    };
    const protocol: ReceiverProtocol<BodyFormat> = {
      path: o.path ?? '/',
      encodingFor: (mediaType) => mediaTypes.get(mediaType),
      decode: (body, format) => decodeJsonLogs(body, format, mapping, Date.now()),
      success: (_format, outcome) => ({
        contentType: 'application/json',
        body: JSON.stringify(
          outcome.rejected > 0
            ? { accepted: outcome.accepted, rejected: outcome.rejected, errors: outcome.rejections }
            : { accepted: outcome.accepted },
        ),
      }),
      failure: (_format, error) => ({
        contentType: 'application/json',
        body: JSON.stringify({
          error: {
            code: error.code,
            message: error.message,
            ...(error.field === undefined ? {} : { field: error.field }),
          },
        }),
      }),
    };
    const receiver = new HttpReceiver(o, o.port ?? 0, protocol);
    return { stats: () => receiver.stats(), run: (ctx) => receiver.run(ctx) };
  },
});

interface Mapping {
  messageField: string;
  timestampField: string;
  maxEventBytes: number;
}

function decodeJsonLogs(
  body: Buffer,
  format: BodyFormat,
  mapping: Mapping,
  now: number,
): DecodedBody {
  const text = body.toString('utf8');
  const events: LogEvent[] = [];
  const rejections: string[] = [];
  let rejected = 0;
  const reject = (where: string, problem: string) => {
    rejected++;
    if (rejections.length < MAX_REPORTED) rejections.push(`${where}: ${problem}`);
  };
  const take = (value: unknown, where: string) => {
    const problem = toEvent(value, mapping, now, events);
    if (problem !== undefined) reject(where, problem);
  };
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ReceiverError('ERR_MALFORMED_BODY', `invalid JSON: ${(err as Error).message}`);
    }
    if (Array.isArray(parsed)) {
      for (let i = 0; i < parsed.length; i++) take(parsed[i], `[${i}]`);
    } else if (isObject(parsed)) take(parsed, 'body');
    else {
      throw new ReceiverError(
        'ERR_MALFORMED_BODY',
        'the body must be a JSON object or an array of objects',
      );
    }
  } else {
    // One bad line is rejected alone: the client must not resend (and duplicate) the others.
    let line = 0;
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      line++;
      const raw = text.slice(start, end).trim();
      start = end + 1;
      if (raw === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        reject(`line ${line}`, `invalid JSON (${(err as Error).message})`);
        continue;
      }
      take(parsed, `line ${line}`);
    }
  }
  return { events, rejected, rejections };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Adds the event for `value` to `events`, or returns why it cannot be one. */
function toEvent(value: unknown, m: Mapping, now: number, events: LogEvent[]): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  let timestamp = now;
  const rawTime = Object.hasOwn(value, m.timestampField) ? value[m.timestampField] : undefined;
  const parsedTime = parseTime(rawTime);
  if (parsedTime !== undefined) timestamp = parsedTime;
  const rawMessage = Object.hasOwn(value, m.messageField) ? value[m.messageField] : undefined;
  const message =
    rawMessage === undefined
      ? ''
      : typeof rawMessage === 'string'
        ? rawMessage
        : JSON.stringify(rawMessage);
  const attributes: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(value)) {
    if (key === m.messageField) continue;
    // An unreadable time stays among the attributes, so nothing the client sent is lost.
    if (key === m.timestampField && parsedTime !== undefined) continue;
    setField(attributes, key, value[key]);
    any = true;
  }
  const event: LogEvent = any ? { timestamp, message, attributes } : { timestamp, message };
  const size = estimateEventBytes(event);
  if (size > m.maxEventBytes) return `about ${size} bytes, above maxEventBytes ${m.maxEventBytes}`;
  events.push(event);
  return undefined;
}

/** Milliseconds since the epoch from a number of ms or a date string; undefined if unreadable. */
function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const asNumber = Number(value);
  if (Number.isFinite(asNumber)) return Math.floor(asNumber);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}
