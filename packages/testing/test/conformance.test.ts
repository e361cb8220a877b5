// The conformance kit must pass every stage that keeps the contract and fail each broken one on
// the check for the rule it breaks — and on no other, so that its sentences can be trusted.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  assertConformance,
  type ConformanceReport,
  checkSink,
  checkSource,
  checkTransform,
  describeConformance,
  SINK_CHECKS,
  SOURCE_CHECKS,
  sampleBatch,
  TRANSFORM_CHECKS,
} from '../src/index.js';
import * as fixtures from './fixtures.js';

const lifetime = new AbortController();
// Every hanging fixture listens on it, by design.
setMaxListeners(0, lifetime.signal);
const scratch = await mkdtemp(join(tmpdir(), 'spillway-conformance-'));
after(async () => {
  lifetime.abort();
  await rm(scratch, { recursive: true, force: true });
});

/** Shorter windows than the defaults, to keep the suite quick; bounds on reaction stay generous. */
const QUICK = { observeMs: 300, memory: { roundMs: 250 } } as const;
const input = () => sampleBatch();

function render(report: ConformanceReport): string {
  return report.checks
    .map((c) => `${c.ok ? (c.skipped ? '-' : '✓') : '✗'} ${c.name}: ${c.detail}`)
    .join('\n');
}

/** Asserts that exactly `expected` failed, and that the first one's detail matches `detail`. */
function assertFails(report: ConformanceReport, expected: readonly string[], detail: RegExp): void {
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  assert.deepEqual(failed, expected, render(report));
  assert.match(report.checks.find((c) => c.name === expected[0])!.detail, detail, render(report));
  assert.equal(report.ok, false);
}

function assertPasses(report: ConformanceReport, names: readonly string[]): void {
  assertConformance(report);
  assert.deepEqual(
    report.checks.map((c) => c.name),
    names,
  );
  const skipped = report.checks.filter((c) => c.skipped).map((c) => c.name);
  assert.deepEqual(
    skipped.filter((n) => n !== 'worker-portable'),
    [],
    `nothing skipped: ${render(report)}`,
  );
}

describe('checkSource', () => {
  it('passes a source that waits in emit(), stops when told and leaves nothing behind', async () => {
    const report = await checkSource(() => fixtures.steady({ everyMs: 5 }), {
      ...QUICK,
      invalid: [fixtures.steady({ everyMs: 0 }), fixtures.steady({ everyMs: 1.5 })],
    });
    assertPasses(report, SOURCE_CHECKS);
    assert.match(report.checks.find((c) => c.name === 'backpressure')!.detail, /1 waited/);
  });

  it("passes a source that drops what tryEmit() refuses and counts it, in mode 'drops'", async () => {
    const report = await checkSource(() => fixtures.dropper({ count: true }), {
      ...QUICK,
      mode: 'drops',
    });
    assertPasses(report, SOURCE_CHECKS);
    assert.match(
      report.checks.find((c) => c.name === 'backpressure')!.detail,
      /counters\.batches_dropped grew/,
    );
  });

  it('fails stopping for a source that ignores ctx.stopping', async () => {
    const report = await checkSource(() => fixtures.ignoresStopping({}), {
      ...QUICK,
      reactMs: 500,
    });
    assertFails(report, ['stopping'], /had not returned 500 ms after ctx\.stopping aborted/);
  });

  it('fails hard-stop for a source that keeps retrying emit() after the hard stop', async () => {
    const report = await checkSource(
      () => fixtures.swallowsHardStop({ lifetime: lifetime.signal }),
      { ...QUICK, reactMs: 500 },
    );
    assertFails(report, ['hard-stop'], /while it waited in emit\(\)/);
  });

  it('fails backpressure and bounded-memory for a source that does not await emit()', async () => {
    const report = await checkSource(() => fixtures.firesAndForgets({}), QUICK);
    assertFails(
      report,
      ['backpressure', 'bounded-memory'],
      /emit\(\) calls waited at once .* does not await emit\(\)/,
    );
  });

  it('fails bounded-memory for a source that reads ahead into a backlog while it waits', async () => {
    const report = await checkSource(() => fixtures.hoards({}), QUICK);
    assertFails(report, ['bounded-memory'], /heap kept growing.*stalled consumer/);
  });

  it('fails backpressure for a source that drops without counting', async () => {
    const report = await checkSource(() => fixtures.dropper({ count: false }), {
      ...QUICK,
      mode: 'drops',
    });
    assertFails(report, ['backpressure'], /no counter or stat with "drop" in its name grew/);
  });

  it("fails backpressure for a dropping source that declares mode 'waits'", async () => {
    const report = await checkSource(() => fixtures.dropper({ count: true }), QUICK);
    assertFails(report, ['backpressure'], /it does not wait.*declare \{ mode: 'drops' \}/);
  });

  it('fails acknowledgements for a source that settles what it emitted', async () => {
    // In a real pipeline its double settle would throw inside the output pool.
    const report = await checkSource(() => fixtures.settlesOwnAcks({}), {
      ...QUICK,
      skip: ['clean-shutdown'],
    });
    assertFails(report, ['acknowledgements'], /settled the acknowledgement of batch/);
  });

  it('fails validation for a source that accepts invalid options', async () => {
    const report = await checkSource(() => fixtures.lax({ everyMs: 5 }), {
      only: ['validation'],
      invalid: [fixtures.lax({ everyMs: -1 })],
    });
    assertFails(
      report,
      ['validation'],
      /invalid\[0\] \(options \{"everyMs":-1\}\) passed validate\(\)/,
    );
  });

  it('fails validation for a source whose validate() throws', async () => {
    const report = await checkSource(() => fixtures.throwsOnGarbage({ everyMs: 5 }), {
      only: ['validation'],
      invalid: [fixtures.throwsOnGarbage(null)],
    });
    assertFails(report, ['validation'], /validate\(\) threw .* instead of returning problems/);
  });

  it('fails every check with the same sentence when make() returns the wrong kind', async () => {
    const report = await checkSource(() => fixtures.nullSink({}) as never, QUICK);
    assert.equal(report.checks.filter((c) => c.ok).length, 0, render(report));
    for (const check of report.checks)
      assert.match(check.detail, /a sink definition where a source/);
  });
});

describe('checkTransform', () => {
  for (const [name, make] of [
    ['keeps id and acknowledgement (and can run in a worker)', () => fixtures.upper({})],
    ['splits a batch, sharing the acknowledgement', () => fixtures.split({})],
    ['adds a new batch of its own', () => fixtures.summarise({})],
    ['filters everything out', () => fixtures.dropAll({})],
    ['works asynchronously and gives up on abort', () => fixtures.slowUpper({})],
  ] as const) {
    it(`passes a transform that ${name}`, async () => {
      assertPasses(
        await checkTransform(make, { input, memory: { iterations: 300 } }),
        TRANSFORM_CHECKS,
      );
    });
  }

  it('runs worker-portable for a transform with a module, skips it for one without', async () => {
    const portable = await checkTransform(() => fixtures.upper({}), {
      input,
      only: ['worker-portable'],
    });
    assert.equal(portable.checks[0]!.skipped, undefined, render(portable));
    assert.match(portable.checks[0]!.detail, /rebuilt from fixtures\.js \(export "upper"\)/);
    const local = await checkTransform(() => fixtures.split({}), {
      input,
      only: ['worker-portable'],
    });
    assert.equal(local.checks[0]!.skipped, true);
  });

  it('fails acknowledgements for a transform that settles its input itself', async () => {
    // In a real pipeline the transform's task would then fail on the double settle.
    const report = await checkTransform(() => fixtures.settlesInput({}), {
      input,
      skip: ['clean-shutdown'],
    });
    assertFails(
      report,
      ['acknowledgements'],
      /settled the acknowledgement of batch .* \(delivered\)/,
    );
  });

  it('fails acknowledgements for a transform that gives an output a new id', async () => {
    const report = await checkTransform(() => fixtures.renumbers({}), { input });
    assertFails(report, ['acknowledgements'], /carries its acknowledgement under a new id/);
  });

  it('fails acknowledgements for a transform that gives an output a new acknowledgement', async () => {
    const report = await checkTransform(() => fixtures.reacks({}), { input });
    assertFails(report, ['acknowledgements'], /passed on with a new acknowledgement/);
  });

  it('fails abort-signal for a transform that hangs when its signal has aborted', async () => {
    const report = await checkTransform(
      () => fixtures.hangsWhenAborted({ lifetime: lifetime.signal }),
      { input, reactMs: 500 },
    );
    assertFails(
      report,
      ['abort-signal'],
      /called with an aborted signal had not returned 500 ms later/,
    );
  });

  it('fails bounded-memory for a transform that keeps every batch', async () => {
    const report = await checkTransform(() => fixtures.caches({}), { input });
    assertFails(report, ['bounded-memory'], /heap kept growing.*process\(\) calls/);
  });

  it('fails clean-shutdown for a transform that leaves an interval running', async () => {
    const report = await checkTransform(
      () => fixtures.leaksInterval({ lifetime: lifetime.signal }),
      { input, settleMs: 300 },
    );
    assertFails(report, ['clean-shutdown'], /Timeout still open .* in close\(\)/);
  });

  it('fails worker-portable for a transform whose module does not export it', async () => {
    const report = await checkTransform(() => fixtures.unportable({}), { input });
    assertFails(
      report,
      ['worker-portable'],
      /exports no factory under "not-exported" or as default/,
    );
  });
});

describe('checkSink', () => {
  it('passes a sink whose waits give up when its signal aborts', async () => {
    assertPasses(
      await checkSink(() => fixtures.nullSink({}), { memory: { iterations: 300 } }),
      SINK_CHECKS,
    );
  });

  it('passes a sink that finishes within the call (nothing to cut short)', async () => {
    const report = await checkSink(() => fixtures.syncSink({}));
    assertPasses(report, SINK_CHECKS);
    assert.match(
      report.checks.find((c) => c.name === 'acknowledgements')!.detail,
      /every write finished before its signal aborted/,
    );
  });

  it('fails acknowledgements for a sink that reports delivered after its signal aborted', async () => {
    const report = await checkSink(() => fixtures.deliveredAnyway({}), {
      memory: { iterations: 300 },
    });
    assertFails(
      report,
      ['acknowledgements'],
      /resolved as delivered although its signal aborted once the call had run its microtasks/,
    );
  });

  it('fails abort-signal for a sink that keeps waiting after its signal aborted', async () => {
    const report = await checkSink(() => fixtures.ignoresSignal({ lifetime: lifetime.signal }), {
      reactMs: 500,
      memory: { iterations: 300 },
    });
    assertFails(report, ['abort-signal'], /had not settled 500 ms after its signal aborted/);
  });

  it('fails acknowledgements for a sink that settles the batch itself', async () => {
    // In a real pipeline the output pool's own settle would then throw.
    const report = await checkSink(() => fixtures.settlesAck({}), { skip: ['clean-shutdown'] });
    assertFails(
      report,
      ['acknowledgements'],
      /settled the acknowledgement of batch .* never settle/,
    );
  });

  it('fails bounded-memory for a sink that keeps every batch', async () => {
    const report = await checkSink(() => fixtures.hoardsBatches({}));
    assertFails(report, ['bounded-memory'], /heap kept growing.*writes/);
  });

  it('fails clean-shutdown for a sink whose close() leaves its timer running', async () => {
    const report = await checkSink(() => fixtures.leaksTimer({ lifetime: lifetime.signal }), {
      settleMs: 300,
    });
    assertFails(report, ['clean-shutdown'], /Timeout still open .* close\(signal\)/);
  });

  it('fails clean-shutdown for a sink that never closes its file', {
    skip: platform() !== 'linux' && 'file descriptors are read from /proc (Linux)',
  }, async () => {
    let n = 0;
    const report = await checkSink(
      () => fixtures.leaksFd({ path: join(scratch, `fd-${n++}.log`), lifetime: lifetime.signal }),
      { settleMs: 300, memory: { iterations: 200 } },
    );
    assertFails(report, ['clean-shutdown'], /fd \d+ → .*fd-\d+\.log still open/);
  });
});

describe('assertConformance', () => {
  const report: ConformanceReport = {
    stage: 'demo',
    kind: 'sink',
    ok: false,
    checks: [
      { name: 'delivers', ok: true, detail: 'fine', ms: 1 },
      { name: 'abort-signal', ok: false, detail: 'write() hung', ms: 1 },
      { name: 'clean-shutdown', ok: false, detail: 'Timeout still open', ms: 1 },
      { name: 'bounded-memory', ok: true, skipped: true, detail: 'no gc', ms: 1 },
    ],
  };

  it('lists every failed check with its detail', () => {
    assert.throws(
      () => assertConformance(report),
      (err: unknown) => {
        assert.ok(err instanceof assert.AssertionError);
        assert.equal(
          err.message,
          'sink "demo" failed 2 of 4 conformance checks:\n' +
            '  ✗ abort-signal: write() hung\n' +
            '  ✗ clean-shutdown: Timeout still open',
        );
        assert.deepEqual(err.actual, ['abort-signal', 'clean-shutdown']);
        return true;
      },
    );
  });

  it('returns quietly when every check passed or was skipped', () => {
    assertConformance({ ...report, ok: true, checks: [report.checks[0]!, report.checks[3]!] });
  });
});

describe('options', () => {
  it('only and skip choose the checks that run, in their usual order', async () => {
    const only = await checkSink(() => fixtures.syncSink({}), {
      only: ['clean-shutdown', 'validation'],
    });
    assert.deepEqual(
      only.checks.map((c) => c.name),
      ['validation', 'clean-shutdown'],
    );
    const skip = await checkSink(() => fixtures.syncSink({}), {
      skip: ['bounded-memory', 'clean-shutdown', 'abort-signal', 'acknowledgements'],
    });
    assert.deepEqual(
      skip.checks.map((c) => c.name),
      ['validation', 'delivers'],
    );
  });

  it('an unknown check name is refused with the list of names', async () => {
    await assert.rejects(
      checkSink(() => fixtures.syncSink({}), { only: ['nope' as never] }),
      /unknown check "nope"; the checks are: validation, delivers/,
    );
  });
});

// The same kit, one test line per check.
describeConformance('source', () => fixtures.steady({ everyMs: 5 }), QUICK);
describeConformance('transform', () => fixtures.upper({}), { input });
