// The Prometheus exporter on a synthetic snapshot with one of everything: each named metric
// carries the right number under the right labels, the generic stage stats flatten nested
// values, and scrapes taken at once do not mix their readings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPipeline } from '../src/metrics/pipeline-reading.js';
import { METRICS, PrometheusExporter } from '../src/metrics/prometheus.js';
import { syntheticSnapshot } from './metrics-synthetic.js';
import { parseExposition, samplesOf, sampleValue } from './metrics-text-format.js';

const scrape = async (t = 0, name = 'synthetic') =>
  parseExposition(
    await new PrometheusExporter().scrape(readPipeline(syntheticSnapshot(t, { name }))),
  );

describe('PrometheusExporter', () => {
  it('gives every defined metric samples when the pipeline has one of everything', async () => {
    const families = await scrape();
    for (const metric of METRICS) {
      const family = families.get(metric.name);
      assert.ok(family, `${metric.name} is exposed`);
      assert.equal(family.type, metric.type, `${metric.name} is a ${metric.type}`);
      assert.ok(family.samples.length > 0, `${metric.name} has samples`);
      for (const sample of family.samples) {
        assert.deepEqual(Object.keys(sample.labels).sort(), [...metric.labels].sort());
        assert.equal(sample.labels.pipeline, 'synthetic');
      }
    }
    assert.ok(
      [...families.keys()].every((name) => name.startsWith('spillway_')),
      'every name starts with spillway_',
    );
  });

  it('reads channels, spill buffers, pools and the pipeline into named metrics', async () => {
    const f = await scrape(10);
    const parse = { channel: 'parse.in' };
    const out = { channel: 'out.in' };
    assert.equal(sampleValue(f, 'spillway_channel_depth', parse), 8);
    assert.equal(sampleValue(f, 'spillway_channel_capacity', parse), 16);
    assert.equal(sampleValue(f, 'spillway_channel_fill_ratio', parse), 0.5);
    assert.equal(sampleValue(f, 'spillway_channel_fill_ratio', out), 1);
    assert.equal(sampleValue(f, 'spillway_channel_blocked_senders', out), 1);
    assert.equal(sampleValue(f, 'spillway_channel_in_batches_total', parse), 900);
    assert.equal(sampleValue(f, 'spillway_channel_blocked_seconds_total', out), 11.5, 'ms → s');
    assert.equal(
      sampleValue(f, 'spillway_channel_dropped_batches_total', {
        ...parse,
        reason: 'full_drop_newest',
      }),
      22,
    );
    assert.equal(samplesOf(f, 'spillway_channel_dropped_batches_total', out).length, 0);
    assert.equal(sampleValue(f, 'spillway_disk_buffer_bytes', out), 5 * 1024 * 1024);
    assert.equal(sampleValue(f, 'spillway_disk_buffer_unread_records', out), 23);
    assert.equal(sampleValue(f, 'spillway_disk_buffer_spilled_batches_total', out), 130);
    assert.equal(sampleValue(f, 'spillway_disk_buffer_requeued_batches_total', out), 2);
    assert.equal(sampleValue(f, 'spillway_disk_buffer_corrupt_records_total', out), 1);
    assert.equal(
      sampleValue(f, 'spillway_disk_buffer_dropped_records_total', {
        ...out,
        reason: 'disk_full_drop_oldest',
      }),
      3,
    );
    assert.equal(
      samplesOf(f, 'spillway_disk_buffer_bytes', parse).length,
      0,
      'an in-memory channel has no disk part',
    );
    assert.equal(sampleValue(f, 'spillway_pool_busy_workers', { sink: 'out' }), 16);
    assert.equal(sampleValue(f, 'spillway_pool_wait_seconds_total', { sink: 'out' }), 12.5);
    assert.equal(sampleValue(f, 'spillway_pipeline_state', { state: 'running' }), 1);
    assert.equal(sampleValue(f, 'spillway_pipeline_state', { state: 'stopped' }), 0);
    assert.equal(sampleValue(f, 'spillway_pipeline_sink_errors_total'), 2);
  });

  it('reads sources, the CPU stage and the sink into named metrics', async () => {
    const f = await scrape(1);
    const udp = { stage: 'udp' };
    const otlp = { stage: 'otlp' };
    assert.equal(sampleValue(f, 'spillway_stage_events_out_total', udp), 12_000);
    assert.equal(sampleValue(f, 'spillway_source_kernel_drops_total', udp), 7);
    assert.equal(
      sampleValue(f, 'spillway_source_dropped_total', { ...udp, reason: 'channel_full' }),
      40,
    );
    assert.equal(
      sampleValue(f, 'spillway_source_dropped_total', { ...udp, reason: 'parse_error' }),
      2,
    );
    assert.equal(
      sampleValue(f, 'spillway_source_dropped_total', { ...otlp, reason: 'buffer_policy' }),
      5,
      'events a drop policy took at emit()',
    );
    assert.equal(sampleValue(f, 'spillway_source_throttled_total', otlp), 9);
    assert.equal(samplesOf(f, 'spillway_source_throttled_total', udp).length, 0, 'not a receiver');
    assert.equal(samplesOf(f, 'spillway_source_kernel_drops_total', otlp).length, 0, 'not UDP');
    assert.equal(sampleValue(f, 'spillway_source_blocked_seconds_total', otlp), 1.3);
    assert.equal(sampleValue(f, 'spillway_stage_events_in_total', { stage: 'parse' }), 24_000);
    assert.equal(sampleValue(f, 'spillway_transform_errors_total', { stage: 'parse' }), 3);
    assert.equal(sampleValue(f, 'spillway_cpu_utilisation_ratio', { stage: 'parse' }), 0.93);
    assert.equal(sampleValue(f, 'spillway_cpu_meter', { stage: 'parse', state: 'stressed' }), 1);
    assert.equal(sampleValue(f, 'spillway_cpu_meter', { stage: 'parse', state: 'healthy' }), 0);
    assert.equal(sampleValue(f, 'spillway_cpu_threads', { stage: 'parse' }), 4);
    const sink = { sink: 'out' };
    assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'degraded' }), 1);
    assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'healthy' }), 0);
    assert.equal(sampleValue(f, 'spillway_sink_up', { ...sink, state: 'down' }), 0);
    assert.equal(sampleValue(f, 'spillway_sink_retries_total', sink), 15);
    assert.equal(sampleValue(f, 'spillway_sink_dead_lettered_events_total', sink), 17);
    assert.equal(sampleValue(f, 'spillway_sink_requeued_events_total', sink), 200);
    assert.equal(sampleValue(f, 'spillway_sink_responses_total', { ...sink, code: '503' }), 4);
    assert.equal(sampleValue(f, 'spillway_sink_transport_errors_total', sink), 6);
    assert.equal(sampleValue(f, 'spillway_sink_concurrency_limit', sink), 4);
    assert.equal(sampleValue(f, 'spillway_sink_requests_in_flight', sink), 3);
  });

  it('exposes every numeric leaf of a stage as spillway_stage_stat, by dotted path', async () => {
    const f = await scrape();
    const stat = (stage: string, name: string) =>
      sampleValue(f, 'spillway_stage_stat', { stage, stat: name });
    assert.equal(stat('out', 'concurrency.in_flight'), 3);
    assert.equal(stat('out', 'dead_letters.dead_letter_bytes'), 4096);
    assert.equal(stat('parse', 'steps.parseJson.errors'), 3);
    assert.equal(stat('otlp', 'budget_used_bytes'), 1024);
    assert.equal(
      samplesOf(f, 'spillway_stage_stat', { stage: 'out', stat: 'health' }).length,
      0,
      'strings are not numbers',
    );
  });

  it('serves scrapes one at a time, each from its own reading', async () => {
    const exporter = new PrometheusExporter();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const texts = await Promise.all(
      names.map((name) => exporter.scrape(readPipeline(syntheticSnapshot(0, { name })))),
    );
    for (const [i, text] of texts.entries()) {
      const pipelines = new Set(
        [...parseExposition(text).values()].flatMap((f) => f.samples.map((s) => s.labels.pipeline)),
      );
      assert.deepEqual([...pipelines], [names[i]]);
    }
    const empty = parseExposition(await exporter.scrape(undefined));
    assert.ok(
      [...empty.values()].every((f) => f.samples.length === 0),
      'no pipeline: no samples, and nothing left over from the scrapes before',
    );
    assert.equal(empty.size, METRICS.length, 'but every family is still announced');
  });
});
