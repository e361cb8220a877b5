// A real HTTP application under load, logging every request through a shipper (app-child.ts):
// its request latency must not depend on the log backend. Three copies of the application run,
// each in its own process, one with a healthy backend, one with a backend that never answers,
// one with nothing listening; this process loads them in turn over keep-alive connections and
// compares their p99 latencies. The stalled application's memory stays within what its
// shipper's options allow, because the shipper drops (counted) instead of queueing without end.
//
// Nothing here asserts an absolute time: only ratios between applications measured in the same
// run, interleaved in rounds so a machine that slows down mid-test slows all three alike.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Backend, parseNdjson, refusingUrl, startBackend } from '@spillway/testing';
import type { ShipperOptions, ShipperStats } from '../src/index.js';

const CHILD = fileURLToPath(new URL('./app-child.js', import.meta.url));
const MIB = 1024 * 1024;

/** The shipper's bounds in each application: small, so the stalled one reaches them. */
const HAND_OFF_BYTES = 256 * 1024;
const MEMORY_BYTES = 512 * 1024;
/**
 * What a Node process with an HTTP server and a shipping thread (its own V8 isolate, the
 * pipeline, the HTTP client) takes before any record is queued, with room for the heap to
 * grow under load. The shipper's bounds come on top.
 */
const BASE_RSS = 200 * MIB;
const RSS_BUDGET = BASE_RSS + HAND_OFF_BYTES + MEMORY_BYTES;

const CONCURRENCY = 16;
const WARMUP_REQUESTS = 500;
const ROUNDS = 10;
const REQUESTS_PER_ROUND = 500;
/** A p99 below this is noise (timer resolution, one scheduling hiccup): ratios use it as floor. */
const P99_FLOOR_MS = 1;
/** The bound on p99(backend in trouble) / p99(healthy backend). Generous: a regression is 10×. */
const MAX_RATIO = 2;

interface AppReport {
  rss: number;
  served: number;
  stats: ShipperStats;
}

/** One application process, driven over HTTP and its stdin. */
class App {
  readonly name: string;
  readonly port: number;
  readonly latencies: number[] = [];
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  readonly #exited: Promise<number | null>;
  #sent = 0;

  private constructor(
    name: string,
    child: ChildProcess,
    lines: AsyncIterator<string>,
    port: number,
  ) {
    this.name = name;
    this.#child = child;
    this.#lines = lines;
    this.port = port;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(name: string, logUrl: string): Promise<App> {
    const options: ShipperOptions = {
      http: { url: logUrl, batch: { lingerMs: 5 }, retry: { initialMs: 20, maxMs: 200 } },
      handOff: { bytes: HAND_OFF_BYTES },
      memoryBytes: MEMORY_BYTES,
      exitDeadlineMs: 250,
    };
    const child = spawn(process.execPath, [CHILD, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    assert.ok(!first.done, `${name}: the application ended before listening`);
    const { port } = JSON.parse(first.value) as { port: number };
    return new App(name, child, lines, port);
  }

  /** Sends `count` requests, `CONCURRENCY` at a time; keeps their latencies when `measure`. */
  async load(count: number, measure: boolean): Promise<void> {
    let left = count;
    const worker = async () => {
      while (left-- > 0) {
        const ms = await this.#get(`/api/items/${this.#sent++}`);
        if (measure) this.latencies.push(ms);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  /** What the application says of its memory and its shipper, now. */
  async report(): Promise<AppReport> {
    this.#child.stdin!.write('report\n');
    const line = await this.#lines.next();
    assert.ok(!line.done, `${this.name}: the application ended`);
    return JSON.parse(line.value) as AppReport;
  }

  get requests(): number {
    return this.#sent;
  }

  /** Ends the application (stdin closes) and resolves with its exit code. */
  async stop(): Promise<number | null> {
    this.#agent.destroy();
    this.#child.stdin!.end();
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(killer);
    }
  }

  #get(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          agent: this.#agent,
          headers: { accept: 'application/json', 'user-agent': 'spillway-latency-test' },
        },
        (res) => {
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode === 200) resolve(performance.now() - started);
            else reject(new Error(`${this.name}: HTTP ${res.statusCode}`));
          });
          res.resume();
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

const sum = (counts: Readonly<Record<string, number>>) =>
  Object.values(counts).reduce((a, b) => a + b, 0);

async function recordsAt(backend: Backend, expected: number, signal: AbortSignal) {
  const count = () =>
    backend.requests.reduce((n, r) => n + (r.complete ? parseNdjson(r.body).length : 0), 0);
  while (count() < expected && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
  return count();
}

describe('an HTTP application logging every request', { timeout: 60_000 }, () => {
  it('answers as fast with the log backend stalled or refusing as with it healthy, in bounded memory', async (t) => {
    await using healthyBackend = await startBackend();
    await using stalledBackend = await startBackend({ script: () => ({ kind: 'stall' }) });
    const apps = await Promise.all([
      App.start('healthy', healthyBackend.url),
      App.start('stalled', stalledBackend.url),
      App.start('refusing', await refusingUrl()),
    ]);
    const [healthy, stalled, refusing] = apps as [App, App, App];
    let codes: (number | null)[] = [];
    try {
      for (const app of apps) await app.load(WARMUP_REQUESTS, false);
      // Rotate the order each round, so that no application always runs first or last.
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < apps.length; i++) {
          await apps[(i + round) % apps.length]!.load(REQUESTS_PER_ROUND, true);
        }
      }
      const reports = new Map<App, AppReport>();
      for (const app of apps) reports.set(app, await app.report());

      const p99 = new Map<App, number>();
      for (const app of apps) {
        const { stats, served, rss } = reports.get(app)!;
        p99.set(app, percentile(app.latencies, 0.99));
        t.diagnostic(
          `${app.name.padEnd(8)} p50 ${percentile(app.latencies, 0.5).toFixed(2)} ms, ` +
            `p99 ${p99.get(app)!.toFixed(2)} ms, RSS ${(rss / MIB).toFixed(0)} MiB, ` +
            `served ${served}, written ${stats.written}, dropped ${JSON.stringify(stats.dropped)}`,
        );
        assert.equal(served, app.requests, `${app.name}: every request was served`);
        // Every record is accounted for: handed off or dropped, and counted either way.
        assert.equal(stats.written + sum(stats.dropped), served, `${app.name}: records accounted`);
        assert.equal(stats.unencodable, 0);
      }

      const baseline = Math.max(p99.get(healthy)!, P99_FLOOR_MS);
      for (const app of [stalled, refusing]) {
        const ratio = p99.get(app)! / baseline;
        assert.ok(
          ratio < MAX_RATIO,
          `${app.name}: p99 ${p99.get(app)!.toFixed(2)} ms is ${ratio.toFixed(2)}× the healthy ` +
            `p99 (${p99.get(healthy)!.toFixed(2)} ms, floor ${P99_FLOOR_MS} ms)`,
        );
      }

      // The healthy application shipped everything: its latency is that of a working pipeline.
      const healthyStats = reports.get(healthy)!.stats;
      assert.deepEqual(healthyStats.dropped, {}, 'nothing dropped with a healthy backend');
      const arrived = await recordsAt(
        healthyBackend,
        healthyStats.written,
        AbortSignal.timeout(10_000),
      );
      assert.equal(arrived, healthyStats.written, 'the healthy backend received every record');

      // The stalled application really was stalled, reached its bounds, and dropped the rest.
      assert.ok(stalledBackend.requests.length > 0, 'the stalled backend was sent requests');
      const { stats, rss } = reports.get(stalled)!;
      assert.ok(sum(stats.dropped) > 0, 'the stalled application dropped records, counted');
      assert.ok(
        rss < RSS_BUDGET,
        `stalled RSS ${(rss / MIB).toFixed(0)} MiB < ${(RSS_BUDGET / MIB).toFixed(2)} MiB ` +
          `(base ${BASE_RSS / MIB} MiB + hand-off ${HAND_OFF_BYTES / MIB} MiB + memory ${MEMORY_BYTES / MIB} MiB)`,
      );
    } finally {
      codes = await Promise.all(apps.map((app) => app.stop()));
    }
    // Stopping during an outage still ends every application, with its own exit code.
    assert.deepEqual(codes, [0, 0, 0]);
  });
});
