// A strict parser of the Prometheus text exposition format (version 0.0.4), for the tests to
// read what the metrics server really sends rather than trust prom-client's output. It throws
// on anything a Prometheus server would refuse or misread:
//
//   - a body that does not end with a newline;
//   - a metric or label name outside [a-zA-Z_:][a-zA-Z0-9_:]* / [a-zA-Z_][a-zA-Z0-9_]*;
//   - a label value with an unknown escape or no closing quote, a label twice in one sample;
//   - a value that is not a float (NaN, +Inf, -Inf included), a timestamp that is not an integer;
//   - a second HELP or TYPE for a family, a TYPE after the family's first sample, an unknown type;
//   - a family whose samples are not contiguous, or the same series twice.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: MetricType | undefined;
  help: string | undefined;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** Parses an exposition into its families, by name, in order of appearance. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with \\n');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: undefined, help: undefined, samples: [] }));
    return f;
  };
  const lines = text.split('\n').slice(0, -1);
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!) || METRIC_NAME.exec(name!)![0] !== name) {
        throw new Error(`${where}: bad metric name`);
      }
      const f = family(name!);
      if (keyword === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = unescapeHelp(rest, where);
      } else {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (!TYPES.has(rest.trim() as MetricType)) throw new Error(`${where}: unknown type`);
        f.type = rest.trim() as MetricType;
      }
      continue;
    }
    const sample = parseSample(line, where);
    const owner = familyOf(sample.name, families);
    if (current !== owner) {
      if (closed.has(owner)) throw new Error(`${where}: samples of ${owner} are not contiguous`);
      if (current !== undefined) closed.add(current);
      current = owner;
    }
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: the same series twice`);
    series.add(key);
    family(owner).samples.push(sample);
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; throws unless exactly one. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = samplesOf(families, name, labels);
  if (found.length !== 1) {
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  }
  return found[0]!.value;
}

/** Every sample of `name` whose labels include `labels`. */
export function samplesOf(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Sample[] {
  const samples = families.get(name)?.samples ?? [];
  return samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  for (const [name, f] of families) {
    for (const suffix of SUFFIXES[f.type ?? ''] ?? []) {
      if (sampleName === name + suffix) return name;
    }
  }
  return sampleName;
}

function parseSample(line: string, where: string): Sample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (!name) throw new Error(`${where}: no metric name`);
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      const label = LABEL_NAME.exec(rest)?.[0];
      if (!label) throw new Error(`${where}: bad label name`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith('="')) throw new Error(`${where}: expected ="`);
      rest = rest.slice(2);
      let value = '';
      for (;;) {
        const ch = rest[0];
        if (ch === undefined) throw new Error(`${where}: unterminated label value`);
        rest = rest.slice(1);
        if (ch === '"') break;
        if (ch === '\\') {
          const next = rest[0];
          rest = rest.slice(1);
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new Error(`${where}: bad escape \\${next ?? ''} in a label value`);
        } else value += ch;
      }
      labels[label] = value;
      rest = rest.trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or }`);
    }
  }
  if (!/^[ \t]/.test(rest)) throw new Error(`${where}: expected whitespace before the value`);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2)
    throw new Error(`${where}: expected value [timestamp]`);
  const value = parseFloatStrict(fields[0]!, where);
  if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) {
    throw new Error(`${where}: bad timestamp`);
  }
  return { name, labels, value };
}

function parseFloatStrict(text: string, where: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, ch: string) => {
    if (ch === 'n') return '\n';
    if (ch === '\\') return '\\';
    throw new Error(`${where}: bad escape \\${ch} in HELP`);
  });
}
