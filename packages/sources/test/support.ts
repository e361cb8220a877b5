// Shared by the source tests: a sink that records what reaches it and can be stalled, a
// pipeline that runs a listening push source into it, a poll helper, temporary directories, and
// a reader of a stage's metrics. Real stages built with the public define* helpers, not mocks of
// the runtime. What is particular to one kind of source (HTTP receivers, network listeners)
// builds on these in its own fixtures module.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Batch,
  type BufferSpec,
  definePipeline,
  defineSink,
  eventsOf,
  type LogEvent,
  type OutputPoolOptions,
  type Pipeline,
  type SourceDefinition,
} from '@spillway/core';

/** A gate a sink waits on: closed, writes park until it opens. */
export class Gate {
  #open = true;
  #waiters: (() => void)[] = [];

  close(): void {
    this.#open = false;
  }

  open(): void {
    this.#open = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  wait(signal: AbortSignal): Promise<void> {
    if (this.#open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

/** What a `collect` sink has been given, in arrival order. */
export interface Collected {
  /** Every line (raw batches) or event message: what tests of line sources compare. */
  lines: string[];
  /** The same records as events (raw lines made events), for tests that look at attributes. */
  events: LogEvent[];
  batches: Batch[];
}

export const newCollected = (): Collected => ({ lines: [], events: [], batches: [] });

/** Records every batch and its events and their messages; parks while `gate` is closed. */
export const collect = defineSink<{ into: Collected; gate?: Gate }>({
  type: 'collect',
  build: (o) => ({
    async write(batch, signal) {
      await o.gate?.wait(signal);
      o.into.batches.push(batch);
      for (const event of eventsOf(batch)) {
        o.into.events.push(event);
        o.into.lines.push(event.message);
      }
      return undefined;
    },
  }),
});

/** A started pipeline `<id> → out`, `out` being `collect` behind `gate`. */
export interface Listening<A> {
  pipeline: Pipeline;
  got: Collected;
  gate: Gate;
  /** What the source passed to `onListening`: where it listens. */
  address: A;
}

/**
 * Builds and starts a pipeline around the push source that `make` returns given an
 * `onListening` callback (which the source must pass on to its options), named `id`, into
 * `collect` behind an open gate as `out`; resolves once the source has called back with its
 * bound address. Stopping it is the caller's.
 */
export async function startListening<A>(
  id: string,
  make: (onListening: (address: A) => void) => SourceDefinition,
  sink: { buffer?: BufferSpec; pool?: OutputPoolOptions },
): Promise<Listening<A>> {
  const got = newCollected();
  const gate = new Gate();
  let listening!: (address: A) => void;
  const bound = new Promise<A>((resolve) => (listening = resolve));
  const pipeline = await definePipeline({
    sources: { [id]: make((address) => listening(address)) },
    sinks: { out: { inputs: [id], stage: collect({ into: got, gate }), ...sink } },
  }).build();
  pipeline.start();
  return { pipeline, got, gate, address: await bound };
}

/**
 * Polls `check` every 5 ms until it holds; fails naming `what` after `timeoutMs` (a bound on a
 * hung test, not an assertion on time).
 */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000) {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-sources-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The stats of stage `id` (e.g. `app` or `out.in`) from the pipeline's metrics. */
export function statsOf(pipeline: Pipeline, id: string): Record<string, unknown> {
  const entry = pipeline.metrics.snapshot().entries.find((e) => e.id === id);
  if (!entry) throw new Error(`no metrics entry "${id}"`);
  return entry.stats as Record<string, unknown>;
}
