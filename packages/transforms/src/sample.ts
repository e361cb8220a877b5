/**
 * The `sample` verb: keeps about one event in `rate`, chosen by a hash of a key so that the
 * choice is the same in every process, worker and run.
 *
 *     key ──FNV-1a over UTF-16 code units──▶ h ──fmix32──▶ h' ──▶ keep when h' % rate === 0
 *
 * Why a hash rather than a random number or a counter: the same key is always kept or always
 * dropped. Sampling by a request id keeps every line of the sampled requests and none of the
 * others; two pipelines that sample the same stream keep the same events; a replay after a crash
 * keeps what the first run kept. Why the finaliser (murmur3's `fmix32`) after FNV-1a: FNV's low
 * bits depend only on the low bits of each character, so `h % 16` would ignore the high nibble
 * of every character and keys such as `a` and `q` would always share their fate.
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

/** Options of {@link sample}. */
export interface SampleOptions {
  /** Keep 1 in `rate` (an integer ≥ 1; 1 keeps everything). */
  readonly rate: number;
  /**
   * The attribute whose value is hashed (strings as they are, other values as JSON). Default:
   * the message. An event without the attribute is sampled by its message.
   */
  readonly key?: string;
}

/**
 * Keeps the events whose key hashes to a multiple of `rate`: about `1/rate` of the distinct
 * keys, deterministically.
 *
 * When to use: to cut the volume of chatty streams (debug logs, access logs) while keeping a
 * representative, reproducible part; with `key` set to a request or trace id, to keep whole
 * requests.
 *
 * Gotchas:
 * - It samples keys, not events: if one key makes up 30% of the stream, that 30% is kept or
 *   dropped as a whole. Over many distinct keys the kept share is close to `1/rate`; over a few
 *   it can be far from it.
 * - Identical messages (the default key) are all kept or all dropped.
 *
 * Counters: `sampled_out` (events removed).
 *
 * @example
 * ```ts
 * stage: sample({ rate: 10, key: 'trace_id' }) // every line of 1 trace in 10
 * ```
 */
export const sample = defineVerb<SampleOptions>({
  type: 'sample',
  validate(o) {
    const problems: string[] = [];
    const check = optionChecks(problems);
    check.integerAtLeast('rate', o.rate, 1, true);
    check.nonEmptyString('key', o.key);
    return problems;
  },
  build(o, ctx): Transform {
    const rate = o.rate;
    const key = o.key;
    const counters = ctx.counters;
    return {
      process(batch: Batch) {
        if (rate === 1) return batch;
        const events = eventsOf(batch);
        const kept: LogEvent[] = [];
        for (let i = 0; i < events.length; i++) {
          const event = events[i]!;
          if (sampleHash(keyOf(event, key)) % rate === 0) kept.push(event);
        }
        const removed = events.length - kept.length;
        if (removed === 0) return batch;
        counters.add('sampled_out', removed);
        return kept.length === 0 ? null : withEvents(batch, kept);
      },
    };
  },
});

function keyOf(event: LogEvent, key: string | undefined): string {
  if (key === undefined) return event.message;
  const value = event.attributes?.[key];
  if (value === undefined) return event.message;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value); // a cycle or a bigint inside: rare, and still deterministic
  }
}

/**
 * The 32-bit hash the sampler keys on: FNV-1a over the UTF-16 code units of `text`, then
 * murmur3's `fmix32`. Stable: changing it would change which events every deployment keeps.
 *
 * When to use: to predict a sampling decision outside the pipeline (which trace ids a
 * `sample({ rate: 10, key: 'trace_id' })` keeps), or to sample the same way elsewhere.
 *
 * @example
 * ```ts
 * const kept = sampleHash('4bf92f3577b34da6') % 10 === 0;
 * ```
 */
export function sampleHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
