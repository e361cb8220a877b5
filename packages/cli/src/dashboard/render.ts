/**
 * The dashboard's pictures, as pure functions of two pipeline readings (now and one frame ago)
 * and the terminal's width: `renderFrame` for the full-screen view, `renderSummary` for the
 * one-line log form. Rates are the difference of two totals over the time between the readings.
 *
 * The full-screen view is the backpressure cascade drawn top to bottom, in graph order:
 *
 * ```
 *  spillway · pipeline demo · running · up 3.7 s
 *  lost at stops 0 ev · stage failures 0 · sink errors 0
 *  ─────────────────────────────────────────────────────────────────────────────────────────
 *  ◆ gen   source    out 0 ev/s  blocked 100% (1.3 s)  lost 0
 *  │
 *  ▼ http.in  batches ████████████████ 8/8  bytes █░░░░░░░░░░░░░░░ 33.6 KiB/16.0 MiB  FULL
 *  │          in 0/s  out 0/s  blocked 1.3 s · 1 waiting  lost 0
 *  ◆ http  sink      ● DOWN  pool 16/16 busy  delivered 0 ev/s  retries 5  DLQ 0  lost 0
 * ```
 *
 * Rates of buffers are in batches per second (a channel does not count events); rates of
 * stages in events per second.
 *
 * Everything that has a colour also says it in words (`FULL`, `DOWN`, `stressed`), so the view
 * reads the same without colour. Every line fits in `width - 1` columns: writing the last column
 * would leave some terminals with a pending wrap that the next line then breaks.
 */
import type { ChannelReading, PipelineReading, StageReading } from '../metrics/pipeline-reading.js';
import { countsAt, numberAt } from '../metrics/pipeline-reading.js';
import {
  bar,
  bytes,
  count,
  duration,
  fillTone,
  fit,
  type Painter,
  pack,
  padEnd,
  painter,
  percent,
  type Tone,
  visibleWidth,
} from './format.js';

/** What a frame is drawn for. */
export interface FrameOptions {
  /** Terminal columns. */
  readonly width: number;
  /** Terminal rows: lines past them are cut, and the last row says how many. */
  readonly height: number;
  /** ANSI colours; without them every state is still spelled out. */
  readonly color: boolean;
  /** Replaces `spillway` at the head of the view. */
  readonly title?: string;
  /** How long the pipeline has been seen running, for the header. */
  readonly uptimeMs?: number;
}

/** What the one-line summary is written with. */
export interface SummaryOptions {
  readonly title?: string;
}

const HEALTH_TONE: Record<string, Tone> = { healthy: 'good', degraded: 'warn', down: 'bad' };
const METER_TONE: Record<string, Tone> = { healthy: 'good', starved: 'warn', stressed: 'bad' };

/** Per-second rates between two readings of the same pipeline. */
class Rates {
  readonly #previous: PipelineReading | undefined;
  readonly #seconds: number;

  constructor(current: PipelineReading, previous: PipelineReading | undefined) {
    const same = previous !== undefined && previous.name === current.name;
    this.#seconds = same ? (current.timestamp - previous.timestamp) / 1000 : 0;
    this.#previous = same && this.#seconds > 0 ? previous : undefined;
  }

  /** The rate of `value` of a stage, or undefined on the first frame or after a reset. */
  of(stage: StageReading, value: (s: StageReading) => number | undefined): number | undefined {
    const before = this.#previous?.stages.find((s) => s.name === stage.name);
    if (!before) return undefined;
    const a = value(before);
    const b = value(stage);
    if (a === undefined || b === undefined || b < a) return undefined;
    return (b - a) / this.#seconds;
  }
}

/** `12 ev/s`, or `– ev/s` when there is no rate yet (the first frame). */
const perSecond = (rate: number | undefined, unit = '') =>
  rate === undefined ? `–${unit}/s` : `${count(rate)}${unit}/s`;

/**
 * The full-screen view of a reading, one string of lines joined by `\n`, each at most
 * `width - 1` columns, at most `height` lines.
 *
 * @example
 * ```ts
 * const text = renderFrame(readPipeline(snapshot), previousReading, { width: 120, height: 40, color: true });
 * ```
 */
export function renderFrame(
  current: PipelineReading | undefined,
  previous: PipelineReading | undefined,
  o: FrameOptions,
): string {
  const max = Math.max(10, o.width - 1);
  const paint = painter(o.color);
  const lines: string[] = [];
  const title = o.title ?? 'spillway';
  if (!current) {
    lines.push(paint(title, 'bold'), paint('no pipeline loaded', 'dim'));
    return finish(lines, max, o.height, paint);
  }
  const rates = new Rates(current, previous);
  const stateTone: Tone =
    current.state === 'running' ? 'good' : current.state === 'stopping' ? 'warn' : 'bad';
  const head = [
    paint(title, 'bold'),
    `pipeline ${current.name}`,
    paint(current.state, stateTone),
    ...(o.uptimeMs === undefined ? [] : [`up ${duration(o.uptimeMs)}`]),
  ];
  lines.push(head.join(' · '));
  const lost = numberAt(current.stats, 'undelivered_events') ?? 0;
  const failures = numberAt(current.stats, 'stage_failures') ?? 0;
  const sinkErrors = numberAt(current.stats, 'sink_errors') ?? 0;
  lines.push(
    paint(
      `lost at stops ${count(lost)} ev · stage failures ${count(failures)} · sink errors ${count(sinkErrors)}`,
      lost + failures + sinkErrors > 0 ? 'warn' : 'dim',
    ),
  );
  lines.push(paint('─'.repeat(max), 'dim'));

  const nameWidth = Math.min(24, Math.max(...current.stages.map((s) => s.name.length), 4));
  const stageName = (s: StageReading) =>
    `${paint('◆', 'bold')} ${padEnd(paint(s.name, 'bold'), nameWidth)}  ${padEnd(s.kind, 9)}`;
  for (const [i, stage] of current.stages.entries()) {
    if (stage.input) {
      lines.push(paint('│', 'dim'));
      lines.push(...channelLines(stage.input, stage, rates, paint, max, nameWidth));
    } else if (i > 0) {
      lines.push('');
    }
    const fields = stageFields(stage, rates, paint);
    const head = stageName(stage);
    const packed = pack('', fields, max - 1 - visibleWidth(head));
    lines.push(`${head} ${packed[0] ?? ''}`);
    for (const more of packed.slice(1)) lines.push(`${' '.repeat(visibleWidth(head) + 1)}${more}`);
  }
  if (current.stages.length === 0) lines.push(paint('no stages', 'dim'));
  return finish(lines, max, o.height, paint);
}

/**
 * The one-line form: time, state, then per channel its depth, rates and losses, and per sink its
 * health. For logs and terminals that are not one; not width-limited.
 *
 * @example
 * ```ts
 * output.write(`${renderSummary(reading, previousReading)}\n`);
 * ```
 */
export function renderSummary(
  current: PipelineReading | undefined,
  previous: PipelineReading | undefined,
  o: SummaryOptions = {},
): string {
  const title = o.title ?? 'spillway';
  if (!current) return `${title} no pipeline loaded`;
  const rates = new Rates(current, previous);
  const parts = [
    `${new Date(current.timestamp).toISOString()} ${title} pipeline=${current.name} ${current.state}`,
  ];
  for (const stage of current.stages) {
    const c = stage.input;
    if (c) {
      const fields = [
        `${c.id} ${c.depth}/${c.capacity}${c.fillRatio >= 1 ? ' FULL' : ''}`,
        `in ${perSecond(rates.of(stage, batchesIn))}`,
        `out ${perSecond(rates.of(stage, batchesOut))}`,
      ];
      const drops = reasons(c.drops);
      if (drops) fields.push(`lost ${drops}`);
      if (c.spill?.disk) fields.push(`disk ${bytes(c.spill.disk.bytesOnDisk)}`);
      parts.push(fields.join(' '));
    }
    if (stage.kind === 'source') {
      const drops = reasons(sourceDrops(stage));
      parts.push(
        `${stage.name} out ${perSecond(
          rates.of(stage, (s) => numberAt(s.stats, 'events_out')),
          ' ev',
        )}` + (drops ? ` lost ${drops}` : ''),
      );
    }
    if (stage.kind === 'sink') {
      const fields = [`${stage.name} ${stage.health ?? 'no-health'}`];
      const retries = numberAt(stage.stats, 'retries');
      if (retries !== undefined) fields.push(`retries ${retries}`);
      const dlq = numberAt(stage.stats, 'dead_lettered_events');
      if (dlq !== undefined) fields.push(`dlq ${dlq}`);
      parts.push(fields.join(' '));
    }
  }
  return parts.join(' | ');
}

function channelLines(
  c: ChannelReading,
  stage: StageReading,
  rates: Rates,
  paint: Painter,
  max: number,
  nameWidth: number,
): string[] {
  const full = c.fillRatio >= 1;
  const itemsRatio = c.capacity > 0 ? c.depth / c.capacity : 0;
  const bytesRatio = c.maxBytes > 0 ? c.bytes / c.maxBytes : 0;
  const prefix = `${paint('▼', 'bold')} ${padEnd(c.id, nameWidth + 2)}  `;
  const items = `${c.depth}/${c.capacity}`;
  const size = `${bytes(c.bytes)}/${bytes(c.maxBytes)}`;
  const flag = full ? `  ${paint('FULL', 'bad')}` : '';
  // Both bars share what is left of the line after the labels and numbers.
  const fixed =
    visibleWidth(prefix) + 'batches  '.length + items.length + '  bytes  '.length + size.length;
  const room = max - fixed - visibleWidth(flag);
  const itemsBar = (w: number) => paint(bar(itemsRatio, w), fillTone(itemsRatio));
  const bytesBar = (w: number) => paint(bar(bytesRatio, w), fillTone(bytesRatio));
  const lines: string[] = [];
  const indent = `${paint('│', 'dim')} ${' '.repeat(nameWidth + 2)}  `;
  if (room >= 2 * 6) {
    const w = Math.min(32, Math.floor(room / 2));
    lines.push(`${prefix}batches ${itemsBar(w)} ${items}  bytes ${bytesBar(w)} ${size}${flag}`);
  } else {
    // Narrow terminal: one bar per line.
    const w = Math.max(
      4,
      Math.min(32, max - visibleWidth(prefix) - 'bytes   '.length - 1 - size.length),
    );
    lines.push(`${prefix}batches ${itemsBar(w)} ${items}${flag}`);
    lines.push(`${indent}bytes   ${bytesBar(w)} ${size}`);
  }
  const fields = [
    `in ${perSecond(rates.of(stage, batchesIn))}`,
    `out ${perSecond(rates.of(stage, batchesOut))}`,
    `blocked ${duration(c.blockedMs)}` +
      (c.blockedSenders > 0 ? ` · ${paint(`${c.blockedSenders} waiting`, 'warn')}` : ''),
  ];
  const drops = reasons(c.drops);
  fields.push(drops ? paint(`lost ${drops}`, 'bad') : paint('lost 0', 'dim'));
  if (c.spill) {
    const disk = c.spill.disk;
    fields.push(
      disk
        ? `disk ${bytes(disk.bytesOnDisk)} · ${count(disk.recordsOnDisk)} rec`
        : paint('disk opening', 'dim'),
      `spilled ${bytesRate(rates.of(stage, (s) => s.input?.spill?.disk?.writtenBytes))}` +
        ` (${count(c.spill.spilledBatches)} batches)`,
      `replayed ${bytesRate(rates.of(stage, (s) => s.input?.spill?.disk?.replayedBytes))}` +
        ` (${count(c.spill.replayedBatches)} batches)`,
    );
    if (disk && disk.corruptRecords > 0) {
      fields.push(paint(`corrupt ${count(disk.corruptRecords)}`, 'bad'));
    }
  }
  lines.push(...pack(indent, fields, max));
  return lines;
}

function stageFields(stage: StageReading, rates: Rates, paint: Painter): string[] {
  const fields: string[] = [];
  const n = (key: string) => numberAt(stage.stats, key);
  const rateOf = (key: string) => rates.of(stage, (s) => numberAt(s.stats, key));
  if (stage.kind === 'source') {
    fields.push(`out ${perSecond(rateOf('events_out'), ' ev')}`);
    const blocked = rates.of(stage, (s) => numberAt(s.stats, 'blocked_ms'));
    const total = duration(n('blocked_ms') ?? 0);
    fields.push(
      blocked === undefined
        ? `blocked ${total}`
        : paint(
            `blocked ${percent(Math.min(1, blocked / 1000))} (${total})`,
            blocked >= 500 ? 'warn' : 'dim',
          ),
    );
    const drops = reasons(sourceDrops(stage));
    fields.push(drops ? paint(`lost ${drops}`, 'bad') : paint('lost 0', 'dim'));
    const kernel = n('kernel_drops');
    if (kernel !== undefined)
      fields.push(paint(`kernel drops ${count(kernel)}`, kernel > 0 ? 'bad' : 'dim'));
    const throttled = n('responses_429');
    if (throttled !== undefined) fields.push(paint(`429s ${count(throttled)}`, 'warn'));
  } else if (stage.kind === 'transform') {
    fields.push(
      `in ${perSecond(rateOf('events_in'), ' ev')}`,
      `out ${perSecond(rateOf('events_out'), ' ev')}`,
    );
    const errors = n('errors');
    if (errors) fields.push(paint(`errors ${count(errors)}`, 'bad'));
    const cpu = stage.cpu;
    if (cpu) {
      fields.push(
        `cpu ${paint(`● ${cpu.meter}`, METER_TONE[cpu.meter] ?? 'dim')} ${percent(cpu.utilisation)}` +
          ` of ${cpu.threads} threads · ${cpu.inFlight} in flight`,
      );
    }
  } else {
    const health = stage.health;
    fields.push(
      health === undefined
        ? paint('○ no health', 'dim')
        : paint(`● ${health === 'down' ? 'DOWN' : health}`, HEALTH_TONE[health] ?? 'dim'),
    );
    if (stage.pool) {
      const { busy, maxWorkers } = stage.pool;
      fields.push(paint(`pool ${busy}/${maxWorkers} busy`, fillTone(busy / maxWorkers)));
    }
    const delivered = rateOf('delivered_events');
    fields.push(
      n('delivered_events') !== undefined || stage.health !== undefined
        ? `delivered ${perSecond(delivered, ' ev')}`
        : `delivered ${perSecond(
            rates.of(stage, (s) => s.pool?.delivered),
            ' batches',
          )}`,
    );
    const totals: [string, string][] = [
      ['retries', 'retries'],
      ['DLQ', 'dead_lettered_events'],
      ['requeued', 'requeued_events'],
      ['lost', 'rejected_events_lost'],
    ];
    for (const [label, key] of totals) {
      const v = n(key) ?? (stage.health === undefined ? undefined : 0);
      if (v !== undefined) fields.push(paint(`${label} ${count(v)}`, v > 0 ? 'warn' : 'dim'));
    }
    if (stage.pool && stage.pool.rejected > 0) {
      fields.push(paint(`rejected ${count(stage.pool.rejected)} batches`, 'bad'));
    }
  }
  return fields;
}

/**
 * Batches into and out of a stage's buffer. A spill buffer's channel counts only its memory part:
 * what went to disk and came back counts too, or a spilling buffer would seem to take nothing.
 */
const batchesIn = (s: StageReading) =>
  s.input && s.input.totalIn + (s.input.spill?.spilledBatches ?? 0);
const batchesOut = (s: StageReading) =>
  s.input && s.input.totalOut + (s.input.spill?.replayedBatches ?? 0);

/** A source's losses by reason: its `drops` map, and what a drop policy took at `emit`. */
function sourceDrops(stage: StageReading): Readonly<Record<string, number>> {
  const drops = { ...countsAt(stage.stats, 'drops') };
  const byPolicy = numberAt(stage.stats, 'events_dropped');
  if (byPolicy) drops.buffer_policy = byPolicy;
  return drops;
}

/** `drop_newest 12 · channel_full 3`, or '' when nothing was lost. */
function reasons(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${count(n)}`)
    .join(' · ');
}

const bytesRate = (rate: number | undefined) => (rate === undefined ? '–/s' : `${bytes(rate)}/s`);

/** Fits every line to the width, and the lines to the height. */
function finish(lines: string[], max: number, height: number, paint: Painter): string {
  let out = lines;
  if (out.length > height) {
    const shown = Math.max(0, height - 1);
    out = [
      ...out.slice(0, shown),
      paint(`… ${out.length - shown} more lines: enlarge the terminal`, 'dim'),
    ];
  }
  return out.map((line) => fit(line, max)).join('\n');
}
