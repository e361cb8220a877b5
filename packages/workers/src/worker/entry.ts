/**
 * The module each piscina worker loads. The chain is built once per thread, from the step specs
 * in `workerData`, on the first task; each task is then one batch in, one envelope out (see
 * `envelope.ts` for how the bytes cross, and what a step may keep of its input).
 *
 * A step that throws rejects the task (piscina passes the error back, the thread lives on). An
 * uncaught error, `process.exit()` or running out of heap ends the thread instead; piscina starts
 * a new one and the main thread retries the batch. Either way this module never acknowledges
 * anything: acknowledgements stay on the main thread.
 */
import { performance } from 'node:perf_hooks';
import { Acknowledgement } from '@spillway/core';
import { workerData } from 'piscina';
import { ChainRunner } from '../internal/chain-runner.js';
import { fromTask, type ResultEnvelope, type TaskMessage, toResult } from '../internal/envelope.js';
import { resolveStep, type StepSpec } from '../internal/step-spec.js';

interface WorkerData {
  readonly steps: readonly StepSpec[];
}

// Never aborted: a worker is stopped by terminating its thread, not by a signal.
const never = new AbortController().signal;
let runner: Promise<ChainRunner> | undefined;

function chain(): Promise<ChainRunner> {
  runner ??= Promise.all((workerData as WorkerData).steps.map(resolveStep)).then((steps) =>
    ChainRunner.build(steps, never),
  );
  return runner;
}

export default async function runTask(task: TaskMessage): Promise<ResultEnvelope> {
  const steps = await chain();
  const started = performance.now();
  const ack = new Acknowledgement();
  const batches = await steps.run(fromTask(task, ack), never);
  return toResult(batches, ack, steps.report(), performance.now() - started);
}
