/** The shape of a pipeline: stages by name, each consumer naming its inputs (as Vector does). */

import type { FullPolicy, FullPolicyName } from '../channel/full-policy.js';
import type { BufferChannel } from '../channel/types.js';
import type { Batch } from '../event/batch.js';
import type { OutputPoolOptions } from '../output/output-pool.js';
import type { SinkDefinition, SourceDefinition, TransformDefinition } from '../stage/contracts.js';

/** The input buffer of a transform or sink: an in-memory channel, or one the caller makes. */
export type BufferSpec =
  | {
      /** Batches. Default 16. */
      capacity?: number;
      /** Bytes. Default 16 MiB. */
      maxBytes?: number;
      /** Default `block`. */
      whenFull?: FullPolicyName | FullPolicy;
    }
  | {
      /**
       * Makes the channel, e.g. the disk buffer's spill channel. `onDrop` must see every batch
       * the channel drops, so that its acknowledgement settles.
       */
      create(name: string, onDrop: (batch: Batch, reason: string) => void): BufferChannel<Batch>;
      /** Every problem with the buffer's options, as sentences; checked with the pipeline. */
      validate?(): string[];
    };

export interface TransformSpec {
  inputs: readonly string[];
  stage: TransformDefinition;
  buffer?: BufferSpec;
}

export interface SinkSpec {
  inputs: readonly string[];
  stage: SinkDefinition;
  buffer?: BufferSpec;
  pool?: OutputPoolOptions;
}

export interface PipelineSpec {
  /** Default `pipeline`. */
  name?: string;
  sources: Readonly<Record<string, SourceDefinition>>;
  transforms?: Readonly<Record<string, TransformSpec>>;
  sinks: Readonly<Record<string, SinkSpec>>;
  /** Used where a stage names no buffer. */
  defaultBuffer?: BufferSpec;
  /**
   * What a stage whose output feeds several consumers does when one of them is full.
   *
   * `isolated` (default): consumers must not hold each other back, so each one's buffer has to
   * say what it does when full without waiting — `spill`, `drop-newest` or `drop-oldest`; a
   * `block` buffer there is a validation error. A dead sink then fills only its own buffer.
   *
   * `lockstep`: every consumer of a stage moves at the pace of the slowest; a full `block`
   * buffer holds back the producer and with it every other consumer ("all sinks block").
   * Choose it when no consumer may run ahead, and know that one dead sink stops them all.
   */
  fanOut?: 'isolated' | 'lockstep';
}

/** Every problem in `spec`, as sentences naming the stage; empty when it can be built. */
export function validatePipelineSpec(spec: PipelineSpec): string[] {
  const problems: string[] = [];
  const sources = Object.keys(spec.sources ?? {});
  const transforms = Object.entries(spec.transforms ?? {});
  const sinks = Object.entries(spec.sinks ?? {});
  if (sources.length === 0) problems.push('a pipeline needs at least one source');
  if (sinks.length === 0) problems.push('a pipeline needs at least one sink');

  const kindOf = new Map<string, string>();
  for (const [kind, names] of [
    ['source', sources],
    ['transform', transforms.map(([n]) => n)],
    ['sink', sinks.map(([n]) => n)],
  ] as const) {
    for (const name of names) {
      const earlier = kindOf.get(name);
      if (earlier) problems.push(`"${name}" names both a ${earlier} and a ${kind}`);
      else kindOf.set(name, kind);
    }
  }

  // The pipeline's own metrics entry is registered under its name.
  const pipelineName = spec.name ?? 'pipeline';
  if (kindOf.has(pipelineName)) {
    problems.push(`"${pipelineName}" names both the pipeline and a ${kindOf.get(pipelineName)}`);
  }

  const consumed = new Set<string>();
  for (const [name, stage] of [...transforms, ...sinks]) {
    const kind = kindOf.get(name);
    if (!stage.inputs || stage.inputs.length === 0)
      problems.push(`${kind} "${name}" has no inputs`);
    for (const input of stage.inputs ?? []) {
      const inputKind = kindOf.get(input);
      if (!inputKind) problems.push(`${kind} "${name}" reads from unknown input "${input}"`);
      else if (inputKind === 'sink') problems.push(`${kind} "${name}" reads from sink "${input}"`);
      consumed.add(input);
    }
    if (new Set(stage.inputs).size !== (stage.inputs ?? []).length) {
      problems.push(`${kind} "${name}" lists an input twice`);
    }
    problems.push(...validateBuffer(name, stage.buffer ?? spec.defaultBuffer));
  }
  for (const name of [...sources, ...transforms.map(([n]) => n)]) {
    if (!consumed.has(name)) problems.push(`${kindOf.get(name)} "${name}" feeds no stage`);
  }
  problems.push(...findCycles(spec.transforms ?? {}));
  if (spec.fanOut !== undefined && spec.fanOut !== 'isolated' && spec.fanOut !== 'lockstep') {
    problems.push(`fanOut must be 'isolated' or 'lockstep', not ${JSON.stringify(spec.fanOut)}`);
  }
  if ((spec.fanOut ?? 'isolated') === 'isolated')
    problems.push(...findLockstep(spec, [...transforms, ...sinks]));

  const claims = new Map<string, string>();
  const stages: [string, SourceDefinition | TransformDefinition | SinkDefinition][] = [
    ...Object.entries(spec.sources ?? {}),
    ...transforms.map(([n, t]): [string, TransformDefinition] => [n, t.stage]),
    ...sinks.map(([n, s]): [string, SinkDefinition] => [n, s.stage]),
  ];
  for (const [name, definition] of stages) {
    for (const problem of definition.validate())
      problems.push(`${definition.type} "${name}": ${problem}`);
    for (const resource of definition.resources()) {
      const key = `${resource.kind} ${resource.id}`;
      const holder = claims.get(key);
      if (holder) problems.push(`"${name}" and "${holder}" both claim ${key}`);
      else claims.set(key, name);
    }
  }
  return problems;
}

function validateBuffer(name: string, buffer: BufferSpec | undefined): string[] {
  if (!buffer) return [];
  if ('create' in buffer) {
    return (buffer.validate?.() ?? []).map((problem) => `buffer of "${name}": ${problem}`);
  }
  const problems: string[] = [];
  if (
    buffer.capacity !== undefined &&
    !(Number.isInteger(buffer.capacity) && buffer.capacity >= 1)
  ) {
    problems.push(`buffer of "${name}": capacity must be a positive integer`);
  }
  if (buffer.maxBytes !== undefined && !(buffer.maxBytes > 0)) {
    problems.push(`buffer of "${name}": maxBytes must be positive`);
  }
  const policy = buffer.whenFull;
  if (typeof policy === 'string' && !['block', 'drop-newest', 'drop-oldest'].includes(policy)) {
    problems.push(`buffer of "${name}": unknown whenFull policy "${policy}"`);
  }
  return problems;
}

/** Consumers of a shared producer whose buffer would wait when full, coupling the others. */
function findLockstep(
  spec: PipelineSpec,
  consumers: readonly [string, TransformSpec | SinkSpec][],
): string[] {
  const byProducer = new Map<string, string[]>();
  for (const [name, stage] of consumers) {
    for (const input of stage.inputs ?? []) {
      byProducer.set(input, [...(byProducer.get(input) ?? []), name]);
    }
  }
  const blocking = new Map(
    consumers.map(([name, stage]) => {
      const buffer = stage.buffer ?? spec.defaultBuffer;
      // A buffer the caller makes (spill) decides for itself; in memory, `block` is the default.
      const policy = buffer && !('create' in buffer) ? (buffer.whenFull ?? 'block') : undefined;
      const waits =
        !buffer || (typeof policy === 'string' ? policy === 'block' : policy?.name === 'block');
      return [name, waits];
    }),
  );
  const problems: string[] = [];
  for (const [producer, names] of byProducer) {
    if (names.length < 2) continue;
    for (const name of names.filter((n) => blocking.get(n))) {
      problems.push(
        `"${name}" shares "${producer}" with ${names.length - 1} other consumer(s) but its buffer ` +
          "blocks when full, which would hold them back: give it a spill or drop-* buffer, or set fanOut: 'lockstep'",
      );
    }
  }
  return problems;
}

/** Cycles among transforms, each reported once, as `a → b → a`. */
function findCycles(transforms: Readonly<Record<string, TransformSpec>>): string[] {
  const problems: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    path.push(name);
    for (const input of transforms[name]?.inputs ?? []) {
      if (!(input in transforms)) continue;
      if (state.get(input) === 'visiting') {
        const cycle = path.slice(path.indexOf(input));
        problems.push(`transforms form a cycle: ${[...cycle, input].join(' → ')}`);
      } else if (!state.has(input)) visit(input);
    }
    path.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(transforms)) if (!state.has(name)) visit(name);
  return problems;
}
