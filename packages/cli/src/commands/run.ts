/**
 * `spillway run <file>`: loads and validates the config, builds the pipeline and starts it, then
 * answers signals until it stops.
 *
 * ```
 *  load + validate ─▶ metrics server (--metrics) ─▶ build ─▶ start ─▶ dashboard / summary lines
 *   │ problems: exit 2,   │ cannot listen: exit 1,    │ a stage refuses its options: exit 2
 *   │ nothing started     │ nothing started           ▼
 *   ▼                                               running ◀──────────────────────────────┐
 *                     SIGTERM / SIGINT ─▶ drain (deadline) ─▶ report ─▶ exit 0             │
 *                       again ─▶ stop now: buffers persist what they hold                  │
 *                     SIGHUP ─▶ load + validate again ─┬─ problems: print them, keep running ┤
 *                                                      └─ valid: drain the old pipeline,    │
 *                                                         build and start the new one ──────┘
 *                     every source finished ─▶ drain ─▶ exit 0
 * ```
 *
 * A reload stops the old pipeline the graceful way — sources stop reading, what is in flight
 * drains to the sinks, spill buffers persist their backlog, file sources write their
 * checkpoints — before the new one is built, so the new one resumes where the old one ended
 * and owns the same ports, paths and buffer directories without a clash. Nothing in flight is
 * lost; the price is a gap (the drain, then the build) during which push sources (http, otlp,
 * tcp, udp) are not listening. If the new pipeline fails to build, the old one is built and
 * started again from its own, still valid, definitions.
 *
 * Exit codes: 0 after a stop (graceful, or at the deadline with what was undelivered printed);
 * 1 when the pipeline could not be built or served for reasons other than its config, or
 * stages were still running after the hard stop; 2 for problems in the config or the flags.
 */
import { definePipeline, type Pipeline, SpillwayError, type StopResult } from '@spillway/core';
import { CliError, formatProblem } from '../config/errors.js';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { describePipeline } from '../config/summary.js';
import { startDashboard } from '../dashboard/dashboard.js';
import { startMetricsServer } from '../metrics/server.js';
import { type CliIo, report } from './io.js';

/** Options of {@link runCommand}, as the flags give them. */
export interface RunCommandOptions {
  /** Milliseconds a graceful stop (SIGTERM, SIGINT, a reload) may drain. Default 10 000. */
  deadline?: number;
  /** Serve Prometheus metrics there. */
  metrics?: { host: string; port: number };
  /** true: the live dashboard; false: a summary line every 5 s; default: the dashboard on a TTY. */
  dashboard?: boolean;
  /** Ends the run as SIGTERM would (for embedding; the process's own signals are handled too). */
  signal?: AbortSignal;
}

/** The default drain deadline of a graceful stop. */
export const DEFAULT_DEADLINE_MS = 10_000;

/** Milliseconds between summary lines when there is no dashboard. */
const SUMMARY_INTERVAL_MS = 5000;

/**
 * Runs the pipeline the config at `file` describes until it is stopped; resolves with the exit
 * code.
 *
 * When to use: it is `spillway run`; call it from your own entry point to get the same
 * behaviour (signals, reload, drain).
 *
 * Gotchas: it installs handlers for SIGTERM, SIGINT and SIGHUP on `process` for its duration,
 * replacing Node's default of exiting at once.
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand('pipeline.yaml', processIo(), { deadline: 30_000 });
 * ```
 */
export async function runCommand(
  file: string,
  io: CliIo,
  options: RunCommandOptions = {},
): Promise<0 | 1 | 2> {
  return new Runner(file, io, options).run();
}

/** What a drain ended with. */
interface DrainResult extends StopResult {
  /** The second signal cut the drain short. */
  readonly hurried: boolean;
}

/** One running pipeline. */
interface Running {
  readonly loaded: LoadedConfig;
  readonly pipeline: Pipeline;
  /** Set when the drain begins, so that the end it causes is not taken for sources finishing. */
  draining: boolean;
}

class Runner {
  readonly #file: string;
  readonly #io: CliIo;
  readonly #deadline: number;
  readonly #options: RunCommandOptions;
  /** Aborted at the second stop signal: the drain under way ends now. */
  readonly #hurry = new AbortController();
  /** Aborted when the run ends, for whatever still listens (the metrics server). */
  readonly #lifetime = new AbortController();
  #current: Running | undefined;
  #stopSignals = 0;
  #stopRequested = false;
  #reloadRequested = false;
  #ended = false;
  #wake: () => void = () => {};
  #dashboard: { stop(): void; output: NodeJS.WriteStream; tty: boolean } | undefined;
  /** Set once the final report is near: the dashboard is not started again. */
  #closing = false;

  constructor(file: string, io: CliIo, options: RunCommandOptions) {
    this.#file = file;
    this.#io = io;
    this.#options = options;
    this.#deadline = options.deadline ?? DEFAULT_DEADLINE_MS;
  }

  async run(): Promise<0 | 1 | 2> {
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(this.#file, this.#loadOptions());
    } catch (err) {
      return report(this.#io, err);
    }
    let metrics: { url: string; close(): Promise<void> } | undefined;
    if (this.#options.metrics) {
      const { host, port } = this.#options.metrics;
      try {
        // Before the pipeline: a port that is taken stops the run while nothing has started.
        metrics = await startMetricsServer({
          pipeline: () => this.#current?.pipeline,
          host,
          port,
          signal: this.#lifetime.signal,
        });
      } catch (err) {
        this.#say(
          `cannot serve metrics on ${host}:${port}: ${messageOf(err)}; nothing was started`,
        );
        return 1;
      }
      this.#say(`metrics on ${metrics.url}`);
    }
    const signals = this.#listen();
    try {
      try {
        this.#current = await this.#launch(loaded);
      } catch (err) {
        return report(this.#io, err);
      }
      this.#say(
        `running ${describePipeline(loaded.definition.spec)} (pid ${process.pid}; SIGHUP reloads ${this.#file}, SIGTERM or SIGINT drains for up to ${this.#deadline} ms)`,
      );
      this.#showDashboard();
      return await this.#loop();
    } finally {
      signals();
      this.#dashboard?.stop();
      this.#lifetime.abort();
      await metrics?.close().catch(() => {});
    }
  }

  /** Answers events one at a time, in order of urgency, until the run ends. */
  async #loop(): Promise<0 | 1> {
    for (;;) {
      if (this.#stopRequested || this.#ended) {
        const current = this.#current;
        if (!current) return 0;
        const reason = this.#stopRequested ? 'stopping' : 'every source has finished; stopping';
        return this.#stop(current, reason);
      }
      if (this.#reloadRequested) {
        this.#reloadRequested = false;
        const outcome = await this.#reload();
        if (outcome !== undefined) return outcome;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async #stop(current: Running, reason: string): Promise<0 | 1> {
    this.#say(`${reason}: draining "${current.pipeline.name}" for up to ${this.#deadline} ms`);
    const result = await this.#drain(current);
    this.#current = undefined;
    // The report is the last word: the view goes first, so that it is not drawn over.
    this.#closing = true;
    this.#dashboard?.stop();
    this.#dashboard = undefined;
    return this.#report(current.pipeline.name, result);
  }

  /** A line on stderr, prefixed `spillway: `. */
  #say(message: string): void {
    this.#write(`spillway: ${message}\n`);
  }

  /**
   * Writes to stderr. A full-screen dashboard owns the terminal (its alternate screen, which
   * is thrown away when it ends), so it steps aside for the write and comes back: the
   * operator finds every message in the scrollback, and none is drawn over.
   */
  #write(text: string): void {
    const view = this.#dashboard;
    if (view?.tty) {
      view.stop();
      this.#dashboard = undefined;
    }
    this.#io.stderr.write(text);
    if (view?.tty) this.#showDashboard();
  }

  /**
   * Loads the config again; if it is valid, swaps pipelines. Resolves with an exit code when
   * the run must end (a stop signal arrived meanwhile, or no pipeline could be started again).
   */
  async #reload(): Promise<0 | 1 | undefined> {
    this.#say(`SIGHUP: reloading ${this.#file}`);
    let next: LoadedConfig;
    try {
      next = await loadConfig(this.#file, this.#loadOptions());
    } catch (err) {
      if (CliError.is(err)) {
        this.#write(err.problems.map((problem) => `${formatProblem(problem)}\n`).join(''));
        if (err.problems.length === 0) this.#say(err.message);
      } else this.#say(`cannot reload: ${messageOf(err)}`);
      this.#say('reload refused: the current pipeline keeps running unchanged');
      return undefined;
    }
    if (this.#stopRequested) return undefined;
    const old = this.#current!;
    this.#say(
      `the new config is valid; draining "${old.pipeline.name}" for up to ${this.#deadline} ms before starting it`,
    );
    this.#current = undefined;
    const result = await this.#drain(old);
    const code = this.#report(old.pipeline.name, result);
    if (this.#stopRequested) return code;
    try {
      this.#current = await this.#launch(next);
      this.#say(`reloaded: running ${describePipeline(next.definition.spec)}`);
    } catch (err) {
      this.#say(`the new pipeline did not start: ${messageOf(err)}`);
      try {
        this.#current = await this.#launch(old.loaded);
        this.#say(
          `running the previous pipeline again: ${describePipeline(old.loaded.definition.spec)}`,
        );
      } catch (again) {
        this.#say(`the previous pipeline did not start again either: ${messageOf(again)}`);
        return 1;
      }
    }
    this.#showDashboard();
    return undefined;
  }

  /**
   * Builds and starts a pipeline from a validated config. A stage that refuses its options at
   * build (an unset token variable, an unreadable certificate) is a config problem, exit 2.
   */
  async #launch(loaded: LoadedConfig): Promise<Running> {
    let pipeline: Pipeline;
    try {
      pipeline = await definePipeline(loaded.definition.spec).build(
        this.#options.signal ? { signal: this.#options.signal } : {},
      );
    } catch (err) {
      if (
        SpillwayError.is(err) &&
        (err.code === 'ERR_INVALID_OPTION' || err.code === 'ERR_PIPELINE_INVALID')
      ) {
        throw CliError.invalid(loaded.file, [{ file: loaded.file, message: err.message }]);
      }
      throw new CliError(
        'ERR_CLI_PIPELINE_FAILED',
        `${loaded.file}: the pipeline could not be built: ${messageOf(err)}`,
        { cause: err },
      );
    }
    try {
      pipeline.start();
    } catch (err) {
      throw new CliError(
        'ERR_CLI_PIPELINE_FAILED',
        `${loaded.file}: the pipeline could not be started: ${messageOf(err)}`,
        { cause: err },
      );
    }
    const running: Running = { loaded, pipeline, draining: false };
    pipeline.done().then(
      () => {
        if (!running.draining && this.#current === running) {
          this.#ended = true;
          this.#wake();
        }
      },
      () => {},
    );
    return running;
  }

  /** A graceful stop that the second stop signal cuts short. */
  async #drain(running: Running): Promise<DrainResult> {
    running.draining = true;
    const hurry = this.#hurry.signal;
    const result = await running.pipeline.stop({ deadline: this.#deadline, signal: hurry });
    return { ...result, hurried: !result.drained && hurry.aborted };
  }

  /** Says how a stop went; the exit code it deserves. */
  #report(name: string, result: DrainResult): 0 | 1 {
    const { batches, events } = result.undelivered;
    const how = result.drained
      ? 'drained'
      : result.hurried
        ? 'stopped at once (second signal)'
        : `stopped at the deadline (${this.#deadline} ms)`;
    const lost =
      batches === 0
        ? result.drained
          ? 'nothing undelivered'
          : 'nothing undelivered (spill buffers persisted what they held)'
        : `${batches} batch${batches === 1 ? '' : 'es'} (${events} event${events === 1 ? '' : 's'}) undelivered`;
    this.#say(`"${name}" ${how}: ${lost}`);
    if (result.stuck.length > 0) {
      this.#say(`stages still running after the hard stop: ${result.stuck.join(', ')}`);
      return 1;
    }
    return 0;
  }

  /**
   * Starts the dashboard, or restarts it when a reload changed where it must write: to stdout,
   * unless the pipeline itself writes there (a `stdout` sink), since data and summaries must
   * not mix.
   */
  #showDashboard(): void {
    const spec = this.#current?.loaded.definition.spec;
    if (!spec) return;
    const ownsStdout = Object.values(spec.sinks).some((s) => s.stage.type === 'stdout');
    const output = ownsStdout ? this.#io.stderr : this.#io.stdout;
    if (this.#closing || this.#dashboard?.output === output) return;
    this.#dashboard?.stop();
    const tty = this.#options.dashboard ?? output.isTTY === true;
    const dashboard = startDashboard({
      pipeline: () => this.#current?.pipeline,
      output,
      mode: tty ? 'tty' : 'lines',
      ...(tty ? {} : { intervalMs: SUMMARY_INTERVAL_MS }),
      title: spec.name ?? 'pipeline',
    });
    this.#dashboard = { stop: () => dashboard.stop(), output, tty };
  }

  /** Installs the signal handlers; returns their removal. */
  #listen(): () => void {
    const onStop = (signal: NodeJS.Signals | 'abort') => {
      this.#stopSignals++;
      if (this.#stopSignals === 1) {
        this.#say(
          `${signal}: stopping gracefully (${signal === 'abort' ? 'again' : `${signal} again`} to stop now)`,
        );
        this.#stopRequested = true;
        this.#wake();
      } else if (!this.#hurry.signal.aborted) {
        this.#say(`${signal} again: stopping now; buffers persist what they hold`);
        this.#hurry.abort();
      }
    };
    const onHup = () => {
      if (this.#stopRequested) {
        this.#say('SIGHUP ignored: the pipeline is stopping');
        return;
      }
      this.#reloadRequested = true;
      this.#wake();
    };
    const onTerm = () => onStop('SIGTERM');
    const onInt = () => onStop('SIGINT');
    const onAbort = () => onStop('abort');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    const external = this.#options.signal;
    if (external?.aborted) onAbort();
    else external?.addEventListener('abort', onAbort, { once: true });
    return () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
      external?.removeEventListener('abort', onAbort);
    };
  }

  #loadOptions() {
    return {
      env: this.#io.env,
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
    };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
