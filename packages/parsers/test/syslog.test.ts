// Example-based tests of the syslog parsers. The messages are written for these tests in the
// shapes the RFCs describe (RFC 5424 §6.5, RFC 3164 §5.4), not copied from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseRfc3164,
  parseRfc5424,
  parseSyslog,
  SYSLOG_FACILITIES,
  type SyslogParseResult,
} from '../src/index.js';

const NOW = Date.UTC(2025, 0, 1, 0, 0, 30); // 2025-01-01T00:00:30Z
const utc = { now: NOW, rfc3164TimeZone: 'utc' } as const;

function ok(result: SyslogParseResult) {
  if (!result.ok) assert.fail(`expected a parse, got ${result.code}: ${result.error}`);
  return { ...result.event, attributes: result.event.attributes ?? {} };
}

function err(result: SyslogParseResult) {
  if (result.ok) assert.fail(`expected an error, got ${JSON.stringify(result.event)}`);
  assert.match(result.error, /^syslog: /);
  return result.code;
}

describe('RFC 5424', () => {
  it('parses every header field, structured data with escapes, and a BOM-prefixed message', () => {
    const line =
      '<165>1 2024-05-06T07:08:09.123456+02:00 web-1.example.net nginx 812 ACCESS ' +
      '[req@32473 id="7" path="/a\\"b\\]c\\\\d\\x"][meta seq="1" seq="2"][empty@1] \uFEFFGET /items ünï\n';
    const e = ok(parseSyslog(line, utc));
    assert.equal(e.timestamp, Date.UTC(2024, 4, 6, 5, 8, 9, 123), 'offset applied, µs truncated');
    assert.equal(e.message, 'GET /items ünï', 'BOM and trailing newline removed');
    assert.equal(e.severity, 'info');
    assert.deepEqual(e.attributes, {
      'syslog.format': 'rfc5424',
      'syslog.facility': 'local4',
      'syslog.facility_code': 20,
      'syslog.severity': 'notice',
      'syslog.severity_code': 5,
      'syslog.hostname': 'web-1.example.net',
      'syslog.app_name': 'nginx',
      'syslog.proc_id': '812',
      'syslog.msg_id': 'ACCESS',
      'syslog.sd': {
        'req@32473': { id: '7', path: '/a"b]c\\d\\x' },
        meta: { seq: ['1', '2'] },
        'empty@1': {},
      },
    });
  });

  it('leaves out NILVALUE fields and uses "now" for a missing timestamp', () => {
    const e = ok(parseRfc5424('<0>1 - - - - - -', utc));
    assert.equal(e.timestamp, NOW);
    assert.equal(e.message, '');
    assert.equal(e.severity, 'fatal');
    assert.deepEqual(Object.keys(e.attributes).sort(), [
      'syslog.facility',
      'syslog.facility_code',
      'syslog.format',
      'syslog.severity',
      'syslog.severity_code',
    ]);
  });

  it('keeps SD-IDs from the wire as own properties, never as prototypes', () => {
    const e = ok(parseSyslog('<13>1 - h a - - [__proto__ polluted="yes"] m', utc));
    const sd = e.attributes['syslog.sd'] as Record<string, Record<string, string>>;
    assert.deepEqual(Object.getOwnPropertyDescriptor(sd, '__proto__')?.value, { polluted: 'yes' });
    assert.equal(Object.getPrototypeOf(sd), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('maps every severity and names every facility', () => {
    const expected = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
    for (let severity = 0; severity < 8; severity++) {
      const e = ok(parseSyslog(`<${(23 << 3) | severity}>1 - - - - - -`, utc));
      assert.equal(e.severity, expected[severity]);
      assert.equal(e.attributes['syslog.facility'], 'local7');
    }
    assert.equal(SYSLOG_FACILITIES.length, 24);
  });

  it('accepts timestamp forms RFC 3339 allows within RFC 5424', () => {
    const at = (ts: string) => ok(parseSyslog(`<13>1 ${ts} - - - - -`, utc)).timestamp;
    assert.equal(at('2024-02-29T23:59:59Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
    assert.equal(at('2024-01-01T00:00:00.5-01:30'), Date.UTC(2024, 0, 1, 1, 30, 0, 500));
    assert.equal(at('0099-01-01T00:00:00Z'), new Date('0099-01-01T00:00:00Z').getTime());
  });

  it('reports malformed messages with stable codes, never throwing', () => {
    const cases: [string, string][] = [
      ['', 'ERR_SYSLOG_EMPTY'],
      ['\r\n\0', 'ERR_SYSLOG_EMPTY'],
      ['hello', 'ERR_SYSLOG_PRI'],
      ['<>1 - - - - - -', 'ERR_SYSLOG_PRI'],
      ['<1000>1 - - - - - -', 'ERR_SYSLOG_PRI'],
      ['<192>1 - - - - - -', 'ERR_SYSLOG_PRI'],
      ['<13', 'ERR_SYSLOG_PRI'],
      ['<13>1 - - - -', 'ERR_SYSLOG_HEADER'],
      ['<13>1 -  - - - -', 'ERR_SYSLOG_HEADER'],
      ['<13>1 - hóst - - - -', 'ERR_SYSLOG_HEADER'],
      [`<13>1 - - ${'a'.repeat(49)} - - -`, 'ERR_SYSLOG_HEADER'],
      [`<13>1 - - - - ${'m'.repeat(33)} -`, 'ERR_SYSLOG_HEADER'],
      ['<13>1 2023-02-29T00:00:00Z - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 2024-01-01T24:00:00Z - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 2024-06-30T23:59:60Z - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 2024-01-01T00:00:00.1234567Z - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 2024-01-01 00:00:00Z - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 2024-01-01T00:00:00 - - - - -', 'ERR_SYSLOG_TIMESTAMP'],
      ['<13>1 - - - - - x', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [id', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [id a="b"', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [id a=b]', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [id a="b]', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [ a="b"]', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - [id]msg', 'ERR_SYSLOG_STRUCTURED_DATA'],
      ['<13>1 - - - - - --', 'ERR_SYSLOG_STRUCTURED_DATA'],
    ];
    for (const [line, code] of cases) assert.equal(err(parseSyslog(line, utc)), code, line);
    assert.equal(err(parseRfc5424('<13>2 - - - - - -', utc)), 'ERR_SYSLOG_VERSION');
    assert.equal(err(parseRfc5424('<13>x', utc)), 'ERR_SYSLOG_VERSION');
  });

  it('decodes bytes as UTF-8; invalid bytes fail only where ASCII is required', () => {
    const message = Buffer.concat([Buffer.from('<13>1 - host app - - - caf'), Buffer.from([0xc3])]);
    assert.equal(ok(parseSyslog(message, utc)).message, 'caf\uFFFD');
    const host = Buffer.concat([
      Buffer.from('<13>1 - h'),
      Buffer.from([0xff]),
      Buffer.from(' a - - -'),
    ]);
    assert.equal(err(parseSyslog(host, utc)), 'ERR_SYSLOG_HEADER');
  });
});

describe('RFC 3164', () => {
  it('parses date, hostname, tag and pid', () => {
    const e = ok(
      parseSyslog('<38>Mar  9 14:02:51 bastion sshd[2231]: session opened for ops', utc),
    );
    assert.equal(e.timestamp, Date.UTC(2024, 2, 9, 14, 2, 51), 'March 9 is in the past: 2024');
    assert.equal(e.message, 'session opened for ops');
    assert.equal(e.severity, 'info');
    assert.deepEqual(e.attributes, {
      'syslog.format': 'rfc3164',
      'syslog.facility': 'auth',
      'syslog.facility_code': 4,
      'syslog.severity': 'info',
      'syslog.severity_code': 6,
      'syslog.hostname': 'bastion',
      'syslog.app_name': 'sshd',
      'syslog.proc_id': '2231',
    });
  });

  it('tells a tag from a hostname, and copes with what local senders leave out', () => {
    const noHost = ok(parseRfc3164('<13>Oct 11 22:14:15 su: password changed', utc));
    assert.equal(noHost.attributes['syslog.hostname'], undefined);
    assert.equal(noHost.attributes['syslog.app_name'], 'su');
    assert.equal(noHost.message, 'password changed');

    const noDate = ok(parseSyslog('<13>kernel: link up', utc));
    assert.equal(noDate.timestamp, NOW);
    assert.equal(noDate.attributes['syslog.app_name'], 'kernel');
    assert.equal(noDate.message, 'link up');

    const noTag = ok(parseSyslog('<13>Oct  3 08:00:00 router link flapped on ge-0/0/1', utc));
    assert.equal(noTag.attributes['syslog.hostname'], 'router');
    assert.equal(noTag.attributes['syslog.app_name'], undefined);
    assert.equal(noTag.message, 'link flapped on ge-0/0/1');

    const ipv6 = ok(parseSyslog('<13>Oct  3 08:00:00 fe80::1 ntpd[7]: synced', utc));
    assert.equal(ipv6.attributes['syslog.hostname'], 'fe80::1');
    assert.equal(ipv6.attributes['syslog.proc_id'], '7');

    const bare = ok(parseSyslog('<13>just words', utc));
    assert.equal(bare.message, 'just words');
    assert.equal(ok(parseSyslog('<13>', utc)).message, '');
  });

  it('accepts single-digit days, fractions and an RFC 3339 timestamp in place of the date', () => {
    assert.equal(
      ok(parseSyslog('<13>Oct 3 08:00:00.25 h a: m', utc)).timestamp,
      Date.UTC(2024, 9, 3, 8, 0, 0, 250),
    );
    const iso = ok(parseSyslog('<13>2024-07-01T10:00:00+02:00 h app: m', utc));
    assert.equal(iso.timestamp, Date.UTC(2024, 6, 1, 8));
    assert.equal(iso.attributes['syslog.format'], 'rfc3164');
    assert.equal(iso.attributes['syslog.hostname'], 'h');
  });

  it('picks the year so that the time is at most a day in the future', () => {
    const at = (date: string, now: number) =>
      ok(parseSyslog(`<13>${date} h a: m`, { now, rfc3164TimeZone: 'utc' })).timestamp;
    // now: 2025-01-01T00:00:30Z
    assert.equal(at('Dec 31 23:59:50', NOW), Date.UTC(2024, 11, 31, 23, 59, 50), 'just before');
    assert.equal(at('Jan  1 00:00:40', NOW), Date.UTC(2025, 0, 1, 0, 0, 40), 'sender 10 s ahead');
    assert.equal(at('Jan  1 23:00:00', NOW), Date.UTC(2025, 0, 1, 23), 'within a day ahead');
    assert.equal(at('Jan  3 00:00:00', NOW), Date.UTC(2024, 0, 3), 'two days ahead: last year');
    // now: 2024-12-31T23:59:50Z; a sender ahead across New Year
    const lateDecember = Date.UTC(2024, 11, 31, 23, 59, 50);
    assert.equal(at('Jan  1 00:00:20', lateDecember), Date.UTC(2025, 0, 1, 0, 0, 20));
    // Feb 29 goes back to the latest leap year not in the future
    assert.equal(at('Feb 29 12:00:00', Date.UTC(2027, 5, 1)), Date.UTC(2024, 1, 29, 12));
  });

  it('reads dates in the local zone by default', () => {
    const now = new Date(2025, 5, 15, 12).getTime();
    const e = ok(parseSyslog('<13>Jun 10 09:30:00 h a: m', { now }));
    assert.equal(e.timestamp, new Date(2025, 5, 10, 9, 30).getTime());
  });
});

describe('format detection', () => {
  it('reads "<PRI>1 " as RFC 5424 and anything else as RFC 3164', () => {
    assert.equal(
      ok(parseSyslog('<13>1 - - - - - - x', utc)).attributes['syslog.format'],
      'rfc5424',
    );
    const legacy = ok(parseSyslog('<13>2 files left', utc));
    assert.equal(legacy.attributes['syslog.format'], 'rfc3164');
    assert.equal(legacy.message, '2 files left');
    assert.equal(ok(parseSyslog('<13>10 apples', utc)).attributes['syslog.format'], 'rfc3164');
  });
});
