/**
 * Heap growth across rounds of work, measured after forced garbage collection.
 *
 * Method: run one round to warm up (JIT, caches, pools fill), then measure after each further
 * round. A stage passes as soon as two consecutive rounds were not both over the limit, and
 * fails when it grew by more than the limit in **each of three rounds** after the warm-up: a
 * cache that fills up over the first rounds and then stays flat passes, a structure that gains
 * something per batch forever does not. Comparing rounds with each other rather
 * than with a fixed number keeps the check independent of what else the process holds.
 *
 * What is measured is `heapUsed + arrayBuffers` from `process.memoryUsage()` after two full
 * collections with a turn of the event loop between them (so finalizers and freed buffers are
 * accounted for). Collection is forced with `global.gc` when the process runs with
 * `--expose-gc`; otherwise the flag is switched on at run time (`v8.setFlagsFromString`) and the
 * `gc` function taken from a fresh `vm` context, then the flag is switched off again. Without
 * either, the check is skipped: heap numbers that include garbage are too noisy to judge by.
 *
 * Limits: a leak smaller than the limit per round (e.g. a few bytes per batch over a thousand
 * batches) goes unseen; raise `iterations` to see it. Memory outside the V8 heap and array
 * buffers (native addons, file system caches) is not measured.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { failed, type Outcome, passed, skipped } from './check.js';
import { mib, ms } from './format.js';

let collector: (() => void) | null | undefined;

/** A function that runs a full garbage collection, or undefined when none can be had. */
export function forcedGc(): (() => void) | undefined {
  if (collector === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === 'function') collector = exposed as () => void;
    else {
      try {
        setFlagsFromString('--expose-gc');
        const gc: unknown = runInNewContext('gc');
        collector = typeof gc === 'function' ? (gc as () => void) : null;
      } catch {
        collector = null;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
  }
  return collector ?? undefined;
}

async function settledHeap(gc: () => void): Promise<number> {
  gc();
  await nextTurn();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

export interface HeapCheck {
  /** One round of work; called three or four times. */
  readonly round: () => Promise<void>;
  /** What a round is, for the detail: `1000 writes`, `500 ms stalled`. */
  readonly roundLabel: string;
  readonly maxGrowthBytes: number;
  /** How the stage may be keeping memory, for the failure sentence. */
  readonly hint: string;
}

export async function checkHeapGrowth(check: HeapCheck): Promise<Outcome> {
  const gc = forcedGc();
  if (!gc) {
    return skipped(
      'garbage collection cannot be forced in this process, so heap numbers are too noisy to judge',
    );
  }
  const started = performance.now();
  await check.round();
  const heaps = [await settledHeap(gc)];
  const growth: number[] = [];
  for (let round = 0; round < 3; round++) {
    await check.round();
    heaps.push(await settledHeap(gc));
    growth.push(heaps.at(-1)! - heaps.at(-2)!);
    const [previous, last] = growth.slice(-2);
    if (round >= 1 && !(previous! > check.maxGrowthBytes && last! > check.maxGrowthBytes)) {
      const shown = growth.map((g) => (g >= 0 ? `+${mib(g)}` : `-${mib(-g)}`)).join(', ');
      return passed(
        `heap changed by ${shown} over rounds of ${check.roundLabel} after a warm-up ` +
          `(limit ${mib(check.maxGrowthBytes)} a round; ${ms(performance.now() - started)})`,
      );
    }
  }
  return failed(
    `the heap kept growing: +${growth.map(mib).join(', +')} over three rounds of ` +
      `${check.roundLabel} after a warm-up (limit ${mib(check.maxGrowthBytes)} a round): ` +
      check.hint,
  );
}
