import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '@spillway/core';
import { redact } from '../src/index.js';
import { build, eventBatch, rawBatch } from './support.js';

const redactOne = async (patterns: Parameters<typeof redact>[0]['patterns'], text: string) => {
  const v = await build(redact({ patterns }));
  const [event] = await v.events(rawBatch([text]));
  return { message: event?.message, redactions: v.counters.get('redactions') };
};

describe('redact', () => {
  it('replaces e-mail addresses', async () => {
    assert.deepEqual(
      await redactOne([{ name: 'email' }], 'from bob.smith+x@mail.example.co.uk to a@b.io.'),
      {
        message: 'from [REDACTED] to [REDACTED].',
        redactions: 2,
      },
    );
    assert.equal((await redactOne([{ name: 'email' }], 'not@an address, @user')).redactions, 0);
  });

  it('replaces IPv4 addresses, not version numbers or out-of-range quads', async () => {
    const r = await redactOne(
      [{ name: 'ipv4' }],
      'client 10.0.0.1, peer 192.168.1.255. v1.2.3.4.5 bad 256.1.1.1 and 1.2.3',
    );
    assert.equal(
      r.message,
      'client [REDACTED], peer [REDACTED]. v1.2.3.4.5 bad 256.1.1.1 and 1.2.3',
    );
    assert.equal(r.redactions, 2);
  });

  it('replaces card numbers that pass the Luhn check, with or without separators', async () => {
    const r = await redactOne(
      [{ name: 'credit-card' }],
      'card 4111 1111 1111 1111, 5500-0000-0000-0004, order 4111111111111112, id 12345',
    );
    assert.equal(r.message, 'card [REDACTED], [REDACTED], order 4111111111111112, id 12345');
    assert.equal(r.redactions, 2);
  });

  it('replaces bearer tokens and keeps the scheme', async () => {
    const r = await redactOne(
      [{ name: 'bearer' }],
      'Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM0== next; bearer abc',
    );
    assert.equal(r.message, 'Authorization: Bearer [REDACTED] next; bearer [REDACTED]');
    assert.equal(r.redactions, 2);
  });

  it('runs user patterns with a literal replacement', async () => {
    const v = await build(redact({ patterns: ['password=\\S+'], replacement: 'password=$&' }));
    const [event] = await v.events(rawBatch(['login password=hunter2 ok']));
    assert.equal(event?.message, 'login password=$& ok');
  });

  it('looks into the message and every string attribute by default, and only those', async () => {
    const v = await build(redact({ patterns: [{ name: 'email' }] }));
    const input: LogEvent = {
      timestamp: 1,
      message: 'for a@b.io',
      attributes: { to: 'c@d.io', n: 5, nested: { to: 'e@f.io' } },
    };
    const [event] = await v.events(eventBatch([input]));
    assert.deepEqual(event, {
      timestamp: 1,
      message: 'for [REDACTED]',
      attributes: { to: '[REDACTED]', n: 5, nested: { to: 'e@f.io' } },
    });
    assert.equal(input.message, 'for a@b.io', 'the input event is not modified');
    assert.equal(v.counters.get('redactions'), 2);
  });

  it('looks only into the named fields when fields is set', async () => {
    const v = await build(redact({ patterns: [{ name: 'email' }], fields: ['to'] }));
    const [event] = await v.events(
      eventBatch([{ timestamp: 1, message: 'a@b.io', attributes: { to: 'c@d.io', cc: 'e@f.io' } }]),
    );
    assert.deepEqual(event, {
      timestamp: 1,
      message: 'a@b.io',
      attributes: { to: '[REDACTED]', cc: 'e@f.io' },
    });
  });

  it('passes the batch on as it is when nothing matched', async () => {
    const v = await build(redact({ patterns: [{ name: 'email' }, { name: 'ipv4' }] }));
    const input = rawBatch(['nothing to see', 'here']);
    assert.equal(await v.run(input), input);
    assert.equal(v.counters.get('redactions'), 0);
  });

  it('stays fast on long hostile lines', async () => {
    const v = await build(
      redact({
        patterns: [
          { name: 'email' },
          { name: 'ipv4' },
          { name: 'credit-card' },
          { name: 'bearer' },
        ],
      }),
    );
    const hostile = [
      'a'.repeat(100_000),
      `${'a.'.repeat(50_000)}@`,
      '1'.repeat(100_000),
      '1.'.repeat(50_000),
      `bearer${' '.repeat(50_000)}`,
      '1 '.repeat(50_000),
    ];
    const started = performance.now();
    await v.events(rawBatch(hostile));
    assert.ok(performance.now() - started < 2000, 'no pattern backtracks badly');
  });

  it('validates patterns, fields and replacement', () => {
    const problems = redact({
      patterns: ['(', 'x*', { name: 'phone' } as never, 7 as never],
      fields: [],
      replacement: 1 as never,
    }).validate();
    assert.match(String(problems[0]), /^patterns\[0\] is not a valid regular expression: /);
    assert.deepEqual(problems.slice(1), [
      'patterns[1] matches the empty string: it would redact nothing but insert text',
      'patterns[2].name must be one of "email", "ipv4", "credit-card", "bearer", not "phone"',
      'patterns[3] must be a regular expression (a string) or { name: "email", "ipv4", "credit-card", "bearer" }, not 7',
      'fields must be a non-empty array of strings, not an array',
      'replacement must be a string, not 1',
    ]);
    assert.deepEqual(redact({ patterns: [] }).validate(), [
      'patterns must be a non-empty array of regular expressions or { name }, not an array',
    ]);
  });
});
