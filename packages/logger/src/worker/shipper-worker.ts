/**
 * The shipping thread: hosts the shipping pipeline, fed by the hand-off ring, until the
 * application asks it to stop (control word STATE). Then it stops the pipeline with the
 * deadline it was given — delivering what it can, persisting the rest to the disk buffer — and
 * answers STOPPED, which the application may be waiting for synchronously.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import {
  DEADLINE,
  RUNNING,
  STATE,
  STOP_ASKED,
  STOPPED,
  UNDELIVERED_BATCHES,
  UNDELIVERED_EVENTS,
} from '../control.js';
import { handOffReader } from '../hand-off.js';
import { handOffSource } from '../hand-off-source.js';
import { waitAsync } from '../internal/wait-async.js';
import type { ShippingOptions } from '../shipping-pipeline.js';
import { shippingPipeline } from '../shipping-pipeline.js';

interface ShipperWorkerData {
  readonly ring: SharedArrayBuffer;
  readonly control: Int32Array;
  readonly options: ShippingOptions;
}

const { ring, control, options } = workerData as ShipperWorkerData;
const reader = handOffReader(ring);
const pipeline = await shippingPipeline(handOffSource({ reader }), options).build();
pipeline.start();

parentPort?.on('message', (message: { type: 'metrics'; port: MessagePort }) => {
  if (message.type === 'metrics') message.port.postMessage(pipeline.metrics.snapshot());
});

// Wait for the stop request without blocking this thread's event loop.
while (Atomics.load(control, STATE) === RUNNING) {
  await waitAsync(control, STATE, RUNNING);
}
if (Atomics.load(control, STATE) === STOP_ASKED) {
  const result = await pipeline.stop({ deadline: Atomics.load(control, DEADLINE) });
  Atomics.store(control, UNDELIVERED_BATCHES, result.undelivered.batches);
  Atomics.store(control, UNDELIVERED_EVENTS, result.undelivered.events);
}
Atomics.store(control, STATE, STOPPED);
Atomics.notify(control, STATE);
parentPort?.close();
