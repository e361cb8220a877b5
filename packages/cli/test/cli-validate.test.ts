// `spillway validate` and the help of every command, from the compiled bin.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, workDir } from './support/cli-process.js';

describe('spillway validate', () => {
  it('prints OK and the graph on one line, exit 0; builds nothing', async () => {
    const { dir, cleanup } = await workDir();
    try {
      await writeFile(
        join(dir, 'pipeline.json'),
        JSON.stringify({
          name: 'checked',
          sources: { gen: { type: 'generator', count: 10 } },
          transforms: {
            cpu: {
              type: 'workers',
              inputs: ['gen'],
              threads: 1,
              steps: [
                { type: 'filter', where: "message LIKE 'GET%'" },
                { type: 'encode', format: 'ndjson' },
              ],
            },
          },
          sinks: {
            out: { type: 'file', inputs: ['cpu'], path: join(dir, 'out.log') },
            hole: { type: 'blackhole', inputs: ['cpu'], buffer: { whenFull: 'drop-newest' } },
          },
          fanOut: 'isolated',
        }),
      );
      const { code, stdout, stderr } = await runCli(['validate', 'pipeline.json'], { cwd: dir });
      assert.equal(code, 2, 'out blocks while it shares cpu with hole');
      assert.match(
        stderr,
        /^pipeline\.json:1:\d+: "out" shares "cpu" with 1 other consumer\(s\) but its buffer blocks when full/m,
      );
      assert.equal(stdout, '');

      await writeFile(
        join(dir, 'pipeline.yaml'),
        `name: checked
sources:
  gen: { type: generator, count: 10 }
transforms:
  parse: { type: parseJson, inputs: [gen] }
sinks:
  out: { type: file, inputs: [parse], path: ${dir}/out.log, buffer: { whenFull: drop-oldest } }
  hole: { type: blackhole, inputs: [parse], buffer: { whenFull: drop-newest } }
`,
      );
      const ok = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(
        ok.stdout,
        'OK pipeline.yaml: "checked": sources gen (generator); transforms parse (parseJson ← gen); sinks out (file ← parse), hole (blackhole ← parse)\n',
      );
    } finally {
      await cleanup();
    }
  });

  it('lists every problem at once, in file order, exit 2', async () => {
    const { dir, cleanup } = await workDir();
    try {
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `sources:
  gen: { type: generator, count: -1 }
transforms:
  parse: { type: parseJson, inputs: [gen, nowhere], onError: ignore }
sinks:
  out: { type: http, inputs: [parse], url: "ftp://logs", retry: { maxAttempts: 0 } }
`,
      );
      const { code, stdout, stderr } = await runCli(['validate', 'pipeline.yaml'], { cwd: dir });
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.deepEqual(
        stderr.split('\n').filter((l) => l.startsWith('pipeline.yaml:')),
        [
          'pipeline.yaml:2:34: generator "gen": count must be a non-negative integer',
          'pipeline.yaml:4:43: transform "parse" reads from unknown input "nowhere"',
          'pipeline.yaml:4:62: parseJson "parse": onError must be "keep" or "drop", not "ignore"',
          'pipeline.yaml:6:44: http "out": url must use http or https, not ftp:',
          'pipeline.yaml:6:80: http "out": retry.maxAttempts must be a positive integer, not 0',
        ],
      );
      assert.match(stderr, /spillway: 5 problems in pipeline\.yaml; nothing was started/);
    } finally {
      await cleanup();
    }
  });
});

describe('spillway --help', () => {
  it('describes every command, each with examples; --version; an unknown command exits 2', async () => {
    const { dir, cleanup } = await workDir();
    try {
      const top = await runCli(['--help'], { cwd: dir });
      assert.equal(top.code, 0);
      for (const command of ['run', 'validate', 'dlq', 'config-reference', 'demo']) {
        assert.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
      }
      assert.match(top.stdout, /Exit codes: 0 ok; 1 runtime failure; 2 problem in the config/);
      for (const args of [
        ['run', '--help'],
        ['validate', '--help'],
        ['dlq', 'replay', '--help'],
        ['config-reference', '--help'],
      ]) {
        const help = await runCli(args, { cwd: dir });
        assert.equal(help.code, 0, args.join(' '));
        assert.match(help.stdout, /Examples?:\n(?: {2}.*\n)*? {2}\$ spillway /, args.join(' '));
      }
      const run = await runCli(['run', '--help'], { cwd: dir });
      assert.match(run.stdout, /--deadline <ms>.*\(default: 10000\)/s);
      assert.match(run.stdout, /SIGHUP {11}reload the config/);
      const version = await runCli(['--version'], { cwd: dir });
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
      const unknown = await runCli(['frobnicate'], { cwd: dir });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    } finally {
      await cleanup();
    }
  });
});
