// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} here is the config files' syntax, written literally.
// loadConfig in process: a config file means exactly what the TypeScript API means; `${VAR}`
// expansion; where each kind of problem is reported; TypeScript configs as ES modules and as
// CommonJS, read afresh on every load.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PipelineSpec, SinkSpec, TransformSpec } from '@spillway/core';
import { http as httpSink } from '@spillway/sinks';
import { file } from '@spillway/sources';
import { encode, parseJson } from '@spillway/transforms';
import { CliError, type ConfigProblem, formatProblem, loadConfig } from '../src/index.js';
import { workDir } from './support/cli-process.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await workDir());
});
after(() => cleanup());

let n = 0;
/** Writes `text` to a new file named `*.<extension>` and loads it. */
async function load(text: string, extension = 'yaml', env: Record<string, string> = {}) {
  const path = join(dir, `config-${++n}.${extension}`);
  await writeFile(path, text);
  return loadConfig(path, { env });
}

/** The problems `text` has, as `line:col: message` (the file name left out). */
async function problems(
  text: string,
  extension = 'yaml',
  env: Record<string, string> = {},
): Promise<string[]> {
  try {
    await load(text, extension, env);
  } catch (err) {
    assert.ok(CliError.is(err, 'ERR_CLI_CONFIG_INVALID'), String(err));
    return err.problems.map((p: ConfigProblem) => formatProblem(p).slice(p.file.length + 1));
  }
  assert.fail('the config loaded without problems');
}

describe('a config file', () => {
  it('makes the definitions the TypeScript API makes, with the same options', async () => {
    const { definition } = await load(`
name: same
sources:
  app: { type: file, include: ["/var/log/app/*.log"], dataDir: /var/lib/spillway }
transforms:
  parse: { type: parseJson, inputs: [app], onError: drop }
  cpu:
    type: workers
    inputs: [parse]
    threads: 2
    steps: [{ type: encode, format: ndjson }]
sinks:
  out:
    type: http
    inputs: [cpu]
    url: https://logs.example.com/ingest
    token: { env: LOGS_TOKEN }
    encoder: { type: envelope, template: { event: "{{record}}" } }
    buffer: { type: spill, dir: /var/lib/spillway/buffers }
    pool: { maxWorkers: 8 }
`);
    const spec: PipelineSpec = definition.spec;
    const typed = {
      app: file({ include: ['/var/log/app/*.log'], dataDir: '/var/lib/spillway' }),
      parse: parseJson({ onError: 'drop' }),
      out: httpSink({
        url: 'https://logs.example.com/ingest',
        token: { env: 'LOGS_TOKEN' },
        encoder: { type: 'envelope', template: { event: '{{record}}' } },
      }),
    };
    assert.equal(spec.name, 'same');
    assert.equal(spec.sources.app!.type, typed.app.type);
    assert.deepEqual(spec.sources.app!.options, typed.app.options);
    const parse = spec.transforms!.parse as TransformSpec;
    assert.deepEqual(parse.inputs, ['app']);
    assert.equal(parse.stage.type, 'parseJson');
    assert.equal(parse.stage.module, typed.parse.module, 'a verb from a file can go to a worker');
    assert.deepEqual(parse.stage.options, typed.parse.options);
    const cpu = spec.transforms!.cpu as TransformSpec;
    const steps = (cpu.stage.options as { steps: { type: string; options: unknown }[] }).steps;
    assert.deepEqual(
      steps.map((s) => [s.type, s.options]),
      [[encode({ format: 'ndjson' }).type, { format: 'ndjson' }]],
    );
    const out = spec.sinks.out as SinkSpec;
    assert.equal(out.stage.type, 'http');
    assert.deepEqual(out.stage.options, typed.out.options);
    assert.deepEqual(out.pool, { maxWorkers: 8 });
    assert.ok(out.buffer && 'create' in out.buffer, 'spill() made the buffer');
    assert.deepEqual(definition.validate(), []);
  });

  it('reads JSON the same way, with positions', async () => {
    const text = JSON.stringify(
      {
        sources: { gen: { type: 'generator', batchSize: 0 } },
        sinks: { out: { type: 'blackhole', inputs: ['gen'] } },
      },
      null,
      2,
    );
    assert.deepEqual(await problems(text, 'json'), [
      '5:20: generator "gen": batchSize must be a positive integer',
    ]);
  });
});

describe('${VAR} in string values', () => {
  // Block style: in a flow map (\`{ … }\`) YAML itself needs a \`\${…}\` value quoted.
  const config = (url: string, extra = '') => `
sources:
  gen: { type: generator, count: 1 }
sinks:
  out:
    type: http
    inputs: [gen]
    url: ${url}
${extra}`;
  it('reads the environment, takes defaults, keeps $$ literal, types unquoted numbers', async () => {
    const env = { HOST: 'logs.example.com', EMPTY: '', SLOTS: '4' };
    const { definition } = await load(
      config(
        '"https://${HOST}/a$$b?x=${MISSING:-1}&y=${EMPTY:-z}"',
        '    writeSlots: ${SLOTS}\n    idHeader: "${SLOTS}"\n',
      ),
      'yaml',
      env,
    );
    const options = definition.spec.sinks.out!.stage.options as Record<string, unknown>;
    assert.equal(options.url, 'https://logs.example.com/a$b?x=1&y=z');
    assert.equal(options.writeSlots, 4, 'unquoted: a number');
    assert.equal(options.idHeader, '4', 'quoted: a string');
  });

  it('fails at the line of an unset variable, and of a malformed reference', async () => {
    assert.deepEqual(await problems(config('${LOGS_URL}', '    idHeader: "${1x}"\n')), [
      '8:10: environment variable LOGS_URL is not set (write ${LOGS_URL:-default} to give it a default)',
      '9:15: "${1x}" is not a variable reference: write ${NAME} or ${NAME:-default} ($${ for a literal ${)',
    ]);
  });
});

describe('problems', () => {
  it('are reported where they are, for each kind', async () => {
    assert.deepEqual(
      await problems(`
name: where
sorces: {}
sources:
  gen: { type: generator }
  bad: 42
transforms:
  t: { type: filter, inputs: gen, where: "x = 1" }
sinks:
  out: { type: blackhole, inputs: [gen], pool: { maxWorkers: 2, minWorkers: 3 }, delay: 5 }
`),
      [
        '3:1: unknown section "sorces" (did you mean "sources"?): the top level holds name, fanOut, defaultBuffer, sources, transforms, sinks',
        '6:8: source "bad" must be an object with a type (generator, file, udp, tcp, otlp, http, stdin), not 42',
        '8:30: filter "t": inputs must be a list of stage names, e.g. [app], not "gen"',
        '10:77: pool of "out": minWorkers must not exceed maxWorkers',
        '10:82: blackhole "out": unknown option "delay"; blackhole options are delayMs (stage keys: type, inputs, buffer, pool)',
      ],
    );
    assert.deepEqual(
      await problems(`
defaultBuffer: { capacity: 0 }
fanOut: lockstep
sources:
  gen: { type: generator }
transforms:
  a: { type: sample, inputs: [gen, b], rate: 2 }
  b: { type: sample, inputs: [a], rate: 2 }
  idle: { type: sample, inputs: [gen], rate: 2 }
sinks:
  gen: { type: blackhole, inputs: [a] }
`),
      [
        '2:28: buffer of "a": capacity must be a positive integer',
        '2:28: buffer of "b": capacity must be a positive integer',
        '2:28: buffer of "idle": capacity must be a positive integer',
        '2:28: buffer of "gen": capacity must be a positive integer',
        '7:3: transforms form a cycle: a → b → a',
        '9:3: transform "idle" feeds no stage',
        '11:3: "gen" names both a source and a sink',
      ],
    );
  });

  it('include a pipeline named like one of its stages (their metrics entries would clash)', async () => {
    assert.deepEqual(
      await problems(`
name: gen
sources:
  gen: { type: generator }
sinks:
  out: { type: blackhole, inputs: [gen] }
`),
      ['2:1: "gen" names both the pipeline and a source'],
    );
  });

  it('point into a workers stage at the step, even the second of a type', async () => {
    assert.deepEqual(
      await problems(`
sources:
  gen: { type: generator }
transforms:
  cpu:
    type: workers
    inputs: [gen]
    threads: 1
    steps:
      - { type: sample, rate: 2 }
      - { type: sample, rate: 0 }
      - { type: nope }
sinks:
  out: { type: blackhole, inputs: [cpu] }
`),
      [
        '12:17: workers "cpu": step 3: unknown transform type "nope"; step types are parseJson, parseLogfmt, parseSyslog, parseRegex, filter, map, addFields, dropFields, rename, sample, redact, sql, encode',
      ],
    );
    assert.deepEqual(
      await problems(`
sources:
  gen: { type: generator }
transforms:
  cpu:
    type: workers
    inputs: [gen]
    threads: 1
    steps:
      - { type: sample, rate: 2 }
      - { type: sample, rate: 0 }
sinks:
  out: { type: blackhole, inputs: [cpu] }
`),
      ['11:31: workers "cpu": step sample#2: rate must be an integer ≥ 1, not 0'],
    );
  });

  it('refuse options only code can give, and options of the wrong type', async () => {
    assert.deepEqual(
      await problems(`
sources:
  gen: { type: generator, message: "x" }
sinks:
  out: { type: http, inputs: [gen], url: 42 }
`),
      [
        '3:27: generator "gen": message can only be given in a TypeScript config (it is a function)',
        '5:42: http "out": url must be an absolute http(s) URL, not 42',
      ],
    );
  });
});

describe('a TypeScript or JavaScript config', () => {
  it('loads a definition from CommonJS-compiled TypeScript, afresh on every load', async () => {
    const text = (count: number) => `import { definePipeline } from '@spillway/core';
import { blackhole } from '@spillway/sinks';
import { generator } from '@spillway/sources';
export default definePipeline({
  name: 'cjs',
  sources: { gen: generator({ count: ${count} }) },
  sinks: { out: { inputs: ['gen'], stage: blackhole({}) } },
});
`;
    const path = join(dir, 'reloaded.ts');
    await writeFile(path, text(1));
    const first = await loadConfig(path);
    assert.equal(first.format, 'module');
    assert.deepEqual(first.definition.spec.sources.gen!.options, { count: 1 });
    await writeFile(path, text(2));
    const second = await loadConfig(path);
    assert.deepEqual(second.definition.spec.sources.gen!.options, { count: 2 }, 'read again');
  });

  it('reports problems at the stage line, and a module without a pipeline clearly', async () => {
    assert.deepEqual(
      await problems(
        `import { generator } from '@spillway/sources';
import { blackhole } from '@spillway/sinks';
export default {
  sources: {
    gen: generator({ count: -5 }),
  },
  sinks: { out: { inputs: ['gen'], stage: blackhole({ delayMs: -1 }) } },
};
`,
        'mts',
      ),
      [
        '5:5: generator "gen": count must be a non-negative integer',
        '7:12: blackhole "out": delayMs must be a number ≥ 0, not -1',
      ],
    );
    await assert.rejects(load('export const notDefault = 1;\n', 'mjs'), (err: unknown) => {
      assert.ok(CliError.is(err, 'ERR_CLI_CONFIG_UNREADABLE'));
      assert.match(
        err.message,
        /the default export must be a PipelineSpec .* not nothing \(no default export\)/,
      );
      return true;
    });
  });
});
