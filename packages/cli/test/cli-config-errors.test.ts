// Config problems stop `spillway run` before anything starts: each case is a real config with
// one mistake, run by the compiled bin. It must print `file:line:col: <clear message>`, exit 2,
// and leave no trace — the HTTP source's port unbound, no checkpoint directory, no spill
// buffer directory, no output file. A control run of the same config without the mistake
// shows that each of those traces does appear when the pipeline starts.
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CliProcess, freePort, portIsFree, runCli, until, workDir } from './support/cli-process.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The config, one line per entry (so that line numbers in the cases are easy to read). */
function baseLines(dir: string, port: number): string[] {
  return [
    /* 1 */ 'name: errors',
    /* 2 */ 'sources:',
    /* 3 */ `  app: { type: file, include: ["${dir}/logs/*.log"], dataDir: ${dir}/data, scanIntervalMs: 100 }`,
    /* 4 */ `  hooks: { type: http, host: 127.0.0.1, port: ${port} }`,
    /* 5 */ 'transforms:',
    /* 6 */ '  parse: { type: parseJson, inputs: [app, hooks] }',
    /* 7 */ 'sinks:',
    /* 8 */ '  out:',
    /* 9 */ '    type: file',
    /* 10 */ '    inputs: [parse]',
    /* 11 */ `    path: ${dir}/out.log`,
    /* 12 */ `    buffer: { type: spill, dir: ${dir}/buffers }`,
  ];
}

interface Case {
  name: string;
  /** Edits the lines (1-based `lines[n - 1]`). */
  edit(lines: string[], port: number): void;
  /** What stderr must hold: the location and the message. */
  expect: RegExp;
}

const cases: Case[] = [
  {
    name: 'an unknown stage type',
    edit: (lines) => {
      lines[8] = '    type: fiel';
    },
    expect:
      /^errors\.yaml:9:11: sink "out": unknown type "fiel" \(did you mean "file"\?\); sink types are http, file, stdout, blackhole$/m,
  },
  {
    name: 'a bad option value',
    edit: (lines) => {
      lines.push('    maxFiles: 0');
    },
    expect:
      /^errors\.yaml:13:15: file "out": maxFiles must be an integer between 1 and \d+, not 0$/m,
  },
  {
    name: 'an unknown option',
    edit: (lines) => {
      lines[3] = lines[3]!.replace('port:', 'prot:');
    },
    expect: /^errors\.yaml:4:\d+: http "hooks": unknown option "prot" \(did you mean "port"\?\)/m,
  },
  {
    name: 'an unset variable',
    edit: (lines) => {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's ${VAR}, literally.
      lines[10] = '    path: ${SPILLWAY_TEST_UNSET}/out.log';
    },
    expect:
      /^errors\.yaml:11:11: environment variable SPILLWAY_TEST_UNSET is not set \(write \$\{SPILLWAY_TEST_UNSET:-default\} to give it a default\)$/m,
  },
  {
    name: 'a port claimed twice',
    edit: (lines, port) => {
      lines.splice(4, 0, `  more: { type: http, host: 127.0.0.1, port: ${port} }`);
      lines[6] = '  parse: { type: parseJson, inputs: [app, hooks, more] }';
    },
    expect: /^errors\.yaml:5:\d+: "more" and "hooks" both claim port tcp:127\.0\.0\.1:\d+$/m,
  },
  {
    name: 'a YAML syntax error',
    edit: (lines) => {
      lines[5] = '  parse: { type: parseJson, inputs: [app, hooks }';
    },
    expect: /^errors\.yaml:6:\d+: YAML syntax error \([A-Z_]+\): /m,
  },
  {
    name: 'a stage in the wrong section',
    edit: (lines) => {
      lines[5] = '  parse: { type: stdin, inputs: [app, hooks] }';
    },
    expect:
      /^errors\.yaml:6:18: transform "parse": unknown type "stdin" \("stdin" is a source type: move the stage to sources\)/m,
  },
];

describe('spillway run with a config problem', () => {
  it('starts the same config without the mistake: the traces checked below do appear', async () => {
    const { dir, cleanup } = await workDir();
    const port = await freePort();
    try {
      await mkdir(join(dir, 'logs'));
      await writeFile(join(dir, 'logs', 'app.log'), '{"msg":"hello"}\n');
      await writeFile(join(dir, 'errors.yaml'), `${baseLines(dir, port).join('\n')}\n`);
      await using cli = new CliProcess(['run', 'errors.yaml'], { cwd: dir });
      await cli.waitForStderr(/running "errors"/);
      await until('the output file', 5000, async () =>
        (await exists(join(dir, 'out.log'))) ? true : undefined,
      );
      assert.equal(await portIsFree(port), false, 'the http source listens');
      assert.ok(await exists(join(dir, 'buffers', 'out.in')), 'the spill buffer exists');
      cli.signal('SIGTERM');
      assert.equal(await cli.exit(), 0, cli.stderr);
      assert.ok(
        await exists(join(dir, 'data', 'app.checkpoints.json')),
        'checkpoints were written',
      );
    } finally {
      await cleanup();
    }
  });

  for (const c of cases) {
    it(`${c.name}: file:line:col and a clear message, exit 2, nothing started`, async () => {
      const { dir, cleanup } = await workDir();
      const port = await freePort();
      try {
        await mkdir(join(dir, 'logs'));
        await writeFile(join(dir, 'logs', 'app.log'), '{"msg":"hello"}\n');
        const lines = baseLines(dir, port);
        c.edit(lines, port);
        await writeFile(join(dir, 'errors.yaml'), `${lines.join('\n')}\n`);
        const { code, stderr } = await runCli(['run', 'errors.yaml'], { cwd: dir });
        assert.equal(code, 2, stderr);
        assert.match(stderr, c.expect);
        assert.match(stderr, /nothing was started/);
        assert.equal(await portIsFree(port), true, 'the port was never bound');
        for (const trace of ['data', 'buffers', 'out.log']) {
          assert.equal(await exists(join(dir, trace)), false, `${trace} was not created`);
        }
      } finally {
        await cleanup();
      }
    });
  }

  it('a TypeScript config: the problem names the file and the line of its stage', async () => {
    const { dir, cleanup } = await workDir();
    try {
      await writeFile(
        join(dir, 'pipeline.ts'),
        `import { http } from '@spillway/sinks';
import { generator } from '@spillway/sources';

export default {
  sources: { gen: generator({ count: 10 }) },
  sinks: {
    out: { inputs: ['gen'], stage: http({ url: 'logs.example.com' }) },
  },
};
`,
      );
      const { code, stderr } = await runCli(['run', 'pipeline.ts'], { cwd: dir });
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        /^pipeline\.ts:7:5: http "out": url must be an absolute http\(s\) URL, not "logs\.example\.com"$/m,
      );
    } finally {
      await cleanup();
    }
  });

  it('a missing file, an unknown extension, a bad flag: a clear sentence, exit 2', async () => {
    const { dir, cleanup } = await workDir();
    try {
      await writeFile(join(dir, 'pipeline.toml'), '');
      const missing = await runCli(['run', 'nope.yaml'], { cwd: dir });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /nope\.yaml: cannot read the config: no such file/);
      const toml = await runCli(['validate', 'pipeline.toml'], { cwd: dir });
      assert.equal(toml.code, 2);
      assert.match(
        toml.stderr,
        /a config must be YAML \(\.yaml, \.yml\), JSON \(\.json\) or a module/,
      );
      const flag = await runCli(['run', 'nope.yaml', '--deadline', 'soon'], { cwd: dir });
      assert.equal(flag.code, 2);
      assert.match(flag.stderr, /--deadline <ms>' argument 'soon' is invalid/);
      const metrics = await runCli(['run', 'nope.yaml', '--metrics', 'localhost'], { cwd: dir });
      assert.equal(metrics.code, 2);
      assert.match(metrics.stderr, /expected host:port/);
    } finally {
      await cleanup();
    }
  });
});
