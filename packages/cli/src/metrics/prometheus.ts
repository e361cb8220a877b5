/**
 * The Prometheus view of a pipeline: a prom-client `Registry` whose gauges and counters are
 * filled from one pipeline reading at each scrape (prom-client's `collect()`), never kept up to
 * date in between, so an idle exporter costs nothing and every value of one scrape comes from
 * the same snapshot.
 *
 * ```
 *  GET /metrics ─▶ scrape(reading) ─▶ registry.metrics() ─▶ collect() of each metric:
 *                  (one at a time)        reset, then set/inc every series from `reading`
 * ```
 *
 * Counters mirror totals the pipeline already keeps: each scrape resets the series and adds
 * the current total, so a series whose stage is gone (a config reload swapped the pipeline)
 * disappears, and a total that starts again from zero reads as a counter reset, which
 * Prometheus' `rate()` handles. Every name is listed in `METRICS` and in docs/metrics.md (a test
 * keeps the two equal).
 */
import type { DiskBufferStats } from '@spillway/disk-buffer';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  type ChannelReading,
  countsAt,
  HEALTH_STATES,
  METER_READINGS,
  numberAt,
  numericLeaves,
  PIPELINE_STATES,
  type PipelineReading,
  type SpillReading,
  type StageReading,
} from './pipeline-reading.js';

type Labels = Readonly<Record<string, string>>;
type Sample = readonly [Labels, number];

/** One exported metric: how it is named, typed and labelled, and where its samples come from. */
export interface MetricDefinition {
  /** Starts with `spillway_`; counters end with `_total`. */
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly labels: readonly string[];
  /** The samples of one reading; a label set appears at most once. */
  readonly read: (reading: PipelineReading) => Iterable<Sample>;
}

type Kind = MetricDefinition['type'];

const def = (
  name: string,
  type: Kind,
  labels: readonly string[],
  help: string,
  read: MetricDefinition['read'],
): MetricDefinition => ({ name, type, labels, help, read });

/** A metric of the pipeline itself, from its own entry. */
const pipelineCounter = (name: string, key: string, help: string) =>
  def(name, 'counter', ['pipeline'], help, function* (r) {
    yield [{ pipeline: r.name }, numberAt(r.stats, key) ?? 0];
  });

/** One sample per stage that has an input channel, when `value` gives a number. */
const channelMetric = (
  name: string,
  type: Kind,
  help: string,
  value: (c: ChannelReading) => number | undefined,
) =>
  def(name, type, ['pipeline', 'channel'], help, function* (r) {
    for (const { input } of r.stages) {
      if (!input) continue;
      const v = value(input);
      if (v !== undefined) yield [{ pipeline: r.name, channel: input.id }, v];
    }
  });

/** A spill buffer's metric: `disk` is undefined until its files are open. */
const diskMetric = (
  name: string,
  type: Kind,
  help: string,
  value: (spill: SpillReading, disk: DiskBufferStats | undefined) => number | undefined,
) => channelMetric(name, type, help, (c) => (c.spill ? value(c.spill, c.spill.disk) : undefined));

/** One sample per stage of `kind` (all kinds when absent), when `value` gives a number. */
const stageMetric = (
  name: string,
  type: Kind,
  help: string,
  value: (s: StageReading) => number | undefined,
  kind?: StageReading['kind'],
) => {
  const label = kind === 'sink' ? 'sink' : 'stage';
  return def(name, type, ['pipeline', label], help, function* (r) {
    for (const stage of r.stages) {
      if (kind !== undefined && stage.kind !== kind) continue;
      const v = value(stage);
      if (v !== undefined) yield [{ pipeline: r.name, [label]: stage.name }, v];
    }
  });
};

/** A sink's own counter: present once counted, and from the start on sinks that report health. */
const sinkCounter = (name: string, key: string, help: string) =>
  stageMetric(
    name,
    'counter',
    help,
    (s) => numberAt(s.stats, key) ?? (s.health === undefined ? undefined : 0),
    'sink',
  );

const poolMetric = (name: string, type: Kind, help: string, value: (p: PoolStats) => number) =>
  def(name, type, ['pipeline', 'sink'], help, function* (r) {
    for (const { name: sink, pool } of r.stages) {
      if (pool) yield [{ pipeline: r.name, sink }, value(pool)];
    }
  });

type PoolStats = NonNullable<StageReading['pool']>;

/** A sample per `{ reason: count }` entry of each stage's map, under label `reason`. */
const reasonsMetric = (
  name: string,
  subject: 'channel' | 'stage',
  help: string,
  counts: (s: StageReading) => Readonly<Record<string, number>> | undefined,
) =>
  def(name, 'counter', ['pipeline', subject, 'reason'], help, function* (r) {
    for (const stage of r.stages) {
      const id = subject === 'channel' ? stage.input?.id : stage.name;
      if (id === undefined) continue;
      for (const [reason, n] of Object.entries(counts(stage) ?? {})) {
        yield [{ pipeline: r.name, [subject]: id, reason }, n];
      }
    }
  });

/** The CPU stage's reading. */
const cpuMetric = (
  name: string,
  help: string,
  value: (c: NonNullable<StageReading['cpu']>) => number,
) => stageMetric(name, 'gauge', help, (s) => (s.cpu ? value(s.cpu) : undefined), 'transform');

/** A source's drops by reason: its own `drops` map, and what a drop policy took at `emit`. */
function sourceDrops(s: StageReading): Record<string, number> | undefined {
  if (s.kind !== 'source') return undefined;
  const drops = { ...countsAt(s.stats, 'drops') };
  const byPolicy = numberAt(s.stats, 'events_dropped');
  if (byPolicy !== undefined) drops.buffer_policy = (drops.buffer_policy ?? 0) + byPolicy;
  return drops;
}

/** `status_<code>` counters of a sink, by code. */
function responseCodes(s: StageReading): Record<string, number> | undefined {
  if (s.kind !== 'sink') return undefined;
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(s.stats)) {
    const code = /^status_(\d{3})$/.exec(key)?.[1];
    if (code !== undefined && typeof n === 'number') out[code] = n;
  }
  return out;
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** Every metric the exporter serves, in exposition order. */
export const METRICS: readonly MetricDefinition[] = [
  // The pipeline.
  def(
    'spillway_pipeline_state',
    'gauge',
    ['pipeline', 'state'],
    'Lifecycle state of the pipeline: 1 for the current state, 0 for the others.',
    function* (r) {
      for (const state of PIPELINE_STATES) {
        yield [{ pipeline: r.name, state }, state === r.state ? 1 : 0];
      }
    },
  ),
  pipelineCounter(
    'spillway_pipeline_undelivered_batches_total',
    'undelivered_batches',
    'Batches still undelivered at a stop deadline (counted loss).',
  ),
  pipelineCounter(
    'spillway_pipeline_undelivered_events_total',
    'undelivered_events',
    'Events still undelivered at a stop deadline (counted loss).',
  ),
  pipelineCounter(
    'spillway_pipeline_stage_failures_total',
    'stage_failures',
    'Stages that ended with an error.',
  ),
  pipelineCounter(
    'spillway_pipeline_sink_errors_total',
    'sink_errors',
    'Sink writes that threw instead of returning an outcome.',
  ),

  // Channels: the bounded buffer in front of each transform and sink.
  channelMetric('spillway_channel_depth', 'gauge', 'Batches queued now.', (c) => c.depth),
  channelMetric('spillway_channel_capacity', 'gauge', 'Bound in batches.', (c) => c.capacity),
  channelMetric('spillway_channel_bytes', 'gauge', 'Bytes queued now.', (c) => c.bytes),
  channelMetric('spillway_channel_max_bytes', 'gauge', 'Bound in bytes.', (c) => c.maxBytes),
  channelMetric(
    'spillway_channel_fill_ratio',
    'gauge',
    'max(depth / capacity, bytes / max_bytes), 0..1: 1 means the channel is full.',
    (c) => c.fillRatio,
  ),
  channelMetric(
    'spillway_channel_blocked_senders',
    'gauge',
    'Senders waiting for room now.',
    (c) => c.blockedSenders,
  ),
  channelMetric(
    'spillway_channel_in_batches_total',
    'counter',
    'Batches accepted.',
    (c) => c.totalIn,
  ),
  channelMetric(
    'spillway_channel_out_batches_total',
    'counter',
    'Batches taken by the consumer.',
    (c) => c.totalOut,
  ),
  channelMetric('spillway_channel_in_bytes_total', 'counter', 'Bytes accepted.', (c) => c.bytesIn),
  channelMetric(
    'spillway_channel_out_bytes_total',
    'counter',
    'Bytes taken by the consumer.',
    (c) => c.bytesOut,
  ),
  channelMetric(
    'spillway_channel_blocked_seconds_total',
    'counter',
    'Seconds senders spent waiting for room, summed over senders, including waits in progress.',
    (c) => seconds(c.blockedMs),
  ),
  reasonsMetric(
    'spillway_channel_dropped_batches_total',
    'channel',
    'Batches the full-policy dropped, by reason.',
    (s) => s.input?.drops,
  ),
  channelMetric(
    'spillway_channel_dropped_bytes_total',
    'counter',
    'Bytes of the batches the full-policy dropped.',
    (c) => c.droppedBytes,
  ),

  // Spill buffers: the disk part of a channel.
  diskMetric(
    'spillway_disk_buffer_bytes',
    'gauge',
    'Bytes on disk not yet acknowledged.',
    (_, d) => d?.bytesOnDisk,
  ),
  diskMetric(
    'spillway_disk_buffer_records',
    'gauge',
    'Records (batches) on disk not yet acknowledged: unread plus in flight.',
    (_, d) => d?.recordsOnDisk,
  ),
  diskMetric(
    'spillway_disk_buffer_events',
    'gauge',
    'Events in the records on disk.',
    (_, d) => d?.eventsOnDisk,
  ),
  diskMetric(
    'spillway_disk_buffer_unread_records',
    'gauge',
    'Records written and not yet read back.',
    (_, d) => d?.unread,
  ),
  diskMetric(
    'spillway_disk_buffer_spilled_batches_total',
    'counter',
    'Batches written to disk because memory was full or a backlog was on disk.',
    (s) => s.spilledBatches,
  ),
  diskMetric(
    'spillway_disk_buffer_replayed_batches_total',
    'counter',
    'Batches read back from disk and passed on.',
    (s) => s.replayedBatches,
  ),
  diskMetric(
    'spillway_disk_buffer_requeued_batches_total',
    'counter',
    'Batches the sink gave back (retries ran out), written to disk for later.',
    (s) => s.requeuedBatches,
  ),
  diskMetric(
    'spillway_disk_buffer_written_bytes_total',
    'counter',
    'Bytes written to disk (spilled and requeued records).',
    (_, d) => d?.writtenBytes,
  ),
  diskMetric(
    'spillway_disk_buffer_replayed_bytes_total',
    'counter',
    'Bytes read back from disk.',
    (_, d) => d?.replayedBytes,
  ),
  diskMetric(
    'spillway_disk_buffer_corrupt_records_total',
    'counter',
    'Records found damaged on disk and skipped.',
    (_, d) => d?.corruptRecords,
  ),
  diskMetric(
    'spillway_disk_buffer_write_errors_total',
    'counter',
    'Failed writes to the disk buffer.',
    (_, d) => d?.writeErrors,
  ),
  reasonsMetric(
    'spillway_disk_buffer_dropped_records_total',
    'channel',
    "Records the disk part's full-policy dropped, by reason.",
    (s) => s.input?.spill?.disk?.drops,
  ),

  // Every stage: its stats as they are, and the events through it.
  def(
    'spillway_stage_stat',
    'gauge',
    ['pipeline', 'stage', 'stat'],
    "Every numeric value of a stage's stats, by dotted path (e.g. concurrency.in_flight).",
    function* (r) {
      for (const stage of r.stages) {
        for (const [stat, v] of numericLeaves(stage.stats)) {
          yield [{ pipeline: r.name, stage: stage.name, stat }, v];
        }
      }
    },
  ),
  stageMetric(
    'spillway_stage_events_in_total',
    'counter',
    'Events the stage took in (transforms; receivers: events received).',
    (s) => numberAt(s.stats, 'events_in') ?? (s.kind === 'transform' ? 0 : undefined),
  ),
  stageMetric(
    'spillway_stage_events_out_total',
    'counter',
    'Events the stage passed on (sources: emitted; transforms: produced).',
    (s) => numberAt(s.stats, 'events_out') ?? (s.kind === 'sink' ? undefined : 0),
  ),

  // Sources.
  stageMetric(
    'spillway_source_blocked_seconds_total',
    'counter',
    'Seconds the source spent waiting in emit() for room downstream: backpressure.',
    (s) => seconds(numberAt(s.stats, 'blocked_ms') ?? 0),
    'source',
  ),
  reasonsMetric(
    'spillway_source_dropped_total',
    'stage',
    'Records (datagrams, frames, events) a source dropped, by reason.',
    sourceDrops,
  ),
  stageMetric(
    'spillway_source_kernel_drops_total',
    'counter',
    'Datagrams the kernel dropped on the UDP socket before the source read them (Linux).',
    (s) => numberAt(s.stats, 'kernel_drops'),
    'source',
  ),
  stageMetric(
    'spillway_source_throttled_total',
    'counter',
    'Requests an HTTP/OTLP receiver answered 429 because its intake budget was full.',
    (s) =>
      numberAt(s.stats, 'responses_429') ??
      (numberAt(s.stats, 'budget_max_bytes') === undefined ? undefined : 0),
    'source',
  ),

  // Transforms and the CPU stage.
  stageMetric(
    'spillway_transform_errors_total',
    'counter',
    'Batches the transform failed on (rejected).',
    (s) => numberAt(s.stats, 'errors') ?? 0,
    'transform',
  ),
  cpuMetric(
    'spillway_cpu_utilisation_ratio',
    'Busy share of the thread pool over the last seconds, 0..1.',
    (c) => c.utilisation,
  ),
  def(
    'spillway_cpu_meter',
    'gauge',
    ['pipeline', 'stage', 'state'],
    'Thread-pool meter: 1 for the current reading (healthy, stressed, starved), 0 for the others.',
    function* (r) {
      for (const { name, cpu } of r.stages) {
        if (!cpu) continue;
        for (const state of METER_READINGS) {
          yield [{ pipeline: r.name, stage: name, state }, state === cpu.meter ? 1 : 0];
        }
      }
    },
  ),
  cpuMetric('spillway_cpu_threads', 'Worker threads.', (c) => c.threads),
  cpuMetric('spillway_cpu_tasks_in_flight', 'Batches on the threads now.', (c) => c.inFlight),
  cpuMetric(
    'spillway_cpu_queue_depth',
    "Tasks waiting in the thread pool's queue.",
    (c) => c.queueDepth,
  ),

  // Output pools.
  poolMetric('spillway_pool_workers', 'gauge', 'Workers alive.', (p) => p.workers),
  poolMetric('spillway_pool_busy_workers', 'gauge', 'Workers in a write now.', (p) => p.busy),
  poolMetric('spillway_pool_max_workers', 'gauge', 'Bound on workers.', (p) => p.maxWorkers),
  poolMetric(
    'spillway_pool_dispatched_batches_total',
    'counter',
    'Batches handed to a worker.',
    (p) => p.dispatched,
  ),
  poolMetric(
    'spillway_pool_delivered_batches_total',
    'counter',
    'Batches the sink delivered.',
    (p) => p.delivered,
  ),
  poolMetric(
    'spillway_pool_rejected_batches_total',
    'counter',
    'Batches the sink rejected (fatal, or the write threw).',
    (p) => p.rejected,
  ),
  poolMetric(
    'spillway_pool_dropped_batches_total',
    'counter',
    'Batches the sink dropped by a named policy.',
    (p) => p.dropped,
  ),
  poolMetric(
    'spillway_pool_requeued_batches_total',
    'counter',
    'Batches given back to the buffer after their retries ran out.',
    (p) => p.requeued,
  ),
  poolMetric(
    'spillway_pool_rewrites_total',
    'counter',
    'Writes repeated because no buffer could take a requeued batch back.',
    (p) => p.rewrites,
  ),
  poolMetric(
    'spillway_pool_wait_seconds_total',
    'counter',
    'Seconds the dispatcher waited for a free worker.',
    (p) => p.waitMs / 1000,
  ),

  // Sinks.
  def(
    'spillway_sink_up',
    'gauge',
    ['pipeline', 'sink', 'state'],
    'Sink health: 1 for the current state (healthy, degraded, down), 0 for the others.',
    function* (r) {
      for (const stage of r.stages) {
        if (stage.kind !== 'sink') continue;
        const current = stage.health ?? 'healthy';
        for (const state of HEALTH_STATES) {
          yield [{ pipeline: r.name, sink: stage.name, state }, state === current ? 1 : 0];
        }
      }
    },
  ),
  sinkCounter(
    'spillway_sink_delivered_events_total',
    'delivered_events',
    'Events the sink delivered.',
  ),
  sinkCounter('spillway_sink_attempts_total', 'attempts', 'Requests sent, retries included.'),
  sinkCounter('spillway_sink_retries_total', 'retries', 'Retries sent.'),
  sinkCounter(
    'spillway_sink_requeued_events_total',
    'requeued_events',
    'Events given back to the buffer because their retries ran out.',
  ),
  sinkCounter(
    'spillway_sink_dead_lettered_events_total',
    'dead_lettered_events',
    'Events written to the dead letters.',
  ),
  sinkCounter(
    'spillway_sink_lost_events_total',
    'rejected_events_lost',
    'Events refused with nowhere to go (no dead letters, or the file full).',
  ),
  sinkCounter(
    'spillway_sink_transport_errors_total',
    'transport_errors',
    'Attempts without an answer: connection refused or reset, TLS failure, timeout.',
  ),
  def(
    'spillway_sink_responses_total',
    'counter',
    ['pipeline', 'sink', 'code'],
    'Attempts answered, by HTTP status code.',
    function* (r) {
      for (const stage of r.stages) {
        for (const [code, n] of Object.entries(responseCodes(stage) ?? {})) {
          yield [{ pipeline: r.name, sink: stage.name, code }, n];
        }
      }
    },
  ),
  stageMetric(
    'spillway_sink_concurrency_limit',
    'gauge',
    'Requests the sink may have on the wire at once (adaptive: the current limit).',
    (s) => nested(s.stats, 'concurrency', 'limit'),
    'sink',
  ),
  stageMetric(
    'spillway_sink_requests_in_flight',
    'gauge',
    'Requests on the wire now.',
    (s) => nested(s.stats, 'concurrency', 'in_flight'),
    'sink',
  ),
];

function nested(stats: Readonly<Record<string, unknown>>, key: string, leaf: string) {
  const inner = stats[key];
  return typeof inner === 'object' && inner !== null
    ? numberAt(inner as Record<string, unknown>, leaf)
    : undefined;
}

/**
 * A prom-client registry serving {@link METRICS} from the reading passed to `scrape()`.
 *
 * When to use: behind any HTTP server that wants spillway's metrics in the Prometheus text
 * format; `startMetricsServer` is one.
 *
 * Gotchas: scrapes run one at a time (each metric's `collect()` reads the reading of the scrape
 * in progress). `registry` can take more metrics, e.g. prom-client's default process metrics,
 * but those are not named `spillway_` nor listed in docs/metrics.md.
 *
 * @example
 * ```ts
 * const exporter = new PrometheusExporter();
 * const text = await exporter.scrape(readPipeline(pipeline.metrics.snapshot()));
 * ```
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  #reading: PipelineReading | undefined;
  #last: Promise<unknown> = Promise.resolve();

  constructor() {
    for (const metric of METRICS) this.#register(metric);
  }

  /** The `Content-Type` of what `scrape()` returns. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of `reading` (`undefined`: no pipeline, so no samples). */
  scrape(reading: PipelineReading | undefined): Promise<string> {
    const run = async () => {
      this.#reading = reading;
      try {
        return await this.registry.metrics();
      } finally {
        this.#reading = undefined;
      }
    };
    const result = this.#last.then(run, run);
    this.#last = result.catch(() => {});
    return result;
  }

  #register(metric: MetricDefinition): void {
    const samples = () => (this.#reading ? metric.read(this.#reading) : []);
    const options = {
      name: metric.name,
      help: metric.help,
      labelNames: metric.labels,
      registers: [this.registry],
    };
    if (metric.type === 'gauge') {
      new Gauge({
        ...options,
        collect() {
          this.reset();
          for (const [labels, value] of samples()) this.set(labels, value);
        },
      });
    } else {
      new Counter({
        ...options,
        collect() {
          this.reset();
          // Totals only grow while a pipeline runs; a negative one would be a bug upstream and
          // must not make the whole scrape fail.
          for (const [labels, value] of samples()) this.inc(labels, Math.max(0, value));
        },
      });
    }
  }
}
