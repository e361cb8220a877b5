/**
 * What a benchmark scenario is: a named race between spillway and its peers.
 *
 * A scenario module (`src/scenarios/<name>.ts`) exports one {@link ScenarioDefinition}; the
 * registry lists them. The harness never compares numbers across runs: every ratio a scenario
 * reports is computed from contenders that ran interleaved in the same process, so it holds on
 * a noisy machine even when the absolute numbers do not.
 */

/** The measured outcome of one contender (spillway variant or peer). */
export interface ContenderResult {
  /** Stable name, e.g. `spillway_batch1024` or `node_streams`: ratios and docs refer to it. */
  readonly name: string;
  /** Median over the measured rounds. */
  readonly eventsPerSec: number;
  /** Median throughput in MB/s (10^6 bytes) of the events' estimated size, when meaningful. */
  readonly mbPerSec?: number;
  /** 99th percentile latency in milliseconds, for scenarios that measure latency. */
  readonly p99Ms?: number;
  /** Highest process RSS (MiB) sampled while this contender ran. */
  readonly peakRssMb?: number;
}

/** What a scenario's `run` returns; also the `--json` output without the `scenario` key. */
export interface ScenarioResult {
  readonly results: readonly ContenderResult[];
  /** Named ratios between contenders, e.g. `batched1024_vs_node_streams`. Always > 0. */
  readonly ratios: Readonly<Record<string, number>>;
  /**
   * The parameters this run used (events, rounds, channel bounds…), shown in the docs so a
   * reader knows what the numbers are of. Not part of the `--json` output.
   */
  readonly setup: Readonly<Record<string, string | number>>;
}

/** A goal stated in the docs: `ratios[ratio]` should be at least `atLeast`. */
export interface RatioTarget {
  readonly ratio: string;
  readonly atLeast: number;
}

/** Options every scenario run receives. */
export interface RunOptions {
  /** Aborts the run (Ctrl-C); a scenario stops its contenders and rejects. */
  readonly signal: AbortSignal;
  /** Small inputs and a single round: proves the scenario works, measures nothing useful. */
  readonly quick?: boolean;
  /** Where progress goes; never stdout, which belongs to `--json`. */
  readonly log: (line: string) => void;
}

/**
 * One named benchmark.
 *
 * When to use: add a scenario for every hot path spillway claims to be fast at, with the peer a
 * user would otherwise pick. Gotchas: contenders must do the same work (same input, same
 * topology, checked output count), and spillway's bounds must be real — a benchmark that turns
 * off backpressure measures a pipeline nobody should run.
 *
 * @example
 * ```ts
 * export const fooScenario: ScenarioDefinition = {
 *   name: 'foo',
 *   description: 'Throughput of foo through a bounded channel.',
 *   peers: 'bar (the usual choice for foo)',
 *   targets: [{ ratio: 'spillway_vs_bar', atLeast: 2 }],
 *   run: async ({ signal, quick, log }) => ({ results, ratios, setup }),
 * };
 * ```
 */
export interface ScenarioDefinition {
  /** Kebab-case; the CLI argument and the docs section. */
  readonly name: string;
  /** What the scenario optimises, in a sentence or two. */
  readonly description: string;
  /** What spillway is compared with, and why that peer. */
  readonly peers: string;
  readonly targets: readonly RatioTarget[];
  run(options: RunOptions): Promise<ScenarioResult>;
}
