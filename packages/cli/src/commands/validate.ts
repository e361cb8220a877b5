/**
 * `spillway validate <file>`: loads and validates a config exactly as `run` would, and builds
 * nothing. Prints `OK <file>: <the graph on one line>` on stdout and exits 0, or every problem
 * on stderr (`file:line:col: message`) and exits 2.
 */
import { loadConfig } from '../config/load.js';
import { describePipeline } from '../config/summary.js';
import { type CliIo, report } from './io.js';

/**
 * Validates the config at `file`; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await validateCommand('pipeline.yaml', processIo());
 * ```
 */
export async function validateCommand(
  file: string,
  io: CliIo,
  options: { signal?: AbortSignal } = {},
): Promise<0 | 1 | 2> {
  try {
    const loaded = await loadConfig(file, {
      env: io.env,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    io.stdout.write(`OK ${file}: ${describePipeline(loaded.definition.spec)}\n`);
    return 0;
  } catch (err) {
    return report(io, err);
  }
}
