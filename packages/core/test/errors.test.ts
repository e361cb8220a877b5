// A package's own error family: its codes, core's brand and its own, recognised across copies
// of the package (a second `errorFamily` call with the same brand stands in for a second copy).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFamily, SpillwayError } from '../src/index.js';

type Code = 'ERR_A' | 'ERR_B';

class FamilyError extends errorFamily<Code>('FamilyError', 'spillway.test.family') {
  readonly extra: number;

  constructor(code: Code, message: string, options: { extra?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.extra = options.extra ?? 0;
  }
}

describe('errorFamily', () => {
  it('keeps code, name, message, cause and the subclass fields', () => {
    const cause = new Error('disk full');
    const err = new FamilyError('ERR_A', 'it broke', { extra: 7, cause });
    assert.equal(err.code, 'ERR_A');
    assert.equal(err.name, 'FamilyError');
    assert.equal(err.message, 'it broke');
    assert.equal(err.cause, cause);
    assert.equal(err.extra, 7);
    assert.ok(err instanceof Error);
  });

  it('is recognised by its family (with or without a code) and by SpillwayError.is, nothing else', () => {
    const caught: unknown = new FamilyError('ERR_B', 'x');
    if (FamilyError.is(caught)) assert.equal(caught.extra, 0, 'narrows to the subclass');
    const err: unknown = caught;
    assert.ok(FamilyError.is(err));
    assert.ok(FamilyError.is(err, 'ERR_B'));
    assert.ok(!FamilyError.is(err, 'ERR_A'));
    assert.ok(SpillwayError.is(err), "carries core's brand");
    const other = errorFamily<Code>('OtherError', 'spillway.test.other');
    assert.ok(!other.is(err), "another family's brand");
    assert.ok(!FamilyError.is(new SpillwayError('ERR_ABORTED', 'x')));
    assert.ok(!FamilyError.is(new Error('x')));
    assert.ok(!FamilyError.is(null));
  });

  it('recognises errors from another copy of the package (the same brand)', () => {
    const copy = errorFamily<Code>('FamilyError', 'spillway.test.family');
    assert.ok(FamilyError.is(new copy('ERR_A', 'from the other copy'), 'ERR_A'));
  });
});
