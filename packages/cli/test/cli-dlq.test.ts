// `spillway dlq replay` on a dead-letter file written for real: `spillway run` sends a file's
// lines to a backend that answers 400, so the HTTP sink dead-letters them; once the backend
// takes them, the replay sends every record again through the sink the config describes.
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startBackend } from '@spillway/testing';
import { CliProcess, receivedLines, runCli, until, workDir } from './support/cli-process.js';

describe('spillway dlq replay', () => {
  it('replays what the http sink dead-lettered, through the sink of the config', async () => {
    const { dir, cleanup } = await workDir();
    await using backend = await startBackend({
      script: () => ({ status: 400, body: { error: 'schema' } }),
    });
    try {
      await mkdir(join(dir, 'logs'));
      const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ msg: `refused ${i}` }));
      await writeFile(join(dir, 'logs', 'app.log'), `${lines.join('\n')}\n`);
      await writeFile(
        join(dir, 'pipeline.yaml'),
        `name: dlq
sources:
  app: { type: file, include: ["${dir}/logs/*.log"], dataDir: ${dir}/data, scanIntervalMs: 100 }
transforms:
  parse: { type: parseJson, inputs: [app] }
sinks:
  out:
    type: http
    inputs: [parse]
    url: \${BACKEND_URL}
    batch: { lingerMs: 20 }
    deadLetters: { path: ${dir}/out.dlq }
`,
      );
      const env = { BACKEND_URL: backend.url };
      await using cli = new CliProcess(['run', 'pipeline.yaml'], { cwd: dir, env });
      await cli.waitForStderr(/running "dlq"/);
      await until('12 dead-lettered records', 10_000, async () => {
        const text = await readFile(join(dir, 'out.dlq'), 'utf8').catch(() => '');
        return (text.match(/refused \d+/g) ?? []).length >= 12 ? true : undefined;
      });
      cli.signal('SIGTERM');
      assert.equal(await cli.exit(), 0, cli.stderr);

      // The sink writes its own dead letters to that very file: refused, with the way out.
      const own = await runCli(
        ['dlq', 'replay', 'out.dlq', '--to', 'pipeline.yaml', '--sink', 'out'],
        { cwd: dir, env },
      );
      assert.equal(own.code, 2, own.stderr);
      assert.match(
        own.stderr,
        /writes its own dead letters to out\.dlq: move the file aside first/,
      );

      const unknown = await runCli(
        ['dlq', 'replay', 'out.dlq', '--to', 'pipeline.yaml', '--sink', 'elsewhere'],
        { cwd: dir, env },
      );
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /pipeline\.yaml has no sink "elsewhere"; its sinks are out/);

      // The backend is fixed; the file is moved aside and replayed.
      await rename(join(dir, 'out.dlq'), join(dir, 'out.dlq.replay'));
      backend.script(undefined);
      const refused = backend.requests.length;
      const replay = await runCli(
        ['dlq', 'replay', 'out.dlq.replay', '--to', 'pipeline.yaml', '--sink', 'out'],
        { cwd: dir, env },
      );
      assert.equal(replay.code, 0, replay.stderr);
      assert.match(
        replay.stdout,
        /^replayed out\.dlq\.replay into sink "out" \(http\): \d+ entr(y|ies) read, \d+ delivered \(12 records\), 0 failed, 0 skipped, 0 damaged lines$/m,
      );
      const replayed = receivedLines(backend.requests.slice(refused)).map(
        (line) => (JSON.parse(line) as { message: string }).message,
      );
      assert.deepEqual(
        replayed.sort(),
        lines.map((l) => (JSON.parse(l) as { msg: string }).msg).sort(),
      );
    } finally {
      await cleanup();
    }
  });
});
