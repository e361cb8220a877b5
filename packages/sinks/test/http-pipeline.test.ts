// The HTTP sink inside pipelines: a dead backend costs only its own sink's buffer, a sink that
// is down probes with one request at a time and resumes on the first success, and batches whose
// retries ran out go to disk through a spill buffer and arrive once the backend is back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, type Pipeline } from '@spillway/core';
import { type SpillChannelStats, spill } from '@spillway/disk-buffer';
import { generator } from '@spillway/sources';
import { type Backend, parseNdjson, startBackend } from '@spillway/testing';
import { http } from '../src/http/http-sink.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-http-pipeline-'));
  dirs.push(dir);
  return dir;
};

const FAST = {
  batch: { lingerMs: 5 },
  retry: { initialMs: 5, maxMs: 20, budget: { ratio: 10 } },
} as const;

const statsOf = (pipeline: Pipeline, id: string) =>
  pipeline.metrics.snapshot().entries.find((e) => e.id === id)!.stats as Record<string, unknown>;

it('a dead backend fills only its own sink buffer; the healthy sink gets everything', {
  timeout: 60_000,
}, async () => {
  await using healthy = await startBackend();
  await using dead = await startBackend({ script: () => ({ kind: 'stall' }) });
  const dir = await tempDir();
  const TOTAL = 2_000;
  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      good: {
        inputs: ['gen'],
        stage: http({ url: healthy.url, ...FAST }),
        buffer: spill({ dir: join(dir, 'good') }),
      },
      bad: {
        inputs: ['gen'],
        stage: http({ url: dead.url, ...FAST, timeoutMs: 60_000 }),
        buffer: spill({ dir, memory: { capacity: 2 } }),
      },
    },
  }).build();
  pipeline.start();
  while (new Set(seqsOf(healthy)).size < TOTAL) await delay(20);
  assert.equal(new Set(seqsOf(healthy)).size, TOTAL, 'the healthy sink got every event');
  const bad = statsOf(pipeline, 'bad.in') as unknown as SpillChannelStats;
  assert.ok(bad.spilledBatches > 0, 'the dead sink spilled its own backlog to disk');
  const result = await pipeline.stop({ deadline: 200, grace: 500 });
  assert.deepEqual(result.undelivered, { batches: 0, events: 0 }, 'nothing lost at the stop');
});

/** Every seq the backend was sent, one entry per copy. */
const seqsOf = (backend: Backend) =>
  backend.requests.flatMap((r) =>
    parseNdjson(r.body).map((e) => (e as { attributes: { seq: number } }).attributes.seq),
  );

it('while down, probes with one request at a time; resumes full flow on the first success', {
  timeout: 60_000,
}, async () => {
  let up = false;
  await using backend = await startBackend({
    // A slow 503 while down, so that overlapping attempts would show in the arrival times.
    script: () => (up ? { status: 200 } : { status: 503, delayMs: 20 }),
  });
  const TOTAL = 3_000;
  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      out: {
        inputs: ['gen'],
        stage: http({
          url: backend.url,
          ...FAST,
          batch: { lingerMs: 1, maxEvents: 100 },
          concurrency: 8,
          health: { downAfter: 3 },
        }),
      },
    },
  }).build();
  pipeline.start();
  const health = () => statsOf(pipeline, 'out').health;
  while (health() !== 'down') await delay(5);
  const before = backend.requests.length;
  await delay(400);
  const probes = backend.requests.slice(before + 8);
  assert.ok(probes.length >= 3, `probed ${probes.length} times`);
  // One at a time: each probe arrives only after the previous one's 20 ms answer.
  const gaps = probes.slice(1).map((r, i) => Math.round(r.at - probes[i]!.at));
  assert.ok(
    gaps.every((gap) => gap >= 19),
    `one probe at a time while down: gaps ${gaps}`,
  );
  up = true;
  await pipeline.done();
  assert.equal(health(), 'healthy', 'the first success restored full flow');
  assert.equal(statsOf(pipeline, 'out.pool').delivered, TOTAL / 100);
  assert.equal(new Set(seqsOf(backend)).size, TOTAL);
  await pipeline.stop();
});

it('batches whose retries ran out go to disk through a spill buffer and arrive after recovery', {
  timeout: 60_000,
}, async () => {
  let up = false;
  await using backend = await startBackend({
    script: () => (up ? { status: 200 } : { status: 503 }),
  });
  const dir = await tempDir();
  const TOTAL = 1_000;
  const pipeline = await definePipeline({
    sources: { gen: generator({ count: TOTAL, batchSize: 100 }) },
    sinks: {
      out: {
        inputs: ['gen'],
        stage: http({
          url: backend.url,
          ...FAST,
          retry: { ...FAST.retry, maxAttempts: 2 },
          health: { downAfter: 1000 },
        }),
        buffer: spill({ dir, memory: { capacity: 2 } }),
      },
    },
  }).build();
  pipeline.start();
  const input = () => statsOf(pipeline, 'out.in') as unknown as SpillChannelStats;
  while (input().requeuedBatches < 5) await delay(10);
  up = true;
  await pipeline.done();
  assert.equal(new Set(seqsOf(backend)).size, TOTAL, 'every event arrived');
  assert.ok(input().requeuedBatches >= 5);
  const result = await pipeline.stop();
  assert.deepEqual(result.undelivered, { batches: 0, events: 0 });
});
