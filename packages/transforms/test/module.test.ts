// Every verb can be rebuilt from `module` + `type` + `options`, as a worker thread does; and a
// real worker thread does it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { TransformDefinition } from '@spillway/core';
import * as transforms from '../src/index.js';
import {
  addFields,
  dropFields,
  encode,
  filter,
  map,
  parseJson,
  parseLogfmt,
  parseRegex,
  parseSyslog,
  redact,
  rename,
  sample,
  sql,
} from '../src/index.js';

const fixtures = new URL('./fixtures/functions.js', import.meta.url).href;

/** One valid definition of every verb, with structured-cloneable options. */
const definitions: TransformDefinition<unknown>[] = [
  parseJson({}),
  parseLogfmt({ maxKeys: 10 }),
  parseSyslog({ rfc3164TimeZone: 'utc' }),
  parseRegex({ pattern: '(?<a>\\w+)' }),
  filter({ where: "severity = 'error'" }),
  filter({ when: { module: fixtures, export: 'keepLong' } }),
  map({ fn: { module: fixtures, export: 'shout' } }),
  addFields({ fields: { env: 'prod' } }),
  dropFields({ fields: ['pid'] }),
  rename({ fields: { a: 'b' } }),
  sample({ rate: 4 }),
  redact({ patterns: [{ name: 'email' }] }),
  encode({ format: 'ndjson' }),
  sql({ query: 'SELECT * FROM logs' }),
] as TransformDefinition<unknown>[];

describe('module and type', () => {
  it('name a factory that makes the same definition, for every verb', async () => {
    const types = new Set<string>();
    for (const definition of definitions) {
      types.add(definition.type);
      assert.ok(definition.module, `${definition.type} has a module`);
      const namespace = (await import(definition.module)) as Record<string, unknown>;
      const factory = namespace[definition.type];
      assert.equal(typeof factory, 'function', `${definition.type} is exported`);
      const rebuilt = (factory as (o: unknown) => TransformDefinition<unknown>)(
        structuredClone(definition.options),
      );
      assert.equal(rebuilt.type, definition.type);
      assert.equal(rebuilt.module, definition.module);
      assert.deepEqual(rebuilt.validate(), []);
    }
    assert.equal(types.size, 13, 'every verb is covered');
  });

  it('point at the package entry, the very module the verbs are imported from here', async () => {
    for (const definition of definitions) {
      assert.match(String(definition.module), /^file:.*\/src\/index\.js$/);
      assert.equal(await import(String(definition.module)), transforms);
    }
  });

  it('are left out when the options hold a function, which cannot cross a thread', () => {
    const local = filter({ when: () => true });
    assert.equal(local.module, undefined);
    assert.equal('module' in local, false);
    assert.deepEqual(local.validate(), []);
    assert.equal(map({ fn: (e) => e }).module, undefined);
    assert.ok(filter({ where: 'true' }).module);
  });
});

describe('in a worker thread', () => {
  it('parseJson and a filter named by module run there, rebuilt from their options', async () => {
    const worker = (definition: TransformDefinition<unknown>, lines: string[]) => {
      const w = new Worker(new URL('./fixtures/rebuild-worker.js', import.meta.url), {
        workerData: {
          module: definition.module,
          type: definition.type,
          options: definition.options,
          lines,
        },
      });
      return once(w, 'message') as Promise<
        [{ events: unknown[]; counters: Record<string, number> }]
      >;
    };
    const [parsed] = await worker(parseJson({}) as TransformDefinition<unknown>, [
      '{"msg":"hi","level":"warn","time":1700000000}',
      'oops',
    ]);
    assert.deepEqual(parsed.events[0], {
      timestamp: 1_700_000_000_000,
      message: 'hi',
      severity: 'warn',
    });
    assert.equal(parsed.counters.parse_errors, 1);
    const [filtered] = await worker(
      filter({ when: { module: fixtures, export: 'keepLong' } }) as TransformDefinition<unknown>,
      ['a', 'long enough', 'bb'],
    );
    assert.deepEqual(
      filtered.events.map((e) => (e as { message: string }).message),
      ['long enough'],
    );
    assert.equal(filtered.counters.filtered, 2);
  });
});
