/**
 * Scenario `sources`: what a source costs over the physical limit of its input.
 *
 * ```
 *   file_tail   file source (fresh checkpoints) ─▶ [out.in] ─▶ blackhole sink      (timed: start → all lines → stop)
 *   raw_read    open ─▶ read 256 KiB chunks ─▶ count newlines ─▶ close            (timed)
 * ```
 *
 * The file is written once before the race and read from the page cache by both contenders:
 * the ratio is the cost of the source's code (line splitting, batches, acknowledgements,
 * checkpoints, the channel hop and the sink) over the cheapest possible pass over the same
 * bytes, not disk speed. Both count lines with `Buffer.indexOf`, and both use 256 KiB reads.
 * The file source's timed run includes its start (first scan, checkpoint store) and its stop
 * (waiting for the last acknowledgements, the final atomic checkpoint write with its fsyncs).
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePipeline, defineSink } from '@spillway/core';
import { file } from '@spillway/sources';
import { byName, type Contender, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';

const FULL = { lines: 2_000_000, rounds: 5, warmupRounds: 1 };
const QUICK = { lines: 20_000, rounds: 1, warmupRounds: 0 };
const CHUNK_BYTES = 256 * 1024;

/** A blackhole sink that calls `done` once `expected` lines have reached it. */
const blackhole = defineSink<{ expected: number; done: (lines: number) => void }>({
  type: 'blackhole',
  build: (o) => {
    let lines = 0;
    return {
      async write(batch) {
        lines += batch.count;
        if (lines >= o.expected) o.done(lines);
        return undefined;
      },
    };
  },
});

export const sourcesScenario: ScenarioDefinition = {
  name: 'sources',
  description:
    'Pass-through throughput of sources into a blackhole sink. `file_tail`: the file source ' +
    'reads a file of access-log lines (~110 bytes each) from its start with fresh checkpoints, ' +
    'through one bounded channel, until the sink has every line; start and stop (final ' +
    'checkpoint write) are inside the clock.',
  peers:
    '`raw_read`: a plain `FileHandle.read` loop over the same file in 256 KiB chunks that only ' +
    'counts newlines — the physical-limit proxy for any file reader.',
  targets: [{ ratio: 'file_vs_raw_read', atLeast: 0.7 }],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-bench-sources-'));
    try {
      const path = join(dir, 'access.log');
      const bytes = await writeAccessLog(path, params.lines);
      log(`  ${params.lines.toLocaleString('en-US')} lines, ${(bytes / 1e6).toFixed(1)} MB`);
      const results = await race([fileTailContender(path, params.lines), rawReadContender(path)], {
        signal,
        log,
        rounds: params.rounds,
        warmupRounds: params.warmupRounds,
        expectedEvents: params.lines,
        expectedBytes: bytes,
      });
      const rate = (name: string) => byName(results, name).eventsPerSec;
      return {
        results,
        ratios: { file_vs_raw_read: round2(rate('file_tail') / rate('raw_read')) },
        setup: {
          lines: params.lines,
          'MB per run': round2(bytes / 1e6),
          'read size': `${CHUNK_BYTES / 1024} KiB`,
          'channel capacity': '16 batches',
          rounds: params.rounds,
          'warm-up rounds': params.warmupRounds,
          'temp dir': tmpdir(),
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

async function writeAccessLog(path: string, lines: number): Promise<number> {
  const handle = await open(path, 'w');
  let bytes = 0;
  try {
    const perWrite = 10_000;
    for (let from = 0; from < lines; from += perWrite) {
      let text = '';
      for (let i = from; i < Math.min(lines, from + perWrite); i++) {
        text += `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z web-${i % 8} GET /api/items/${i % 10_000}?page=${i % 7} 200 ${i % 97}ms ua=bench/1.0\n`;
      }
      bytes += Buffer.byteLength(text);
      await handle.write(text);
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return bytes;
}

function fileTailContender(path: string, lines: number): Contender {
  let dataDir: string | undefined;
  return {
    name: 'file_tail',
    async prepare() {
      dataDir = await mkdtemp(join(tmpdir(), 'spillway-bench-checkpoints-'));
    },
    async run() {
      let done!: (lines: number) => void;
      const finished = new Promise<number>((resolve) => {
        done = resolve;
      });
      const pipeline = await definePipeline({
        sources: { app: file({ include: [path], dataDir: dataDir!, chunkBytes: CHUNK_BYTES }) },
        sinks: { out: { inputs: ['app'], stage: blackhole({ expected: lines, done }) } },
      }).build();
      pipeline.start();
      const delivered = await finished;
      await pipeline.stop({ deadline: 10_000 });
      return delivered;
    },
    async cleanup() {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      dataDir = undefined;
    },
  };
}

function rawReadContender(path: string): Contender {
  return {
    name: 'raw_read',
    async run() {
      const handle = await open(path, 'r');
      let lines = 0;
      try {
        for (;;) {
          const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        }
      } finally {
        await handle.close();
      }
      return lines;
    },
  };
}
