import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '@spillway/core';
import { addFields, dropFields, rename } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

describe('addFields', () => {
  it('sets attributes, overwriting by default, without modifying the input', async () => {
    const v = await build(addFields({ fields: { env: 'prod', n: 1 } }));
    const input: LogEvent = {
      timestamp: 1,
      message: 'm',
      severity: 'info',
      attributes: { env: 'dev', a: 1 },
    };
    const [event] = await v.events(eventBatch([input]));
    assert.deepEqual(event, {
      timestamp: 1,
      message: 'm',
      severity: 'info',
      attributes: { env: 'prod', a: 1, n: 1 },
    });
    assert.deepEqual(input.attributes, { env: 'dev', a: 1 });
    const [fromRaw] = await v.events(rawBatch(['x']));
    assert.deepEqual(fromRaw?.attributes, { env: 'prod', n: 1 });
  });

  it('keeps what the event has with overwrite: false, and passes complete events as they are', async () => {
    const v = await build(addFields({ fields: { env: 'prod', n: 1 }, overwrite: false }));
    const complete: LogEvent = { timestamp: 1, message: 'm', attributes: { env: 'dev', n: 2 } };
    const partial: LogEvent = { timestamp: 2, message: 'm', attributes: { env: 'dev' } };
    const input = eventBatch([complete]);
    assert.equal(await v.run(input), input);
    const [event] = await v.events(eventBatch([partial]));
    assert.deepEqual(event?.attributes, { env: 'dev', n: 1 });
  });

  it('validates that fields hold JSON values', () => {
    assert.deepEqual(addFields({ fields: {} }).validate(), [
      'fields must be an object with at least one field, not an object',
    ]);
    assert.deepEqual(
      addFields({
        fields: { ok: [1, { a: null }], f: () => 1, n: Number.NaN, d: new Date(0) },
        overwrite: 'yes' as never,
      }).validate(),
      [
        'fields.f must be a JSON value (string, finite number, boolean, null, array or object of these)',
        'fields.n must be a JSON value (string, finite number, boolean, null, array or object of these)',
        'fields.d must be a JSON value (string, finite number, boolean, null, array or object of these)',
        'overwrite must be true or false, not "yes"',
      ],
    );
  });
});

describe('dropFields', () => {
  it('removes the named attributes and nothing else', async () => {
    const v = await build(dropFields({ fields: ['pid', 'hostname', 'message'] }));
    const [event] = await v.events(
      eventBatch([
        { timestamp: 1, message: 'm', attributes: { pid: 1, hostname: 'h', keep: true } },
      ]),
    );
    assert.deepEqual(event, { timestamp: 1, message: 'm', attributes: { keep: true } });
  });

  it('passes the batch on as it is when no event has them', async () => {
    const v = await build(dropFields({ fields: ['pid'] }));
    const raw = rawBatch(['a']);
    assert.equal(await v.run(raw), raw);
    const events = eventBatch([{ timestamp: 1, message: 'm', attributes: { x: 1 } }]);
    assert.equal(await v.run(events), events);
  });

  it('validates fields', () => {
    assert.deepEqual(dropFields({ fields: [] }).validate(), [
      'fields must be a non-empty array of strings, not an array',
    ]);
    assert.deepEqual(dropFields({ fields: ['a', ''] }).validate(), [
      'fields[1] must be a non-empty string, not an empty string',
    ]);
  });
});

describe('rename', () => {
  it('moves values to new names, all at once (so swaps work), overwriting targets', async () => {
    const v = await build(rename({ fields: { a: 'b', b: 'a', req_id: 'request_id', x: 'y' } }));
    const [event] = await v.events(
      eventBatch([
        { timestamp: 1, message: 'm', attributes: { a: 1, b: 2, req_id: 'r', y: 'old', z: 0 } },
      ]),
    );
    assert.deepEqual(event?.attributes, { a: 2, b: 1, request_id: 'r', y: 'old', z: 0 });
  });

  it('treats message as an ordinary attribute name', async () => {
    const v = await build(rename({ fields: { message: 'text' } }));
    const [event] = await v.events(
      eventBatch([{ timestamp: 1, message: 'own', attributes: { message: 'attr' } }]),
    );
    assert.deepEqual(event, { timestamp: 1, message: 'own', attributes: { text: 'attr' } });
  });

  it('validates: string targets, no two sources to one target', () => {
    assert.deepEqual(rename({ fields: { a: 'x', b: 'x', c: 3 as never } }).validate(), [
      'fields.b renames to "x" as fields.a does',
      'fields.c must be a non-empty string',
    ]);
    assert.deepEqual(rename({ fields: null as never }).validate(), [
      'fields must be an object with at least one field, not null',
    ]);
  });
});
