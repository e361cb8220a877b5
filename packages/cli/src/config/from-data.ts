/**
 * A config file's data → a `PipelineSpec`, through the registry. This is the only place a file
 * differs from a TypeScript config: it turns `{ type: http, url: … }` into `http({ url: … })`,
 * `buffer: { type: spill, … }` into `spill({ … })`, and a `workers` stage's `steps` into
 * definitions. Everything a stage's options mean is then checked by the very `validate()` a
 * TypeScript config gets.
 *
 * What is checked here is only what a file can get wrong and TypeScript's compiler would have
 * caught: unknown sections and types, a stage that is not an object, option keys no stage
 * knows (a typo is an error at its line, not an option silently ignored), a missing required
 * option, options only code can give (functions), and the shape of `inputs`, `buffer` and
 * `pool`, which core's validation takes on trust.
 */
import {
  type BufferSpec,
  isRecord,
  type OutputPoolOptions,
  optionChecks,
  type PipelineSpec,
  type SinkSpec,
  type StageDefinition,
  type TransformDefinition,
  type TransformSpec,
  wrong,
} from '@spillway/core';
import { type SpillOptions, spill } from '@spillway/disk-buffer';
import { shown } from '../internal/shown.js';
import { didYouMean } from '../internal/suggest.js';
import type { ConfigPath } from './document.js';
import { guardDefinition } from './guard.js';
import {
  memoryBufferOptions,
  type OptionDoc,
  poolOptions,
  spillBufferOptions,
} from './option-docs.js';
import {
  lookupStageType,
  type NestedResolver,
  registry,
  SECTION_KIND,
  type Section,
  type SectionDefinition,
  type StageType,
} from './registry.js';

/** A problem found in the data, at `path`; `key`: at the key rather than its value. */
export interface DataProblem {
  readonly path: ConfigPath;
  readonly message: string;
  readonly key?: boolean;
}

/** A stage definition made from the file, where it was written. */
export interface MadeStage {
  readonly section: Section;
  readonly name: string;
  readonly definition: StageDefinition;
}

/** The keys of a config file's top level. */
export const TOP_LEVEL_KEYS = ['name', 'fanOut', 'defaultBuffer', 'sources', 'transforms', 'sinks'];

/** Keys of a stage that are the pipeline's, not the stage's options. */
export const STAGE_KEYS: Readonly<Record<Section, readonly string[]>> = {
  sources: ['type'],
  transforms: ['type', 'inputs', 'buffer'],
  sinks: ['type', 'inputs', 'buffer', 'pool'],
};

const SECTIONS: readonly Section[] = ['sources', 'transforms', 'sinks'];

/**
 * The spec the data describes. With `problems`, `spec` holds what could be made of it and
 * `stages` each definition that could be made, so that their own `validate()` can still report
 * on them; the graph as a whole is not worth checking then.
 */
export function specFromData(data: unknown): {
  spec: PipelineSpec;
  stages: MadeStage[];
  problems: DataProblem[];
} {
  const problems: DataProblem[] = [];
  const stages: MadeStage[] = [];
  const spec: {
    -readonly [K in keyof PipelineSpec]: PipelineSpec[K];
  } = { sources: {}, sinks: {} };
  if (!isRecord(data)) {
    const shape =
      'a map with sources and sinks (and optionally name, fanOut, defaultBuffer, transforms)';
    problems.push({
      path: [],
      message:
        data === null || data === undefined
          ? `the config is empty: it must be ${shape}`
          : `the config must be ${shape}, not ${shown(data)}`,
    });
    return { spec, stages, problems };
  }
  for (const key of Object.keys(data)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      problems.push({
        path: [key],
        key: true,
        message: `unknown section "${key}"${didYouMean(key, TOP_LEVEL_KEYS)}: the top level holds ${list(TOP_LEVEL_KEYS)}`,
      });
    }
  }
  if (data.name !== undefined) {
    if (typeof data.name === 'string' && data.name.length > 0) spec.name = data.name;
    else problems.push({ path: ['name'], message: wrong('name', 'a non-empty string', data.name) });
  }
  // Core checks the value; a file can only give it as data.
  if (data.fanOut !== undefined) spec.fanOut = data.fanOut as 'isolated' | 'lockstep';
  if (data.defaultBuffer !== undefined) {
    const buffer = bufferFrom(data.defaultBuffer, ['defaultBuffer'], 'defaultBuffer', problems);
    if (buffer) spec.defaultBuffer = buffer;
  }

  const sources: Record<string, SectionDefinition['sources']> = {};
  const transforms: Record<string, TransformSpec> = {};
  const sinks: Record<string, SinkSpec> = {};
  for (const section of SECTIONS) {
    const value = data[section];
    if (value === undefined || value === null) continue;
    if (!isRecord(value)) {
      problems.push({
        path: [section],
        message: `${wrong(section, `an object of ${SECTION_KIND[section]}s by name`, value)}`,
      });
      continue;
    }
    for (const [name, stage] of Object.entries(value)) {
      const made = stageFrom(section, name, stage, problems);
      if (!made) continue;
      if (made.checkable) stages.push({ section, name, definition: made.definition });
      if (section === 'sources') sources[name] = made.definition as SectionDefinition['sources'];
      else if (section === 'transforms') {
        transforms[name] = {
          inputs: made.inputs,
          stage: made.definition as SectionDefinition['transforms'],
          ...(made.buffer ? { buffer: made.buffer } : {}),
        };
      } else {
        sinks[name] = {
          inputs: made.inputs,
          stage: made.definition as SectionDefinition['sinks'],
          ...(made.buffer ? { buffer: made.buffer } : {}),
          ...(made.pool ? { pool: made.pool } : {}),
        };
      }
    }
  }
  spec.sources = sources;
  spec.sinks = sinks;
  if (data.transforms !== undefined) spec.transforms = transforms;
  return { spec, stages, problems };
}

interface Made {
  definition: StageDefinition;
  /** Worth running its own validate(): nothing required is missing. */
  checkable: boolean;
  inputs: string[];
  buffer: BufferSpec | undefined;
  pool: OutputPoolOptions | undefined;
}

/** One stage, or undefined when it is too broken to make a definition of. */
function stageFrom(
  section: Section,
  name: string,
  value: unknown,
  problems: DataProblem[],
): Made | undefined {
  const kind = SECTION_KIND[section];
  const path = [section, name];
  const known = [...registry[section].keys()];
  if (!isRecord(value)) {
    problems.push({
      path,
      message: `${kind} "${name}" must be an object with a type (${list(known)}), not ${shown(value)}`,
    });
    return undefined;
  }
  const type = value.type;
  if (type === undefined) {
    problems.push({
      path,
      message: `${kind} "${name}" has no type: ${kind} types are ${list(known)}`,
    });
    return undefined;
  }
  const stageType = typeof type === 'string' ? lookupStageType(section, type) : undefined;
  if (!stageType) {
    problems.push({
      path: [...path, 'type'],
      message: unknownType(section, name, type, known),
    });
    return undefined;
  }
  const { options, complete } = optionsFrom(
    stageType,
    value,
    STAGE_KEYS[section],
    path,
    `${stageType.type} "${name}"`,
    problems,
  );
  let inputs: string[] = [];
  let buffer: BufferSpec | undefined;
  let pool: OutputPoolOptions | undefined;
  if (section !== 'sources') {
    inputs = inputsFrom(stageType.type, name, value.inputs, [...path, 'inputs'], problems);
    if (value.buffer !== undefined) {
      buffer = bufferFrom(value.buffer, [...path, 'buffer'], `buffer of "${name}"`, problems);
    }
  }
  if (section === 'sinks' && value.pool !== undefined) {
    pool = poolFrom(name, value.pool, [...path, 'pool'], problems);
  }
  let resolvable = true;
  let resolved = options;
  if (stageType.resolve) {
    const nested = nestedResolver(path, problems);
    resolved = stageType.resolve(options, nested.resolver);
    resolvable = !nested.failed();
  }
  // The stage's own validate() still runs after problems with its keys, so that one run
  // reports both; not when a required option or a nested step is missing, where it would only
  // repeat the problem less clearly.
  const definition = guardDefinition(stageType.create(resolved));
  return { definition, inputs, buffer, pool, checkable: complete && resolvable };
}

/** The stage's options: every key but the pipeline's, each checked against the table. */
function optionsFrom(
  stageType: StageType,
  value: Record<string, unknown>,
  reserved: readonly string[],
  path: ConfigPath,
  label: string,
  problems: DataProblem[],
): { options: Record<string, unknown>; complete: boolean } {
  const { type } = stageType;
  const options: Record<string, unknown> = {};
  const table = stageType.options;
  for (const [key, option] of Object.entries(value)) {
    if (reserved.includes(key)) continue;
    const doc: OptionDoc | undefined = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!doc) {
      const hint = didYouMean(key, [...Object.keys(table), ...reserved]);
      const where = reserved.length > 1 ? ` (stage keys: ${list(reserved)})` : '';
      problems.push({
        path: [...path, key],
        key: true,
        message: `${label}: unknown option "${key}"${hint}; ${type} options are ${list(Object.keys(table).filter((k) => !table[k]!.codeOnly))}${where}`,
      });
      continue;
    }
    if (doc.codeOnly) {
      problems.push({
        path: [...path, key],
        key: true,
        message: `${label}: ${key} can only be given in a TypeScript config (it is a ${doc.type})`,
      });
      continue;
    }
    options[key] = option;
  }
  let complete = true;
  for (const [key, doc] of Object.entries(table)) {
    if (doc.required && value[key] === undefined) {
      complete = false;
      problems.push({ path, message: `${label}: ${key} is missing: it is required (${doc.type})` });
    }
  }
  return { options, complete };
}

function inputsFrom(
  type: string,
  name: string,
  value: unknown,
  path: ConfigPath,
  problems: DataProblem[],
): string[] {
  if (value === undefined) {
    problems.push({
      path: path.slice(0, -1),
      message: `${type} "${name}" has no inputs: list the stages it reads from, e.g. inputs: [app]`,
    });
    return [];
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    problems.push({
      path,
      message: `${type} "${name}": ${wrong('inputs', 'a list of stage names, e.g. [app]', value)}`,
    });
    return [];
  }
  return value as string[];
}

/** A `buffer:` (or `defaultBuffer:`): in memory (`type: memory` or no type) or `type: spill`. */
function bufferFrom(
  value: unknown,
  path: ConfigPath,
  label: string,
  problems: DataProblem[],
): BufferSpec | undefined {
  if (!isRecord(value)) {
    problems.push({
      path,
      message: `${label}: ${wrong('buffer', '{ capacity?, maxBytes?, whenFull? } or { type: spill, dir, … }', value)}`,
    });
    return undefined;
  }
  const { type, ...options } = value;
  const table =
    type === undefined || type === 'memory'
      ? memoryBufferOptions
      : type === 'spill'
        ? spillBufferOptions
        : undefined;
  if (!table) {
    problems.push({
      path: [...path, 'type'],
      message: `${label}: unknown buffer type ${JSON.stringify(type)}${didYouMean(String(type), ['memory', 'spill'])}: "memory" (the default) or "spill"`,
    });
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(options)) {
    const doc: OptionDoc | undefined = Object.hasOwn(table, key)
      ? (table as Record<string, OptionDoc>)[key]
      : undefined;
    if (!doc || doc.codeOnly) {
      const names = Object.keys(table).filter(
        (k) => !(table as Record<string, OptionDoc>)[k]!.codeOnly,
      );
      problems.push({
        path: [...path, key],
        key: true,
        message: `${label}: unknown option "${key}"${didYouMean(key, names)}; ${type === 'spill' ? 'a spill buffer takes' : 'an in-memory buffer takes'} ${list(names)}`,
      });
    }
  }
  if (type !== 'spill') return problems.length > before ? undefined : (options as BufferSpec);
  // spill() checks nothing until its disk part opens, after the pipeline has started: check
  // here what it would refuse, so that a typo stops the run before anything is created.
  const messages: string[] = [];
  const check = optionChecks(messages);
  check.nonEmptyString('dir', options.dir, true);
  check.positiveInteger('maxBytes', options.maxBytes);
  check.integerAtLeast('segmentBytes', options.segmentBytes, 4096);
  check.oneOf('fsync', options.fsync, ['always', 'interval', 'never']);
  check.positiveNumber('fsyncIntervalMs', options.fsyncIntervalMs);
  check.oneOf('whenFull', options.whenFull, ['block', 'drop-oldest']);
  check.positiveInteger('maxInFlight', options.maxInFlight);
  const segment = typeof options.segmentBytes === 'number' ? options.segmentBytes : 16 << 20;
  if (typeof options.maxBytes === 'number' && options.maxBytes < segment) {
    messages.push(`maxBytes (${options.maxBytes}) must be at least segmentBytes (${segment})`);
  }
  if (options.memory !== undefined) {
    if (!isRecord(options.memory))
      messages.push(wrong('memory', '{ capacity?, maxBytes? }', options.memory));
    else {
      for (const key of Object.keys(options.memory)) {
        if (key !== 'capacity' && key !== 'maxBytes') {
          messages.push(`memory: unknown option "${key}"; it takes capacity and maxBytes`);
        }
      }
      check.positiveInteger('memory.capacity', options.memory.capacity);
      check.positiveInteger('memory.maxBytes', options.memory.maxBytes);
    }
  }
  for (const message of messages) {
    problems.push({ path: [...path, ...leadingPath(message)], message: `${label}: ${message}` });
  }
  if (problems.length > before) return undefined;
  return spill(options as unknown as SpillOptions);
}

function poolFrom(
  name: string,
  value: unknown,
  path: ConfigPath,
  problems: DataProblem[],
): OutputPoolOptions | undefined {
  const label = `pool of "${name}"`;
  if (!isRecord(value)) {
    problems.push({
      path,
      message: `${label}: ${wrong('pool', '{ minWorkers?, maxWorkers?, idleTimeoutMs? }', value)}`,
    });
    return undefined;
  }
  const messages: string[] = [];
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(poolOptions, key)) {
      messages.push(
        `unknown option "${key}"${didYouMean(key, Object.keys(poolOptions))}; a pool takes ${list(Object.keys(poolOptions))}`,
      );
    }
  }
  // The output pool takes its options on trust: a zero or a string here would only show at
  // run time, as a pool that never writes.
  const check = optionChecks(messages);
  check.integerAtLeast('minWorkers', value.minWorkers, 0);
  check.positiveInteger('maxWorkers', value.maxWorkers);
  check.nonNegativeNumber('idleTimeoutMs', value.idleTimeoutMs);
  if (
    typeof value.minWorkers === 'number' &&
    typeof value.maxWorkers === 'number' &&
    value.minWorkers > value.maxWorkers
  ) {
    messages.push('minWorkers must not exceed maxWorkers');
  }
  for (const message of messages) {
    const key = /^unknown option "([^"]+)"/.exec(message)?.[1];
    problems.push({
      path: key ? [...path, key] : [...path, ...leadingPath(message)],
      key: key !== undefined,
      message: `${label}: ${message}`,
    });
  }
  return messages.length > 0 ? undefined : (value as OutputPoolOptions);
}

/** Resolves a `workers` stage's `steps`, reporting at paths under the stage. */
function nestedResolver(
  stagePath: ConfigPath,
  problems: DataProblem[],
): { resolver: NestedResolver; failed: () => boolean } {
  let failed = false;
  const resolver: NestedResolver = {
    transforms(value, path) {
      const at = [...stagePath, ...path];
      const name = String(stagePath[stagePath.length - 1]);
      if (!Array.isArray(value)) return undefined; // the stage's validate() says what is wrong
      const known = [...registry.transforms.keys()].filter((t) => t !== 'workers');
      const steps: TransformDefinition[] = [];
      let broken = false;
      value.forEach((step, i) => {
        const stepPath = [...at, i];
        const label = `workers "${name}": step ${i + 1}`;
        if (!isRecord(step) || typeof step.type !== 'string') {
          problems.push({
            path: stepPath,
            message: `${label} must be an object with a type (${list(known)}), not ${shown(step)}`,
          });
          broken = true;
          return;
        }
        const stepType =
          step.type === 'workers' ? undefined : lookupStageType('transforms', step.type);
        if (!stepType) {
          problems.push({
            path: [...stepPath, 'type'],
            message:
              step.type === 'workers'
                ? `${label}: a workers stage cannot be a step of another`
                : `${label}: unknown transform type "${step.type}"${didYouMean(step.type, known)}; step types are ${list(known)}`,
          });
          broken = true;
          return;
        }
        const { options, complete } = optionsFrom(
          stepType,
          step,
          ['type'],
          stepPath,
          `workers "${name}": step ${i + 1} (${stepType.type})`,
          problems,
        );
        if (!complete) broken = true;
        steps.push(guardDefinition(stepType.create(options)));
      });
      if (broken) failed = true;
      return broken ? undefined : steps;
    },
  };
  return { resolver, failed: () => failed };
}

function unknownType(section: Section, name: string, type: unknown, known: string[]): string {
  const kind = SECTION_KIND[section];
  if (typeof type !== 'string') {
    return `${kind} "${name}": ${wrong('type', `one of ${list(known)}`, type)}`;
  }
  const elsewhere = (['sources', 'transforms', 'sinks'] as const).find(
    (s) => s !== section && registry[s].has(type),
  );
  const hint = elsewhere
    ? ` ("${type}" is a ${SECTION_KIND[elsewhere]} type: move the stage to ${elsewhere})`
    : didYouMean(type, known);
  return `${kind} "${name}": unknown type "${type}"${hint}; ${kind} types are ${list(known)}`;
}

/** The option path a message starts with, `a.b[2]` → `['a', 'b', 2]`; empty when none. */
export function leadingPath(message: string): (string | number)[] {
  const match = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*/.exec(message);
  if (!match) return [];
  const path: (string | number)[] = [];
  for (const part of match[0].matchAll(/([A-Za-z_$][\w$]*)|\[(\d+)\]/g)) {
    path.push(part[1] ?? Number(part[2]));
  }
  return path;
}

function list(names: readonly string[]): string {
  return names.join(', ');
}

/** Every definition made from the file, with the messages of its own `validate()`. */
export function stageProblems(stages: readonly MadeStage[]): string[] {
  return stages.flatMap(({ name, definition }) =>
    definition.validate().map((p) => `${definition.type} "${name}": ${p}`),
  );
}
