/**
 * The `elasticsearchBulk` encoder: an Elasticsearch (or OpenSearch) `_bulk` body, and the
 * reading of its answer, which reports success or failure per record inside a 200.
 *
 *     {"create":{"_index":"logs"}}
 *     {"@timestamp":"2024-05-01T12:00:00.123Z","message":"disk full","severity":"error","disk":"/data"}
 *
 * Each record is an action line and a document line. The document is the event flattened —
 * its attributes beside `message` and `severity` — with the time as `@timestamp`, an ISO 8601
 * string (Elastic's convention, and what data streams require), in place of `timestamp`.
 */
import {
  type BatchPayload,
  type FlattenConflicts,
  flatAttributesJson,
  isRecord,
  optionChecks,
} from '@spillway/core';
import { conflictCounters, forEachEvent } from './each-event.js';
import type { Encoder, ItemFailure, ItemResults } from './encoder.js';

/** Options of {@link elasticsearchBulk}. */
export interface ElasticsearchBulkOptions {
  /** The index, data stream or alias every record goes to. */
  readonly index: string;
  /**
   * `create` (default): add, the only action a data stream takes; `index`: add or replace.
   * Documents have no `_id`, so Elasticsearch makes one and both add a new document.
   */
  readonly action?: 'create' | 'index';
}

/** The document's own fields; flattened attributes by these names give way, counted. */
const DOCUMENT_FIELDS: ReadonlySet<string> = new Set(['@timestamp', 'message', 'severity']);
/** Longest `reason` kept from a failed item: enough for the type and the start of the reason. */
const MAX_REASON = 200;
/** The range of a JavaScript Date, in ms either side of the epoch. */
const MAX_DATE_MS = 8.64e15;

/**
 * An encoder of `_bulk` requests (`application/x-ndjson`), with per-record results.
 *
 * When to use: to index into Elasticsearch or OpenSearch through `POST /_bulk` (or
 * `/<index>/_bulk`). The sink retries the items answered 408, 429 or 5xx (not 501/505) and dead-letters the others.
 *
 * Gotchas:
 * - Attributes named `@timestamp`, `message` or `severity` are left out, counted as
 *   `flatten_conflicts`; an attribute that Elasticsearch maps with another type than the one
 *   in an earlier document fails that item (400, `document_parsing_exception`).
 * - A timestamp out of a Date's range or not finite is written as `null`, which a data stream
 *   refuses (an item failure, not a lost request).
 * - `itemResults` parses the whole answer when it has `"errors":true`; add
 *   `?filter_path=errors,items.*.status,items.*.error` to the URL to keep failed answers small.
 *
 * @example
 * ```ts
 * http({ url: 'https://es.example.com:9200/_bulk', encoder: elasticsearchBulk({ index: 'logs-app-default' }) })
 * ```
 */
export function elasticsearchBulk(options: ElasticsearchBulkOptions): Encoder {
  const conflicts: FlattenConflicts = { count: 0 };
  const action = `${JSON.stringify({ [options.action ?? 'create']: { _index: options.index } })}\n`;
  return {
    name: 'elasticsearchBulk',
    contentType: 'application/x-ndjson',
    validate() {
      const problems: string[] = [];
      const check = optionChecks(problems);
      check.nonEmptyString('index', options.index, true);
      check.oneOf('action', options.action, ['create', 'index']);
      return problems;
    },
    encode(parts: readonly BatchPayload[]): Uint8Array {
      let text = '';
      forEachEvent(parts, Date.now(), (event) => {
        const t = event.timestamp;
        const time =
          Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS
            ? `"${new Date(t).toISOString()}"`
            : 'null';
        text += `${action}{"@timestamp":${time},"message":${JSON.stringify(event.message)}`;
        if (event.severity !== undefined) text += `,"severity":${JSON.stringify(event.severity)}`;
        if (event.attributes !== undefined) {
          text += flatAttributesJson(event.attributes, DOCUMENT_FIELDS, conflicts);
        }
        text += '}\n';
      });
      return Buffer.from(text);
    },
    itemResults: readBulkAnswer,
    counters: conflictCounters(conflicts),
  };
}

/**
 * The failed items of a `_bulk` answer, by position; undefined when `errors` is false;
 * `unreadable` when the body is not such an answer (then nobody knows which items were stored).
 */
function readBulkAnswer(
  body: Uint8Array,
  recordCount: number,
): ItemResults | 'unreadable' | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
  // Elasticsearch writes `took` and `errors` before `items`: a successful answer, often
  // megabytes of items, is recognised from its first bytes without being parsed.
  if (/^\s*\{[^[{]*"errors"\s*:\s*false/.test(text.slice(0, 128))) return undefined;
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return 'unreadable';
  }
  if (isRecord(answer) && answer.errors === false) return undefined;
  if (!isRecord(answer) || answer.errors !== true || !Array.isArray(answer.items)) {
    return 'unreadable';
  }
  const failed: ItemFailure[] = [];
  const items: unknown[] = answer.items;
  for (let index = 0; index < items.length && index < recordCount; index++) {
    const item = items[index];
    // `{ "create": { "status": 201, … } }`: one key, the action.
    const result = isRecord(item) ? Object.values(item)[0] : undefined;
    if (!isRecord(result)) continue;
    const status = typeof result.status === 'number' ? result.status : undefined;
    if (result.error == null && (status === undefined || status < 300)) continue;
    // An item with an error and no status is a server error as far as retrying goes.
    failed.push({ index, status: status ?? 500, reason: reasonOf(result.error) });
  }
  return { failed };
}

/** `type: reason` of an item's error, at most {@link MAX_REASON} characters. */
function reasonOf(error: unknown): string {
  if (error == null) return 'no error given';
  const reason = isRecord(error)
    ? [error.type, error.reason].filter((part) => typeof part === 'string').join(': ') ||
      JSON.stringify(error)
    : String(error);
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}
