import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readDeadLetters } from '@spillway/disk-buffer';
import { encode, parseJson } from '@spillway/transforms';
import { chain, loadTransform, workers } from '../src/index.js';
import { costly } from './fixtures/costly.js';
import { type Fault, faulty } from './fixtures/faulty.js';
import { same } from './fixtures/same.js';
import { upper } from './fixtures/upper.js';
import { event, runRawThrough, runThrough } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'spillway-workers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const messages = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => [event(`${prefix}${i}`, { seq: i })]);

/** Raw batches of JSON lines whose sizes vary, so slots of several sizes are made and reused. */
const jsonTexts = (n: number) =>
  Array.from({ length: n }, (_, b) =>
    Array.from(
      { length: 1 + ((b * 37) % 300) },
      (_, i) =>
        `${JSON.stringify({ level: 30, time: 1_735_689_600_000 + i, msg: `b${b} l${i}` })}\n`,
    ).join(''),
  );

describe('workers', () => {
  it('runs the chain in worker threads and keeps input order under uneven batch costs', async () => {
    // Every fourth batch costs 30 ms of CPU, the rest almost nothing: later batches finish
    // first on the other thread and must wait for their turn.
    const batches = Array.from({ length: 40 }, (_, i) => [
      event(`m${i}`, { seq: i, cost: i % 4 === 0 ? 30 : 0 }),
    ]);
    const run = await runThrough(
      workers({ threads: 2, inFlight: 6, steps: [costly({}), upper({ suffix: '!' })] }),
      batches,
    );
    assert.deepEqual(
      run.recording.events.map((e) => e.message),
      batches.map((_, i) => `M${i}!`),
    );
    assert.ok(run.log.outcomes.every((o) => o.status === 'delivered'));
    const steps = run.stats.steps as Record<string, Record<string, number>>;
    assert.equal(steps.costly?.events_in, 40);
    assert.equal(steps.upper?.events_out, 40);
    assert.equal(run.stats.threads, 0, 'the pool is destroyed when the stage closes');
  });

  it('keeps the batch id, source and acknowledgement through the worker hop', async () => {
    const run = await runThrough(workers({ threads: 1, steps: [upper({})] }), messages(3));
    assert.deepEqual(
      run.recording.batches.map((b) => b.id),
      run.log.emitted.map((b) => b.id),
    );
    assert.ok(run.recording.batches.every((b, i) => b.ack === run.log.emitted[i]!.ack));
  });

  it('gives the same results as the same chain in-process', async () => {
    const steps = [upper({ suffix: '?' })];
    const inWorkers = await runThrough(workers({ threads: 2, steps }), messages(10));
    const inProcess = await runThrough(chain({ steps }), messages(10));
    assert.deepEqual(inWorkers.recording.events, inProcess.recording.events);
    assert.deepEqual(inWorkers.stats.steps, inProcess.stats.steps);
  });

  describe('raw lines', () => {
    it('hands raw lines on byte for byte, in order, while reusing shared slots', async () => {
      const texts = jsonTexts(40);
      const run = await runRawThrough(workers({ threads: 2, steps: [same({})] }), texts);
      assert.equal(run.recording.text, texts.join(''));
      assert.deepEqual(
        run.recording.batches.map((b) => b.id),
        run.log.emitted.map((b) => b.id),
      );
      assert.ok(run.log.outcomes.every((o) => o.status === 'delivered'));
    });

    it('encodes in workers exactly as the same chain does in-process', async () => {
      const texts = jsonTexts(12);
      const steps = [parseJson({}), encode({ format: 'ndjson' })];
      const inWorkers = await runRawThrough(workers({ threads: 2, steps }), texts);
      const inProcess = await runRawThrough(chain({ steps }), texts);
      assert.ok(inWorkers.recording.text.length > 0);
      assert.equal(inWorkers.recording.text, inProcess.recording.text);
      assert.deepEqual(inWorkers.stats.steps, inProcess.stats.steps);
    });

    it('a raw batch whose thread died is retried from the main thread’s bytes, intact', async () => {
      const marker = join(dir, 'raw-exit-once');
      const texts = ['a\nb\n', 'fault\nc\n', 'd\n'];
      const stage = workers({ threads: 1, steps: [faulty({ fault: 'exit', oncePer: marker })] });
      const run = await runRawThrough(stage, texts);
      assert.equal(run.recording.text, texts.join(''));
      assert.equal(run.stats.worker_exits, 1);
      assert.equal(run.stats.retries, 1);
      assert.ok(run.log.outcomes.every((o) => o.status === 'delivered'));
    });
  });

  describe('faults', () => {
    const withFault = (fault: Fault, extra: object = {}) => {
      const deadLetters = join(dir, `${fault}-${Math.random().toString(36).slice(2)}.ndjson`);
      const stage = workers({
        threads: 2,
        taskTimeoutMs: 500,
        deadLetters: { path: deadLetters },
        steps: [faulty({ fault, ...extra })],
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
      });
      const batches = [...messages(4, 'a'), [event('fault')], ...messages(4, 'b')];
      return { stage, batches, deadLetters };
    };

    for (const [fault, counter] of [
      ['throw', 'plugin_errors'],
      ['exit', 'worker_exits'],
      ['hang', 'task_timeouts'],
      ['oom', 'worker_out_of_memory'],
      ['uncaught', 'plugin_errors'],
    ] as const) {
      it(`a batch that makes the plugin ${fault} is tried twice, dead-lettered and rejected; the rest flows`, async () => {
        const { stage, batches, deadLetters } = withFault(fault);
        const run = await runThrough(stage, batches);
        assert.deepEqual(
          run.recording.events.map((e) => e.message),
          ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3'],
        );
        const statuses = run.log.outcomes.map((o) => o.status);
        assert.equal(statuses.filter((s) => s === 'delivered').length, 8);
        const rejected = run.log.outcomes.filter((o) => o.status !== 'delivered');
        assert.equal(rejected.length, 1);
        assert.equal(rejected[0]!.status, 'rejected', 'never delivered because a worker failed');
        assert.deepEqual(rejected[0]!.reasons, ['cpu:ERR_TRANSFORM_FAILED']);
        if (fault !== 'uncaught') assert.equal(run.stats[counter], 2, JSON.stringify(run.stats));
        assert.equal(run.stats.retries, 1);
        assert.equal(run.stats.dead_lettered, 1);
        if (fault !== 'throw') assert.ok(Number(run.stats.worker_restarts) >= 2);
        const letters = [];
        for await (const letter of readDeadLetters(deadLetters)) letters.push(letter);
        assert.equal(letters.length, 1);
        assert.equal(letters[0]!.stage, 'cpu');
        assert.equal(letters[0]!.attempts, 2);
        assert.deepEqual(
          letters[0]!.records.map((r) => r.message),
          ['fault'],
        );
      });
    }

    it('a thread that dies once is replaced and its batch retried and delivered', async () => {
      const marker = join(dir, 'exit-once');
      const { stage, batches } = withFault('exit', { oncePer: marker });
      const run = await runThrough(stage, batches);
      assert.ok(existsSync(marker));
      assert.equal(run.recording.events.length, 9);
      assert.ok(run.log.outcomes.every((o) => o.status === 'delivered'));
      assert.equal(run.stats.worker_exits, 1);
      assert.equal(run.stats.retries, 1);
      assert.equal(run.stats.dead_lettered, undefined);
    });
  });

  describe('validation and plugins', () => {
    it('names every step that cannot go to a worker, and why', () => {
      const local = { ...upper({}), module: undefined } as unknown as ReturnType<typeof upper>;
      const withFunction = upper({ suffix: (() => '!') as unknown as string });
      const problems = workers({ threads: 0, steps: [local, withFunction] }).validate();
      assert.ok(
        problems.some((p) => /threads must be an integer between 1 and 256, not 0/.test(p)),
      );
      assert.ok(problems.some((p) => /step upper \(upper\) names no module/.test(p)));
      assert.ok(problems.some((p) => /upper#2 \(upper\) has options that cannot be sent/.test(p)));
      assert.ok(problems.some((p) => /step upper#2: suffix must be a string/.test(p)));
      assert.deepEqual(workers({ steps: [] }).validate(), [
        'steps must list at least one transform',
      ]);
    });

    it('loads a plugin by path, validates its options on this thread, and runs it in workers', async () => {
      const path = new URL('./fixtures/upper.js', import.meta.url);
      const bad = await loadTransform(path, { suffix: 3 });
      assert.deepEqual(bad.validate(), ['suffix must be a string']);
      const good = await loadTransform(path, { suffix: '.' });
      const run = await runThrough(workers({ threads: 1, steps: [good] }), messages(2));
      assert.deepEqual(
        run.recording.events.map((e) => e.message),
        ['M0.', 'M1.'],
      );
    });

    it('explains a module that is not a transform plugin', async () => {
      const path = new URL('./fixtures/not-a-plugin.js', import.meta.url);
      await assert.rejects(loadTransform(path, {}), {
        code: 'ERR_PLUGIN_INVALID',
        message: /did not return a transform definition/,
      });
      await assert.rejects(loadTransform(path, {}, { export: 'missing' }), {
        code: 'ERR_PLUGIN_INVALID',
        message: /no export "missing"/,
      });
      await assert.rejects(loadTransform(join(dir, 'nowhere.js'), {}), {
        code: 'ERR_PLUGIN_INVALID',
        message: /cannot import/,
      });
    });
  });
});
