// The example plugins (examples/plugins) pass the conformance kit, do what their docs say, and
// load by path the way a configuration file or a worker thread loads them.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  Counters,
  createRawBatch,
  definePipeline,
  type SinkDefinition,
  type SourceDefinition,
  type TransformDefinition,
} from '@spillway/core';
import {
  assertConformance,
  checkSink,
  checkSource,
  checkTransform,
  listSource,
  newRecording,
  recordingSink,
  sampleBatch,
} from '@spillway/testing';
import { loadTransform, workers } from '@spillway/workers';

// Loaded from their build output by path, as users load plugins (the examples are not a package).
const plugins = join(import.meta.dirname, '..', '..', 'examples', 'dist', 'plugins');
type Factory<D> = (options: Record<string, unknown>) => D;
async function load<D>(file: string, name: string) {
  const url = pathToFileURL(join(plugins, file)).href;
  const namespace = (await import(url)) as Record<string, unknown>;
  return { url, namespace, factory: namespace[name] as Factory<D> };
}

const ticker = await load<SourceDefinition>('ticker-source.js', 'ticker');
const mask = await load<TransformDefinition>('mask-digits.js', 'maskDigits');
const jsonl = await load<SinkDefinition>('jsonl-file-sink.js', 'jsonlFile');

const scratch = await mkdtemp(join(tmpdir(), 'spillway-plugins-'));
after(() => rm(scratch, { recursive: true, force: true }));
let files = 0;
const scratchFile = () => join(scratch, `out-${files++}.jsonl`);

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { message: string; attributes?: Record<string, unknown> });

describe('ticker (source plugin)', () => {
  it('passes the conformance kit', async () => {
    const report = await checkSource(() => ticker.factory({ everyMs: 5, batchSize: 4 }), {
      invalid: [
        ticker.factory({ everyMs: 0 }),
        ticker.factory({ everyMs: 10, batchSize: 1.5 }),
        ticker.factory({ everyMs: 10, count: -1 }),
      ],
    });
    assertConformance(report);
  });
});

describe('maskDigits (transform plugin)', () => {
  it('passes the conformance kit, including being rebuilt from its module', async () => {
    const report = await checkTransform(() => mask.factory({ keepLast: 2 }), {
      input: () => sampleBatch(),
      invalid: [
        mask.factory({ fields: [] }),
        mask.factory({ mask: '##' }),
        mask.factory({ keepLast: -1 }),
      ],
    });
    assertConformance(report);
    const portable = report.checks.find((c) => c.name === 'worker-portable');
    assert.equal(portable?.skipped, undefined, portable?.detail);
  });

  it('runs in worker threads, loaded by path, and the workers stage passes the kit too', async () => {
    const masked = await loadTransform(join(plugins, 'mask-digits.js'), { keepLast: 0 });
    const recording = newRecording();
    const pipeline = await definePipeline({
      sources: {
        list: listSource({
          batches: [
            [{ timestamp: 1, message: 'card 4242 4242' }],
            [{ timestamp: 2, message: 'pin 1234' }],
          ],
        }),
      },
      transforms: { cpu: { inputs: ['list'], stage: workers({ threads: 2, steps: [masked] }) } },
      sinks: { out: { inputs: ['cpu'], stage: recordingSink({ into: recording }) } },
    }).build();
    pipeline.start();
    await pipeline.done();
    assert.deepEqual(
      recording.events.map((e) => e.message),
      ['card #### ####', 'pin ####'],
    );
    const report = await checkTransform(() => workers({ threads: 1, steps: [masked] }), {
      input: () => sampleBatch(),
      invalid: [workers({ threads: 0, steps: [masked] })],
    });
    assertConformance(report);
  });

  it('names its module and exports its factory under its type and as default', () => {
    const definition = mask.factory({});
    assert.equal(definition.module, mask.url);
    assert.equal(mask.namespace[definition.type], mask.factory);
    assert.equal(mask.namespace.default, mask.factory);
  });

  it('masks digits in the message and in string attributes, keeping the last ones asked for', async () => {
    const definition = mask.factory({ fields: ['message', 'account'], keepLast: 4 });
    const transform = await definition.build({
      name: 'mask',
      signal: new AbortController().signal,
      counters: new Counters(),
    });
    const input = sampleBatch({ events: 1 });
    const event = {
      timestamp: 0,
      message: 'card 4111111111111111 expires 12/29',
      attributes: { account: 'acct 987654321', seq: 42 },
    };
    const batch = { ...input, payload: { kind: 'events' as const, events: [event] } };
    const out = await transform.process(batch, new AbortController().signal);
    assert.ok(out && 'payload' in out && out.payload.kind === 'events');
    assert.equal(out.id, batch.id);
    assert.equal(out.ack, batch.ack);
    // Runs of digits no longer than keepLast (12, 29) stay as they are.
    assert.deepEqual(out.payload.events, [
      {
        timestamp: 0,
        message: 'card ############1111 expires 12/29',
        attributes: { account: 'acct #####4321', seq: 42 },
      },
    ]);
    assert.equal(event.message, 'card 4111111111111111 expires 12/29', 'the input is not modified');
  });

  it('refuses to build with invalid options (a worker never ran the validation)', async () => {
    const definition = mask.factory({ mask: '' });
    assert.throws(
      () =>
        definition.build({
          name: 'mask',
          signal: new AbortController().signal,
          counters: new Counters(),
        }),
      { code: 'ERR_INVALID_OPTION', message: 'maskDigits: mask must be exactly one character' },
    );
  });
});

describe('jsonlFile (sink plugin)', () => {
  it('passes the conformance kit', async () => {
    const report = await checkSink(() => jsonl.factory({ path: scratchFile() }), {
      invalid: [
        jsonl.factory({ path: 'relative.jsonl' }),
        jsonl.factory({ path: scratchFile(), fsync: 'yes' }),
      ],
    });
    assertConformance(report);
  });

  it('claims its path, so two sinks on one file are refused before anything opens', async () => {
    const path = scratchFile();
    const pipeline = definePipeline({
      sources: { tick: ticker.factory({ everyMs: 10 }) },
      sinks: {
        a: { inputs: ['tick'], stage: jsonl.factory({ path }) },
        b: { inputs: ['tick'], stage: jsonl.factory({ path }) },
      },
    });
    assert.match(pipeline.validate().join('\n'), /"b" and "a" both claim path/);
  });
});

it('ticker → maskDigits → jsonlFile: every event arrives, masked, in order', async () => {
  const path = scratchFile();
  const pipeline = await definePipeline({
    sources: { tick: ticker.factory({ everyMs: 1, batchSize: 5, count: 100 }) },
    transforms: { mask: { inputs: ['tick'], stage: mask.factory({}) } },
    sinks: { file: { inputs: ['mask'], stage: jsonl.factory({ path }), pool: { maxWorkers: 4 } } },
  }).build();
  pipeline.start();
  await pipeline.done();
  await pipeline.stop();
  const lines = await readLines(path);
  assert.equal(lines.length, 100);
  lines.forEach((line, i) => {
    assert.match(line.message, /^tick #+$/);
    assert.equal(line.attributes?.seq, i, 'numbers that are not strings are left alone');
  });
  const sink = pipeline.metrics.snapshot().entries.find((e) => e.id === 'file');
  assert.equal(sink?.stats.lines_written, 100);
});

it('jsonlFile writes raw batches one event per line', async () => {
  const path = scratchFile();
  const sink = await jsonl.factory({ path }).build({
    name: 'file',
    signal: new AbortController().signal,
    counters: new Counters(),
  });
  const batch = createRawBatch({ source: 'raw', data: Buffer.from('a 1\nb 2\n') });
  assert.equal(await sink.write(batch, new AbortController().signal), undefined);
  await sink.close?.(AbortSignal.timeout(1000));
  assert.deepEqual(
    (await readLines(path)).map((l) => l.message),
    ['a 1', 'b 2'],
  );
});
