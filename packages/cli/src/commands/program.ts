/**
 * The `spillway` program: its commands, flags and help (commander), and the exit code of a
 * run. Each command is a function of its own module (`runCommand`, `validateCommand`, …) that
 * resolves with its exit code; this module only reads the command line into their options.
 *
 * Exit codes: 0 success; 1 a runtime failure (the pipeline could not be built or served, a
 * replay whose entries were refused again); 2 a problem with what was written — the config,
 * or the command line itself (an unknown flag, `--deadline soon`). Nothing is started when the
 * exit code is 2.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runDemo } from '../demo/demo.js';
import { configReference } from './config-reference.js';
import { dlqReplayCommand } from './dlq.js';
import { type CliIo, processIo, report } from './io.js';
import { DEFAULT_DEADLINE_MS, runCommand } from './run.js';
import { validateCommand } from './validate.js';

/**
 * Runs the command line `argv` (as `process.argv`: node, script, then the arguments); resolves
 * with the exit code.
 *
 * Gotcha: `signal` ends a command early as SIGTERM would (a run drains, a replay stops); the
 * process's own signals are handled as well.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv);
 * ```
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo(),
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  let code = 0;
  const program = createProgram(
    io,
    (c) => {
      code = c;
    },
    options,
  );
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return report(io, err);
  }
  return code;
}

/**
 * The commander program; `done` receives the command's exit code; `signal` ends a command
 * early (see {@link main}).
 *
 * When to use: to embed the commands in a program of your own, or to print their help.
 */
export function createProgram(
  io: CliIo,
  done: (code: number) => void,
  options: { signal?: AbortSignal } = {},
): Command {
  const outer = options.signal;
  const program = new Command('spillway')
    .description(
      'Log pipelines in which every hop is a bounded channel and pressure travels back to the source.',
    )
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Configs: YAML (.yaml, .yml), JSON (.json), or a module (.ts, .mts, .js, .mjs) whose default
export is a PipelineSpec or a PipelineDefinition. Reference: docs/configuration.md.

Exit codes: 0 ok; 1 runtime failure; 2 problem in the config or the command line (nothing started).

Examples:
  $ spillway validate pipeline.yaml
  $ spillway run pipeline.yaml --metrics 127.0.0.1:9464
  $ spillway run pipeline.ts --deadline 30000 --no-dashboard
  $ spillway dlq replay /var/lib/spillway/out.dlq.replay --to pipeline.yaml --sink out
  $ spillway config-reference > docs/configuration.md`,
    );

  program
    .command('run')
    .description('Build and start the pipeline a config describes, until SIGTERM or SIGINT.')
    .argument('<config>', 'pipeline config: .yaml, .yml, .json, .ts, .mts, .js or .mjs')
    .addOption(
      new Option('--deadline <ms>', 'how long a graceful stop (or a reload) may drain')
        .argParser(milliseconds)
        .default(DEFAULT_DEADLINE_MS),
    )
    .addOption(
      new Option(
        '--metrics <host:port>',
        'serve Prometheus metrics (/metrics) and health (/health) there',
      ).argParser(hostPort),
    )
    .option('--dashboard', 'show the live dashboard (default when stdout is a terminal)')
    .option('--no-dashboard', 'print a one-line summary every 5 s instead')
    .addHelpText(
      'after',
      `
Signals:
  SIGTERM, SIGINT  stop gracefully: sources stop, what is in flight drains for up to --deadline
                   ms; then what is undelivered is printed. Again: stop now (spill buffers keep
                   what they hold on disk for the next start).
  SIGHUP           reload the config: if it has problems they are printed and the running
                   pipeline is left alone; if it is valid, the running pipeline drains (spill
                   buffers persist, file sources checkpoint) and the new one starts where it ended.

Examples:
  $ spillway run pipeline.yaml
  $ LOGS_TOKEN=… spillway run pipeline.yaml --metrics 0.0.0.0:9464 --no-dashboard
  $ kill -HUP $(pidof spillway)     # after editing pipeline.yaml`,
    )
    .action(
      async (
        config: string,
        flags: { deadline: number; metrics?: HostPort; dashboard?: boolean },
      ) => {
        done(
          await runCommand(config, io, {
            deadline: flags.deadline,
            ...(flags.metrics ? { metrics: flags.metrics } : {}),
            ...(flags.dashboard === undefined ? {} : { dashboard: flags.dashboard }),
          }),
        );
      },
    );

  program
    .command('validate')
    .description(
      'Check a config as `run` would, build nothing; print OK and the graph, or every problem.',
    )
    .argument('<config>', 'pipeline config')
    .addHelpText(
      'after',
      `
Examples:
  $ spillway validate pipeline.yaml
  OK pipeline.yaml: "demo": sources app (file); transforms parse (parseJson ← app); sinks out (http ← parse)
  $ spillway validate broken.yaml
  broken.yaml:12:10: http "out": url must be an absolute http(s) URL, not "logs.example.com"`,
    )
    .action(async (config: string) => {
      done(await validateCommand(config, io, outer ? { signal: outer } : {}));
    });

  const dlq = program.command('dlq').description('Work with dead-letter files.');
  dlq
    .command('replay')
    .description("Send a dead-letter file's records again through a sink of a config.")
    .argument('<dlq-file>', 'the dead-letter file (NDJSON, as a sink or workers stage wrote it)')
    .requiredOption('--to <config>', 'the config holding the sink')
    .requiredOption('--sink <name>', "the sink's name in that config")
    .addOption(
      new Option('--concurrency <n>', "writes open at once (default: the sink's own)").argParser(
        positiveInteger,
      ),
    )
    .addHelpText(
      'after',
      `
The file is only read. If the sink writes its dead letters to that same file, move it aside
first. Exit code 1 when some entries were refused again (the report lists why).

Examples:
  $ mv /var/lib/spillway/out.dlq /var/lib/spillway/out.dlq.replay
  $ spillway dlq replay /var/lib/spillway/out.dlq.replay --to pipeline.yaml --sink out`,
    )
    .action(async (file: string, flags: { to: string; sink: string; concurrency?: number }) => {
      await interruptible(outer, async (signal) => {
        done(
          await dlqReplayCommand(file, io, {
            to: flags.to,
            sink: flags.sink,
            signal,
            ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
          }),
        );
      });
    });

  program
    .command('config-reference')
    .description('Print the configuration reference (Markdown), generated from the stage registry.')
    .addHelpText('after', '\nExample:\n  $ spillway config-reference > docs/configuration.md')
    .action(() => {
      io.stdout.write(configReference());
      done(0);
    });

  program
    .command('demo')
    .description('The backpressure cascade, live: four sources, a sink whose backend stalls.')
    .addOption(
      new Option('--seconds <n>', 'stop after this many seconds').argParser(positiveInteger),
    )
    .addOption(
      new Option('--cycle <n>', 'seconds per stall-and-recover cycle without a terminal').argParser(
        positiveInteger,
      ),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ spillway demo\n  $ spillway demo --seconds 60 --cycle 10',
    )
    .action(async (flags: { seconds?: number; cycle?: number }) => {
      await interruptible(outer, async (signal) => {
        await runDemo({
          signal,
          ...(flags.seconds === undefined ? {} : { seconds: flags.seconds }),
          ...(flags.cycle === undefined ? {} : { cycle: flags.cycle }),
        });
        done(0);
      });
    });

  return program;
}

interface HostPort {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`, `:port` or `port` (host 127.0.0.1). */
function hostPort(text: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new InvalidArgumentError('expected host:port, e.g. 127.0.0.1:9464 or [::1]:9464');
  }
  return { host: match[1] || match[2] || '127.0.0.1', port };
}

function milliseconds(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError('expected a whole number of milliseconds, e.g. 10000');
  }
  return value;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !(value >= 1) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError('expected a positive whole number');
  }
  return value;
}

/**
 * Runs `body` with a signal that SIGINT, SIGTERM and `outer` abort, for the commands that end
 * early.
 */
async function interruptible(
  outer: AbortSignal | undefined,
  body: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  try {
    await body(signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** This package's version, from its package.json (three levels up from dist/src/commands). */
function version(): string {
  try {
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
