/**
 * What the application's side of a pino logger needs for SIGTERM and crashes — the transport
 * thread cannot see either:
 *
 * ```ts
 * import { installProcessHooks } from '@spillway/pino-transport/hooks';
 * const logger = pino({ transport: { target: '@spillway/pino-transport', options } });
 * installProcessHooks(logger);
 * ```
 *
 * - **Exit** needs nothing: pino's own exit handler flushes its buffer to the transport and ends
 *   it, and our transport then delivers or persists within `exitDeadlineMs`.
 * - **SIGTERM / SIGINT** end a process without an `exit` event: when nothing else listens for
 *   the signal, the hook ends the transport the way pino's exit handler does (blocking until
 *   it has delivered or persisted), then lets the signal kill the process as before. When the
 *   program handles the signal itself, the hook does nothing: the program's shutdown logs and
 *   exits, and pino's exit handler does the rest.
 * - **Crashes**: an uncaught exception or (Node's default) unhandled rejection is logged at
 *   `fatal` with its stack and origin, from `uncaughtExceptionMonitor` — which changes nothing
 *   about what happens next: the program's handlers still run, or Node prints the error and
 *   exits with its usual code, and pino's exit handler ships the record with the rest.
 */
import pino, { type Logger } from 'pino';

export interface ProcessHooks {
  /** SIGTERM and SIGINT. Default true. */
  signals?: boolean;
  /** Uncaught exceptions and unhandled rejections. Default true. */
  crash?: boolean;
}

interface EndableStream {
  flushSync?(): void;
  end(): void;
}

/**
 * When to use: once, right after creating a logger whose transport is `@spillway/pino-transport`
 * (or any thread-stream transport).
 *
 * Gotchas: the signal hook ends the transport, so a program that installs its own signal
 * handler after this one gets no further lines shipped from its shutdown — install yours first,
 * or pass `signals: false`. Returns a function that removes the hooks.
 */
export function installProcessHooks(logger: Logger, hooks: ProcessHooks = {}): () => void {
  const removers: (() => void)[] = [];
  if (hooks.signals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const onSignal = () => {
        // Someone else handles the signal: the process goes on, or exits through `exit`.
        if (process.listenerCount(signal) > 0) return;
        const stream = (logger as unknown as Record<symbol, EndableStream>)[pino.symbols.streamSym];
        stream?.flushSync?.();
        // thread-stream's `end()` waits until the transport's stream has closed.
        stream?.end();
        process.kill(process.pid, signal);
      };
      process.once(signal, onSignal);
      removers.push(() => process.off(signal, onSignal));
    }
  }
  if (hooks.crash !== false) {
    const onCrash = (error: unknown, origin: NodeJS.UncaughtExceptionOrigin) => {
      const err = error instanceof Error ? error : new Error(String(error));
      const what = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
      logger.fatal({ err, origin }, `${what}: ${err.message}`);
    };
    process.on('uncaughtExceptionMonitor', onCrash);
    removers.push(() => process.off('uncaughtExceptionMonitor', onCrash));
  }
  return () => {
    for (const remove of removers) remove();
  };
}
