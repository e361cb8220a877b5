import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type AckOutcome,
  type Batch,
  createEventBatch,
  definePipeline,
  defineSink,
  defineSource,
  defineTransform,
  type PipelineInvalidError,
  SpillwayError,
} from '../src/index.js';
import { counter, explode, failOn, hang, keep, type Recorder, recorder } from './fixtures.js';

const newRecorder = (): Recorder => ({ seqs: [], batches: [] });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('pipeline validation', () => {
  it('reports every problem at once, naming the stages', async () => {
    const rec = newRecorder();
    const definition = definePipeline({
      sources: {
        a: counter({ batches: -1, claims: [{ kind: 'port', id: 'udp:127.0.0.1:5514' }] }),
        b: counter({ batches: 1, claims: [{ kind: 'port', id: 'udp:127.0.0.1:5514' }] }),
        lonely: counter({ batches: 1 }),
      },
      transforms: {
        t1: { inputs: ['a', 't2'], stage: keep({ when: () => true }) },
        t2: { inputs: ['t1'], stage: keep({ when: () => true }) },
        bad: { inputs: ['nowhere'], stage: keep({ when: () => true }), buffer: { capacity: 0 } },
      },
      sinks: {
        out: { inputs: ['t1', 'b', 'out'], stage: recorder({ into: rec }) },
        t1: { inputs: ['a'], stage: recorder({ into: rec }) },
      },
    });
    const problems = definition.validate();
    const expected = [
      /"t1" names both a transform and a sink/,
      /reads from unknown input "nowhere"/,
      /reads from sink "out"/,
      /capacity must be a positive integer/,
      /source "lonely" feeds no stage/,
      /transform "bad" feeds no stage/,
      /cycle: t1 → t2 → t1/,
      /counter "a": batches must be ≥ 0/,
      /"b" and "a" both claim port udp:127.0.0.1:5514/,
    ];
    for (const pattern of expected) {
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `missing ${pattern}:\n${problems.join('\n')}`,
      );
    }
    await assert.rejects(definition.build(), (err: PipelineInvalidError) => {
      assert.equal(err.code, 'ERR_PIPELINE_INVALID');
      assert.deepEqual(err.problems, problems);
      return true;
    });
  });

  it('accepts a valid graph', () => {
    const problems = definePipeline({
      sources: { a: counter({ batches: 1 }) },
      sinks: { out: { inputs: ['a'], stage: recorder({ into: newRecorder() }) } },
    }).validate();
    assert.deepEqual(problems, []);
  });

  it('refuses a fan-out where a blocking buffer would hold the other consumers back', () => {
    const spec = {
      sources: { gen: counter({ batches: 1 }) },
      sinks: {
        blocking: { inputs: ['gen'], stage: recorder({ into: newRecorder() }) },
        dropping: {
          inputs: ['gen'],
          stage: recorder({ into: newRecorder() }),
          buffer: { whenFull: 'drop-newest' as const },
        },
      },
    };
    const problems = definePipeline(spec).validate();
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /"blocking" shares "gen" .* fanOut: 'lockstep'/);
    assert.deepEqual(definePipeline({ ...spec, fanOut: 'lockstep' }).validate(), []);
    assert.deepEqual(definePipeline({ ...spec, fanOut: 'sideways' as 'lockstep' }).validate(), [
      `fanOut must be 'isolated' or 'lockstep', not "sideways"`,
    ]);
  });

  it('refuses a stage named like the pipeline (their metrics entries would clash)', () => {
    const problems = definePipeline({
      sources: { pipeline: counter({ batches: 1 }) },
      sinks: { out: { inputs: ['pipeline'], stage: recorder({ into: newRecorder() }) } },
    }).validate();
    assert.deepEqual(problems, ['"pipeline" names both the pipeline and a source']);
  });

  it('rejects a graph without sources or sinks', () => {
    const problems = definePipeline({ sources: {}, sinks: {} }).validate();
    assert.ok(problems.includes('a pipeline needs at least one source'));
    assert.ok(problems.includes('a pipeline needs at least one sink'));
  });
});

describe('pipeline runtime', () => {
  it('delivers everything in order, fans out to every sink, and ends when sources end', async () => {
    const one = newRecorder();
    const two = newRecorder();
    const pipeline = await definePipeline({
      fanOut: 'lockstep',
      sources: { gen: counter({ batches: 50, batchSize: 7 }) },
      transforms: { even: { inputs: ['gen'], stage: keep({ when: (s) => s % 2 === 0 }) } },
      sinks: {
        one: { inputs: ['even'], stage: recorder({ into: one }), pool: { maxWorkers: 1 } },
        two: { inputs: ['gen'], stage: recorder({ into: two }), pool: { maxWorkers: 1 } },
      },
      defaultBuffer: { capacity: 2 },
    }).build();
    pipeline.start();
    await pipeline.done();
    assert.deepEqual(
      one.seqs,
      range(350).filter((s) => s % 2 === 0),
    );
    assert.deepEqual(two.seqs, range(350));
    const snapshot = pipeline.metrics.snapshot();
    const gen = snapshot.entries.find((e) => e.id === 'gen');
    assert.equal(gen?.stats.events_out, 350);
    const evenIn = snapshot.entries.find((e) => e.id === 'even.in');
    assert.equal(evenIn?.stats.totalOut, 50);
    assert.equal(pipeline.state, 'stopped');
  });

  it('runs up to `concurrency` batches at once and still emits them in input order', async () => {
    const out = newRecorder();
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const uneven = defineTransform<Record<string, never>>({
      type: 'uneven',
      build: () => ({
        concurrency: 4,
        async process(batch) {
          inFlight++;
          most = Math.max(most, inFlight);
          // Every third batch is slow and one in seven fails, so later ones finish first.
          const n = calls++;
          await delay(n % 3 === 0 ? 15 : 1);
          inFlight--;
          if (n % 7 === 6) throw new SpillwayError('ERR_STAGE_FAILED', 'bad batch');
          return batch;
        },
      }),
    });
    const outcomes: AckOutcome[] = [];
    const pipeline = await definePipeline({
      sources: {
        gen: defineSource<Record<string, never>>({
          type: 'acked',
          build: () => ({
            async run(ctx) {
              for (let b = 0; b < 40; b++) {
                const events = [{ timestamp: 0, message: '', attributes: { seq: b } }];
                const batch = createEventBatch({ source: ctx.name, events });
                batch.ack.onSettled((o) => outcomes.push(o));
                await ctx.emit(batch);
              }
            },
          }),
        })({}),
      },
      transforms: { work: { inputs: ['gen'], stage: uneven({}) } },
      sinks: { out: { inputs: ['work'], stage: recorder({ into: out }), pool: { maxWorkers: 1 } } },
      defaultBuffer: { capacity: 8 },
    }).build();
    pipeline.start();
    await pipeline.done();
    assert.equal(most, 4, 'four batches were in process() at once, never more');
    assert.deepEqual(
      out.seqs,
      range(40).filter((s) => s % 7 !== 6),
    );
    await delay(1);
    assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 5);
    const work = pipeline.metrics.snapshot().entries.find((e) => e.id === 'work');
    assert.equal(work?.stats.errors, 5);
  });

  it('emits a finished result at once, without waiting for later input to fill the window', {
    timeout: 10_000,
  }, async () => {
    const out = newRecorder();
    let delivered!: () => void;
    const allThree = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    const pipeline = await definePipeline({
      sources: {
        idle: defineSource<Record<string, never>>({
          type: 'idle-after-three',
          build: () => ({
            async run(ctx) {
              for (let b = 0; b < 3; b++) {
                const events = [{ timestamp: 0, message: '', attributes: { seq: b } }];
                await ctx.emit(createEventBatch({ source: ctx.name, events }));
              }
              // Like a tailing source: nothing more for now, and not done either.
              await new Promise((resolve) => ctx.stopping.addEventListener('abort', resolve));
            },
          }),
        })({}),
      },
      transforms: {
        work: {
          inputs: ['idle'],
          stage: defineTransform<Record<string, never>>({
            type: 'wide',
            build: () => ({ concurrency: 8, process: async (batch) => batch }),
          })({}),
        },
      },
      sinks: {
        out: {
          inputs: ['work'],
          stage: recorder({
            into: {
              ...out,
              gate: async () => {
                if (out.seqs.length === 2) delivered();
              },
            },
          }),
          pool: { maxWorkers: 1 },
        },
      },
    }).build();
    pipeline.start();
    await allThree;
    await pipeline.stop({ deadline: 2000 });
    assert.deepEqual(out.seqs, [0, 1, 2]);
  });

  it("exports what each stage counts on its build context's counters", async () => {
    const counting = defineSink<Record<string, never>>({
      type: 'counting',
      build: (_o, ctx) => ({
        async write(batch) {
          ctx.counters.add('seen_events', batch.count);
          return undefined;
        },
        stats: () => ({ own: 1 }),
      }),
    });
    const pipeline = await definePipeline({
      sources: { gen: counter({ batches: 3, batchSize: 5 }) },
      sinks: { out: { inputs: ['gen'], stage: counting({}) } },
    }).build();
    pipeline.start();
    await pipeline.done();
    const out = pipeline.metrics.snapshot().entries.find((e) => e.id === 'out');
    assert.deepEqual(out?.stats, { seen_events: 15, own: 1 });
  });

  it("sizes a sink's output pool from its declared concurrency unless the spec sets one", async () => {
    const wide = defineSink<Record<string, never>>({
      type: 'wide',
      build: () => ({ concurrency: 7, write: async () => undefined }),
    });
    const pipeline = await definePipeline({
      fanOut: 'lockstep',
      sources: { gen: counter({ batches: 1 }) },
      sinks: {
        declared: { inputs: ['gen'], stage: wide({}) },
        overridden: { inputs: ['gen'], stage: wide({}), pool: { maxWorkers: 2 } },
      },
    }).build();
    const maxWorkers = (id: string) =>
      pipeline.metrics.snapshot().entries.find((e) => e.id === id)!.stats.maxWorkers;
    assert.equal(maxWorkers('declared.pool'), 7);
    assert.equal(maxWorkers('overridden.pool'), 2);
    await pipeline[Symbol.asyncDispose]();
  });

  it('settles acknowledgements through filters, splits, fan-out and failures', async () => {
    const outcomes: AckOutcome[] = [];
    const rec = newRecorder();
    const source = defineSource<Record<string, never>>({
      type: 'acked',
      build: () => ({
        async run(ctx) {
          for (let b = 0; b < 4; b++) {
            const events = [0, 1].map((i) => ({
              timestamp: 0,
              message: '',
              attributes: { seq: b * 2 + i },
            }));
            const batch = createEventBatch({ source: ctx.name, events });
            batch.ack.onSettled((outcome) => outcomes.push(outcome));
            await ctx.emit(batch);
          }
        },
      }),
    });
    const pipeline = await definePipeline({
      fanOut: 'lockstep',
      sources: { src: source({}) },
      transforms: {
        // batch 1 (seqs 2, 3) is filtered out entirely; batch 2 (seqs 4, 5) fails.
        filter: { inputs: ['src'], stage: keep({ when: (s) => s !== 2 && s !== 3 }) },
        fail: { inputs: ['filter'], stage: failOn({ seq: 4 }) },
        split: { inputs: ['fail'], stage: explode({}) },
      },
      sinks: {
        a: { inputs: ['split'], stage: recorder({ into: rec }) },
        b: { inputs: ['split'], stage: recorder({ into: newRecorder() }) },
      },
    }).build();
    pipeline.start();
    await pipeline.done();
    assert.equal(outcomes.length, 4, 'every batch settles exactly once');
    const byStatus = outcomes.map((o) => o.status).sort();
    assert.deepEqual(byStatus, ['delivered', 'delivered', 'delivered', 'rejected']);
    assert.ok(outcomes.find((o) => o.status === 'rejected')?.reasons[0]?.startsWith('fail:'));
    assert.deepEqual(rec.seqs.sort(), [0, 1, 6, 7]);
    const fail = pipeline.metrics.snapshot().entries.find((e) => e.id === 'fail');
    assert.equal(fail?.stats.errors, 1);
  });

  /** A source that never ends into a sink that never answers, running for 50 ms. */
  async function stalledPipeline() {
    const pipeline = await definePipeline({
      sources: { gen: counter({ batches: 1_000_000, batchSize: 3 }) },
      sinks: { dead: { inputs: ['gen'], stage: hang({}), pool: { maxWorkers: 2 } } },
      defaultBuffer: { capacity: 4 },
    }).build();
    pipeline.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return pipeline;
  }

  it('stops within its deadline and counts what it could not deliver', async () => {
    const pipeline = await stalledPipeline();
    const result = await pipeline.stop({ deadline: 100, grace: 1000 });
    assert.equal(result.drained, false);
    assert.deepEqual(result.stuck, []);
    // 4 queued in the buffer, 2 in the workers, 1 with the dispatcher waiting for a worker,
    // 1 with the source waiting for room.
    assert.equal(result.undelivered.batches, 8);
    assert.equal(result.undelivered.events, 24);
    assert.equal(pipeline.state, 'stopped');
    const stats = pipeline.metrics.snapshot().entries.find((e) => e.id === 'dead.pool')?.stats;
    assert.equal(stats?.dropped, 2);
  });

  it("stops hard at once when the stop's signal fires, long before its deadline", async () => {
    const pipeline = await stalledPipeline();
    const cut = new AbortController();
    const stopping = pipeline.stop({ deadline: 60_000, grace: 1000, signal: cut.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(pipeline.state, 'stopping', 'draining until the signal');
    cut.abort();
    const result = await stopping;
    assert.equal(result.drained, false);
    assert.equal(result.undelivered.batches, 8, 'accounted as at a deadline');
    assert.equal(pipeline.state, 'stopped');
  });

  it('drains in order when stopped before its deadline', async () => {
    const rec = newRecorder();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    rec.gate = () => gate;
    const pipeline = await definePipeline({
      sources: { gen: counter({ batches: 1_000_000, batchSize: 1 }) },
      sinks: { out: { inputs: ['gen'], stage: recorder({ into: rec }), pool: { maxWorkers: 1 } } },
      defaultBuffer: { capacity: 8 },
    }).build();
    pipeline.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopping = pipeline.stop({ deadline: 5000 });
    release();
    const result = await stopping;
    assert.equal(result.drained, true);
    assert.deepEqual(result.undelivered, { batches: 0, events: 0 });
    // Everything the source emitted arrived: the buffered batches were drained, not dropped.
    assert.deepEqual(rec.seqs, range(rec.seqs.length));
    assert.ok(rec.seqs.length >= 9, 'the buffer and the worker were full when the stop began');
  });

  it("counts a batch the source withdrew with its own signal as the source's, not as lost", async () => {
    const rec = newRecorder();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    rec.gate = () => gate;
    const withdrawn: Batch[] = [];
    const impatient = defineSource<Record<string, never>>({
      type: 'impatient',
      build: () => ({
        async run(ctx) {
          // Fills the worker, the pool's hand-off and the one-slot buffer, then gives up.
          for (let seq = 0; seq < 6; seq++) {
            const batch = createEventBatch({
              source: ctx.name,
              events: [{ timestamp: 0, message: `m${seq}`, attributes: { seq } }],
            });
            await ctx.emit(batch, AbortSignal.timeout(50)).catch(() => withdrawn.push(batch));
          }
        },
      }),
    });
    const pipeline = await definePipeline({
      sources: { src: impatient({}) },
      sinks: { out: { inputs: ['src'], stage: recorder({ into: rec }), pool: { maxWorkers: 1 } } },
      defaultBuffer: { capacity: 1 },
    }).build();
    pipeline.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    release();
    await pipeline.done();
    const result = await pipeline.stop();
    assert.ok(withdrawn.length >= 1 && withdrawn.length < 6, `${withdrawn.length} withdrawn`);
    for (const batch of withdrawn) {
      assert.deepEqual(batch.ack.outcome, { status: 'dropped', reasons: ['src→out:withdrawn'] });
    }
    assert.deepEqual(result.undelivered, { batches: 0, events: 0 });
    const gone = new Set(
      withdrawn.map((b) => b.payload.kind === 'events' && b.payload.events[0]!.attributes!.seq),
    );
    assert.deepEqual(
      rec.seqs,
      range(6).filter((seq) => !gone.has(seq)),
    );
  });

  it('refuses to start twice and disposes with await using', async () => {
    const rec = newRecorder();
    {
      await using pipeline = await definePipeline({
        sources: { gen: counter({ batches: 3 }) },
        sinks: { out: { inputs: ['gen'], stage: recorder({ into: rec }) } },
      }).build();
      pipeline.start();
      assert.throws(
        () => pipeline.start(),
        (err) => SpillwayError.is(err, 'ERR_PIPELINE_STATE'),
      );
      await pipeline.done();
    }
    assert.equal(rec.seqs.length, 30);
  });
});
