import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLogfmt } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

const T0 = 1_700_000_000_000;

describe('parseLogfmt', () => {
  it('turns pairs into attributes and promotes time, level and msg', async () => {
    const v = await build(parseLogfmt({}));
    const out = await v.events(
      rawBatch([
        'time=2024-05-01T12:00:00Z level=warn msg="disk \\"data\\" 91% full" disk=/data ro',
      ]),
    );
    assert.deepEqual(out, [
      {
        timestamp: Date.UTC(2024, 4, 1, 12),
        severity: 'warn',
        message: 'disk "data" 91% full',
        attributes: { disk: '/data', ro: true },
      },
    ]);
  });

  it('reads epoch seconds given as a value, as parseJson does', async () => {
    const v = await build(parseLogfmt({}));
    const [event] = await v.events(rawBatch(['ts=1700000000.5 msg=hi']));
    assert.equal(event?.timestamp, 1_700_000_000_500);
  });

  it('empties the message it consumed when the line has no msg', async () => {
    const v = await build(parseLogfmt({}));
    const [event] = await v.events(rawBatch(['a=1 b=2']));
    assert.deepEqual(event, { timestamp: T0, message: '', attributes: { a: '1', b: '2' } });
  });

  it('is a parse error when a line has no key=value pair, so plain text keeps its text', async () => {
    const v = await build(parseLogfmt({}));
    const out = await v.events(rawBatch(['Starting server', '']));
    assert.deepEqual(out, [
      {
        timestamp: T0,
        message: 'Starting server',
        attributes: { error: 'parseLogfmt: no key=value pair' },
      },
      { timestamp: T0, message: '', attributes: { error: 'parseLogfmt: no key=value pair' } },
    ]);
    assert.equal(v.counters.get('parse_errors'), 2);
  });

  it('is a parse error with the parser code for a malformed line', async () => {
    const v = await build(parseLogfmt({}));
    const [event] = await v.events(rawBatch(['level=error msg="cut off']));
    assert.equal(event?.message, 'level=error msg="cut off');
    assert.match(
      String(event?.attributes?.error),
      /^parseLogfmt: unterminated quoted value of key "msg" at offset \d+ \(ERR_LOGFMT_UNTERMINATED_QUOTE\)$/,
    );
  });

  it('drops malformed lines with onError: drop', async () => {
    const v = await build(parseLogfmt({ onError: 'drop' }));
    const out = await v.events(rawBatch(['a=1', 'k="x"y', 'words only']));
    assert.equal(out.length, 1);
    assert.equal(v.counters.get('parse_errors'), 2);
    assert.equal(v.counters.get('dropped_parse_error'), 2);
  });

  it('counts pairs beyond maxKeys in dropped_keys', async () => {
    const v = await build(parseLogfmt({ maxKeys: 2 }));
    const [event] = await v.events(rawBatch(['a=1 b=2 c=3 d=4']));
    assert.deepEqual(event?.attributes, { a: '1', b: '2' });
    assert.equal(v.counters.get('dropped_keys'), 2);
  });

  it('parses an attribute when field names one', async () => {
    const v = await build(parseLogfmt({ field: 'kv', messageField: 'm' }));
    const [event] = await v.events(
      eventBatch([{ timestamp: 9, message: 'outer', attributes: { kv: 'm=inner x=1' } }]),
    );
    assert.deepEqual(event, { timestamp: 9, message: 'inner', attributes: { x: '1' } });
  });

  it('validates its options', () => {
    assert.deepEqual(parseLogfmt({ maxKeys: 0, onError: 'drop' }).validate(), [
      'maxKeys must be an integer ≥ 1, not 0',
    ]);
    assert.deepEqual(parseLogfmt({ severityField: 7 as unknown as string }).validate(), [
      'severityField must be a non-empty string, not 7',
    ]);
  });
});
