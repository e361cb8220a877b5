/**
 * Text pieces of the dashboard: numbers, bytes, durations, bars, colour, and fitting a line to
 * the terminal's width. Pure functions; colour is SGR only (no cursor movement), so a line's
 * width is its length without the escapes.
 *
 * Every glyph used here (`█ ░ ● ◆ ▼ │ ─ …`) is one column wide in a terminal.
 */

/** Colours the dashboard uses, by meaning. */
export type Tone = 'good' | 'warn' | 'bad' | 'dim' | 'bold';

const SGR: Record<Tone, string> = {
  good: '32',
  warn: '33',
  bad: '31',
  dim: '2',
  bold: '1',
};

// One SGR escape (colour): the only escapes a rendered line contains. SPLIT keeps them as tokens.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what is being matched.
const ESCAPE = /\x1b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what is being matched.
const SPLIT = /(\x1b\[[0-9;]*m)/;

/** Applies colours, or not. */
export type Painter = (text: string, tone: Tone) => string;

/** A painter that colours when `color` is true and returns the text as it is otherwise. */
export function painter(color: boolean): Painter {
  return color ? (text, tone) => `\x1b[${SGR[tone]}m${text}\x1b[0m` : (text) => text;
}

/** Columns `text` takes on a terminal: its length without colour escapes. */
export function visibleWidth(text: string): number {
  return [...text.replace(ESCAPE, '')].length;
}

/**
 * Cuts `text` to at most `max` columns, marking the cut with `…`. Escapes are kept (they take
 * no room) and colour is reset after a cut, so a cut inside a coloured span does not bleed.
 */
export function fit(text: string, max: number): string {
  if (visibleWidth(text) <= max) return text;
  let out = '';
  let width = 0;
  let coloured = false;
  for (const token of text.split(SPLIT)) {
    if (token.startsWith('\x1b[')) {
      out += token;
      coloured = token !== '\x1b[0m';
      continue;
    }
    for (const ch of token) {
      if (width >= max - 1) return `${out}…${coloured ? '\x1b[0m' : ''}`;
      out += ch;
      width++;
    }
  }
  return out;
}

/** `text` followed by spaces up to `width` columns. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleWidth(text)));
}

/**
 * Packs `fields` into lines of at most `max` columns, two spaces apart, each line starting with
 * `indent`. A field wider than a line gets a line of its own (and is cut by the caller's fit).
 */
export function pack(indent: string, fields: readonly string[], max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const field of fields) {
    if (line !== '' && visibleWidth(line) + 2 + visibleWidth(field) > max) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? indent + field : `${line}  ${field}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** A bar of `width` cells, `ratio` (0..1) of them full: `████░░░░`. */
export function bar(ratio: number, width: number): string {
  const r = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0;
  // Any content shows at least one cell: an almost empty buffer is not an empty one.
  const full = r > 0 ? Math.max(1, Math.round(r * width)) : 0;
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** The tone of a fill ratio: green below half, yellow below 90 %, red above. */
export function fillTone(ratio: number): Tone {
  if (ratio >= 0.9) return 'bad';
  return ratio >= 0.5 ? 'warn' : 'good';
}

/** 7, 950, 12.3k, 4.5M: short counts and rates. */
export function count(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 10 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}

/** 512 B, 1.5 KiB, 16.0 MiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** 0.4 s, 12.3 s, 3m 05s, 2h 07m. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** 42% */
export function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}
