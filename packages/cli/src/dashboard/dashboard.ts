/**
 * The live view of a running pipeline: a full-screen picture of the backpressure cascade on a
 * terminal (`tty`), or a one-line summary at intervals for logs (`lines`). The pictures
 * themselves are pure functions in render.ts; this module reads the pipeline on a timer and puts
 * the result on the screen.
 *
 * Screen handling in `tty` mode: the view takes the terminal's alternate screen (so the shell's
 * scrollback is left as it was), hides the cursor and turns off line wrapping; each frame goes
 * home and overwrites the previous one line by line, erasing what is left of each line and
 * below the last, in a single `write` — nothing is cleared first, so nothing flickers.
 * `stop()` (or the process exiting) gives the terminal back as it was.
 */
import type { Pipeline } from '@spillway/core';
import { type PipelineReading, readPipeline } from '../metrics/pipeline-reading.js';
import { fit } from './format.js';
import { renderFrame, renderSummary } from './render.js';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The pipeline to show now; `undefined` while none is loaded (between two reloads). */
  pipeline: () => Pipeline | undefined;
  /** Where to draw: a terminal for `tty`, any stream for `lines`. */
  output: NodeJS.WriteStream;
  /** `tty`: full-screen view; `lines`: one summary line per interval. */
  mode: 'tty' | 'lines';
  /** Default 500 ms for `tty`, 5000 ms for `lines`. */
  intervalMs?: number;
  /** Shown at the head of the view instead of `spillway`. */
  title?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** Stops drawing and, in `tty` mode, gives the screen back. Idempotent. */
  stop(): void;
}

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J';
const LEAVE = '\x1b[?7h\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const ERASE_LINE = '\x1b[K';
const ERASE_BELOW = '\x1b[J';

/**
 * Shows `pipeline()` on `output` every `intervalMs` until `stop()`.
 *
 * When to use: `spillway run` on a terminal (`tty`), or with its output going to a file or a
 * journal (`lines`). Rates (events/s, bytes/s) are the change of totals between two readings,
 * so the first frame after a start or a reload shows `–` for them.
 *
 * Gotchas: in `tty` mode nothing else should write to `output` while the view is up: the next
 * frame overwrites it. The view's timer does not keep the process alive. Uptime counts from
 * when the view first saw the pipeline running.
 *
 * @example
 * ```ts
 * const view = startDashboard({ pipeline: () => pipeline, output: process.stdout, mode: 'tty' });
 * process.once('SIGINT', () => { view.stop(); void pipeline.stop(); });
 * ```
 */
export function startDashboard(o: DashboardOptions): Dashboard {
  const tty = o.mode === 'tty';
  const intervalMs = o.intervalMs ?? (tty ? 500 : 5000);
  const color = tty && (o.output.hasColors?.() ?? false);
  const runningSince = new WeakMap<Pipeline, number>();
  let last: { pipeline: Pipeline; reading: PipelineReading } | undefined;
  let shown: { current: PipelineReading | undefined; previous: PipelineReading | undefined } = {
    current: undefined,
    previous: undefined,
  };
  let error: unknown;

  /** Takes a reading; keeps the one before it only if it is of the same pipeline. */
  const sample = () => {
    try {
      const pipeline = o.pipeline();
      const reading = pipeline ? readPipeline(pipeline.metrics.snapshot()) : undefined;
      const previous = pipeline && last?.pipeline === pipeline ? last.reading : undefined;
      last = pipeline && reading ? { pipeline, reading } : undefined;
      if (pipeline && reading?.state === 'running' && !runningSince.has(pipeline)) {
        runningSince.set(pipeline, reading.timestamp);
      }
      shown = { current: reading, previous };
      error = undefined;
    } catch (err) {
      // A stats reader that throws is a stage's bug: say so on screen rather than end the view.
      error = err;
    }
  };

  const draw = () => {
    const { current, previous } = shown;
    const since = last && runningSince.get(last.pipeline);
    const width = o.output.columns ?? 80;
    const notice =
      error === undefined ? [] : [fit(`metrics unavailable: ${String(error)}`, width - 1)];
    const body = renderFrame(current, previous, {
      width,
      height: (o.output.rows ?? 24) - notice.length,
      color,
      ...(o.title === undefined ? {} : { title: o.title }),
      ...(since === undefined || !current ? {} : { uptimeMs: current.timestamp - since }),
    });
    const lines = [...notice, body].join('\n').split('\n');
    o.output.write(HOME + lines.join(`${ERASE_LINE}\r\n`) + ERASE_LINE + ERASE_BELOW);
  };

  const line = () => {
    const { current, previous } = shown;
    const text = renderSummary(current, previous, o.title === undefined ? {} : { title: o.title });
    o.output.write(`${error === undefined ? text : `metrics unavailable: ${String(error)}`}\n`);
  };

  const leave = () => o.output.write(LEAVE);
  sample();
  if (tty) {
    o.output.write(ENTER);
    draw();
    o.output.on('resize', draw);
    // A process that exits without stop() must not leave the terminal on the alternate screen
    // with no cursor; writes to a terminal are synchronous, so this still reaches it.
    process.once('exit', leave);
  }
  const timer = setInterval(() => {
    sample();
    if (tty) draw();
    else line();
  }, intervalMs);
  timer.unref();

  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (!tty) return;
      o.output.off('resize', draw);
      process.off('exit', leave);
      leave();
    },
  };
}
