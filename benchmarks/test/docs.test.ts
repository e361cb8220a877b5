import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BenchmarksFile,
  mergeRecords,
  renderMarkdown,
  type ScenarioRecord,
} from '../src/docs.js';

const machine = { cpu: 'Test CPU', cores: 4, memoryGiB: 8, os: 'Linux 6 x64', node: 'v20.20.2' };

function record(scenario: string, rate: number): ScenarioRecord {
  return {
    scenario,
    description: `what ${scenario} optimises`,
    peers: 'a peer',
    targets: [{ ratio: 'fast_vs_peer', atLeast: 2 }],
    machine,
    date: '2025-01-02T03:04:05.000Z',
    results: [
      { name: 'fast', eventsPerSec: rate, peakRssMb: 100 },
      { name: 'peer', eventsPerSec: 1000 },
    ],
    ratios: { fast_vs_peer: rate / 1000, other_ratio: 1.5 },
    setup: { events: 1_000_000 },
  };
}

test('merging a record replaces only its own scenario', () => {
  const before: BenchmarksFile = { scenarios: { a: record('a', 3000), b: record('b', 3000) } };
  const after = mergeRecords(before, [record('b', 1000)]);
  assert.equal(after.scenarios.a, before.scenarios.a);
  assert.equal(after.scenarios.b?.ratios.fast_vs_peer, 1);
});

test('the page lists scenarios in registry order with results, setup, machine and targets', () => {
  const file = mergeRecords({ scenarios: {} }, [record('zeta', 1000), record('alpha', 3000)]);
  const page = renderMarkdown(file, ['zeta', 'alpha']);
  assert.ok(page.indexOf('## zeta') < page.indexOf('## alpha'));
  assert.match(page, /what alpha optimises/);
  assert.match(page, /Node v20\.20\.2 · Test CPU · 4 cores · 8 GiB/);
  assert.match(page, /\*\*Setup:\*\* events: 1,000,000/);
  assert.match(page, /\| contender \| events\/s \| peak RSS \(MiB\) \|/);
  assert.match(page, /\| fast \| 3,000 \| 100 \|/);
  assert.match(page, /\| fast_vs_peer \| 3× \| ≥ 2× \| yes \|/);
  assert.match(page, /\| fast_vs_peer \| 1× \| ≥ 2× \| \*\*no\*\* \|/);
  assert.match(page, /\| other_ratio \| 1\.5× \| {2}\| {2}\|/);
});
