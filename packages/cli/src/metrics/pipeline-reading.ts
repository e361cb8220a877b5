/**
 * One reading of a pipeline's metrics registry, typed and in graph order: what the Prometheus
 * exporter and the dashboard both show, read in one place so that the two cannot disagree.
 *
 * The registry hands out untyped entries (`Record<string, unknown>`): each stage merges its own
 * counters with whatever its `stats()` returns. This module knows the shapes the runtime
 * guarantees (channels, spill buffers, output pools, the pipeline's own counters) and the few
 * conventions stages follow (`health` on sinks, `meter` + `utilisation` on the CPU stage,
 * `drops` maps, `events_in`/`events_out`); anything else stays available as the raw `stats`.
 *
 * Graph order: the `Pipeline` does not expose its edges, so stages are listed sources first,
 * then transforms, then sinks, each kind in the order of its spec. Stages are known from their
 * input channels and pools before `start()` registers their own entries.
 */
import type { ChannelStats, MetricsSnapshot, OutputPoolStats } from '@spillway/core';
import type { DiskBufferStats, SpillChannelStats } from '@spillway/disk-buffer';
import type { HealthState } from '@spillway/sinks';
import type { MeterReading } from '@spillway/workers';

export type { HealthState, MeterReading };

/** A pipeline's lifecycle state, as its metrics entry reports it. */
export type PipelineState = 'built' | 'running' | 'stopping' | 'stopped';

/** The states a pipeline entry can report, in lifecycle order. */
export const PIPELINE_STATES: readonly PipelineState[] = [
  'built',
  'running',
  'stopping',
  'stopped',
];
/** The states a sink's health can be in, best first. */
export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'down'];
/** The thread-pool meter's readings. */
export const METER_READINGS: readonly MeterReading[] = ['healthy', 'stressed', 'starved'];

/** A spill buffer's disk part and its counters. */
export interface SpillReading {
  /** Undefined until the disk buffer has opened (a moment after the pipeline is built). */
  readonly disk: DiskBufferStats | undefined;
  readonly spilledBatches: number;
  readonly replayedBatches: number;
  readonly requeuedBatches: number;
}

/** A stage's input channel: `<stage>.in`. For a spill buffer, the numbers are its memory part. */
export interface ChannelReading extends ChannelStats {
  /** The registry id, `<stage>.in`. */
  readonly id: string;
  /** Present when the buffer spills to disk. */
  readonly spill: SpillReading | undefined;
}

/** The CPU stage's thread pool (`workers()` from `@spillway/workers`). */
export interface CpuReading {
  readonly threads: number;
  readonly inFlight: number;
  readonly queueDepth: number;
  /** Busy share of the threads' time over the last seconds, 0..1. */
  readonly utilisation: number;
  readonly meter: MeterReading;
}

/** One stage, with the entries that belong to it. */
export interface StageReading {
  readonly name: string;
  readonly kind: 'source' | 'transform' | 'sink';
  /** The stage's own entry; empty before `start()` registers it. */
  readonly stats: Readonly<Record<string, unknown>>;
  /** Transforms and sinks: the channel in front of the stage. */
  readonly input: ChannelReading | undefined;
  /** Sinks: the output pool. */
  readonly pool: OutputPoolStats | undefined;
  /** The CPU stage: its thread-pool meter. */
  readonly cpu: CpuReading | undefined;
  /** Sinks that report a health of their own (the HTTP sink). */
  readonly health: HealthState | undefined;
}

/** Everything one `snapshot()` says about one pipeline. */
export interface PipelineReading {
  readonly name: string;
  readonly state: PipelineState;
  /** When the snapshot was taken, ms since the epoch. */
  readonly timestamp: number;
  /** Sources, transforms, sinks: see the module header for the order. */
  readonly stages: readonly StageReading[];
  /** The pipeline's own counters: `undelivered_batches`, `stage_failures`, … */
  readonly stats: Readonly<Record<string, unknown>>;
}

/**
 * Reads a snapshot of one pipeline's registry.
 *
 * When to use: wherever the metrics of a pipeline are shown; take the snapshot once and derive
 * everything from the reading, so that every figure comes from the same instant.
 *
 * Gotcha: a registry without a pipeline entry (not one made by a `Pipeline`) reads as a pipeline
 * named `pipeline` in state `built`.
 *
 * @example
 * ```ts
 * const reading = readPipeline(pipeline.metrics.snapshot());
 * for (const stage of reading.stages) console.log(stage.name, stage.input?.fillRatio);
 * ```
 */
export function readPipeline(snapshot: MetricsSnapshot): PipelineReading {
  const byId = new Map(snapshot.entries.map((e) => [e.id, e]));
  const own = snapshot.entries.find((e) => e.kind === 'pipeline');
  const stages: StageReading[] = [];
  const stage = (name: string, kind: StageReading['kind']): StageReading => {
    const stats = byId.get(name)?.stats ?? {};
    const input = byId.get(`${name}.in`);
    const pool = kind === 'sink' ? byId.get(`${name}.pool`) : undefined;
    return {
      name,
      kind,
      stats,
      input: input ? channelOf(input.id, input.stats) : undefined,
      pool: pool ? (pool.stats as unknown as OutputPoolStats) : undefined,
      cpu: kind === 'transform' ? cpuOf(stats) : undefined,
      health: kind === 'sink' ? oneOf(stats.health, HEALTH_STATES) : undefined,
    };
  };
  for (const e of snapshot.entries) if (e.kind === 'source') stages.push(stage(e.id, 'source'));
  // Input channels are registered at build in spec order, transforms before sinks; a sink's
  // channel is the one with a pool next to it.
  const consumers = snapshot.entries
    .filter((e) => e.kind === 'channel' && e.id.endsWith('.in'))
    .map((e) => e.id.slice(0, -'.in'.length));
  const isSink = (name: string) => byId.get(`${name}.pool`)?.kind === 'pool';
  for (const name of consumers) if (!isSink(name)) stages.push(stage(name, 'transform'));
  for (const name of consumers) if (isSink(name)) stages.push(stage(name, 'sink'));
  return {
    name: own?.id ?? 'pipeline',
    state: oneOf(own?.stats.state, PIPELINE_STATES) ?? 'built',
    timestamp: snapshot.timestamp,
    stages,
    stats: own?.stats ?? {},
  };
}

/** A finite number at `key`, or `undefined`. */
export function numberAt(
  stats: Readonly<Record<string, unknown>>,
  key: string,
): number | undefined {
  const value = stats[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The finite numbers of a `{ reason: count }` map such as a channel's or a source's `drops`. */
export function countsAt(
  stats: Readonly<Record<string, unknown>>,
  key: string,
): Readonly<Record<string, number>> {
  const value = stats[key];
  const out: Record<string, number> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [reason, n] of Object.entries(value)) {
    if (typeof n === 'number' && Number.isFinite(n)) out[reason] = n;
  }
  return out;
}

/**
 * Every finite numeric leaf of a stats object, keyed by its dotted path
 * (`concurrency.in_flight`). Arrays and non-numbers are left out.
 */
export function numericLeaves(
  stats: Readonly<Record<string, unknown>>,
  prefix = '',
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of Object.entries(stats)) {
    const path = prefix + key;
    if (typeof value === 'number' && Number.isFinite(value)) out.set(path, value);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of numericLeaves(value as Record<string, unknown>, `${path}.`)) {
        out.set(k, v);
      }
    }
  }
  return out;
}

function channelOf(id: string, stats: Readonly<Record<string, unknown>>): ChannelReading {
  const channel = stats as unknown as ChannelStats & Partial<SpillChannelStats>;
  // A spill buffer's stats carry its counters from the start, and `disk` once it has opened.
  const spills = typeof channel.spilledBatches === 'number';
  return {
    ...channel,
    drops: countsAt(stats, 'drops'),
    id,
    spill: spills
      ? {
          disk: channel.disk,
          spilledBatches: channel.spilledBatches ?? 0,
          replayedBatches: channel.replayedBatches ?? 0,
          requeuedBatches: channel.requeuedBatches ?? 0,
        }
      : undefined,
  };
}

function cpuOf(stats: Readonly<Record<string, unknown>>): CpuReading | undefined {
  const meter = oneOf(stats.meter, METER_READINGS);
  const utilisation = numberAt(stats, 'utilisation');
  if (meter === undefined || utilisation === undefined) return undefined;
  return {
    threads: numberAt(stats, 'threads') ?? 0,
    inFlight: numberAt(stats, 'in_flight') ?? 0,
    queueDepth: numberAt(stats, 'queue_depth') ?? 0,
    utilisation,
    meter,
  };
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return allowed.includes(value as T) ? (value as T) : undefined;
}
