// The README's example: compose a pipeline in TypeScript, run it to the end, read its metrics.
import { definePipeline, defineSink, defineTransform, eventsOf, withEvents } from '@spillway/core';
import { generator } from '@spillway/sources';

// A transform is a verb: keep the slow requests.
const keepSlow = defineTransform<{ overMs: number }>({
  type: 'keepSlow',
  build: ({ overMs }) => ({
    process: (batch) => {
      const slow = eventsOf(batch).filter((e) => Number(/ (\d+)ms$/.exec(e.message)?.[1]) > overMs);
      return slow.length > 0 ? withEvents(batch, slow) : null;
    },
  }),
});

// A sink is a noun: this one prints, and is only as fast as stdout.
const console = defineSink<{ prefix: string }>({
  type: 'console',
  build: ({ prefix }) => ({
    async write(batch) {
      process.stdout.write(`${prefix} ${batch.count} slow requests\n`);
      return undefined;
    },
  }),
});

const pipeline = await definePipeline({
  sources: { gen: generator({ count: 10_000, batchSize: 1000 }) },
  transforms: { slow: { inputs: ['gen'], stage: keepSlow({ overMs: 90 }) } },
  sinks: { out: { inputs: ['slow'], stage: console({ prefix: '→' }) } },
  defaultBuffer: { capacity: 8, maxBytes: 4 << 20, whenFull: 'block' },
}).build();

pipeline.start();
await pipeline.done();
const gen = pipeline.metrics.snapshot().entries.find((e) => e.id === 'gen');
process.stdout.write(`generated ${gen?.stats.generated} events\n`);
