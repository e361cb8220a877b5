/**
 * `spillway demo` (what `npm start` runs): the backpressure cascade, live, with nothing to
 * install. Four sources — a generator, a tailed log directory, a UDP listener and an OTLP/HTTP
 * receiver, all on localhost and fed by the demo's own traffic — go through `parseJson` into an
 * HTTP sink whose backend the demo starts itself and stalls on demand:
 *
 * ```
 *   generator ─┐
 *   file tail ─┼─▶ parse ─┐
 *   udp ───────┘          ├─▶ [ out.in: block | drop-newest | spill ] ─▶ http ─▶ embedded backend
 *   otlp ─────────────────┘                                                     (stall / recover)
 * ```
 *
 * While the backend stalls, watch the pressure travel back: the sink's buffer fills, then the
 * parser's; the generator's blocked time climbs; the file reader pauses (and catches up later
 * from its checkpoint); the UDP listener drops and counts; OTLP clients get 429 with
 * Retry-After. Switch the sink's buffer policy to see the three behaviours: `block` holds the
 * sources back, `drop-newest` keeps them flowing and counts what it loses, `spill` keeps them
 * flowing and loses nothing (the backlog drains from disk after recovery).
 *
 * Keys on a terminal: `s` stall/recover the backend, `p` next policy, `q` quit. Without a
 * terminal (or with `--seconds`), a timer does it: the backend stalls for half of every
 * `--cycle` seconds, and the policy moves on after every cycle.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type BufferSpec, definePipeline, type Pipeline } from '@spillway/core';
import { spill } from '@spillway/disk-buffer';
import { http } from '@spillway/sinks';
import { file, generator, otlp, udp } from '@spillway/sources';
import { parseJson } from '@spillway/transforms';
import { startDashboard } from '../dashboard/dashboard.js';
import { type DemoBackend, startDemoBackend } from './backend.js';
import { startTraffic, type Traffic } from './traffic.js';

export const POLICIES = ['block', 'drop-newest', 'spill'] as const;
export type DemoPolicy = (typeof POLICIES)[number];

export interface DemoOptions {
  /**
   * Stop after this many seconds; default: until `q` or a signal — or 20 s when `CI` is set
   * and there is no terminal, so `npm start` ends by itself in CI.
   */
  seconds?: number;
  /** Seconds per stall-and-recover cycle in timer mode. Default 8. */
  cycle?: number;
  /** Keys on a TTY (default when stdin and stdout are terminals). */
  interactive?: boolean;
  output?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

export interface DemoReport {
  readonly policies: readonly DemoPolicy[];
  readonly delivered: number;
  readonly otlpStatuses: Readonly<Record<string, number>>;
  readonly udpDropped: number;
  readonly undelivered: number;
}

interface Lane {
  pipeline: Pipeline;
  udpPort?: number;
  otlpUrl?: string;
}

/** Runs the demo until `seconds` pass, `q` is pressed or `signal` aborts. */
export async function runDemo(o: DemoOptions = {}): Promise<DemoReport> {
  const output = o.output ?? process.stdout;
  const interactive = o.interactive ?? (process.stdin.isTTY === true && output.isTTY === true);
  const work = await mkdtemp(join(tmpdir(), 'spillway-demo-'));
  const logs = join(work, 'logs');
  await mkdir(logs);
  const logFile = join(logs, 'app.log');
  await writeFile(logFile, '');
  const backend = await startDemoBackend();
  const policies: DemoPolicy[] = [];
  let policy = 0;
  let lane: Lane | undefined;
  let udpDropped = 0;
  let undelivered = 0;

  const start = async (p: DemoPolicy) => {
    const next: Lane = { pipeline: undefined as unknown as Pipeline };
    next.pipeline = await demoPipeline({ policy: p, work, logs, backend, lane: next }).build();
    next.pipeline.start();
    policies.push(p);
    lane = next;
  };
  const stop = async (deadline: number) => {
    const current = lane;
    lane = undefined;
    if (!current) return;
    const result = await current.pipeline.stop({ deadline });
    undelivered += result.undelivered.events;
    const drops = current.pipeline.metrics.snapshot().entries.find((e) => e.id === 'udp')?.stats
      .drops as Record<string, number> | undefined;
    for (const n of Object.values(drops ?? {})) udpDropped += n;
  };

  await start(POLICIES[policy]!);
  const traffic: Traffic = startTraffic({
    logFile,
    udpPort: () => lane?.udpPort,
    otlpUrl: () => lane?.otlpUrl,
    perTick: { fileLines: 500, datagrams: 200, otlpRecords: 100 },
  });
  const title = () =>
    `spillway demo · backend ${backend.stalled ? 'STALLED' : 'healthy'} · policy ${POLICIES[policy]} · ` +
    (interactive ? 's stall/recover · p policy · q quit' : 'timer mode');
  let dashboard = startDashboard({
    pipeline: () => lane?.pipeline,
    output,
    mode: output.isTTY ? 'tty' : 'lines',
    intervalMs: output.isTTY ? 500 : 2000,
    title: title(),
  });
  const redraw = () => {
    dashboard.stop();
    dashboard = startDashboard({
      pipeline: () => lane?.pipeline,
      output,
      mode: output.isTTY ? 'tty' : 'lines',
      intervalMs: output.isTTY ? 500 : 2000,
      title: title(),
    });
    if (!output.isTTY) output.write(`— ${title()}\n`);
  };
  const toggleStall = () => {
    if (backend.stalled) backend.recover();
    else backend.stall();
    redraw();
  };
  const nextPolicy = async () => {
    await stop(2000);
    policy = (policy + 1) % POLICIES.length;
    await start(POLICIES[policy]!);
    redraw();
  };

  const done = new AbortController();
  const quit = () => done.abort();
  o.signal?.addEventListener('abort', quit, { once: true });
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  let keys: ((key: Buffer) => void) | undefined;
  if (interactive) {
    process.stdin.setRawMode(true);
    keys = (key) => {
      const k = key.toString();
      if (k === 's') toggleStall();
      else if (k === 'p') void nextPolicy();
      else if (k === 'q' || k === '\u0003') quit();
    };
    process.stdin.on('data', keys);
  }
  const cycleMs = (o.cycle ?? 8) * 1000;
  const timer = interactive
    ? undefined
    : setInterval(() => {
        if (backend.stalled) {
          toggleStall();
          void nextPolicy();
        } else toggleStall();
      }, cycleMs / 2);
  // Under CI nobody presses `q`: `npm start` must end by itself there, as the README says.
  const seconds = o.seconds ?? (process.env.CI && !interactive ? 20 : undefined);
  if (seconds !== undefined) setTimeout(quit, seconds * 1000).unref();

  await new Promise<void>((resolve) => done.signal.addEventListener('abort', () => resolve()));
  clearInterval(timer);
  if (keys) {
    process.stdin.off('data', keys);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  process.off('SIGINT', quit);
  process.off('SIGTERM', quit);
  backend.recover();
  await traffic.stop();
  await stop(3000);
  dashboard.stop();
  const report: DemoReport = {
    policies,
    delivered: backend.stats().lines,
    otlpStatuses: { ...traffic.score.otlpStatuses },
    udpDropped,
    undelivered,
  };
  await backend.close();
  await rm(work, { recursive: true, force: true });
  output.write(
    `demo over: policies ${policies.join(' → ')}; backend received ${report.delivered} records; ` +
      `OTLP answers ${JSON.stringify(report.otlpStatuses)}; UDP drops ${udpDropped}; ` +
      `undelivered at stops ${undelivered} (counted)\n`,
  );
  await delay(0);
  return report;
}

function demoPipeline(o: {
  policy: DemoPolicy;
  work: string;
  logs: string;
  backend: DemoBackend;
  lane: Lane;
}) {
  const buffer: BufferSpec =
    o.policy === 'spill'
      ? spill({ dir: join(o.work, 'buffers'), memory: { capacity: 8, maxBytes: 2 * 1024 * 1024 } })
      : { capacity: 8, maxBytes: 2 * 1024 * 1024, whenFull: o.policy };
  return definePipeline({
    name: `demo-${o.policy}`,
    sources: {
      gen: generator({ format: 'raw', batchSize: 500, ratePerSec: 20_000 }),
      files: file({ include: [join(o.logs, '*.log')], dataDir: o.work, startAt: 'end' }),
      udp: udp({
        host: '127.0.0.1',
        port: 0,
        onListening: (address) => {
          o.lane.udpPort = address.port;
        },
      }),
      otlp: otlp({
        host: '127.0.0.1',
        port: 0,
        // A small intake budget, so that a stall turns into 429s within seconds.
        maxInFlightBytes: 32 * 1024,
        onListening: (address) => {
          o.lane.otlpUrl = `http://127.0.0.1:${address.port}/v1/logs`;
        },
      }),
    },
    transforms: {
      parse: {
        inputs: ['gen', 'files', 'udp'],
        stage: parseJson({}),
        buffer: { capacity: 8, maxBytes: 2 * 1024 * 1024 },
      },
    },
    sinks: {
      out: {
        inputs: ['parse', 'otlp'],
        stage: http({
          url: o.backend.url,
          proxy: 'none',
          batch: { lingerMs: 20, maxEvents: 2000 },
          concurrency: 4,
          // A stalled request fails after 3 s: retries, health going degraded and down.
          timeoutMs: 3000,
        }),
        buffer,
      },
    },
  });
}
