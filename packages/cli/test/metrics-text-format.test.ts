// The tests' Prometheus text parser must be strict, or the server tests would pass on output a
// Prometheus server refuses: it reads what the format allows and throws on what it does not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExposition, sampleValue } from './metrics-text-format.js';

describe('parseExposition', () => {
  it('reads families, escaped label values, special floats and timestamps', () => {
    const f = parseExposition(
      [
        '# HELP a_total Things\\nthat happened.',
        '# TYPE a_total counter',
        'a_total{x="q\\"uo\\\\te\\n",y="2",} 3 1700000000000',
        'a_total{x="other"} 1e3',
        '# a plain comment',
        '',
        '# TYPE g gauge',
        'g NaN',
        'h{le="+Inf"} +Inf',
        '',
      ].join('\n'),
    );
    assert.equal(f.get('a_total')?.type, 'counter');
    assert.equal(f.get('a_total')?.help, 'Things\nthat happened.');
    assert.equal(sampleValue(f, 'a_total', { x: 'q"uo\\te\n', y: '2' }), 3);
    assert.equal(sampleValue(f, 'a_total', { x: 'other' }), 1000);
    assert.ok(Number.isNaN(sampleValue(f, 'g')));
    assert.equal(sampleValue(f, 'h'), Number.POSITIVE_INFINITY);
    assert.equal(f.get('h')?.type, undefined, 'untyped');
  });

  const bad: [string, string][] = [
    ['no final newline', 'a 1'],
    ['bad metric name', '1a 1\n'],
    ['bad label name', 'a{1x="v"} 1\n'],
    ['unterminated label value', 'a{x="v} 1\n'],
    ['unknown escape', 'a{x="\\t"} 1\n'],
    ['label twice', 'a{x="1",x="2"} 1\n'],
    ['bad value', 'a 1,5\n'],
    ['no value', 'a{x="1"}\n'],
    ['bad timestamp', 'a 1 1.5\n'],
    ['second TYPE', '# TYPE a gauge\n# TYPE a gauge\na 1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['unknown type', '# TYPE a thing\n'],
    ['second HELP', '# HELP a x\n# HELP a y\n'],
    ['non-contiguous family', 'a 1\nb 1\na{x="1"} 2\n'],
    ['same series twice', 'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n'],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => parseExposition(text)));
  }
});
