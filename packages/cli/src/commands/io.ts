/** Where a command writes and what it reads from its environment; `process`'s by default. */
import type { Environment } from '../config/document.js';
import { CliError, formatProblem } from '../config/errors.js';

/** The streams and environment a command uses. */
export interface CliIo {
  /** Data and the dashboard; the command's own answer (`validate`'s OK, a replay report). */
  readonly stdout: NodeJS.WriteStream;
  /** Everything about the run: problems, progress, the stop report. */
  readonly stderr: NodeJS.WriteStream;
  /** What `${VAR}` in a config reads. */
  readonly env: Environment;
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** A line on stderr, prefixed so that it stands out among a pipeline's own output. */
export function say(io: CliIo, message: string): void {
  io.stderr.write(`spillway: ${message}\n`);
}

/**
 * Writes what went wrong and returns the exit code: a `CliError`'s problems one a line
 * (`file:line:col: message`) or its message; anything else as an unexpected failure (1).
 */
export function report(io: CliIo, err: unknown): 1 | 2 {
  if (CliError.is(err)) {
    if (err.problems.length > 0) {
      for (const problem of err.problems) io.stderr.write(`${formatProblem(problem)}\n`);
      const n = err.problems.length;
      say(io, `${n} problem${n === 1 ? '' : 's'} in ${err.problems[0]!.file}; nothing was started`);
    } else say(io, err.message);
    return err.exitCode;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  say(io, `unexpected failure: ${message}`);
  return 1;
}
