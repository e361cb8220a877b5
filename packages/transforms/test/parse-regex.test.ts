import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRegex } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

const T0 = 1_700_000_000_000;
const ACCESS =
  '^(?<ip>\\S+) \\S+ \\S+ \\[[^\\]]+\\] "(?<method>\\w+) (?<path>\\S+)[^"]*" (?<status>\\d{3})';

describe('parseRegex', () => {
  it('turns named groups into attributes and keeps the line as the message', async () => {
    const v = await build(parseRegex({ pattern: ACCESS }));
    const line = '10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /a HTTP/1.1" 200 512';
    assert.deepEqual(await v.events(rawBatch([line])), [
      {
        timestamp: T0,
        message: line,
        attributes: { ip: '10.0.0.1', method: 'GET', path: '/a', status: '200' },
      },
    ]);
  });

  it('promotes groups named message, timestamp and severity; leaves out unmatched groups', async () => {
    const v = await build(
      parseRegex({
        pattern: '^(?<timestamp>\\S+) (?<severity>\\w+) (?:\\[(?<thread>\\w+)\\] )?(?<message>.*)$',
      }),
    );
    const [event] = await v.events(rawBatch(['2024-05-01T12:00:00Z WARN disk full']));
    assert.deepEqual(event, {
      timestamp: Date.UTC(2024, 4, 1, 12),
      severity: 'warn',
      message: 'disk full',
    });
    const [odd] = await v.events(rawBatch(['later LOUD [main] x']));
    assert.deepEqual(odd, {
      timestamp: T0,
      message: 'x',
      attributes: { timestamp: 'later', severity: 'LOUD', thread: 'main' },
    });
  });

  it('honours flags and keeps the parsed attribute', async () => {
    const v = await build(parseRegex({ pattern: 'user=(?<user>[a-z]+)', flags: 'i', field: 'q' }));
    const [event] = await v.events(
      eventBatch([{ timestamp: 1, message: 'm', attributes: { q: 'USER=Bob' } }]),
    );
    assert.deepEqual(event?.attributes, { q: 'USER=Bob', user: 'Bob' });
  });

  it('is a parse error when a line does not match', async () => {
    const v = await build(parseRegex({ pattern: '^(?<n>\\d+)$' }));
    const out = await v.events(rawBatch(['12', 'twelve']));
    assert.deepEqual(out[1], {
      timestamp: T0,
      message: 'twelve',
      attributes: { error: 'parseRegex: no match' },
    });
    assert.equal(v.counters.get('parse_errors'), 1);
    const dropping = await build(parseRegex({ pattern: '^(?<n>\\d+)$', onError: 'drop' }));
    assert.equal((await dropping.events(rawBatch(['12', 'twelve']))).length, 1);
    assert.equal(dropping.counters.get('dropped_parse_error'), 1);
  });

  it('validates the pattern: compiles, has named groups, no g or y flag', () => {
    assert.deepEqual(parseRegex({ pattern: '(?<a>x)' }).validate(), []);
    const [invalid] = parseRegex({ pattern: '(?<a>x' }).validate();
    assert.match(String(invalid), /^pattern is not a valid regular expression: /);
    assert.deepEqual(parseRegex({ pattern: '(\\d+)' }).validate(), [
      'pattern has no named group (?<name>…): nothing would be parsed out',
    ]);
    assert.deepEqual(parseRegex({ pattern: '(?<a>x)', flags: 'gi' }).validate(), [
      'flags must not contain "g" or "y": each line is matched once, from its start',
    ]);
    assert.deepEqual(parseRegex({ pattern: '(?<a>x)', flags: 'q' }).validate(), [
      'flags must be regular expression flags (d, i, m, s, u, v), not "q"',
    ]);
    assert.deepEqual(parseRegex({} as never).validate(), [
      'pattern is missing: it must be a non-empty string',
    ]);
  });
});
