// A process for the terminal test to run inside tmux: a generator feeding an HTTP sink that
// sends to a loopback backend, with the dashboard on its own terminal. The test steers it by
// writing one word to the control file named by argv[2]:
//
//   run    the backend answers 200 (releasing requests held by a stall)
//   stall  the backend holds every request without answering
//   quit   stop the view (giving the screen back), stop the pipeline, print "fixture done", exit
//
// It prints "fixture ready" before the view takes the screen, so that the test can tell the
// screen was given back: after `quit` that line is what the terminal shows again.
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline } from '@spillway/core';
import { http } from '@spillway/sinks';
import { generator } from '@spillway/sources';
import { startBackend } from '@spillway/testing';
import { startDashboard } from '../src/dashboard/dashboard.js';

const control = process.argv[2];
if (!control) throw new Error('usage: dashboard-fixture <control file>');

let stalled = false;
const backend = await startBackend({
  script: () => (stalled ? { kind: 'stall' } : { status: 200 }),
});
const pipeline = await definePipeline({
  name: 'terminal',
  sources: { gen: generator({ ratePerSec: 2000, batchSize: 50 }) },
  sinks: {
    http: {
      inputs: ['gen'],
      buffer: { capacity: 8 },
      stage: http({
        url: backend.url,
        batch: { lingerMs: 5 },
        retry: { initialMs: 20, maxMs: 100, budget: { ratio: 10 } },
        timeoutMs: 400,
        health: { downAfter: 2 },
      }),
    },
  },
}).build();
pipeline.start();
process.stdout.write('fixture ready\n');
const view = startDashboard({
  pipeline: () => pipeline,
  output: process.stdout,
  mode: 'tty',
  intervalMs: 100,
  title: 'fixture',
});

let command = 'run';
for (;;) {
  const next = (await readFile(control, 'utf8').catch(() => command)).trim();
  if (next !== command) {
    command = next;
    if (command === 'stall') stalled = true;
    if (command === 'run') {
      stalled = false;
      backend.releaseStalls();
    }
    if (command === 'quit') break;
  }
  await delay(50);
}
view.stop();
stalled = false;
backend.releaseStalls();
await pipeline.stop({ deadline: 1000 });
await backend.close();
process.stdout.write('fixture done\n');
