// The `sql` verb (the SQL engine itself is tested in sql.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '@spillway/core';
import { sql } from '../src/index.js';
import { build, eventBatch, rawBatch, single } from './support.js';

const events: LogEvent[] = [
  { timestamp: 1, message: 'ok', severity: 'info', attributes: { status: 200 } },
  { timestamp: 2, message: 'boom', severity: 'error', attributes: { status: 500 } },
  { timestamp: 3, message: 'slow', severity: 'warn', attributes: { status: 200 } },
];

describe('sql verb', () => {
  it('filters and projects each batch, counting what WHERE removed', async () => {
    const v = await build(
      sql({
        query: "SELECT *, upper(message) AS loud FROM logs WHERE severity IN ('warn', 'error')",
      }),
    );
    const input = eventBatch(events);
    const out = single(await v.run(input));
    assert.equal(out.id, input.id);
    assert.equal(out.ack, input.ack);
    assert.deepEqual(
      (await v.events(input)).map((e) => e.attributes?.loud),
      ['BOOM', 'SLOW'],
    );
    assert.equal(v.counters.get('filtered'), 2);
  });

  it('reads a raw batch as lines, and returns null when nothing is left', async () => {
    const v = await build(sql({ query: "SELECT * FROM logs WHERE message LIKE 'k%'" }));
    assert.deepEqual(
      (await v.events(rawBatch(['keep', 'drop', 'kept']))).map((e) => e.message),
      ['keep', 'kept'],
    );
    assert.equal(await v.run(rawBatch(['none'])), null);
    assert.equal(v.counters.get('filtered'), 2);
  });

  it('validates the query, listing every problem', () => {
    assert.deepEqual(sql({ query: 'SELECT * FROM logs' }).validate(), []);
    const problems = sql({ query: 'SELECT count(*) FROM logs GROUP BY host' }).validate();
    assert.ok(problems.length >= 2, problems.join('\n'));
    for (const problem of problems) assert.match(problem, /^query: /);
    assert.deepEqual(sql({} as never).validate(), [
      'query is missing: it must be a non-empty string',
    ]);
  });
});
