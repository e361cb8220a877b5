// `spillway run` end to end, as an operator runs it: the compiled bin in a child process, a
// file source tailing a real temp file, an HTTP sink sending to a loopback backend. All lines
// arrive; SIGTERM drains and exits 0; SIGHUP reloads an edited config — a refused one leaves
// the pipeline running, a valid one takes over where the old one ended, losing nothing.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startBackend } from '@spillway/testing';
import { CliProcess, receivedLines, runCli, until, workDir } from './support/cli-process.js';

/** `n` JSON lines `{"msg":"<tag> <i>"}`, from `from`. */
function jsonLines(tag: string, from: number, n: number): string {
  let text = '';
  for (let i = from; i < from + n; i++) text += `${JSON.stringify({ msg: `${tag} ${i}` })}\n`;
  return text;
}

/** The messages the backend received, parsed from its NDJSON bodies. */
function messages(requests: readonly { body: Buffer }[]): string[] {
  return receivedLines(requests).map((line) => (JSON.parse(line) as { message: string }).message);
}

function expected(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${tag} ${i}`);
}

/** The file source tails fast in tests; checkpoints follow acknowledgements as always. */
const FAST_FILE = 'scanIntervalMs: 100, pollIntervalMs: 50, checkpointIntervalMs: 200';

describe('spillway run', () => {
  it('runs a YAML config: every line of the file reaches the backend; SIGTERM drains, exit 0', async () => {
    const { dir, cleanup } = await workDir();
    await using backend = await startBackend();
    try {
      await mkdir(join(dir, 'logs'));
      await writeFile(join(dir, 'logs', 'app.log'), jsonLines('line', 0, 50));
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `name: tail
sources:
  app: { type: file, include: ["${dir}/logs/*.log"], dataDir: ${dir}/data, ${FAST_FILE} }
transforms:
  parse: { type: parseJson, inputs: [app] }
sinks:
  out:
    type: http
    inputs: [parse]
    url: \${BACKEND_URL}
    batch: { lingerMs: 20 }
`,
      );
      await using cli = new CliProcess(['run', 'pipeline.yaml'], {
        cwd: dir,
        env: { BACKEND_URL: backend.url },
      });
      await cli.waitForStderr(
        /running "tail": sources app \(file\); transforms parse \(parseJson ← app\); sinks out \(http ← parse\)/,
      );
      await appendFile(join(dir, 'logs', 'app.log'), jsonLines('line', 50, 50));
      await until('100 lines at the backend', 10_000, () =>
        messages(backend.requests).length >= 100 ? true : undefined,
      );
      cli.signal('SIGTERM');
      assert.equal(await cli.exit(), 0, cli.stderr);
      assert.match(cli.stderr, /SIGTERM: stopping gracefully/);
      assert.match(cli.stderr, /"tail" drained: nothing undelivered/);
      assert.deepEqual(messages(backend.requests).sort(), expected('line', 100).sort());
      // The file source checkpointed the end of the file at stop.
      const checkpoints = await readFile(join(dir, 'data', 'app.checkpoints.json'), 'utf8');
      assert.match(checkpoints, /app\.log/);
    } finally {
      await cleanup();
    }
  });

  it('runs a TypeScript config, and SIGHUP picks up an edited option; nothing is lost', async () => {
    const { dir, cleanup } = await workDir();
    await using backend = await startBackend();
    try {
      await mkdir(join(dir, 'logs'));
      // An ES module package, as a TypeScript project usually is.
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
      const config = (version: string) => `import type { PipelineSpec } from '@spillway/core';
import { http } from '@spillway/sinks';
import { file } from '@spillway/sources';
import { parseJson } from '@spillway/transforms';

const spec: PipelineSpec = {
  name: 'typed',
  sources: {
    app: file({
      include: [${JSON.stringify(`${dir}/logs/*.log`)}],
      dataDir: ${JSON.stringify(`${dir}/data`)},
      scanIntervalMs: 100,
      pollIntervalMs: 50,
    }),
  },
  transforms: { parse: { inputs: ['app'], stage: parseJson({}) } },
  sinks: {
    out: {
      inputs: ['parse'],
      stage: http({
        url: process.env.BACKEND_URL!,
        headers: { 'x-config': '${version}' },
        batch: { lingerMs: 20 },
      }),
    },
  },
};
export default spec;
`;
      await writeFile(join(dir, 'pipeline.ts'), config('v1'));
      await writeFile(join(dir, 'logs', 'app.log'), jsonLines('line', 0, 40));
      await using cli = new CliProcess(['run', 'pipeline.ts'], {
        cwd: dir,
        env: { BACKEND_URL: backend.url },
      });
      await cli.waitForStderr(/running "typed"/);
      await until('40 lines', 10_000, () =>
        messages(backend.requests).length >= 40 ? true : undefined,
      );
      const before = backend.requests.length;
      assert.ok(backend.requests.every((r) => r.headers['x-config'] === 'v1'));

      await writeFile(join(dir, 'pipeline.ts'), config('v2'));
      cli.signal('SIGHUP');
      await cli.waitForStderr(/reloaded: running "typed"/);
      await appendFile(join(dir, 'logs', 'app.log'), jsonLines('line', 40, 40));
      await until('80 lines', 10_000, () =>
        messages(backend.requests).length >= 80 ? true : undefined,
      );
      const after = backend.requests.slice(before);
      assert.ok(after.length > 0);
      assert.ok(
        after.every((r) => r.headers['x-config'] === 'v2'),
        'requests after the reload come from the new pipeline',
      );
      cli.signal('SIGINT');
      assert.equal(await cli.exit(), 0, cli.stderr);
      // Exactly once: the reload drained the old pipeline, whose file source checkpointed,
      // and the new one went on from there.
      assert.deepEqual(messages(backend.requests).sort(), expected('line', 80).sort());
    } finally {
      await cleanup();
    }
  });

  it('SIGHUP: a config with problems is refused and the pipeline runs on; a valid one adds a sink', async () => {
    const { dir, cleanup } = await workDir();
    await using backend = await startBackend();
    try {
      await mkdir(join(dir, 'logs'));
      const log = join(dir, 'logs', 'app.log');
      const copy = join(dir, 'copy.log');
      const head = `name: reloadable
sources:
  app: { type: file, include: ["${dir}/logs/*.log"], dataDir: ${dir}/data, ${FAST_FILE} }
transforms:
  parse: { type: parseJson, inputs: [app] }
sinks:
  out:
    type: http
    inputs: [parse]
    url: ${backend.url}
    batch: { lingerMs: 20 }
    buffer: { type: spill, dir: ${dir}/buffers }
`;
      await writeFile(join(dir, 'pipeline.yaml'), head);
      await writeFile(log, jsonLines('a', 0, 30));
      await using cli = new CliProcess(['run', 'pipeline.yaml', '--no-dashboard'], { cwd: dir });
      await cli.waitForStderr(/running "reloadable"/);
      await until('30 lines', 10_000, () =>
        messages(backend.requests).length >= 30 ? true : undefined,
      );

      // A broken edit: the problems are printed, the running pipeline is left alone.
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `${head}  copy: { type: file, inputs: [parse], pth: ${copy} }\n`,
      );
      cli.signal('SIGHUP');
      await cli.waitForStderr(/reload refused/);
      assert.match(
        cli.stderr,
        /pipeline\.yaml:13:\d+: file "copy": unknown option "pth" \(did you mean "path"\?\)/,
      );
      await appendFile(log, jsonLines('a', 30, 10));
      await until('40 lines', 10_000, () =>
        messages(backend.requests).length >= 40 ? true : undefined,
      );

      // The fixed edit: a second sink, both behind spill buffers (the old pipeline's buffer
      // directory is released by its drain before the new one opens it).
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `${head}  copy: { type: file, inputs: [parse], path: ${copy}, buffer: { type: spill, dir: ${dir}/buffers } }\n`,
      );
      cli.signal('SIGHUP');
      await cli.waitForStderr(/reloaded: running "reloadable".*copy \(file ← parse\)/);
      await appendFile(log, jsonLines('b', 0, 25));
      await until('65 lines at the backend', 10_000, () =>
        messages(backend.requests).length >= 65 ? true : undefined,
      );
      await until('25 lines in the copy', 10_000, async () => {
        const text = await readFile(copy, 'utf8').catch(() => '');
        return text.split('\n').filter(Boolean).length >= 25 ? true : undefined;
      });
      cli.signal('SIGTERM');
      assert.equal(await cli.exit(), 0, cli.stderr);
      assert.deepEqual(
        messages(backend.requests).sort(),
        [...expected('a', 40), ...expected('b', 25)].sort(),
        'every line reached the backend once, across two reloads',
      );
      const copied = (await readFile(copy, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { message: string }).message);
      assert.deepEqual(copied.sort(), expected('b', 25).sort(), 'the new sink sees new lines only');
    } finally {
      await cleanup();
    }
  });

  it('a second SIGTERM stops at once; the spill buffer keeps what it held for the next start', async () => {
    const { dir, cleanup } = await workDir();
    await using backend = await startBackend({ script: () => ({ kind: 'stall' }) });
    try {
      await mkdir(join(dir, 'logs'));
      await writeFile(join(dir, 'logs', 'app.log'), jsonLines('held', 0, 60));
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `name: held
sources:
  app: { type: file, include: ["${dir}/logs/*.log"], dataDir: ${dir}/data, ${FAST_FILE}, chunkBytes: 256 }
transforms:
  parse: { type: parseJson, inputs: [app] }
sinks:
  out:
    type: http
    inputs: [parse]
    url: ${backend.url}
    batch: { lingerMs: 20, maxEvents: 5 }
    buffer: { type: spill, dir: ${dir}/buffers }
`,
      );
      {
        await using cli = new CliProcess(['run', 'pipeline.yaml'], { cwd: dir });
        await cli.waitForStderr(/running "held"/);
        await until('the backend stalls a request', 10_000, () =>
          backend.requests.length > 0 ? true : undefined,
        );
        const asked = performance.now();
        cli.signal('SIGTERM');
        await cli.waitForStderr(/draining "held" for up to 10000 ms/);
        cli.signal('SIGTERM');
        assert.equal(await cli.exit(), 0, cli.stderr);
        assert.ok(performance.now() - asked < 8000, 'did not wait for the deadline');
        assert.match(cli.stderr, /SIGTERM again: stopping now; buffers persist what they hold/);
        assert.match(cli.stderr, /"held" stopped at once \(second signal\)/);
      }
      // The backend recovers; the next start replays the spilled backlog (and the file source
      // reads again what was never acknowledged): every line arrives, some perhaps twice.
      backend.script(undefined);
      backend.releaseStalls();
      const stalled = backend.requests.length;
      await using again = new CliProcess(['run', 'pipeline.yaml'], { cwd: dir });
      await again.waitForStderr(/running "held"/);
      await until('every line delivered', 10_000, () => {
        const got = new Set(messages(backend.requests.slice(stalled)));
        return expected('held', 60).every((m) => got.has(m)) ? true : undefined;
      });
      again.signal('SIGTERM');
      assert.equal(await again.exit(), 0, again.stderr);
    } finally {
      await cleanup();
    }
  });

  it('--metrics serves the running pipeline; a port already taken stops the run, exit 1', async () => {
    const { dir, cleanup } = await workDir();
    try {
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `sources:
  gen: { type: generator, ratePerSec: 100 }
sinks:
  hole: { type: blackhole, inputs: [gen] }
`,
      );
      await using cli = new CliProcess(['run', 'pipeline.yaml', '--metrics', '127.0.0.1:0'], {
        cwd: dir,
      });
      const [, url] = await cli.waitForStderr(/metrics on (http:\/\/\S+)/);
      await cli.waitForStderr(/running "pipeline"/);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /spillway_/);

      const port = Number(new URL(url!).port);
      const taken = await runCli(['run', 'pipeline.yaml', '--metrics', `127.0.0.1:${port}`], {
        cwd: dir,
      });
      assert.equal(taken.code, 1);
      assert.match(
        taken.stderr,
        /cannot serve metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE.*; nothing was started/,
      );
      assert.doesNotMatch(taken.stderr, /running/);
      cli.signal('SIGINT');
      assert.equal(await cli.exit(), 0, cli.stderr);
    } finally {
      await cleanup();
    }
  });
});
