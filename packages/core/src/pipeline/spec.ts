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
  if (!buffer || 'create' in buffer) return [];
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
