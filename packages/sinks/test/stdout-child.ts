// Child process of stdout.test.ts: a pipeline of `<batches>` raw batches of 100 lines each
// (`line 0` … in order) into the stdout sink, four pool workers. When the pipeline has stopped
// it prints one JSON line on stderr: the sink's stats, its pool's, and the longest time the
// event loop went without running a timer (a blocking write would show there).
import { performance } from 'node:perf_hooks';
import { createRawBatch, definePipeline } from '@spillway/core';
import { batchSource } from '@spillway/testing';
import { stdout } from '../src/basic.js';

const batches = Number(process.argv[2]);
const LINES = 100;

let next = 0;
const make = () => {
  let text = '';
  for (let i = 0; i < LINES; i++) text += `line ${next++}\n`;
  return createRawBatch({ source: 'numbers', data: Buffer.from(text) });
};

let last = performance.now();
let maxGapMs = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last);
  last = now;
}, 5);

const pipeline = await definePipeline({
  sources: { numbers: batchSource({ make, count: batches }) },
  sinks: { out: { inputs: ['numbers'], stage: stdout({}), pool: { maxWorkers: 4 } } },
}).build();
pipeline.start();
await pipeline.done();
await pipeline.stop();
clearInterval(ticker);

const entry = (id: string) => pipeline.metrics.snapshot().entries.find((e) => e.id === id)?.stats;
process.stderr.write(
  `${JSON.stringify({ sink: entry('out'), pool: entry('out.pool'), maxGapMs })}\n`,
);
