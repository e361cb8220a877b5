/**
 * The registry: what each `type:` of a config file's `sources`, `transforms` and `sinks` means —
 * the factory that makes its definition, a one-line summary, and its option table
 * (`option-docs.ts`). A config file and a TypeScript config reach the same factories, so a
 * stage written either way is the same definition, validated the same way.
 *
 * Transforms are every verb `@spillway/transforms` exports, under its type (a test checks the
 * package's exports against this list), and `workers`, the CPU stage, whose `steps` are
 * transform specs resolved through this same registry.
 */
import type { SinkDefinition, SourceDefinition, TransformDefinition } from '@spillway/core';
import { blackhole, fileSink, http as httpSink, stdout } from '@spillway/sinks';
import { file, generator, http as httpSource, otlp, stdin, tcp, udp } from '@spillway/sources';
import {
  addFields,
  dropFields,
  encode,
  filter,
  map,
  parseJson,
  parseLogfmt,
  parseRegex,
  parseSyslog,
  redact,
  rename,
  sample,
  sql,
} from '@spillway/transforms';
import { workers } from '@spillway/workers';
import {
  type OptionDoc,
  type OptionTable,
  sinkOptions,
  sourceOptions,
  transformOptions,
} from './option-docs.js';

/** The three stage sections of a config. */
export type Section = 'sources' | 'transforms' | 'sinks';

/** The singular of each section, as messages and the reference name a stage. */
export const SECTION_KIND: Readonly<Record<Section, 'source' | 'transform' | 'sink'>> = {
  sources: 'source',
  transforms: 'transform',
  sinks: 'sink',
};

/** The definition a section's factories make. */
export interface SectionDefinition {
  sources: SourceDefinition;
  transforms: TransformDefinition;
  sinks: SinkDefinition;
}

/** What {@link StageType.resolve} may ask of the loader: nested specs turned into definitions. */
export interface NestedResolver {
  /**
   * `value` as a list of transform specs (`{ type, ...options }`), each made into its
   * definition; problems are reported at `path` (relative to the stage) and give `undefined`.
   */
  transforms(value: unknown, path: readonly (string | number)[]): TransformDefinition[] | undefined;
}

/** One `type:` of one section. */
export interface StageType<S extends Section = Section> {
  readonly section: S;
  readonly type: string;
  /** One line for the reference and for errors listing the known types. */
  readonly summary: string;
  /** Every option, by name (see `option-docs.ts`). */
  readonly options: Readonly<Record<string, OptionDoc>>;
  /** Makes the definition from the options as written (after {@link resolve}). */
  create(options: Record<string, unknown>): SectionDefinition[S];
  /**
   * Turns options that name other stages (the `workers` stage's `steps`) into definitions
   * before `create`. Absent for stages whose options are plain data.
   */
  resolve?(options: Record<string, unknown>, nested: NestedResolver): Record<string, unknown>;
}

function stageType<S extends Section, O>(
  section: S,
  factory: (options: O) => SectionDefinition[S],
  summary: string,
  options: OptionTable<O>,
  extra: Pick<StageType<S>, 'resolve'> = {},
): StageType<S> {
  // The factory's own definition says what `type` it is, so the registry cannot disagree.
  const type = factory({} as O).type;
  return {
    section,
    type,
    summary,
    options,
    // Options from a file are checked by the definition's validate() before anything is built,
    // so handing them over as `O` here is what the stage's own checks are for.
    create: (o) => factory(o as O),
    ...extra,
  };
}

function byType<S extends Section>(
  types: readonly StageType<S>[],
): ReadonlyMap<string, StageType<S>> {
  return new Map(types.map((t) => [t.type, t]));
}

/**
 * Every stage type a config file can name, by section and type.
 *
 * @example
 * ```ts
 * const http = registry.sinks.get('http')!;
 * const definition = http.create({ url: 'https://logs.example.com/ingest' });
 * ```
 */
export const registry: {
  readonly sources: ReadonlyMap<string, StageType<'sources'>>;
  readonly transforms: ReadonlyMap<string, StageType<'transforms'>>;
  readonly sinks: ReadonlyMap<string, StageType<'sinks'>>;
} = {
  sources: byType([
    stageType(
      'sources',
      generator,
      'Synthetic events at a chosen rate, for demos and tests.',
      sourceOptions.generator,
    ),
    stageType(
      'sources',
      file,
      'Tails files by glob; checkpoints follow acknowledgements.',
      sourceOptions.file,
    ),
    stageType(
      'sources',
      udp,
      'Datagrams, raw or syslog; drops newest and counts.',
      sourceOptions.udp,
    ),
    stageType(
      'sources',
      tcp,
      'TCP or TLS, newline or octet-counted; pauses the socket under pressure.',
      sourceOptions.tcp,
    ),
    stageType(
      'sources',
      otlp,
      'OTLP/HTTP logs receiver (protobuf and JSON); 429 when full.',
      sourceOptions.otlp,
    ),
    stageType(
      'sources',
      httpSource,
      'JSON and NDJSON over HTTP; 429 when full.',
      sourceOptions.http,
    ),
    stageType('sources', stdin, 'Lines from standard input, raw or syslog.', sourceOptions.stdin),
  ]),
  transforms: byType<'transforms'>([
    stageType('transforms', parseJson, 'JSON object lines → events.', transformOptions.parseJson),
    stageType(
      'transforms',
      parseLogfmt,
      '`key=value` lines → events.',
      transformOptions.parseLogfmt,
    ),
    stageType(
      'transforms',
      parseSyslog,
      'RFC 5424 / 3164 lines → events.',
      transformOptions.parseSyslog,
    ),
    stageType(
      'transforms',
      parseRegex,
      'Named groups of a regular expression → attributes.',
      transformOptions.parseRegex,
    ),
    stageType(
      'transforms',
      filter,
      'Keeps the events passing `where` (SQL) or `when`.',
      transformOptions.filter,
    ),
    stageType(
      'transforms',
      map,
      'A function per event (from a module); null drops.',
      transformOptions.map,
    ),
    stageType('transforms', addFields, 'Sets attributes.', transformOptions.addFields),
    stageType('transforms', dropFields, 'Removes attributes.', transformOptions.dropFields),
    stageType('transforms', rename, 'Renames attributes.', transformOptions.rename),
    stageType(
      'transforms',
      sample,
      'Keeps 1 in N, deterministically by key.',
      transformOptions.sample,
    ),
    stageType('transforms', redact, 'Replaces secrets and personal data.', transformOptions.redact),
    stageType('transforms', sql, '`SELECT … FROM logs WHERE …` per batch.', transformOptions.sql),
    stageType(
      'transforms',
      encode,
      'Events → NDJSON, JSON or msgpack bytes.',
      transformOptions.encode,
    ),
    stageType(
      'transforms',
      workers,
      'The CPU stage: a chain of transforms on a pool of worker threads.',
      transformOptions.workers,
      {
        resolve: (o, nested) => {
          const steps = nested.transforms(o.steps, ['steps']);
          return steps === undefined ? o : { ...o, steps };
        },
      },
    ),
  ]),
  sinks: byType([
    stageType(
      'sinks',
      httpSink,
      'Any HTTP log backend, with honest retries, dead letters and an encoder per wire format.',
      sinkOptions.http,
    ),
    stageType('sinks', fileSink, 'A file with rotation.', sinkOptions.file),
    stageType('sinks', stdout, 'Standard output, one line per event.', sinkOptions.stdout),
    stageType(
      'sinks',
      blackhole,
      'Acknowledges and discards (benchmarks, tests).',
      sinkOptions.blackhole,
    ),
  ]),
};

/** The type registered under `type` in `section`, if any. */
export function lookupStageType<S extends Section>(
  section: S,
  type: string,
): StageType<S> | undefined {
  return (registry[section] as ReadonlyMap<string, StageType<S>>).get(type);
}

/** Every registered type, sources first, in registry order. */
export function allStageTypes(): StageType[] {
  return [
    ...registry.sources.values(),
    ...registry.transforms.values(),
    ...registry.sinks.values(),
  ];
}
