import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from '../src/index.js';
import { build, eventBatch, rawBatch, single } from './support.js';

const fixtures = new URL('./fixtures/functions.js', import.meta.url).href;

describe('map', () => {
  it('replaces each event with what fn returns, and drops null or undefined, counted', async () => {
    const v = await build(
      map({
        fn: (e) => {
          if (e.message === 'skip') return null;
          if (e.message === 'gone') return undefined;
          return { ...e, attributes: { length: e.message.length } };
        },
      }),
    );
    const input = rawBatch(['hello', 'skip', 'gone', 'hi']);
    const out = single(await v.run(input));
    assert.equal(out.id, input.id);
    assert.equal(out.ack, input.ack);
    assert.deepEqual(
      (await v.events(input)).map((e) => e.attributes),
      [{ length: 5 }, { length: 2 }],
    );
    assert.equal(v.counters.get('dropped_by_map'), 4);
  });

  it('returns null when every event is dropped', async () => {
    const v = await build(map({ fn: () => null }));
    assert.equal(await v.run(eventBatch([{ timestamp: 1, message: 'a' }])), null);
    assert.equal(v.counters.get('dropped_by_map'), 1);
  });

  it('imports fn from a module', async () => {
    const v = await build(map({ fn: { module: fixtures, export: 'shout' } }));
    assert.deepEqual(
      (await v.events(rawBatch(['abc', '', 'd']))).map((e) => e.message),
      ['ABC', 'D'],
    );
    assert.equal(v.counters.get('dropped_by_map'), 1);
  });

  it('rejects the batch when fn returns something that is not an event', async () => {
    const v = await build(map({ fn: () => 'text' as never }));
    await assert.rejects(v.run(rawBatch(['a'])), /fn returned string, not an event or null/);
  });

  it('validates fn', () => {
    assert.deepEqual(map({} as never).validate(), [
      'fn is missing: it must be a function or { module: string (a file URL), export?: string }',
    ]);
    assert.deepEqual(map({ fn: { module: '/abs/x.js' } }).validate().length, 1);
  });
});
