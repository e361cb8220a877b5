// The dashboard's pictures as pure functions (readings + width → text), then the screen
// handling of startDashboard on a recording stream: one write per frame, the alternate screen
// entered and left, summary lines in `lines` mode.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { MetricsSnapshot, Pipeline } from '@spillway/core';
import { startDashboard } from '../src/dashboard/dashboard.js';
import { bar, fit, pack, visibleWidth } from '../src/dashboard/format.js';
import { renderFrame, renderSummary } from '../src/dashboard/render.js';
import { readPipeline } from '../src/metrics/pipeline-reading.js';
import { type SyntheticOptions, syntheticSnapshot } from './metrics-synthetic.js';

const read = (t: number, o?: SyntheticOptions) => readPipeline(syntheticSnapshot(t, o));
const frame = (width: number, o: { color?: boolean; height?: number } & SyntheticOptions = {}) =>
  renderFrame(read(1, o), read(0, o), {
    width,
    height: o.height ?? 100,
    color: o.color ?? false,
    uptimeMs: 65_000,
  });
const lineWith = (text: string, needle: string) => {
  const line = text.split('\n').find((l) => l.includes(needle));
  assert.ok(line, `a line with ${needle} in:\n${text}`);
  return line;
};

describe('renderFrame', () => {
  it('draws the cascade in graph order: sources, then each buffer above its stage', () => {
    const text = frame(120);
    const lines = text.split('\n');
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    const order = ['◆ udp', '◆ otlp', '▼ parse.in', '◆ parse', '▼ out.in', '◆ out'].map(at);
    assert.ok(
      order.every((i) => i >= 0),
      text,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      text,
    );
    assert.match(lines[0]!, /^spillway · pipeline synthetic · running · up 1m 05s$/);
  });

  it('shows each buffer as bars of batches and bytes against their bounds, FULL when full', () => {
    const text = frame(120);
    const half = lineWith(text, '▼ parse.in');
    const [batches, size] = [...half.matchAll(/([█░]+)/g)].map((m) => m[1]!);
    assert.ok(batches && size, half);
    assert.equal(batches.replaceAll('░', '').length * 2, batches.length, 'half full: 8/16');
    assert.match(half, / 8\/16 /);
    assert.match(half, /32\.0 KiB\/16\.0 MiB/);
    assert.doesNotMatch(half, /FULL/);
    const full = lineWith(text, '▼ out.in');
    assert.match(full, /█+ 16\/16 .*FULL$/);
  });

  it('computes rates from the totals of two readings and shows losses by reason', () => {
    const text = frame(160);
    assert.match(lineWith(text, '◆ udp'), /out 2000 ev\/s/);
    assert.match(lineWith(text, '◆ udp'), /lost channel_full 40 · parse_error 2/);
    assert.match(lineWith(text, '◆ udp'), /kernel drops 7/);
    assert.match(
      lineWith(text, '◆ otlp'),
      /blocked 50% \(1\.3 s\)/,
      'blocked 500 ms of each second',
    );
    assert.match(lineWith(text, '◆ otlp'), /429s 9/);
    assert.match(lineWith(text, '◆ otlp'), /lost buffer_policy 5/);
    assert.match(text, /in 40\/s {2}out 40\/s {2}blocked 1\.5 s {2}lost full_drop_newest 13/);
    assert.match(lineWith(text, '◆ parse'), /in 4000 ev\/s {2}out 4000 ev\/s/);
    assert.match(lineWith(text, '◆ parse'), /cpu ● stressed 93% of 4 threads · 8 in flight/);
    // A spill buffer: what went to disk counts as taken in.
    assert.match(text, /in 50\/s {2}out 40\/s {2}blocked 2\.5 s · 1 waiting/);
    assert.match(text, /disk 5\.0 MiB · 25 rec/);
    assert.match(text, /spilled 100\.0 KiB\/s \(40 batches\)/);
    assert.match(text, /corrupt 1/);
  });

  it('lights each sink with its health in words, and its retries, DLQ and pool', () => {
    for (const [health, word] of [
      ['healthy', '● healthy'],
      ['degraded', '● degraded'],
      ['down', '● DOWN'],
    ] as const) {
      const sink = lineWith(frame(160, { health }), '◆ out');
      assert.ok(sink.includes(word), sink);
      assert.match(sink, /pool 16\/16 busy {2}delivered 3000 ev\/s {2}retries 15 {2}DLQ 17/);
    }
  });

  it('colours by state when asked, and never without', () => {
    const plain = frame(120, { health: 'down' });
    assert.ok(!plain.includes('\x1b'), 'no escapes without colour');
    const coloured = frame(120, { health: 'down', color: true });
    assert.ok(coloured.includes('\x1b[31m● DOWN\x1b[0m'), 'down is red');
    assert.ok(coloured.includes('\x1b[31mFULL\x1b[0m'), 'FULL is red');
    assert.ok(frame(120, { health: 'healthy', color: true }).includes('\x1b[32m● healthy\x1b[0m'));
  });

  it('fits every line in the width and every line in the height', () => {
    for (const width of [20, 40, 60, 80, 100, 132, 200]) {
      for (const color of [false, true]) {
        const text = frame(width, { color });
        for (const line of text.split('\n')) {
          assert.ok(visibleWidth(line) <= width - 1, `${width}: ${JSON.stringify(line)}`);
        }
      }
    }
    // Narrow: the bars go on lines of their own, and still show the fill.
    const narrow = frame(50);
    assert.match(lineWith(narrow, '▼ out.in'), /█+ 16\/16 {2}FULL/);
    const cut = frame(120, { height: 8 }).split('\n');
    assert.equal(cut.length, 8);
    assert.match(cut[7]!, /^… \d+ more lines: enlarge the terminal$/);
  });

  it('draws something sensible before the first rate and without a pipeline', () => {
    const first = renderFrame(read(0), undefined, { width: 100, height: 50, color: false });
    assert.match(lineWith(first, '◆ udp'), /out – ev\/s/);
    const none = renderFrame(undefined, undefined, { width: 100, height: 50, color: false });
    assert.equal(none, 'spillway\nno pipeline loaded');
    const titled = renderFrame(read(0), undefined, {
      width: 100,
      height: 50,
      color: false,
      title: 'demo',
    });
    assert.match(titled, /^demo · pipeline synthetic/);
  });
});

describe('renderSummary', () => {
  it('puts per channel depth, rates and drops, and per sink health, on one line', () => {
    const line = renderSummary(read(1, { health: 'down' }), read(0, { health: 'down' }));
    assert.ok(!line.includes('\n'));
    assert.match(line, /^2023-11-14T22:13:21\.000Z spillway pipeline=synthetic running \| /);
    assert.match(line, /parse\.in 8\/16 in 40\/s out 40\/s lost full_drop_newest 13/);
    assert.match(line, /out\.in 16\/16 FULL in 50\/s out 40\/s disk 5\.0 MiB/);
    assert.match(line, /udp out 2000 ev\/s lost channel_full 40 · parse_error 2/);
    assert.match(line, /out down retries 15 dlq 17$/);
    assert.equal(renderSummary(undefined, undefined, { title: 'x' }), 'x no pipeline loaded');
  });
});

describe('format', () => {
  it('bars, fits and packs by visible width', () => {
    assert.equal(bar(0, 4), '░░░░');
    assert.equal(bar(0.01, 4), '█░░░', 'anything at all shows');
    assert.equal(bar(1, 4), '████');
    assert.equal(bar(7, 4), '████');
    assert.equal(fit('abcdef', 4), 'abc…');
    assert.equal(fit('\x1b[31mabcdef\x1b[0m', 4), '\x1b[31mabc…\x1b[0m');
    assert.equal(visibleWidth('\x1b[31m● a\x1b[0m'), 3);
    assert.deepEqual(pack('> ', ['aa', 'bb', 'cc'], 8), ['> aa  bb', '> cc']);
  });
});

/** A stand-in terminal that records what is written to it. */
class Recorder extends EventEmitter {
  columns = 100;
  rows = 40;
  readonly writes: string[] = [];
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  hasColors(): boolean {
    return false;
  }
}

/** A pipeline stand-in whose registry returns the synthetic snapshots, one second apart. */
function fakePipeline(name: string): Pipeline {
  let t = 0;
  const snapshot = (): MetricsSnapshot => syntheticSnapshot(t++, { name });
  return { name, metrics: { snapshot } } as unknown as Pipeline;
}

describe('startDashboard', () => {
  it('tty: takes the alternate screen, draws each frame in one write, gives the screen back', async () => {
    const out = new Recorder();
    const exitListeners = process.listenerCount('exit');
    const view = startDashboard({
      pipeline: () => fakePipeline('tty'),
      output: out as unknown as NodeJS.WriteStream,
      mode: 'tty',
      intervalMs: 20,
    });
    assert.equal(process.listenerCount('exit'), exitListeners + 1, 'restores on exit too');
    await delay(110);
    view.stop();
    view.stop();
    const [enter, ...rest] = out.writes;
    const leave = rest.pop();
    assert.equal(enter, '\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J', 'alternate screen, no cursor');
    assert.equal(leave, '\x1b[?7h\x1b[?25h\x1b[?1049l', 'given back once');
    assert.ok(rest.length >= 3, `${rest.length} frames`);
    for (const f of rest) {
      assert.ok(f.startsWith('\x1b[H'), 'each frame starts at home');
      assert.ok(f.endsWith('\x1b[K\x1b[J'), 'and erases what is left below it');
      assert.ok(!f.includes('\x1b[2J'), 'never clears the screen: no flicker');
      assert.match(f, /pipeline tty/);
    }
    assert.equal(process.listenerCount('exit'), exitListeners);
    const writes = out.writes.length;
    await delay(60);
    assert.equal(out.writes.length, writes, 'nothing after stop()');
  });

  it('tty: redraws at once on resize, to the new width', () => {
    const out = new Recorder();
    const view = startDashboard({
      pipeline: () => undefined,
      output: out as unknown as NodeJS.WriteStream,
      mode: 'tty',
      intervalMs: 10_000,
    });
    const before = out.writes.length;
    out.columns = 30;
    out.emit('resize');
    view.stop();
    assert.equal(out.writes.length, before + 2, 'one frame on resize, then the restore');
    assert.match(out.writes[before]!, /no pipeline loaded/);
  });

  it('says on screen that reading failed, and keeps drawing', async () => {
    const out = new Recorder();
    const broken = {
      name: 'broken',
      metrics: {
        snapshot: () => {
          throw new Error('a stats reader threw');
        },
      },
    } as unknown as Pipeline;
    const view = startDashboard({
      pipeline: () => broken,
      output: out as unknown as NodeJS.WriteStream,
      mode: 'tty',
      intervalMs: 20,
    });
    await delay(70);
    view.stop();
    const frames = out.writes.filter((w) => w.startsWith('\x1b[H'));
    assert.ok(frames.length >= 2);
    assert.ok(
      frames.at(-1)!.startsWith('\x1b[Hmetrics unavailable: Error: a stats reader threw\x1b[K'),
      JSON.stringify(frames.at(-1)),
    );
  });

  it('lines: one summary line per interval, following reloads', async () => {
    const out = new Recorder();
    let current: Pipeline | undefined = fakePipeline('one');
    const view = startDashboard({
      pipeline: () => current,
      output: out as unknown as NodeJS.WriteStream,
      mode: 'lines',
      intervalMs: 25,
    });
    await delay(90);
    current = undefined;
    await delay(40);
    current = fakePipeline('two');
    await delay(60);
    view.stop();
    assert.ok(out.writes.every((w) => w.endsWith('\n') && w.indexOf('\n') === w.length - 1));
    assert.ok(!out.writes.join('').includes('\x1b'), 'no escapes in lines mode');
    const lines = out.writes.map((w) => w.trimEnd());
    assert.match(lines[0]!, /pipeline=one running .* udp out 2000 ev\/s/);
    assert.ok(lines.includes('spillway no pipeline loaded'));
    assert.ok(lines.some((l) => l.includes('pipeline=two')));
  });
});
