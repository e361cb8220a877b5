/** The sink every throughput scenario ends in: it counts and forgets. */
import { defineSink } from '@spillway/core';

/** A blackhole sink that calls `done` once `expected` lines have reached it. */
export const blackhole = defineSink<{ expected: number; done: (lines: number) => void }>({
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
