/**
 * Errors of the `spillway` command. A `CliError` has a code of its own, so core's closed
 * `ErrorCode` union stays untouched, and an exit code derived from it: problems with what the
 * operator wrote (the config, the flags) exit 2 and start nothing; failures of a pipeline that
 * was fine on paper exit 1.
 *
 * A `CliError` carries core's `Symbol.for('spillway.error')` brand, so `SpillwayError.is(err)`
 * recognises it too; match its code with `CliError.is(err, code)`.
 *
 * (This file lives under `config/` rather than at the package root only because the root is
 * shared with the metrics and dashboard modules; it is the package's one errors module.)
 */

import { errorFamily } from '@spillway/core';

/** Every stable code a `CliError` carries. */
export type CliErrorCode =
  /** The config has problems (`problems` lists each, with file, line and column). Exit 2. */
  | 'ERR_CLI_CONFIG_INVALID'
  /** The config file cannot be read or imported, or its extension is not one we load. Exit 2. */
  | 'ERR_CLI_CONFIG_UNREADABLE'
  /** A flag or argument is wrong (`--metrics nonsense`, `--sink` naming no sink). Exit 2. */
  | 'ERR_CLI_USAGE'
  /** A valid pipeline failed to build or start, or stopped with stuck stages. Exit 1. */
  | 'ERR_CLI_PIPELINE_FAILED';

/** Where a problem is, as precisely as known, and what it is. */
export interface ConfigProblem {
  /** The config file, as the operator named it. */
  readonly file: string;
  /** 1-based; absent when the problem has no place in the file (a TypeScript option). */
  readonly line?: number;
  /** 1-based; present only with `line`. */
  readonly column?: number;
  /** A sentence naming the stage and, where there is one, the option. */
  readonly message: string;
}

/** `file:line:col: message`, the form editors and CI annotate; `file: message` without a line. */
export function formatProblem(problem: ConfigProblem): string {
  if (problem.line === undefined) return `${problem.file}: ${problem.message}`;
  const column = problem.column === undefined ? '' : `:${problem.column}`;
  return `${problem.file}:${problem.line}${column}: ${problem.message}`;
}

/**
 * An error of the `spillway` command.
 *
 * When to use: `loadConfig` rejects with `ERR_CLI_CONFIG_INVALID` (read `problems`) or
 * `ERR_CLI_CONFIG_UNREADABLE`; the commands turn any `CliError` into its message on stderr and
 * `exitCode`.
 *
 * @example
 * ```ts
 * try { await loadConfig('pipeline.yaml'); }
 * catch (err) {
 *   if (CliError.is(err, 'ERR_CLI_CONFIG_INVALID')) for (const p of err.problems) console.error(formatProblem(p));
 *   else throw err;
 * }
 * ```
 */
export class CliError extends errorFamily<CliErrorCode>('CliError', 'spillway.cli.error') {
  /** With `ERR_CLI_CONFIG_INVALID`: every problem found, not just the first. */
  readonly problems: readonly ConfigProblem[];

  constructor(
    code: CliErrorCode,
    message: string,
    options: { problems?: readonly ConfigProblem[]; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options.problems ?? [];
  }

  /** 2 for what the operator wrote (config, flags), 1 for a pipeline that failed at run time. */
  get exitCode(): 1 | 2 {
    return this.code === 'ERR_CLI_PIPELINE_FAILED' ? 1 : 2;
  }

  /** `ERR_CLI_CONFIG_INVALID` with every problem; its message lists them, one a line. */
  static invalid(file: string, problems: readonly ConfigProblem[]): CliError {
    const lines = problems.map(formatProblem).join('\n');
    return new CliError(
      'ERR_CLI_CONFIG_INVALID',
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines}`,
      { problems },
    );
  }
}
