import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

// Absolute throughput is never asserted: it depends on the machine and its load.
test('channel --json --quick prints one JSON object with every contender and ratio', async () => {
  const { stdout } = await run(process.execPath, [cli, 'channel', '--json', '--quick']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'stdout holds exactly one line of JSON');
  const report = JSON.parse(lines[0]!) as {
    scenario: string;
    results: { name: string; eventsPerSec: number; peakRssMb?: number }[];
    ratios: Record<string, number>;
  };
  assert.deepEqual(Object.keys(report).sort(), ['ratios', 'results', 'scenario']);
  assert.equal(report.scenario, 'channel');
  assert.deepEqual(
    report.results.map((r) => r.name),
    [
      'spillway_batch1',
      'spillway_batch64',
      'spillway_batch1024',
      'spillway_batch1024_build',
      'node_streams',
      'rxjs',
    ],
  );
  for (const result of report.results) {
    assert.ok(Number.isFinite(result.eventsPerSec) && result.eventsPerSec > 0, result.name);
  }
  for (const name of [
    'batched1024_vs_node_streams',
    'unbatched_vs_node_streams',
    'batched1024_vs_rxjs',
  ]) {
    const ratio = report.ratios[name];
    assert.ok(ratio !== undefined && Number.isFinite(ratio) && ratio > 0, `${name} = ${ratio}`);
  }
});

test('spill --json --quick prints one JSON object with every contender and ratio', async () => {
  const { stdout } = await run(process.execPath, [cli, 'spill', '--json', '--quick']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'stdout holds exactly one line of JSON');
  const report = JSON.parse(lines[0]!) as {
    scenario: string;
    results: { name: string; eventsPerSec: number; mbPerSec?: number }[];
    ratios: Record<string, number>;
  };
  assert.deepEqual(Object.keys(report).sort(), ['ratios', 'results', 'scenario']);
  assert.equal(report.scenario, 'spill');
  assert.deepEqual(
    report.results.map((r) => r.name),
    ['spill_write', 'spill_replay', 'raw_write', 'raw_read'],
  );
  for (const result of report.results) {
    assert.ok(Number.isFinite(result.eventsPerSec) && result.eventsPerSec > 0, result.name);
    const mb = result.mbPerSec;
    assert.ok(mb !== undefined && Number.isFinite(mb) && mb > 0, `${result.name} MB/s = ${mb}`);
  }
  for (const name of ['spill_write_vs_raw', 'replay_vs_raw']) {
    const ratio = report.ratios[name];
    assert.ok(ratio !== undefined && Number.isFinite(ratio) && ratio > 0, `${name} = ${ratio}`);
  }
});

test('an unknown scenario exits with code 2 and the usage', async () => {
  await assert.rejects(run(process.execPath, [cli, 'no-such-scenario', '--json']), (err) => {
    const { code, stderr, stdout } = err as { code: number; stderr: string; stdout: string };
    assert.equal(code, 2);
    assert.match(stderr, /unknown scenario "no-such-scenario"/);
    assert.match(stderr, /Usage:/);
    assert.equal(stdout, '');
    return true;
  });
});
