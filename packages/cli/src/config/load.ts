/**
 * Loading a pipeline config, from any of the forms `spillway` takes, into a validated
 * `PipelineDefinition`:
 *
 * ```
 *  .yaml .yml .json ──▶ ConfigDocument (positions, ${VAR}) ──▶ specFromData (registry) ──┐
 *  .ts .mts .js .mjs ──▶ tsx ──▶ default export: PipelineSpec | PipelineDefinition ──┴─▶ validate()
 * ```
 *
 * Both end in the same `definePipeline(spec).validate()`, so a pipeline written either way is
 * checked the same way; a file's problems are reported at `file:line:col`, a module's at the
 * line of the stage they name when it can be found. Loading never builds anything: no socket,
 * no file, no directory exists because a config was loaded, whatever it says.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import {
  definePipeline,
  isRecord,
  type PipelineDefinition,
  type PipelineSpec,
  type SinkSpec,
  type TransformSpec,
} from '@spillway/core';
import { ConfigDocument, type Environment } from './document.js';
import { CliError, type ConfigProblem } from './errors.js';
import { specFromData, stageProblems } from './from-data.js';
import { guardDefinition } from './guard.js';
import { importFresh } from './import-module.js';
import { problemPath, stageNamed } from './locate-problem.js';

/** The extensions `loadConfig` reads, by how it reads them. */
export const CONFIG_EXTENSIONS = {
  document: ['.yaml', '.yml', '.json'],
  module: ['.ts', '.mts', '.js', '.mjs'],
} as const;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Stops reading; an import already under way finishes, and its result is dropped. */
  signal?: AbortSignal;
  /** What `${VAR}` reads. Default `process.env`. */
  env?: Environment;
}

/** A config that loaded and validated: nothing in it has been built. */
export interface LoadedConfig {
  /** The file as the operator named it (what messages show). */
  readonly file: string;
  /** Its absolute path. */
  readonly path: string;
  readonly format: 'document' | 'module';
  /** The validated definition; `build()` it to run it. */
  readonly definition: PipelineDefinition;
}

/**
 * Reads, parses and validates the config at `file`.
 *
 * When to use: wherever a command takes a config file. Every problem is collected before it
 * rejects, so one run shows them all.
 *
 * Gotchas: rejects with `CliError` — `ERR_CLI_CONFIG_INVALID` (its `problems` have file, line
 * and column) or `ERR_CLI_CONFIG_UNREADABLE` (missing file, unknown extension, a module that
 * does not import or exports no pipeline). A TypeScript config is imported afresh on every
 * call, so a reload sees its changes (but not those of modules it imports by relative path:
 * see import-module.ts); packages it imports resolve from the config's own directory, so
 * `@spillway/*` must be installed where the config lives.
 *
 * @example
 * ```ts
 * const { definition } = await loadConfig('pipeline.yaml', { signal });
 * const pipeline = await definition.build({ signal });
 * pipeline.start();
 * ```
 */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const path = resolve(file);
  const extension = extname(path).toLowerCase();
  const isDocument = (CONFIG_EXTENSIONS.document as readonly string[]).includes(extension);
  const isModule = (CONFIG_EXTENSIONS.module as readonly string[]).includes(extension);
  if (!isDocument && !isModule) {
    throw new CliError(
      'ERR_CLI_CONFIG_UNREADABLE',
      `${file}: a config must be YAML (.yaml, .yml), JSON (.json) or a module (.ts, .mts, .js, .mjs), not "${extension || 'no extension'}"`,
    );
  }
  const text = await readText(file, path, options.signal);
  const definition = isDocument
    ? fromDocument(file, text, options.env ?? process.env)
    : await fromModule(file, path, text, options.signal);
  return { file, path, format: isDocument ? 'document' : 'module', definition };
}

async function readText(file: string, path: string, signal: AbortSignal | undefined) {
  try {
    return await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(cause);
    throw new CliError('ERR_CLI_CONFIG_UNREADABLE', `${file}: cannot read the config: ${reason}`, {
      cause,
    });
  }
}

function fromDocument(file: string, text: string, env: Environment): PipelineDefinition {
  const parsed = ConfigDocument.parse(file, text, env);
  if (!parsed.document) throw CliError.invalid(file, parsed.problems);
  const document = parsed.document;
  const { spec, stages, problems } = specFromData(document.data);
  const located = (message: string): ConfigProblem => {
    const { path, key } = problemPath(message, document.data);
    return document.problem(path, message, key ? { key } : {});
  };
  if (problems.length > 0) {
    // The file's shape is wrong: the graph is not worth checking, but every stage that could
    // be made still has its options checked, so one run shows both kinds of problem.
    throw CliError.invalid(
      file,
      inFileOrder([
        ...problems.map((p) => document.problem(p.path, p.message, p.key ? { key: true } : {})),
        ...stageProblems(stages).map(located),
      ]),
    );
  }
  const definition = definePipeline(spec);
  const all = definition.validate().map(located);
  if (all.length > 0) throw CliError.invalid(file, inFileOrder(all));
  return definition;
}

/** Problems as an editor lists them: by line, then column (a stable sort keeps ties in order). */
function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

async function fromModule(
  file: string,
  path: string,
  text: string,
  signal: AbortSignal | undefined,
): Promise<PipelineDefinition> {
  let exported: unknown;
  try {
    exported = await importFresh(path);
  } catch (cause) {
    throw new CliError(
      'ERR_CLI_CONFIG_UNREADABLE',
      `${file}: cannot import the config: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  signal?.throwIfAborted();
  const spec = specOf(exported);
  if (!spec) {
    throw new CliError(
      'ERR_CLI_CONFIG_UNREADABLE',
      `${file}: the default export must be a PipelineSpec ({ sources, sinks, … }) or a PipelineDefinition (definePipeline(…)), not ${describe(exported)}`,
    );
  }
  const definition = definePipeline(guarded(spec));
  const problems = definition.validate();
  if (problems.length > 0) {
    throw CliError.invalid(
      file,
      inFileOrder(
        problems.map((message) => ({ file, ...lineOfStage(text, stageNamed(message)), message })),
      ),
    );
  }
  return definition;
}

/** The spec a module exported, itself or inside a definition. */
function specOf(value: unknown): PipelineSpec | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.validate === 'function' && typeof value.build === 'function') {
    return isRecord(value.spec) ? (value.spec as unknown as PipelineSpec) : undefined;
  }
  return isRecord(value.sources) && isRecord(value.sinks)
    ? (value as unknown as PipelineSpec)
    : undefined;
}

/**
 * The spec with every stage's checks guarded (see guard.ts). A module's exported definition is
 * re-made from its spec for that: the definition object itself has nothing more in it.
 */
function guarded(spec: PipelineSpec): PipelineSpec {
  const sources = Object.fromEntries(
    Object.entries(spec.sources).map(([n, d]) => [n, isRecord(d) ? guardDefinition(d) : d]),
  );
  const transforms = Object.fromEntries(
    Object.entries(spec.transforms ?? {}).map(([n, t]): [string, TransformSpec] => [
      n,
      isRecord(t) && isRecord(t.stage) ? { ...t, stage: guardDefinition(t.stage) } : t,
    ]),
  );
  const sinks = Object.fromEntries(
    Object.entries(spec.sinks).map(([n, s]): [string, SinkSpec] => [
      n,
      isRecord(s) && isRecord(s.stage) ? { ...s, stage: guardDefinition(s.stage) } : s,
    ]),
  );
  return { ...spec, sources, sinks, ...(spec.transforms ? { transforms } : {}) };
}

/**
 * The line where a module's text first writes `name` as a key (`name:`, `'name':`), the best a
 * message about a stage can point at without a parser for the module's language.
 */
function lineOfStage(text: string, name: string | undefined): { line?: number; column?: number } {
  if (name === undefined) return {};
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const key = new RegExp(`(^|[\\s{,])(['"\`]?)${escaped}\\2\\s*:`, 'm');
  const match = key.exec(text);
  if (!match) return {};
  const offset = match.index + match[1]!.length;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (no default export)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return isRecord(value) ? 'an object without sources and sinks' : `a ${typeof value}`;
}
