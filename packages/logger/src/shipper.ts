/**
 * `createShipper()`: in-app log shipping that never blocks the application.
 *
 * ```
 *   application thread                         shipping thread (worker)
 *   write(record) ─▶ JSON text ─▶ [ hand-off ring, SharedArrayBuffer ] ─▶ shipping pipeline ─▶ HTTP
 *        never waits (unless `block`)      full: drop-newest | drop-oldest      spill to disk (dir)
 *   exit / SIGTERM / crash ─▶ control word: stop with deadline ─▶ deliver or persist ─▶ answer
 * ```
 *
 * The caller's thread does one thing per record: turns it into JSON text (if it is not text
 * already) and copies it into the ring. Batching, parsing, encoding, HTTP, retries, dead
 * letters and disk all happen in the shipping thread.
 */
import { Worker } from 'node:worker_threads';
import { type MetricsSnapshot, SpillwayError } from '@spillway/core';
import {
  createControl,
  DEADLINE,
  RUNNING,
  STATE,
  STOP_ASKED,
  STOPPED,
  UNDELIVERED_BATCHES,
  UNDELIVERED_EVENTS,
} from './control.js';
import { type HandOffWriter, openHandOff } from './hand-off.js';
import { waitAsync } from './internal/wait-async.js';
import { type ShipperOptions, validateShipperOptions } from './options.js';

export interface CloseResult {
  /** False when the shipping thread did not answer in time (then nothing is known). */
  readonly answered: boolean;
  /** Records neither delivered nor persisted by the deadline: counted loss. */
  readonly undelivered: { readonly batches: number; readonly events: number };
}

export interface ShipperStats {
  /** Records handed off to the shipping thread. */
  readonly written: number;
  /** Records dropped at the hand-off, by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  /** Records `write()` could not turn into JSON (a bigint, a cycle). */
  readonly unencodable: number;
  readonly state: 'running' | 'closing' | 'closed';
}

/** What `createShipper()` returns. */
export interface Shipper {
  /**
   * Hands a record to the shipping thread and returns at once: `true` when it was taken,
   * `false` when the hand-off was full and the policy dropped it (counted). Strings are taken
   * as one JSON record each; objects are turned into JSON here. Never throws.
   */
  write(record: string | object): boolean;
  /** Stops: ships what it can within `deadlineMs`, persists the rest (with a `dir`). */
  close(options?: { deadlineMs?: number }): Promise<CloseResult>;
  /** The same, blocking the calling thread: for `exit` listeners and crash handlers. */
  closeSync(options?: { deadlineMs?: number }): CloseResult;
  stats(): ShipperStats;
  /** The shipping pipeline's metrics, from the shipping thread. */
  metrics(options?: { signal?: AbortSignal }): Promise<MetricsSnapshot>;
}

/** How long a stop's answer may lag behind its deadline (the pipeline's grace, persisting). */
const ANSWER_MARGIN_MS = 2000;

/**
 * Starts shipping to `options.http` from a worker thread.
 *
 * When to use: a Node service that sends its logs to an HTTP aggregator itself. Call it once,
 * early; write from anywhere.
 *
 * Gotchas:
 * - With `handOff.whenFull: 'block'` a backend outage can stall your application: the default
 *   drops (counted, and a notice record says how many) instead.
 * - Give it a `dir`: records survive outages, exits and crashes there and go first on the next
 *   start. Without one, what is undelivered at exit is counted as lost.
 * - It installs `exit`, `SIGTERM`/`SIGINT` and crash handlers (see `hooks`). The signal
 *   handlers flush and then let the signal kill the process as before, unless your program
 *   has its own handler for it. Crash handling uses `uncaughtExceptionMonitor`: your handlers
 *   still run, and the process dies (or not) exactly as it would have.
 *
 * @example
 * ```ts
 * const shipper = createShipper({
 *   http: { url: 'https://logs.example.com/ingest', token: { env: 'LOGS_TOKEN' } },
 *   dir: '/var/lib/myapp/logs',
 * });
 * shipper.write({ level: 'info', msg: 'started', port: 8080 });
 * ```
 */
export function createShipper(options: ShipperOptions): Shipper {
  const problems = validateShipperOptions(options);
  if (problems.length > 0) {
    throw new SpillwayError('ERR_INVALID_OPTION', `shipper: ${problems.join('; ')}`);
  }
  const handOff = openHandOff(options.handOff);
  const control = createControl();
  const worker = new Worker(new URL('./worker/shipper-worker.js', import.meta.url), {
    workerData: {
      ring: handOff.buffer,
      control,
      options: {
        http: options.http,
        ...(options.dir === undefined ? {} : { dir: options.dir }),
        ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
        ...(options.json === undefined ? {} : { json: options.json }),
      },
    },
  });
  // The shipper must never be what keeps a finished program alive.
  worker.unref();
  const shipper = new ShipperImpl(handOff, control, worker, options.exitDeadlineMs ?? 3000);
  installHooks(shipper, options.hooks ?? {});
  return shipper;
}

class ShipperImpl implements Shipper {
  readonly #handOff: HandOffWriter;
  readonly #control: Int32Array;
  readonly #worker: Worker;
  readonly #deadlineMs: number;
  #unencodable = 0;
  #state: ShipperStats['state'] = 'running';
  #closing: Promise<CloseResult> | undefined;

  constructor(handOff: HandOffWriter, control: Int32Array, worker: Worker, deadlineMs: number) {
    this.#handOff = handOff;
    this.#control = control;
    this.#worker = worker;
    this.#deadlineMs = deadlineMs;
  }

  write(record: string | object): boolean {
    if (this.#state !== 'running') return false;
    let text: string;
    if (typeof record === 'string') text = record;
    else {
      try {
        text = JSON.stringify(record);
      } catch {
        this.#unencodable++;
        return false;
      }
    }
    return this.#handOff.writeString(text);
  }

  close({ deadlineMs = this.#deadlineMs } = {}): Promise<CloseResult> {
    this.#closing ??= (async () => {
      this.#ask(deadlineMs);
      await waitAsync(this.#control, STATE, STOP_ASKED, deadlineMs + ANSWER_MARGIN_MS);
      return this.#result();
    })();
    return this.#closing;
  }

  closeSync({ deadlineMs = this.#deadlineMs } = {}): CloseResult {
    if (this.#state === 'closed') return this.#result();
    this.#ask(deadlineMs);
    Atomics.wait(this.#control, STATE, STOP_ASKED, deadlineMs + ANSWER_MARGIN_MS);
    return this.#result();
  }

  stats(): ShipperStats {
    return {
      written: this.#handOff.written(),
      dropped: this.#handOff.drops(),
      unencodable: this.#unencodable,
      state: this.#state,
    };
  }

  async metrics({ signal }: { signal?: AbortSignal } = {}): Promise<MetricsSnapshot> {
    const { port1, port2 } = new MessageChannel();
    try {
      const answer = new Promise<MetricsSnapshot>((resolve, reject) => {
        port1.once('message', resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      this.#worker.postMessage({ type: 'metrics', port: port2 }, [port2]);
      return await answer;
    } finally {
      port1.close();
    }
  }

  #ask(deadlineMs: number): void {
    if (this.#state !== 'running') return;
    this.#state = 'closing';
    Atomics.store(this.#control, DEADLINE, Math.max(0, Math.round(deadlineMs)));
    Atomics.compareExchange(this.#control, STATE, RUNNING, STOP_ASKED);
    Atomics.notify(this.#control, STATE);
  }

  #result(): CloseResult {
    const answered = Atomics.load(this.#control, STATE) === STOPPED;
    if (answered) this.#state = 'closed';
    return {
      answered,
      undelivered: {
        batches: Atomics.load(this.#control, UNDELIVERED_BATCHES),
        events: Atomics.load(this.#control, UNDELIVERED_EVENTS),
      },
    };
  }

  /** @internal the crash record, written past the hand-off's policy if it has room at all. */
  writeCrash(error: unknown, origin: string): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.#handOff.writeString(
      JSON.stringify({
        time: new Date().toISOString(),
        level: 'fatal',
        msg: `${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: ${err.message}`,
        err: { type: err.name, message: err.message, stack: err.stack },
        origin,
        pid: process.pid,
      }),
    );
  }
}

/**
 * Exit, signals and crashes, without access to the program's entry point. Each listener is
 * added once per shipper and does its work only while the shipper runs.
 */
function installHooks(shipper: ShipperImpl, hooks: NonNullable<ShipperOptions['hooks']>): void {
  if (hooks.exit !== false) {
    process.once('exit', () => shipper.closeSync());
  }
  if (hooks.signals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const onSignal = async () => {
        await shipper.close();
        // Nobody else listens: die by the signal, as the process would have without us.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      process.once(signal, onSignal);
    }
  }
  if (hooks.crash !== false) {
    // The monitor sees the error before any handler and changes nothing about what happens
    // next: the program's own `uncaughtException` handlers run after it, or Node prints the
    // error and exits as usual.
    process.on('uncaughtExceptionMonitor', (error, origin) => {
      shipper.writeCrash(error, origin);
      // The process dies unless the program handles the exception: persist everything now.
      if (process.listenerCount('uncaughtException') === 0) shipper.closeSync();
    });
  }
}
