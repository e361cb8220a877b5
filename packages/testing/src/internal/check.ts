/**
 * How the kits run checks: each check is a named function of `make` that builds what it needs,
 * judges, and cleans up after itself, so checks can run one after another in one report
 * (`checkSource`) or one per test (`describeConformance`). A check never throws: whatever goes
 * wrong becomes a failed result with a sentence.
 */
import { performance } from 'node:perf_hooks';
import { type BuildContext, Counters, SpillwayError, type StageDefinition } from '@spillway/core';
import type { CheckOptions } from '../conformance/options.js';
import type { CheckResult, ConformanceReport, StageKind } from '../conformance/report.js';
import { describeError, ms, preview } from './format.js';
import { attempt, within } from './timing.js';

/** What a check concludes. */
export interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly skipped?: boolean;
}

export interface Check<Definition, Name extends string = string> {
  readonly name: Name;
  run(make: () => Definition): Promise<Outcome>;
}

/** Thrown inside a check to end it as failed with `message` as the detail. */
export class CheckFailure extends Error {}

export const passed = (detail: string): Outcome => ({ ok: true, detail });
export const failed = (detail: string): Outcome => ({ ok: false, detail });
export const skipped = (detail: string): Outcome => ({ ok: true, skipped: true, detail });

/** The defaults of {@link CheckOptions}, resolved. */
export interface Timings {
  readonly reactMs: number;
  readonly startupMs: number;
  readonly settleMs: number;
  readonly maxGrowthBytes: number;
  readonly roundMs: number;
  readonly iterations: number;
}

export function timings(options: CheckOptions<unknown, string>): Timings {
  return {
    reactMs: options.reactMs ?? 2000,
    startupMs: options.startupMs ?? 5000,
    settleMs: options.settleMs ?? 1000,
    maxGrowthBytes: options.memory?.maxGrowthBytes ?? 2 * 1024 * 1024,
    roundMs: options.memory?.roundMs ?? 500,
    iterations: options.memory?.iterations ?? 1000,
  };
}

/** The checks `only` and `skip` leave in, in their declared order. */
export function selectChecks<D, N extends string>(
  checks: readonly Check<D, N>[],
  options: CheckOptions<unknown, string>,
): Check<D, N>[] {
  const names = new Set<string>(checks.map((c) => c.name));
  for (const name of [...(options.only ?? []), ...(options.skip ?? [])]) {
    if (!names.has(name)) {
      throw new RangeError(`unknown check "${name}"; the checks are: ${[...names].join(', ')}`);
    }
  }
  return checks.filter(
    (c) =>
      (options.only === undefined || options.only.includes(c.name)) &&
      !(options.skip ?? []).includes(c.name),
  );
}

export async function runCheck<D>(check: Check<D>, make: () => D): Promise<CheckResult> {
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = await check.run(make);
  } catch (err) {
    outcome = failed(
      err instanceof CheckFailure ? err.message : `the check could not run: ${describeError(err)}`,
    );
  }
  const took = performance.now() - started;
  return outcome.skipped
    ? { name: check.name, ok: true, detail: outcome.detail, skipped: true, ms: took }
    : { name: check.name, ok: outcome.ok, detail: outcome.detail, ms: took };
}

/** Runs `checks` one after another (never at once: they measure the whole process). */
export async function runKit<D extends StageDefinition>(
  kind: StageKind,
  make: () => D,
  checks: readonly Check<D>[],
): Promise<ConformanceReport> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, make));
  return { stage: stageType(make), kind, ok: results.every((r) => r.ok), checks: results };
}

/** The `type` of what `make` returns, for titles; never throws. */
export function stageType(make: () => { type?: unknown }): string {
  try {
    const type = make().type;
    return typeof type === 'string' && type !== '' ? type : '(no type)';
  } catch {
    return '(make() threw)';
  }
}

/** A definition from `make`, checked to be of `kind`; throws a {@link CheckFailure} if not. */
export function definitionOf<D extends StageDefinition>(make: () => D, kind: StageKind): D {
  let definition: D;
  try {
    definition = make();
  } catch (err) {
    throw new CheckFailure(`make() threw: ${describeError(err)}`);
  }
  if (definition === null || typeof definition !== 'object') {
    throw new CheckFailure(`make() returned ${preview(definition)}, not a stage definition`);
  }
  if (definition.kind !== kind) {
    throw new CheckFailure(
      `make() returned a ${String(definition.kind)} definition where a ${kind} was expected`,
    );
  }
  if (typeof definition.type !== 'string' || definition.type === '') {
    throw new CheckFailure('the definition has no type: give defineX() a `type`');
  }
  return definition;
}

/**
 * A definition from `make` whose options are valid: every check but `validation` needs one,
 * and says so rather than failing in some stranger way later.
 */
export function validDefinitionOf<D extends StageDefinition>(make: () => D, kind: StageKind): D {
  const definition = definitionOf(make, kind);
  let problems: unknown;
  try {
    problems = definition.validate();
  } catch (err) {
    throw new CheckFailure(`validate() threw on the options of make(): ${describeError(err)}`);
  }
  if (Array.isArray(problems) && problems.length > 0) {
    throw new CheckFailure(
      `make() returned a definition whose options are invalid (${preview(problems)}); ` +
        'the checks need one that validates',
    );
  }
  return definition;
}

/** A build context of our own: the stage's counters, and a signal the check aborts at its end. */
export interface StageScope {
  readonly context: BuildContext;
  readonly counters: Counters;
  /** Aborts the build signal. */
  end(): void;
}

export function stageScope(name: string, signal?: AbortSignal): StageScope {
  const controller = new AbortController();
  const counters = new Counters();
  return {
    context: { name, signal: signal ?? controller.signal, counters },
    counters,
    end: () =>
      controller.abort(new SpillwayError('ERR_ABORTED', 'conformance check: end of the check')),
  };
}

/** Builds the running stage within `startupMs`; throws a {@link CheckFailure} if it cannot. */
export async function buildInstance<I>(
  definition: { build(ctx: BuildContext): I | Promise<I> },
  context: BuildContext,
  startupMs: number,
): Promise<I> {
  const built = await within(
    attempt(() => definition.build(context)),
    startupMs,
  );
  if (built.state === 'pending') {
    throw new CheckFailure(`build() had not returned after ${ms(startupMs)}`);
  }
  if (built.state === 'rejected') {
    throw new CheckFailure(`build() threw: ${describeError(built.error)}`);
  }
  if (built.value === null || typeof built.value !== 'object') {
    throw new CheckFailure(`build() returned ${preview(built.value)}, not a running stage`);
  }
  return built.value;
}
