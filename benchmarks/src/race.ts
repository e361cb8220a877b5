/**
 * Races contenders against each other in one process, interleaved, and reports medians.
 *
 * Why interleave: on a shared or thermally throttled machine the speed of the whole box drifts
 * during a run. Running A A A A B B B B would charge the drift to whichever contender ran in
 * the slow half; running A B, B A, A B… charges it to both, so their ratio stays put. The
 * order is rotated every round so no contender always runs right after the same neighbour
 * (whose garbage it would otherwise always collect).
 *
 * ```
 *   warm-up:  A B C            (unmeasured: JIT tiers up, heap grows to its working size)
 *   round 0:  A B C
 *   round 1:  B C A            → each contender: median events/s, peak RSS over its rounds
 *   round 2:  C A B
 * ```
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ContenderResult } from './scenario.js';

/** One way of doing the scenario's work, e.g. spillway with batches of 64, or Node streams. */
export interface Contender {
  readonly name: string;
  /**
   * Does the whole workload once and resolves with the number of events that reached the end
   * of the pipeline. The harness checks it against `expectedEvents`, so a contender that loses
   * or duplicates events fails the run instead of looking fast.
   */
  run(signal: AbortSignal): Promise<number>;
  /**
   * Untimed work before each `run` (warm-up included), e.g. a file for a read contender to
   * read back. It runs before the harness collects garbage and starts the clock.
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /**
   * Untimed work after each `run` (temporary files), also when `prepare` or `run` failed.
   * It runs after the clock has stopped.
   */
  cleanup?(): Promise<void>;
}

export interface RaceOptions {
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Events every run must deliver. */
  readonly expectedEvents: number;
  /** Estimated bytes of those events, for MB/s. */
  readonly expectedBytes: number;
}

/**
 * How often RSS is sampled while a contender runs. `process.memoryUsage.rss()` is one read of
 * the process's RSS, without the heap walk `process.memoryUsage()` does, so sampling is cheap.
 */
const RSS_SAMPLE_MS = 5;
const MIB = 1024 * 1024;

/**
 * Runs every contender `warmupRounds` times unmeasured, then `rounds` times interleaved, and
 * returns one result per contender (in the order given) with median throughput.
 *
 * Gotchas: peak RSS is the whole process's, so it includes the input every contender shares;
 * compare contenders with each other, not with zero. A contender that never yields to the
 * event loop (synchronous rxjs) is only sampled when it ends.
 */
export async function race(
  contenders: readonly Contender[],
  options: RaceOptions,
): Promise<ContenderResult[]> {
  const { signal, log } = options;
  for (let round = 0; round < options.warmupRounds; round++) {
    for (const contender of contenders) {
      log(`  warm-up ${round + 1}/${options.warmupRounds}: ${contender.name}`);
      await timeOne(contender, options);
    }
  }
  const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const peaks = new Map<string, number>(contenders.map((c) => [c.name, 0]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + round) % contenders.length]!;
      const { eventsPerSec, peakRss } = await timeOne(contender, options);
      rates.get(contender.name)!.push(eventsPerSec);
      peaks.set(contender.name, Math.max(peaks.get(contender.name)!, peakRss));
      log(
        `  round ${round + 1}/${options.rounds}: ${contender.name.padEnd(20)} ` +
          `${Math.round(eventsPerSec).toLocaleString('en-US').padStart(13)} events/s`,
      );
      signal.throwIfAborted();
    }
  }
  const bytesPerEvent = options.expectedBytes / options.expectedEvents;
  return contenders.map((contender) => {
    const eventsPerSec = median(rates.get(contender.name)!);
    return {
      name: contender.name,
      eventsPerSec: Math.round(eventsPerSec),
      mbPerSec: round2((eventsPerSec * bytesPerEvent) / 1e6),
      peakRssMb: Math.round(peaks.get(contender.name)! / MIB),
    };
  });
}

async function timeOne(
  contender: Contender,
  options: RaceOptions,
): Promise<{ eventsPerSec: number; peakRss: number }> {
  options.signal.throwIfAborted();
  let peakRss: number;
  let delivered: number;
  let elapsedMs: number;
  try {
    await contender.prepare?.(options.signal);
    collectGarbage();
    // Let timers and I/O queued by the previous contender run before the clock starts.
    await yieldToLoop();
    peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, RSS_SAMPLE_MS);
    const start = performance.now();
    try {
      delivered = await contender.run(options.signal);
    } finally {
      clearInterval(sampler);
    }
    elapsedMs = performance.now() - start;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  } finally {
    await contender.cleanup?.();
  }
  if (delivered !== options.expectedEvents) {
    throw new Error(
      `${contender.name} delivered ${delivered} events, expected ${options.expectedEvents}`,
    );
  }
  return { eventsPerSec: (delivered * 1000) / elapsedMs, peakRss };
}

/**
 * A young-generation collection between runs, so one contender's short-lived garbage is not
 * collected on the next one's clock. Not a full collection: measured here, a forced major GC
 * shrinks the heap and the contender after it pays to grow it again (the channel scenario's
 * allocation-heavy contenders ran 3-5× slower), which charges the harness to whoever runs
 * next. The CLI starts Node with `--expose-gc`; without it (a scenario imported elsewhere)
 * this is a no-op.
 */
function collectGarbage(): void {
  (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc?.({ type: 'minor' });
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to two decimals: enough for a ratio or MB/s, short enough for a table. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The result of contender `name`; throws when a scenario asks for one it did not race. */
export function byName(results: readonly ContenderResult[], name: string): ContenderResult {
  const result = results.find((r) => r.name === name);
  if (!result) throw new Error(`no result named ${name}`);
  return result;
}
