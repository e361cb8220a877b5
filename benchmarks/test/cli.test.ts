import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface Report {
  scenario: string;
  results: {
    name: string;
    eventsPerSec: number;
    mbPerSec?: number;
    peakRssMb?: number;
    p99Ms?: number;
  }[];
  ratios: Record<string, number>;
}

/**
 * Runs `<scenario> --json --quick` and checks what every report must hold: one line of JSON,
 * the contenders named, each with a positive rate, and each ratio named, finite and positive.
 * Absolute throughput is never asserted: it depends on the machine and its load.
 */
async function quickReport(
  scenario: string,
  contenders: string[],
  ratios: string[],
): Promise<Report> {
  const { stdout } = await run(process.execPath, [cli, scenario, '--json', '--quick']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'stdout holds exactly one line of JSON');
  const report = JSON.parse(lines[0]!) as Report;
  assert.deepEqual(Object.keys(report).sort(), ['ratios', 'results', 'scenario']);
  assert.equal(report.scenario, scenario);
  assert.deepEqual(
    report.results.map((r) => r.name),
    contenders,
  );
  for (const result of report.results) {
    assert.ok(Number.isFinite(result.eventsPerSec) && result.eventsPerSec > 0, result.name);
  }
  for (const name of ratios) {
    const ratio = report.ratios[name];
    assert.ok(ratio !== undefined && Number.isFinite(ratio) && ratio > 0, `${name} = ${ratio}`);
  }
  return report;
}

test('channel --json --quick prints one JSON object with every contender and ratio', async () => {
  await quickReport(
    'channel',
    [
      'spillway_batch1',
      'spillway_batch64',
      'spillway_batch1024',
      'spillway_batch1024_build',
      'node_streams',
      'rxjs',
    ],
    ['batched1024_vs_node_streams', 'unbatched_vs_node_streams', 'batched1024_vs_rxjs'],
  );
});

test('spill --json --quick prints one JSON object with every contender and ratio', async () => {
  const report = await quickReport(
    'spill',
    [
      'spill_write',
      'spill_replay',
      'raw_write',
      'raw_read',
      'spill_write_lines',
      'spill_replay_lines',
      'raw_write_lines',
      'raw_read_lines',
    ],
    ['spill_write_vs_raw', 'replay_vs_raw', 'spill_write_lines_vs_raw', 'replay_lines_vs_raw'],
  );
  for (const result of report.results) {
    const mb = result.mbPerSec;
    assert.ok(mb !== undefined && Number.isFinite(mb) && mb > 0, `${result.name} MB/s = ${mb}`);
  }
});

test('transform --json --quick races the chain on the main thread and in workers', async () => {
  await quickReport(
    'transform',
    [
      'main_thread',
      'one_worker',
      'two_workers',
      'dispatch_100',
      'inline_100',
      'dispatch_1000',
      'inline_1000',
      'dispatch_10000',
      'inline_10000',
    ],
    ['two_workers_vs_main_thread', 'one_worker_vs_main_thread'],
  );
});

test('http --json --quick races both pipelines and the hand-written loop', async () => {
  const report = await quickReport(
    'http',
    ['pipeline_raw', 'pipeline_parse_json', 'handwritten'],
    ['pipeline_vs_handwritten', 'parse_json_vs_handwritten'],
  );
  for (const result of report.results) {
    const rss = result.peakRssMb;
    assert.ok(rss !== undefined && rss > 0, `${result.name} peak RSS = ${rss}`);
  }
});

test('logger --json --quick races the shipper and pino, each with a caller-side p99', async () => {
  const report = await quickReport(
    'logger',
    [
      'shipper_write',
      'shipper_write_backend_down',
      'pino_spillway_transport',
      'pino_spillway_transport_drop',
      'pino_file_transport',
      'pino_dev_null',
    ],
    [
      'healthy_vs_outage_p99',
      'shipper_vs_pino_dev_null',
      'pino_spillway_vs_pino_file',
      'shipper_vs_pino_file',
    ],
  );
  for (const result of report.results) {
    const p99 = result.p99Ms;
    assert.ok(p99 !== undefined && Number.isFinite(p99) && p99 > 0, `${result.name} p99 = ${p99}`);
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
