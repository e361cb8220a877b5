/**
 * A contender that tails one file from its start with fresh checkpoints, optionally through a
 * transform, into a blackhole: timed from start until the sink has every line, then stopped
 * (the final checkpoint write is inside the clock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePipeline, type TransformDefinition } from '@spillway/core';
import { file } from '@spillway/sources';
import { blackhole } from './blackhole.js';
import type { Contender } from './race.js';

export interface FileContenderOptions {
  name: string;
  path: string;
  lines: number;
  chunkBytes: number;
  /** Between the file source and the blackhole, when given. */
  stage?: TransformDefinition;
}

export function fileContender(o: FileContenderOptions): Contender {
  let dataDir: string | undefined;
  return {
    name: o.name,
    async prepare() {
      dataDir = await mkdtemp(join(tmpdir(), 'spillway-bench-checkpoints-'));
    },
    async run() {
      let done!: (lines: number) => void;
      const finished = new Promise<number>((resolve) => {
        done = resolve;
      });
      const source = file({ include: [o.path], dataDir: dataDir!, chunkBytes: o.chunkBytes });
      const sink = blackhole({ expected: o.lines, done });
      const pipeline = await definePipeline(
        o.stage
          ? {
              sources: { app: source },
              transforms: { cpu: { inputs: ['app'], stage: o.stage } },
              sinks: { out: { inputs: ['cpu'], stage: sink } },
            }
          : { sources: { app: source }, sinks: { out: { inputs: ['app'], stage: sink } } },
      ).build();
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
