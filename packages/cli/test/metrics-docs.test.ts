// docs/metrics.md cannot drift from the server: its table must list exactly the metrics that
// `GET /metrics` exposes, each with the type and labels the exposition shows.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import type { Pipeline } from '@spillway/core';
import { MetricsRegistry } from '@spillway/core';
import { METRICS } from '../src/metrics/prometheus.js';
import { startMetricsServer } from '../src/metrics/server.js';
import { syntheticSnapshot } from './metrics-synthetic.js';
import { parseExposition } from './metrics-text-format.js';

const DOCS = new URL('../../../../docs/metrics.md', import.meta.url);

interface Row {
  readonly type: string;
  readonly labels: readonly string[];
}

/** The rows of the docs' metric table: `| \`name\` | type | \`label\`, … | meaning |`. */
async function documented(): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  for (const line of (await readFile(DOCS, 'utf8')).split('\n')) {
    const m = /^\| `(spillway_[a-z_]+)` \| (\w+) \| ([^|]*) \|/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]!), `${m[1]} is documented once`);
    const labels = [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((l) => l[1]!);
    rows.set(m[1]!, { type: m[2]!, labels });
  }
  return rows;
}

it('docs/metrics.md lists exactly the metrics the server exposes, with types and labels', async () => {
  // A pipeline with one of everything, served by the real server, read back over HTTP.
  const metrics = new MetricsRegistry();
  const snapshot = syntheticSnapshot(0);
  for (const entry of snapshot.entries) metrics.register(entry.id, entry.kind, () => entry.stats);
  const pipeline = { name: 'synthetic', metrics } as unknown as Pipeline;
  const server = await startMetricsServer({ pipeline: () => pipeline, host: '127.0.0.1', port: 0 });
  const families = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
  await server.close();

  const docs = await documented();
  assert.ok(docs.size > 0, 'the table was found');
  for (const [name, family] of families) {
    const row = docs.get(name);
    assert.ok(row, `${name} is documented in docs/metrics.md`);
    assert.equal(row.type, family.type, `${name}: documented type`);
    assert.ok(family.samples.length > 0, `${name} has samples to compare the labels with`);
    for (const sample of family.samples) {
      assert.deepEqual(
        [...row.labels].sort(),
        Object.keys(sample.labels).sort(),
        `${name}: documented labels`,
      );
    }
  }
  for (const name of docs.keys()) assert.ok(families.has(name), `${name} (documented) is exposed`);
  assert.deepEqual(
    [...families.keys()],
    METRICS.map((m) => m.name),
    'the server exposes what the exporter defines, in its order',
  );
});
