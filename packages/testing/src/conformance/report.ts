/**
 * What a conformance run returns, and the assertion that turns it into a test failure.
 */
import { AssertionError } from 'node:assert';

/** The three kinds of stage the kit checks. */
export type StageKind = 'source' | 'transform' | 'sink';

/** The result of one check. */
export interface CheckResult {
  /** Stable, kebab-case: `stopping`, `backpressure`, `clean-shutdown`… */
  readonly name: string;
  /** True when the stage honoured this part of the contract (or the check could not apply). */
  readonly ok: boolean;
  /** One or two sentences: what was measured, and on failure what the stage did wrong. */
  readonly detail: string;
  /**
   * True when the check could not run here (e.g. no way to force garbage collection). A
   * skipped check is `ok`: it proves nothing either way.
   */
  readonly skipped?: boolean;
  /** How long the check took, in milliseconds. */
  readonly ms: number;
}

/**
 * Everything the kit found out about one stage.
 *
 * When to use: read it to print or log a stage's conformance; pass it to
 * {@link assertConformance} to fail a test.
 *
 * Gotchas: `ok` is false as soon as one check failed; skipped checks count as passed, so read
 * their `detail` if a check matters to you (see `checks[i].skipped`).
 *
 * @example
 * ```ts
 * const report = await checkSink(() => jsonlFile({ path }));
 * for (const check of report.checks) console.log(check.ok ? '✓' : '✗', check.name, check.detail);
 * ```
 */
export interface ConformanceReport {
  /** The stage's `type`. */
  readonly stage: string;
  readonly kind: StageKind;
  readonly ok: boolean;
  /** In the order they ran. */
  readonly checks: readonly CheckResult[];
}

/**
 * Throws an `AssertionError` (from `node:assert`) listing every failed check with its detail;
 * returns quietly when every check passed.
 *
 * When to use: in a test, right after `checkSource` / `checkTransform` / `checkSink`.
 *
 * Gotchas: it does not re-run anything; a report with skipped checks passes (see
 * {@link CheckResult.skipped}).
 *
 * @example
 * ```ts
 * it('ticker conforms', async () => {
 *   assertConformance(await checkSource(() => ticker({ everyMs: 10 })));
 * });
 * ```
 */
export function assertConformance(report: ConformanceReport): void {
  const failed = report.checks.filter((check) => !check.ok);
  if (failed.length === 0) return;
  const lines = failed.map((check) => `  ✗ ${check.name}: ${check.detail}`);
  throw new AssertionError({
    message:
      `${report.kind} "${report.stage}" failed ${failed.length} of ${report.checks.length} ` +
      `conformance checks:\n${lines.join('\n')}`,
    actual: failed.map((check) => check.name),
    expected: [],
    operator: 'conforms',
  });
}
