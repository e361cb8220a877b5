// Child process of file-crash.test.ts: tails one file and prints the number of every line its
// sink was given (`d <n>`) before acknowledging it. stdout is a pipe, and pipe writes are
// synchronous on Linux, so the parent has seen a line before its checkpoint can cover it.
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, defineSink, eventsOf } from '@spillway/core';
import { file } from '../src/index.js';

const [dataDir, path] = process.argv.slice(2) as [string, string];

const report = defineSink<Record<string, never>>({
  type: 'report',
  build: () => ({
    async write(batch) {
      const numbers = eventsOf(batch).map((e) => e.message.slice(5));
      process.stdout.write(`d ${numbers.join(' ')}\n`);
      await delay(2);
      return undefined;
    },
  }),
});

const pipeline = await definePipeline({
  sources: {
    app: file({
      include: [path],
      dataDir,
      chunkBytes: 4096,
      scanIntervalMs: 20,
      pollIntervalMs: 5,
      checkpointIntervalMs: 10,
    }),
  },
  sinks: { out: { inputs: ['app'], stage: report({}), pool: { maxWorkers: 2 } } },
  defaultBuffer: { capacity: 8 },
}).build();
pipeline.start();
process.stdout.write('ready\n');
