/**
 * `describeConformance`: the kit as node:test test lines, one per check.
 */
import { describe, it } from 'node:test';
import type { SinkDefinition, SourceDefinition, TransformDefinition } from '@spillway/core';
import { type Check, runCheck, stageType } from '../internal/check.js';
import { assertConformance, type StageKind } from './report.js';
import { type SinkCheckOptions, selectedSinkChecks } from './sink.js';
import { type SourceCheckOptions, selectedSourceChecks } from './source.js';
import { selectedTransformChecks, type TransformCheckOptions } from './transform.js';

/** No check waits this long unless the stage hangs in a way nothing can interrupt. */
const CHECK_TIMEOUT_MS = 120_000;

/**
 * Registers a `describe()` titled after the stage with one `it()` per check, so each check is
 * its own line in the test report (and can be picked with `--test-name-pattern`). A failing
 * check fails its own line with the same sentence `assertConformance` would give; a skipped
 * check is reported as skipped, with the reason.
 *
 * When to use: in a stage's test file, instead of `checkX` + `assertConformance`, when you want
 * to see each check pass or fail separately.
 *
 * Gotchas: call it at the top level of a test file (or inside a `describe`), not inside an
 * `it()`. `make` is called once right away, to title the block. The checks run one after
 * another, as node:test runs tests in a file; do not give this block `concurrency`.
 *
 * @example
 * ```ts
 * describeConformance('transform', () => maskDigits({ fields: ['message'] }), {
 *   input: () => sampleBatch(),
 *   invalid: [maskDigits({ fields: [] })],
 * });
 * ```
 */
export function describeConformance(
  kind: 'source',
  make: () => SourceDefinition,
  options?: SourceCheckOptions,
): void;
export function describeConformance(
  kind: 'transform',
  make: () => TransformDefinition,
  options: TransformCheckOptions,
): void;
export function describeConformance(
  kind: 'sink',
  make: () => SinkDefinition,
  options?: SinkCheckOptions,
): void;
export function describeConformance(
  kind: StageKind,
  make: () => SourceDefinition | TransformDefinition | SinkDefinition,
  options?: SourceCheckOptions | TransformCheckOptions | SinkCheckOptions,
): void {
  const checks = (
    kind === 'source'
      ? selectedSourceChecks(options as SourceCheckOptions | undefined)
      : kind === 'transform'
        ? selectedTransformChecks(options as TransformCheckOptions)
        : selectedSinkChecks(options as SinkCheckOptions | undefined)
  ) as Check<SourceDefinition | TransformDefinition | SinkDefinition>[];
  const stage = stageType(make);
  describe(`${kind} "${stage}" conformance`, () => {
    for (const check of checks) {
      it(check.name, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
        const result = await runCheck(check, make);
        if (result.skipped) t.skip(result.detail);
        else t.diagnostic(result.detail);
        assertConformance({ stage, kind, ok: result.ok, checks: [result] });
      });
    }
  });
}
