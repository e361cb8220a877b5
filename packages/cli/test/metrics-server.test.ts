// The metrics server against a real pipeline — a generator into an HTTP sink with a spill
// buffer, sending to a loopback backend — scraped over real HTTP and parsed strictly. While the
// backend answers, events move; when it stalls, the sink's buffer fills, the backlog spills to
// disk, and health goes degraded, then down (503); when it comes back, the backlog replays and
// health is ready again. Then the HTTP surface: reloads, no pipeline, methods, paths, closing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, type Pipeline } from '@spillway/core';
import { spill } from '@spillway/disk-buffer';
import { blackhole, http } from '@spillway/sinks';
import { generator } from '@spillway/sources';
import { startBackend } from '@spillway/testing';
import { healthOf } from '../src/metrics/health.js';
import { type PipelineReading, readPipeline } from '../src/metrics/pipeline-reading.js';
import { startMetricsServer } from '../src/metrics/server.js';
import { type Family, parseExposition, samplesOf, sampleValue } from './metrics-text-format.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

async function health(url: string): Promise<{ code: number; body: unknown }> {
  const res = await fetch(`${url}/health`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  return { code: res.status, body: await res.json() };
}

/** Polls `check` every 20 ms until it returns a value, for at most `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

describe('startMetricsServer on a real pipeline', () => {
  it('shows events moving, the stall filling the buffer, health down, and the recovery', {
    timeout: 60_000,
  }, async () => {
    await using backend = await startBackend();
    const dir = await mkdtemp(join(tmpdir(), 'spillway-metrics-'));
    dirs.push(dir);
    const pipeline = await definePipeline({
      name: 'scraped',
      sources: { gen: generator({ ratePerSec: 4000, batchSize: 40 }) },
      sinks: {
        out: {
          inputs: ['gen'],
          buffer: spill({ dir, memory: { capacity: 4 } }),
          stage: http({
            url: backend.url,
            batch: { lingerMs: 5 },
            retry: { initialMs: 5, maxMs: 20, budget: { ratio: 10 } },
            // One request at a time, each failing after 300 ms: failures arrive one by one, so
            // `degraded` lasts long enough to be seen before `down` (3 in a row).
            concurrency: 1,
            timeoutMs: 300,
            health: { downAfter: 3 },
          }),
        },
      },
    }).build();
    const server = await startMetricsServer({
      pipeline: () => pipeline,
      host: '127.0.0.1',
      port: 0,
    });
    const sink = { pipeline: 'scraped', sink: 'out' };
    const channel = { pipeline: 'scraped', channel: 'out.in' };
    try {
      // Built, not started: every family present, health down.
      let f = await scrape(server.url);
      assert.equal(sampleValue(f, 'spillway_pipeline_state', { state: 'built' }), 1);
      assert.deepEqual(await health(server.url), {
        code: 503,
        body: { status: 'down', sinks: { out: 'healthy' } },
      });

      pipeline.start();
      await until('events delivered', 10_000, async () => {
        const now = await scrape(server.url);
        return samplesOf(now, 'spillway_sink_delivered_events_total', sink)[0]?.value
          ? now
          : undefined;
      });
      const first = await scrape(server.url);
      await delay(300);
      const second = await scrape(server.url);
      const grew = (name: string, labels: Record<string, string>) =>
        assert.ok(
          sampleValue(second, name, labels) > sampleValue(first, name, labels),
          `${name} grows: ${sampleValue(first, name, labels)} → ${sampleValue(second, name, labels)}`,
        );
      grew('spillway_channel_in_batches_total', channel);
      grew('spillway_channel_out_batches_total', channel);
      grew('spillway_channel_in_bytes_total', channel);
      grew('spillway_stage_events_out_total', { stage: 'gen' });
      grew('spillway_sink_delivered_events_total', sink);
      grew('spillway_pool_delivered_batches_total', sink);
      grew('spillway_sink_responses_total', { ...sink, code: '200' });
      assert.equal(sampleValue(second, 'spillway_sink_up', { ...sink, state: 'healthy' }), 1);
      assert.equal(sampleValue(second, 'spillway_channel_capacity', channel), 4);
      assert.equal(sampleValue(second, 'spillway_pipeline_state', { state: 'running' }), 1);
      assert.deepEqual(await health(server.url), {
        code: 200,
        body: { status: 'ready', sinks: { out: 'healthy' } },
      });

      // The backend stops answering.
      backend.script(() => ({ kind: 'stall' }));
      const seen = new Map<string, number>();
      await until('health down', 15_000, async () => {
        const { code, body } = await health(server.url);
        const { status } = body as { status: string };
        seen.set(status, code);
        return status === 'down' ? true : undefined;
      });
      assert.equal(seen.get('degraded'), 200, 'degraded first, still 200');
      assert.equal(seen.get('down'), 503, 'then down: 503');
      assert.deepEqual((await health(server.url)).body, {
        status: 'down',
        sinks: { out: 'down' },
      });
      f = await until('the sink buffer full and spilling', 10_000, async () => {
        const now = await scrape(server.url);
        return sampleValue(now, 'spillway_channel_fill_ratio', channel) === 1 &&
          sampleValue(now, 'spillway_disk_buffer_spilled_batches_total', channel) > 0
          ? now
          : undefined;
      });
      assert.equal(sampleValue(f, 'spillway_channel_depth', channel), 4, 'memory part full');
      assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'down' }), 1);
      assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'healthy' }), 0);
      assert.equal(
        sampleValue(f, 'spillway_pool_busy_workers', sink),
        sampleValue(f, 'spillway_pool_max_workers', sink),
        'every pool worker is stuck in a write',
      );
      assert.ok(sampleValue(f, 'spillway_sink_transport_errors_total', sink) >= 3, 'timeouts');
      assert.ok(sampleValue(f, 'spillway_sink_attempts_total', sink) > 0);
      await delay(300);
      const later = await scrape(server.url);
      assert.ok(
        sampleValue(later, 'spillway_disk_buffer_spilled_batches_total', channel) >
          sampleValue(f, 'spillway_disk_buffer_spilled_batches_total', channel),
        'the backlog keeps going to disk',
      );
      assert.ok(sampleValue(later, 'spillway_disk_buffer_bytes', channel) > 0);
      assert.ok(sampleValue(later, 'spillway_disk_buffer_unread_records', channel) > 0);

      // The backend comes back: health ready again, the backlog replayed.
      backend.script(undefined);
      backend.releaseStalls();
      await until('health ready', 15_000, async () =>
        (await health(server.url)).code === 200 &&
        ((await health(server.url)).body as { status: string }).status === 'ready'
          ? true
          : undefined,
      );
      f = await until('the backlog replayed', 20_000, async () => {
        const now = await scrape(server.url);
        return sampleValue(now, 'spillway_disk_buffer_replayed_batches_total', channel) > 0 &&
          sampleValue(now, 'spillway_disk_buffer_unread_records', channel) === 0
          ? now
          : undefined;
      });
      assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'healthy' }), 1);
      assert.ok(sampleValue(f, 'spillway_sink_retries_total', sink) > 0);
    } finally {
      await pipeline.stop({ deadline: 1000 });
      await server.close();
    }
  });
});

describe('startMetricsServer', () => {
  const build = (name: string) =>
    definePipeline({
      name,
      sources: { gen: generator({ count: 0 }) },
      sinks: { out: { inputs: ['gen'], stage: blackhole({}) } },
    }).build();

  it('follows the pipeline the accessor returns: none, one, then another after a reload', async () => {
    let current: Pipeline | undefined;
    const server = await startMetricsServer({
      pipeline: () => current,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      let f = await scrape(server.url);
      assert.ok(f.size > 0, 'every family is announced');
      assert.ok(
        [...f.values()].every((family) => family.samples.length === 0),
        'no samples',
      );
      assert.deepEqual(await health(server.url), {
        code: 503,
        body: { status: 'down', sinks: {} },
      });

      current = await build('before');
      f = await scrape(server.url);
      assert.equal(sampleValue(f, 'spillway_channel_capacity', { pipeline: 'before' }), 16);

      current = await build('after');
      f = await scrape(server.url);
      const pipelines = new Set(
        [...f.values()].flatMap((family) => family.samples.map((s) => s.labels.pipeline)),
      );
      assert.deepEqual([...pipelines], ['after'], 'the old pipeline’s series are gone');
    } finally {
      await server.close();
    }
  });

  it('answers 404 off its two paths, 405 to other methods, and HEAD without a body', async () => {
    const pipeline = await build('http');
    const server = await startMetricsServer({
      pipeline: () => pipeline,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${server.url}/`)).status, 404);
      assert.equal((await fetch(`${server.url}/metrics/x`)).status, 404);
      const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      const head = await fetch(`${server.url}/metrics?x=1`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.ok(Number(head.headers.get('content-length')) > 0);
      assert.equal(await head.text(), '');
    } finally {
      await server.close();
    }
  });

  it('answers 500 when reading the pipeline throws, and goes on serving', async () => {
    let broken = true;
    const good = await build('good');
    const bad = {
      name: 'bad',
      metrics: {
        snapshot: () => {
          throw new Error('a stats reader threw');
        },
      },
    } as unknown as Pipeline;
    const server = await startMetricsServer({
      pipeline: () => (broken ? bad : good),
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /a stats reader threw/);
      assert.equal((await fetch(`${server.url}/health`)).status, 500);
      broken = false;
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('closes on close() and on its signal; refuses an aborted signal and a taken port', async () => {
    const pipeline = await build('lifecycle');
    const server = await startMetricsServer({
      pipeline: () => pipeline,
      host: '127.0.0.1',
      port: 0,
    });
    await fetch(`${server.url}/health`); // leaves a keep-alive connection open
    await server.close();
    await server.close();
    await assert.rejects(fetch(`${server.url}/health`));

    const controller = new AbortController();
    const second = await startMetricsServer({
      pipeline: () => pipeline,
      host: '127.0.0.1',
      port: 0,
      signal: controller.signal,
    });
    await fetch(`${second.url}/health`);
    controller.abort();
    await second.close();
    await assert.rejects(fetch(`${second.url}/health`));

    await assert.rejects(
      startMetricsServer({
        pipeline: () => pipeline,
        host: '127.0.0.1',
        port: 0,
        signal: AbortSignal.abort(new Error('no')),
      }),
      /no/,
    );

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    await assert.rejects(
      startMetricsServer({ pipeline: () => pipeline, host: '127.0.0.1', port }),
      { code: 'EADDRINUSE' },
    );
    taken.close();
  });
});

describe('healthOf', () => {
  const reading = (
    state: PipelineReading['state'],
    sinks: PipelineReading['stages'][number]['health'][],
  ): PipelineReading => ({
    name: 'p',
    state,
    timestamp: 0,
    stats: {},
    stages: sinks.map((health, i) => ({
      name: `s${i}`,
      kind: 'sink',
      stats: {},
      input: undefined,
      pool: undefined,
      cpu: undefined,
      health,
    })),
  });
  const cases: [string, PipelineReading | undefined, string][] = [
    ['no pipeline', undefined, 'down'],
    ['built', reading('built', ['healthy']), 'down'],
    ['stopped', reading('stopped', ['healthy']), 'down'],
    ['stopping', reading('stopping', ['healthy']), 'degraded'],
    ['all healthy', reading('running', ['healthy', 'healthy']), 'ready'],
    ['sinks without health', reading('running', [undefined, undefined]), 'ready'],
    ['one degraded', reading('running', ['healthy', 'degraded']), 'degraded'],
    ['one down of two', reading('running', ['down', 'healthy']), 'degraded'],
    ['every sink down', reading('running', ['down', 'down']), 'down'],
  ];
  for (const [what, r, status] of cases) {
    it(`${what} → ${status}`, () => assert.equal(healthOf(r).status, status));
  }
  it('names each sink, a sink without health as healthy', () => {
    assert.deepEqual(healthOf(reading('running', [undefined, 'down'])).sinks, {
      s0: 'healthy',
      s1: 'down',
    });
  });
  it('reads a real snapshot', async () => {
    const p = await definePipeline({
      sources: { gen: generator({ count: 0 }) },
      sinks: { out: { inputs: ['gen'], stage: blackhole({}) } },
    }).build();
    assert.deepEqual(healthOf(readPipeline(p.metrics.snapshot())), {
      status: 'down',
      sinks: { out: 'healthy' },
    });
  });
});
