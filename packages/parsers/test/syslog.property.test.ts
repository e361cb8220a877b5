// Property tests of the syslog parsers: garbage never throws, and any valid RFC 5424 message
// built from generated fields parses back to those fields. Seeds are committed so a failure
// reproduces; change one (or drop it) to explore further.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseSyslog,
  SYSLOG_FACILITIES,
  SYSLOG_SEVERITIES,
  type SyslogParseResult,
  severityFromSyslog,
} from '../src/index.js';

const CODES = new Set([
  'ERR_SYSLOG_EMPTY',
  'ERR_SYSLOG_PRI',
  'ERR_SYSLOG_VERSION',
  'ERR_SYSLOG_HEADER',
  'ERR_SYSLOG_TIMESTAMP',
  'ERR_SYSLOG_STRUCTURED_DATA',
]);

function wellFormed(result: SyslogParseResult): boolean {
  if (!result.ok) return CODES.has(result.code) && result.error.startsWith('syslog: ');
  return (
    Number.isFinite(result.event.timestamp) &&
    typeof result.event.message === 'string' &&
    (result.format === 'rfc5424' || result.format === 'rfc3164')
  );
}

const NOW = Date.UTC(2025, 6, 1);

// Printable US-ASCII (%d33-126), optionally without some characters.
const ascii = (min: number, max: number, except = '') =>
  fc.string({
    unit: fc
      .integer({ min: 33, max: 126 })
      .map((c) => String.fromCharCode(c))
      .filter((c) => !except.includes(c)),
    minLength: min,
    maxLength: max,
  });
const headerField = (max: number) => fc.option(ascii(1, max).filter((s) => s !== '-'));
const sdName = ascii(1, 32, '= ]"');
const text = fc.string({ unit: 'grapheme', maxLength: 40 });

const timestamp = fc.record({
  seconds: fc.integer({ min: Date.UTC(1000, 0, 1) / 1000, max: Date.UTC(9000, 0, 1) / 1000 }),
  fraction: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 6 }),
  offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  zulu: fc.boolean(),
});

const message5424 = fc.record({
  pri: fc.integer({ min: 0, max: 191 }),
  timestamp: fc.option(timestamp),
  hostname: headerField(255),
  appName: headerField(48),
  procId: headerField(128),
  msgId: headerField(32),
  sd: fc.option(
    fc.array(
      fc.record({ id: sdName, params: fc.array(fc.tuple(sdName, text), { maxLength: 4 }) }),
      { minLength: 1, maxLength: 4 },
    ),
  ),
  msg: fc.option(text.filter((m) => !/[\n\r\0]$/.test(m) && !m.startsWith('\uFEFF'))),
  bom: fc.boolean(),
});

type Generated = typeof message5424 extends fc.Arbitrary<infer G> ? G : never;

const two = (n: number) => String(n).padStart(2, '0');

function serialize(m: Generated): string {
  let ts = '-';
  if (m.timestamp) {
    const { seconds, fraction, offsetMinutes, zulu } = m.timestamp;
    const offset = zulu ? 0 : offsetMinutes;
    const local = new Date(seconds * 1000 + offset * 60_000);
    const zone = zulu
      ? 'Z'
      : `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
    ts =
      `${String(local.getUTCFullYear()).padStart(4, '0')}-${two(local.getUTCMonth() + 1)}-` +
      `${two(local.getUTCDate())}T${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:` +
      `${two(local.getUTCSeconds())}${fraction ? `.${fraction}` : ''}${zone}`;
  }
  const nil = (v: string | null) => v ?? '-';
  const sd = m.sd
    ? m.sd
        .map(
          (e) =>
            `[${e.id}${e.params.map(([n, v]) => ` ${n}="${v.replace(/[\\"\]]/g, '\\$&')}"`).join('')}]`,
        )
        .join('')
    : '-';
  const msg = m.msg === null ? '' : ` ${m.bom ? '\uFEFF' : ''}${m.msg}`;
  return `<${m.pri}>1 ${ts} ${nil(m.hostname)} ${nil(m.appName)} ${nil(m.procId)} ${nil(m.msgId)} ${sd}${msg}`;
}

function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function expected(m: Generated) {
  const attributes: Record<string, unknown> = {
    'syslog.format': 'rfc5424',
    'syslog.facility': SYSLOG_FACILITIES[m.pri >> 3],
    'syslog.facility_code': m.pri >> 3,
    'syslog.severity': SYSLOG_SEVERITIES[m.pri & 7],
    'syslog.severity_code': m.pri & 7,
  };
  if (m.hostname !== null) attributes['syslog.hostname'] = m.hostname;
  if (m.appName !== null) attributes['syslog.app_name'] = m.appName;
  if (m.procId !== null) attributes['syslog.proc_id'] = m.procId;
  if (m.msgId !== null) attributes['syslog.msg_id'] = m.msgId;
  if (m.sd) {
    // A repeated SD-ID merges; a repeated PARAM-NAME collects its values in order.
    const sd: Record<string, Record<string, string | string[]>> = {};
    for (const element of m.sd) {
      if (!Object.hasOwn(sd, element.id)) define(sd, element.id, {});
      const params = sd[element.id]!;
      for (const [name, value] of element.params) {
        const earlier = Object.hasOwn(params, name) ? params[name] : undefined;
        if (earlier === undefined) define(params, name, value);
        else define(params, name, [...(Array.isArray(earlier) ? earlier : [earlier]), value]);
      }
    }
    attributes['syslog.sd'] = sd;
  }
  const ts = m.timestamp;
  return {
    timestamp: ts ? ts.seconds * 1000 + Number(ts.fraction.padEnd(3, '0').slice(0, 3)) : NOW,
    message: m.msg ?? '',
    severity: severityFromSyslog(m.pri & 7),
    attributes,
  };
}

describe('syslog parser properties', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        assert.ok(wellFormed(parseSyslog(bytes, { now: NOW })));
      }),
      { seed: 5424, numRuns: 2000 },
    );
  });

  it('never throws on arbitrary text after a plausible PRI', () => {
    const pri = fc.oneof(
      fc.integer({ min: 0, max: 999 }).map((n) => `<${n}>`),
      fc.constantFrom('<', '<>', '<13>1 ', '<13>1 - - - - - [', '<13>Jan  1 00:00:00 '),
    );
    const junk = fc.string({ unit: 'binary', maxLength: 200 });
    fc.assert(
      fc.property(pri, junk, (prefix, rest) => {
        assert.ok(wellFormed(parseSyslog(prefix + rest, { now: NOW })));
        assert.ok(wellFormed(parseSyslog(Buffer.from(prefix + rest), { now: NOW })));
      }),
      { seed: 3164, numRuns: 2000 },
    );
  });

  it('never throws on valid messages with one character changed, inserted or removed', () => {
    fc.assert(
      fc.property(
        message5424,
        fc.nat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.constantFrom('replace', 'insert', 'remove'),
        (m, where, c, how) => {
          const line = serialize(m);
          const i = where % (line.length + 1);
          const mutated =
            how === 'insert'
              ? line.slice(0, i) + c + line.slice(i)
              : line.slice(0, i) + (how === 'replace' ? c : '') + line.slice(i + 1);
          assert.ok(wellFormed(parseSyslog(mutated, { now: NOW })));
        },
      ),
      { seed: 6587, numRuns: 1000 },
    );
  });

  it('parses generated RFC 5424 messages back to their fields, from text and from bytes', () => {
    fc.assert(
      fc.property(message5424, (m) => {
        const line = serialize(m);
        for (const input of [line, Buffer.from(line, 'utf8'), `${line}\n`]) {
          const result = parseSyslog(input, { now: NOW });
          if (!result.ok) assert.fail(`${result.error}\n  in ${JSON.stringify(line)}`);
          assert.equal(result.format, 'rfc5424');
          assert.deepEqual(result.event, expected(m), JSON.stringify(line));
        }
      }),
      { seed: 20_240_506, numRuns: 500 },
    );
  });

  it('places an RFC 3164 date at most a day after "now", in the latest such year', () => {
    const MONTHS = [
      'Jan',
      'Feb',
      'Mar',
      'Apr',
      'May',
      'Jun',
      'Jul',
      'Aug',
      'Sep',
      'Oct',
      'Nov',
      'Dec',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) }),
        fc.date({
          min: new Date(Date.UTC(2000, 0, 1)),
          max: new Date(Date.UTC(2001, 0, 1) - 1),
          noInvalidDate: true,
        }),
        (now, d) => {
          const day = d.getUTCDate();
          const line =
            `<13>${MONTHS[d.getUTCMonth()]} ${String(day).padStart(2, ' ')} ` +
            `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} h a: m`;
          const result = parseSyslog(line, { now, rfc3164TimeZone: 'utc' });
          if (!result.ok) assert.fail(result.error);
          const t = new Date(result.event.timestamp);
          assert.equal(t.getUTCMonth(), d.getUTCMonth());
          assert.equal(t.getUTCDate(), day);
          assert.equal(t.getUTCSeconds(), d.getUTCSeconds());
          assert.ok(t.getTime() <= now + 86_400_000, 'not more than a day ahead');
          // No later year would do: the next one with this date is too far ahead.
          for (let year = t.getUTCFullYear() + 1; year <= t.getUTCFullYear() + 8; year++) {
            const later = new Date(t);
            later.setUTCFullYear(year);
            if (later.getUTCDate() === day) {
              assert.ok(later.getTime() > now + 86_400_000);
              break;
            }
          }
        },
      ),
      { seed: 1164, numRuns: 500 },
    );
  });
});
