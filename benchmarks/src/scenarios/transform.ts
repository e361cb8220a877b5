/**
 * Scenario `transform`: what the CPU stage buys on this machine, and what one worker hop costs.
 *
 * ```
 *   main_thread  file ─▶ [cpu.in] ─▶ chain(parseJson → encode ndjson) on the main thread ─▶ blackhole
 *   one_worker   file ─▶ [cpu.in] ─▶ workers(threads 1: the same chain)                   ─▶ blackhole
 *   two_workers  file ─▶ [cpu.in] ─▶ workers(threads 2: the same chain)                   ─▶ blackhole
 *
 *   dispatch_N   memory source, raw batches of N lines ─▶ workers(threads 1, passThrough) ─▶ blackhole
 *   inline_N     the same batches ─▶ chain(passThrough) on the main thread                 ─▶ blackhole
 * ```
 *
 * The first three do the same work on the same file (JSON log lines of ~200 bytes, read from
 * the page cache): parse each line into an event (promoting time, level and msg) and encode it
 * back as NDJSON, so the main thread of the worker contenders only moves bytes. Their ratio is
 * the speed-up from threads, with the main thread's own work (reading, copying to and from the
 * workers) included.
 *
 * Dispatch: a pass-through step in one worker against the same step inline, at batch sizes 100,
 * 1000 and 10000 lines. The difference in time per batch is the hop: copying the batch into a
 * shared slot, the worker copying its output into shared memory of its own (a pass-through
 * output is the slot itself), the messages both ways, piscina's scheduling and the reorder
 * window.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRawBatch,
  definePipeline,
  defineSource,
  type TransformDefinition,
} from '@spillway/core';
import { encode, parseJson } from '@spillway/transforms';
import { chain, workers } from '@spillway/workers';
import { blackhole } from '../blackhole.js';
import { fileContender } from '../file-contender.js';
import { writeLineFile } from '../line-file.js';
import { byName, type Contender, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';
import { passThrough } from './pass-through.js';

const FULL = { lines: 1_500_000, dispatchLines: 1_000_000, rounds: 5, warmupRounds: 1 };
const QUICK = { lines: 10_000, dispatchLines: 20_000, rounds: 1, warmupRounds: 0 };
const BATCH_SIZES = [100, 1000, 10_000] as const;
const CHUNK_BYTES = 256 * 1024;

export const transformScenario: ScenarioDefinition = {
  name: 'transform',
  description:
    'The CPU stage: a file of JSON log lines → `parseJson` → NDJSON `encode` → blackhole, with ' +
    'the chain on the main thread, in one worker and in two workers, in one run. Then the cost ' +
    'of one worker hop per batch at 100, 1000 and 10000 lines per batch.',
  peers:
    '`main_thread`: the same chain with no worker threads (`chain()`), which is what a ' +
    'single-threaded pipeline does. `inline_N`: a pass-through step on the main thread, against ' +
    'which `dispatch_N` (the same step in one worker) measures the hop.',
  targets: [{ ratio: 'two_workers_vs_main_thread', atLeast: 1.6 }],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-bench-transform-'));
    try {
      const path = join(dir, 'app.log');
      const bytes = await writeLineFile(path, params.lines, (i) =>
        JSON.stringify({
          level: 30 + (i % 3) * 10,
          time: 1735689600000 + i,
          pid: 4242,
          hostname: `web-${i % 8}`,
          req: { method: 'GET', url: `/api/items/${i % 10_000}`, id: i },
          msg: 'request completed',
          responseTime: i % 97,
        }),
      );
      log(`  ${params.lines.toLocaleString('en-US')} JSON lines, ${(bytes / 1e6).toFixed(1)} MB`);
      const steps = [parseJson({}), encode({ format: 'ndjson' })];
      const options = {
        signal,
        log,
        rounds: params.rounds,
        warmupRounds: params.warmupRounds,
      };
      const cpu = await race(
        [
          fileContender({
            name: 'main_thread',
            path,
            lines: params.lines,
            chunkBytes: CHUNK_BYTES,
            stage: chain({ steps }),
          }),
          fileContender({
            name: 'one_worker',
            path,
            lines: params.lines,
            chunkBytes: CHUNK_BYTES,
            stage: workers({ threads: 1, steps }),
          }),
          fileContender({
            name: 'two_workers',
            path,
            lines: params.lines,
            chunkBytes: CHUNK_BYTES,
            stage: workers({ threads: 2, steps }),
          }),
        ],
        { ...options, expectedEvents: params.lines, expectedBytes: bytes },
      );
      const dispatch = [];
      const overheadUs: Record<string, string> = {};
      for (const size of BATCH_SIZES) {
        const batches = Math.ceil(params.dispatchLines / size);
        const lines = batches * size;
        const [hop, inline] = await race(
          [
            memoryContender(
              `dispatch_${size}`,
              size,
              batches,
              workers({ threads: 1, steps: [passThrough({})] }),
            ),
            memoryContender(`inline_${size}`, size, batches, chain({ steps: [passThrough({})] })),
          ],
          { ...options, expectedEvents: lines, expectedBytes: lines * LINE.length },
        );
        dispatch.push(hop!, inline!);
        const perBatch = (rate: number) => (size / rate) * 1e6;
        overheadUs[`hop at ${size} lines/batch`] =
          `${round2(perBatch(hop!.eventsPerSec) - perBatch(inline!.eventsPerSec))} µs per batch`;
      }
      const results = [...cpu, ...dispatch];
      const rate = (name: string) => byName(results, name).eventsPerSec;
      return {
        results,
        ratios: {
          two_workers_vs_main_thread: round2(rate('two_workers') / rate('main_thread')),
          one_worker_vs_main_thread: round2(rate('one_worker') / rate('main_thread')),
        },
        setup: {
          lines: params.lines,
          'MB per file run': round2(bytes / 1e6),
          'read size': `${CHUNK_BYTES / 1024} KiB`,
          'in flight': '2 × threads',
          ...overheadUs,
          'lines per dispatch run': params.dispatchLines,
          rounds: params.rounds,
          'warm-up rounds': params.warmupRounds,
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

const LINE = Buffer.from(`${'x'.repeat(99)}\n`);

/** Raw batches of `size` identical lines from memory, through `stage`, into a blackhole. */
function memoryContender(
  name: string,
  size: number,
  batches: number,
  stage: TransformDefinition,
): Contender {
  const data = Buffer.concat(Array.from({ length: size }, () => LINE));
  const source = defineSource<Record<string, never>>({
    type: 'memory',
    build: () => ({
      async run(ctx) {
        for (let i = 0; i < batches && !ctx.stopping.aborted; i++) {
          await ctx.emit(createRawBatch({ source: ctx.name, data, lines: size }), ctx.stopping);
        }
      },
    }),
  });
  return {
    name,
    async run() {
      let delivered = 0;
      const pipeline = await definePipeline({
        sources: { memory: source({}) },
        transforms: { cpu: { inputs: ['memory'], stage } },
        sinks: {
          out: {
            inputs: ['cpu'],
            stage: blackhole({ expected: size * batches, done: (n) => (delivered = n) }),
          },
        },
      }).build();
      pipeline.start();
      await pipeline.done();
      return delivered;
    },
  };
}
