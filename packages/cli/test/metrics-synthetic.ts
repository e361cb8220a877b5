// A metrics snapshot with one of everything, shaped as the real stages report it: a UDP source
// with drops and kernel drops, an OTLP receiver that answered 429s, the CPU stage's meter, a
// drop-newest channel, a spill buffer with a backlog, damaged records and a disk drop, and an
// HTTP sink with status codes, dead letters and a health. Every metric the exporter defines has
// samples in it, which is what lets the docs test check all of them.
//
// `at(t)` is the snapshot t seconds in: totals grow at fixed rates, so two snapshots give known
// per-second rates (events: 2000/s from each source).
import type { MetricsEntry, MetricsSnapshot } from '@spillway/core';

export interface SyntheticOptions {
  /** The sink's health. Default `degraded`. */
  health?: 'healthy' | 'degraded' | 'down';
  /** `out.in`'s depth (capacity 16). Default 16: full. */
  sinkDepth?: number;
  /** The CPU stage's meter. Default `stressed`. */
  meter?: 'healthy' | 'stressed' | 'starved';
  /** The pipeline's name. Default `synthetic`. */
  name?: string;
}

export const T0 = 1_700_000_000_000;

/** The snapshot `t` seconds after T0. */
export function syntheticSnapshot(t: number, o: SyntheticOptions = {}): MetricsSnapshot {
  const grow = (base: number, perSecond: number) => base + Math.round(perSecond * t);
  const entry = (id: string, kind: MetricsEntry['kind'], stats: object): MetricsEntry => ({
    id,
    kind,
    stats: stats as Record<string, unknown>,
  });
  const sinkDepth = o.sinkDepth ?? 16;
  const channel = (name: string, depth: number, capacity: number, extra: object = {}) => ({
    name,
    policy: 'block',
    depth,
    bytes: depth * 4096,
    capacity,
    maxBytes: 16 * 1024 * 1024,
    fillRatio: depth / capacity,
    totalIn: grow(500, 40),
    totalOut: grow(500 - depth, 40),
    bytesIn: grow(2_000_000, 160_000),
    bytesOut: grow(1_900_000, 160_000),
    blockedSenders: depth >= capacity ? 1 : 0,
    blockedMs: grow(1500, depth >= capacity ? 1000 : 0),
    drops: {},
    droppedBytes: 0,
    ...extra,
  });
  return {
    timestamp: T0 + t * 1000,
    entries: [
      entry(o.name ?? 'synthetic', 'pipeline', {
        state: 'running',
        undelivered_batches: 0,
        undelivered_events: 0,
        stage_failures: 1,
        sink_errors: 2,
      }),
      entry(
        'parse.in',
        'channel',
        channel('parse.in', 8, 16, {
          policy: 'drop-newest',
          drops: { full_drop_newest: grow(12, 1) },
          droppedBytes: grow(12 * 4096, 4096),
        }),
      ),
      entry(
        'out.in',
        'channel',
        channel('out.in', sinkDepth, 16, {
          spilledBatches: grow(30, 10),
          replayedBatches: grow(5, 0),
          requeuedBatches: 2,
          disk: {
            bytesOnDisk: 5 * 1024 * 1024,
            recordsOnDisk: 25,
            eventsOnDisk: 2500,
            unread: 23,
            inFlight: 2,
            segments: 1,
            writtenRecords: grow(32, 10),
            writtenEvents: grow(3200, 1000),
            writtenBytes: grow(6 * 1024 * 1024, 100 * 1024),
            replayedRecords: 5,
            replayedEvents: 500,
            replayedBytes: 1024 * 1024,
            ackedRecords: 5,
            corruptRecords: 1,
            truncatedBytes: 0,
            ledgerRebuilt: false,
            writeErrors: 0,
            drops: { disk_full_drop_oldest: 3 },
            fsyncs: 4,
          },
        }),
      ),
      entry('out.pool', 'pool', {
        workers: 16,
        busy: 16,
        maxWorkers: 16,
        spawned: 16,
        reaped: 0,
        dispatched: grow(400, 30),
        delivered: grow(380, 30),
        rejected: 1,
        dropped: 0,
        requeued: 2,
        rewrites: 0,
        waitMs: grow(2500, 1000),
      }),
      entry('udp', 'source', {
        batches_out: grow(100, 20),
        events_out: grow(10_000, 2000),
        blocked_ms: 0,
        datagrams_received: grow(10_050, 2000),
        drops: { channel_full: 40, parse_error: 2 },
        kernel_drops: 7,
        receive_buffer_bytes: 212_992,
      }),
      entry('otlp', 'source', {
        batches_out: grow(100, 20),
        events_out: grow(10_000, 2000),
        events_dropped: 5,
        blocked_ms: grow(800, 500),
        requests: 130,
        events_in: grow(10_000, 2000),
        responses_200: 120,
        responses_429: 9,
        in_flight_requests: 2,
        budget_used_bytes: 1024,
        budget_max_bytes: 64 * 1024 * 1024,
        budget_drain_bytes_per_sec: 100_000,
      }),
      entry('parse', 'transform', {
        batches_in: grow(200, 40),
        events_in: grow(20_000, 4000),
        batches_out: grow(200, 40),
        events_out: grow(20_000, 4000),
        errors: 3,
        threads: 4,
        in_flight: 8,
        queue_depth: 4,
        utilisation: 0.93,
        meter: o.meter ?? 'stressed',
        steps: { parseJson: { events: 20_000, errors: 3 } },
      }),
      entry('out', 'sink', {
        attempts: grow(60, 5),
        status_200: 50,
        status_503: 4,
        transport_errors: 6,
        retries: grow(10, 5),
        delivered_events: grow(38_000, 3000),
        requeued_events: 200,
        dead_lettered_events: 17,
        rejected_events_lost: 0,
        health: o.health ?? 'degraded',
        concurrency: { limit: 4, in_flight: 3, increases: 2, decreases: 1 },
        retry_budget: { tokens: 3.5, denied: 0 },
        health_detail: { state: o.health ?? 'degraded', transitions: 2, probes: 0 },
        dead_letters: { dead_letters: 2, dead_letter_events: 17, dead_letter_bytes: 4096 },
      }),
    ],
  };
}
