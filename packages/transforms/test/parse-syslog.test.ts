import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSyslog } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

describe('parseSyslog', () => {
  it('parses RFC 5424 lines into time, severity, message and syslog attributes', async () => {
    const v = await build(parseSyslog({}));
    const [event] = await v.events(
      rawBatch([
        '<34>1 2024-05-01T12:00:00.000Z web1 sshd 42 ID7 [origin ip="10.0.0.1"] login failed',
      ]),
    );
    assert.equal(event?.timestamp, Date.UTC(2024, 4, 1, 12));
    assert.equal(event?.message, 'login failed');
    assert.equal(event?.severity, 'fatal'); // 34 = auth.crit
    assert.equal(event?.attributes?.['syslog.format'], 'rfc5424');
    assert.equal(event?.attributes?.['syslog.facility'], 'auth');
    assert.equal(event?.attributes?.['syslog.hostname'], 'web1');
    assert.equal(event?.attributes?.['syslog.app_name'], 'sshd');
    assert.deepEqual(event?.attributes?.['syslog.sd'], { origin: { ip: '10.0.0.1' } });
  });

  it('detects RFC 3164 per line, with the zone it is told', async () => {
    const v = await build(parseSyslog({ rfc3164TimeZone: 'utc' }));
    const createdAt = Date.UTC(2024, 4, 2);
    const [event] = await v.events(
      rawBatch(['<13>May  1 12:00:00 web1 app[7]: started'], createdAt),
    );
    assert.equal(event?.timestamp, Date.UTC(2024, 4, 1, 12));
    assert.equal(event?.message, 'started');
    assert.equal(event?.attributes?.['syslog.format'], 'rfc3164');
    assert.equal(event?.attributes?.['syslog.proc_id'], '7');
  });

  it('keeps the attributes an event had, minus a parsed attribute', async () => {
    const v = await build(parseSyslog({ field: 'line' }));
    const [event] = await v.events(
      eventBatch([
        {
          timestamp: 1,
          message: 'from udp',
          attributes: { peer: '10.0.0.2', line: '<14>1 - - - - - - hello' },
        },
      ]),
    );
    assert.equal(event?.message, 'hello');
    assert.equal(event?.timestamp, 1, 'a message without time keeps the event time');
    assert.equal(event?.attributes?.peer, '10.0.0.2');
    assert.equal(event?.attributes?.line, undefined);
  });

  it('keeps lines that are not syslog, with the reason and code', async () => {
    const v = await build(parseSyslog({}));
    const [event] = await v.events(rawBatch(['hello']));
    assert.equal(event?.message, 'hello');
    assert.match(String(event?.attributes?.error), /^parseSyslog: .+ \(ERR_SYSLOG_PRI\)$/);
    assert.doesNotMatch(String(event?.attributes?.error), /syslog: syslog:/);
    assert.equal(v.counters.get('parse_errors'), 1);
  });

  it('drops them with onError: drop', async () => {
    const v = await build(parseSyslog({ onError: 'drop' }));
    assert.equal(await v.run(rawBatch(['<999>bad', 'x'])), null);
    assert.equal(v.counters.get('dropped_parse_error'), 2);
  });

  it('validates its options', () => {
    assert.deepEqual(parseSyslog({ rfc3164TimeZone: 'cet' as 'utc' }).validate(), [
      'rfc3164TimeZone must be "local" or "utc", not "cet"',
    ]);
  });
});
