/**
 * A contender that tails one file from its start with fresh checkpoints, optionally through a
 * transform, into a sink (a blackhole unless told otherwise): timed from start until the sink
 * has every line, then stopped (the final checkpoint write is inside the clock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePipeline, type SinkDefinition, type TransformDefinition } from '@spillway/core';
import { file } from '@spillway/sources';
import { blackhole } from './blackhole.js';
import type { Contender } from './race.js';

/** Where one run's lines go, and how the run knows they have all arrived. */
export interface RunSink {
  readonly stage: SinkDefinition;
  /** Resolves with the number of lines delivered, once all of them are. */
  readonly delivered: Promise<number>;
}

export interface FileContenderOptions {
  name: string;
  path: string;
  lines: number;
  chunkBytes: number;
  /** Between the file source and the sink, when given. */
  stage?: TransformDefinition;
  /**
   * Makes the sink of one run, called before the clock starts (so arming a backend is not
   * timed) with the lines the run must deliver. Default: a blackhole that counts them.
   */
  sink?: (lines: number) => RunSink | Promise<RunSink>;
}

export function fileContender(o: FileContenderOptions): Contender {
  let dataDir: string | undefined;
  let sink: RunSink | undefined;
  return {
    name: o.name,
    async prepare() {
      dataDir = await mkdtemp(join(tmpdir(), 'spillway-bench-checkpoints-'));
      sink = await (o.sink ?? countingBlackhole)(o.lines);
    },
    async run() {
      const source = file({ include: [o.path], dataDir: dataDir!, chunkBytes: o.chunkBytes });
      const { stage, delivered } = sink!;
      const pipeline = await definePipeline(
        o.stage
          ? {
              sources: { app: source },
              transforms: { cpu: { inputs: ['app'], stage: o.stage } },
              sinks: { out: { inputs: ['cpu'], stage } },
            }
          : { sources: { app: source }, sinks: { out: { inputs: ['app'], stage } } },
      ).build();
      pipeline.start();
      const lines = await delivered;
      await pipeline.stop({ deadline: 10_000 });
      return lines;
    },
    async cleanup() {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      dataDir = undefined;
      sink = undefined;
    },
  };
}

function countingBlackhole(lines: number): RunSink {
  let done!: (lines: number) => void;
  const delivered = new Promise<number>((resolve) => {
    done = resolve;
  });
  return { stage: blackhole({ expected: lines, done }), delivered };
}
