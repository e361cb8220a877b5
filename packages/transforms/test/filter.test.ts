import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters, type LogEvent, SpillwayError } from '@spillway/core';
import { filter } from '../src/index.js';
import { build, eventBatch, rawBatch, single } from './support.js';

const fixtures = new URL('./fixtures/functions.js', import.meta.url).href;

const events: LogEvent[] = [
  { timestamp: 1, message: 'ok', severity: 'info', attributes: { status: 200 } },
  { timestamp: 2, message: 'slow', severity: 'warn', attributes: { status: 200 } },
  { timestamp: 3, message: 'boom', severity: 'error', attributes: { status: 500 } },
  { timestamp: 4, message: 'gone', severity: 'info', attributes: { status: 503 } },
];

describe('filter', () => {
  it('keeps the events a SQL where expression holds for, and counts the others', async () => {
    const v = await build(filter({ where: "severity = 'error' OR status >= 500" }));
    const out = await v.events(eventBatch(events));
    assert.deepEqual(
      out.map((e) => e.timestamp),
      [3, 4],
    );
    assert.equal(v.counters.get('filtered'), 2);
  });

  it('keeps the events a function passes', async () => {
    const v = await build(filter({ when: (e) => e.message.length > 2 }));
    assert.deepEqual(
      (await v.events(eventBatch(events))).map((e) => e.message),
      ['slow', 'boom', 'gone'],
    );
    assert.equal(v.counters.get('filtered'), 1);
  });

  it('imports a function named by module, default export or named', async () => {
    const byDefault = await build(filter({ when: { module: fixtures } }));
    assert.deepEqual(
      (await byDefault.events(eventBatch(events))).map((e) => e.timestamp),
      [3],
    );
    const named = await build(filter({ when: { module: fixtures, export: 'keepLong' } }));
    assert.deepEqual(
      (await named.events(eventBatch(events))).map((e) => e.timestamp),
      [2, 3, 4],
    );
  });

  it('passes the input batch on untouched when nothing is removed (raw stays raw)', async () => {
    const v = await build(filter({ when: () => true }));
    const input = rawBatch(['a', 'b']);
    assert.equal(await v.run(input), input);
    assert.equal(v.counters.get('filtered'), 0);
  });

  it('returns null when everything is removed, and keeps id and ack otherwise', async () => {
    const v = await build(filter({ where: "message = 'b'" }));
    assert.equal(await v.run(rawBatch(['a', 'c'])), null);
    const input = rawBatch(['a', 'b']);
    const out = single(await v.run(input));
    assert.equal(out.id, input.id);
    assert.equal(out.ack, input.ack);
    assert.equal(out.count, 1);
    assert.equal(v.counters.get('filtered'), 3);
  });

  it('lets a predicate that throws reject the batch', async () => {
    const v = await build(
      filter({
        when: () => {
          throw new Error('bad predicate');
        },
      }),
    );
    await assert.rejects(v.run(rawBatch(['a'])), /bad predicate/);
  });

  it('validates: exactly one of where and when, a valid expression, a well-formed reference', () => {
    assert.deepEqual(filter({} as never).validate(), [
      'filter needs exactly one of where (a SQL expression) and when (a function)',
    ]);
    assert.deepEqual(filter({ where: 'true', when: () => true } as never).validate(), [
      'filter needs exactly one of where (a SQL expression) and when (a function)',
    ]);
    const [syntax, ...rest] = filter({ where: 'severity = = 1' }).validate();
    assert.match(String(syntax), /^where: /);
    assert.deepEqual(rest, []);
    assert.deepEqual(filter({ where: '' }).validate(), [
      'where must be a non-empty string, not an empty string',
    ]);
    assert.deepEqual(filter({ when: 'x => true' as never }).validate(), [
      'when must be a function or { module: string (a file URL), export?: string }, not "x => true"',
    ]);
    assert.deepEqual(filter({ when: { module: './keep.js', export: '' } }).validate(), [
      `when.module must be a file URL or a package name, not the path "./keep.js" (use pathToFileURL(path).href or new URL('./file.js', import.meta.url).href)`,
      'when.export must be a non-empty string, not an empty string',
    ]);
    assert.deepEqual(filter({ when: { module: 7 } as never }).validate(), [
      'when.module must be a non-empty string (a file URL), not 7',
    ]);
  });

  it('fails to build, with ERR_INVALID_OPTION, when the module or export is not there', async () => {
    const ctx = { name: 'f', signal: new AbortController().signal, counters: new Counters() };
    await assert.rejects(
      async () => filter({ when: { module: `${fixtures}.missing.js` } }).build(ctx),
      (err: unknown) =>
        SpillwayError.is(err, 'ERR_INVALID_OPTION') && /could not be imported/.test(err.message),
    );
    await assert.rejects(
      async () => filter({ when: { module: fixtures, export: 'notAFunction' } }).build(ctx),
      (err: unknown) =>
        SpillwayError.is(err, 'ERR_INVALID_OPTION') &&
        /exports no function named "notAFunction"/.test(err.message),
    );
  });
});
