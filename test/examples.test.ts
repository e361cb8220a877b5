// Every example runs, as a user would run it, in a child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examples = join(import.meta.dirname, '..', '..', 'examples', 'dist');

it('compose: the README example runs to the end', async () => {
  const { stdout } = await run(process.execPath, [join(examples, 'compose.js')]);
  assert.match(stdout, /→ \d+ slow requests/);
  assert.match(stdout, /generated 10000 events/);
});

it('demo (npm start): stalls reach every source, and each policy does what it says', {
  timeout: 60_000,
}, async () => {
  const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'dist', 'src', 'bin.js');
  const { stdout } = await run(process.execPath, [bin, 'demo', '--seconds', '13', '--cycle', '4'], {
    timeout: 45_000,
  });
  assert.match(stdout, /backend STALLED · policy block/);
  const over =
    /demo over: policies (.+?); backend received (\d+) records; OTLP answers (\{.*?\}); UDP drops (\d+); undelivered at stops (\d+)/.exec(
      stdout,
    );
  assert.ok(over, stdout);
  const [, policies, received, otlpAnswers, udpDrops] = over;
  assert.match(policies!, /block → drop-newest → spill/, 'the timer went through every policy');
  assert.ok(Number(received) > 0, 'the backend received records');
  const statuses = JSON.parse(otlpAnswers!) as Record<string, number>;
  assert.ok((statuses['429'] ?? 0) > 0, `OTLP clients were told to back off: ${otlpAnswers}`);
  assert.ok(Number(udpDrops) > 0, 'the UDP listener dropped, and counted, while blocked');
});

it('getting started: the pipeline in docs/getting-started.md validates as written', async () => {
  const root = join(import.meta.dirname, '..', '..');
  const page = await readFile(join(root, 'docs', 'getting-started.md'), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(yaml, 'the page has a YAML pipeline');
  const dir = await mkdtemp(join(tmpdir(), 'spillway-getting-started-'));
  try {
    await writeFile(join(dir, 'pipeline.yaml'), yaml);
    const bin = join(root, 'packages', 'cli', 'dist', 'src', 'bin.js');
    const { stdout } = await run(process.execPath, [bin, 'validate', 'pipeline.yaml'], {
      cwd: dir,
      env: { ...process.env, LOGS_URL: 'http://127.0.0.1:8080/ingest' },
    });
    assert.match(stdout, /^OK pipeline\.yaml/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
