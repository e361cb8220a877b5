/**
 * `spillway dlq replay <dlq-file> --to <config> --sink <name>`: sends a dead-letter file's
 * records again, through a sink built from a config — after the backend's schema was fixed, or
 * the stage that made the backend answer 400 was changed.
 *
 * The config is loaded and validated whole, exactly as `run` would (so a replay cannot use a
 * sink the running pipeline would refuse), and only the named sink is built. The dead-letter
 * file is only read. A sink that writes its own dead letters to that very file is refused:
 * what it refused again would be appended to the file being read.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isRecord } from '@spillway/core';
import { type ReplayReport, replayDeadLetters } from '@spillway/sinks';
import { CliError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { type CliIo, report, say } from './io.js';

/** Options of {@link dlqReplayCommand}. */
export interface DlqReplayOptions {
  /** The config holding the sink. */
  to: string;
  /** The sink's name in that config. */
  sink: string;
  /** Writes open at once. Default: the sink's own concurrency. */
  concurrency?: number;
  /** Stops the replay: entries not yet written are left in the file's tail, unsent. */
  signal?: AbortSignal;
}

/**
 * Replays `file` into a sink of a config; resolves with the exit code: 0 when every entry was
 * delivered, 1 when some were refused again (the report says why), 2 for problems with the
 * config or the arguments.
 *
 * @example
 * ```ts
 * process.exitCode = await dlqReplayCommand('/var/lib/spillway/out.dlq', processIo(), {
 *   to: 'pipeline.yaml', sink: 'out',
 * });
 * ```
 */
export async function dlqReplayCommand(
  file: string,
  io: CliIo,
  options: DlqReplayOptions,
): Promise<0 | 1 | 2> {
  try {
    const loaded = await loadConfig(options.to, {
      env: io.env,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const sinks = loaded.definition.spec.sinks;
    const sink = Object.hasOwn(sinks, options.sink) ? sinks[options.sink] : undefined;
    if (!sink) {
      const names = Object.keys(sinks);
      throw new CliError(
        'ERR_CLI_USAGE',
        `${options.to} has no sink "${options.sink}"; its sinks are ${names.join(', ')}`,
      );
    }
    const path = resolve(file);
    const own = ownDeadLetters(sink.stage.options);
    if (own !== undefined && resolve(own) === path) {
      throw new CliError(
        'ERR_CLI_USAGE',
        `sink "${options.sink}" writes its own dead letters to ${file}: move the file aside first (mv ${file} ${file}.replay) and replay that`,
      );
    }
    try {
      await access(path);
    } catch (cause) {
      throw new CliError('ERR_CLI_USAGE', `${file}: cannot read the dead-letter file`, { cause });
    }
    const result = await replayDeadLetters(path, sink.stage, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    });
    io.stdout.write(describeReport(file, options.sink, sink.stage.type, result));
    return Object.keys(result.failed).length > 0 ? 1 : 0;
  } catch (err) {
    if (options.signal?.aborted) {
      say(io, 'replay interrupted: entries not yet written were not sent');
      return 1;
    }
    return report(io, err);
  }
}

/** The path a sink's `deadLetters` option names, if it has one. */
function ownDeadLetters(options: unknown): string | undefined {
  if (!isRecord(options) || !isRecord(options.deadLetters)) return undefined;
  return typeof options.deadLetters.path === 'string' ? options.deadLetters.path : undefined;
}

/** The report, a summary line and one line per reason entries failed. */
export function describeReport(file: string, sink: string, type: string, r: ReplayReport): string {
  const failed = Object.values(r.failed).reduce((sum, n) => sum + n, 0);
  const lines = [
    `replayed ${file} into sink "${sink}" (${type}): ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} read, ` +
      `${r.delivered} delivered (${r.deliveredRecords} record${r.deliveredRecords === 1 ? '' : 's'}), ` +
      `${failed} failed, ${r.skipped} skipped, ${r.damaged} damaged line${r.damaged === 1 ? '' : 's'}`,
    ...Object.entries(r.failed).map(([reason, n]) => `  failed ${n}× ${reason}`),
  ];
  return `${lines.join('\n')}\n`;
}
