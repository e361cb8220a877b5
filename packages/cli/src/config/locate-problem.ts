/**
 * Where in a config file a problem from `validate()` is. Core's validation speaks of stages by
 * name, in a handful of sentence shapes (spec.ts); a stage's own problems come as
 * `<type> "<name>": <sentence>`, and the sentence usually starts with the option it is about
 * (`url must be …`, `batch.maxEvents must be …`, `include[0] …` — the wording of
 * `optionChecks`). This module reads those shapes back into a path; the document then finds
 * the deepest node of the path that exists, so a sentence that starts with a word that is not
 * an option still lands on its stage.
 *
 * A sentence no shape matches is reported at the top of the file rather than dropped.
 */
import { isRecord } from '@spillway/core';
import type { ConfigPath } from './document.js';
import { leadingPath } from './from-data.js';
import type { Section } from './registry.js';

const SECTIONS: readonly Section[] = ['sources', 'transforms', 'sinks'];

const KIND_SECTION: Readonly<Record<string, Section>> = {
  source: 'sources',
  transform: 'transforms',
  sink: 'sinks',
};

/** The path `message` is about, in the config `data` (the file's content as plain data). */
export function problemPath(message: string, data: unknown): { path: ConfigPath; key?: boolean } {
  const root = isRecord(data) ? data : {};
  const sectionOf = (name: string, prefer?: Section): Section | undefined => {
    if (prefer && isRecord(root[prefer]) && Object.hasOwn(root[prefer], name)) return prefer;
    return SECTIONS.find((s) => isRecord(root[s]) && Object.hasOwn(root[s], name));
  };
  const stage = (name: string, prefer?: Section): ConfigPath => {
    const section = sectionOf(name, prefer);
    return section ? [section, name] : [];
  };
  const stageValue = (path: ConfigPath): Record<string, unknown> => {
    const [section, name] = path as [Section, string];
    const value = isRecord(root[section]) ? root[section][name] : undefined;
    return isRecord(value) ? value : {};
  };
  let m: RegExpExecArray | null;

  if ((m = /^a pipeline needs at least one (source|sink)$/.exec(message))) {
    return { path: [`${m[1]}s`] };
  }
  if (
    (m = /^"(.+)" names both a (source|transform|sink) and a (source|transform|sink)$/.exec(
      message,
    ))
  ) {
    return { path: stage(m[1]!, KIND_SECTION[m[3]!]), key: true };
  }
  if (
    (m =
      /^(?:source|transform|sink) "(.+?)" (has no inputs|reads from unknown input "(.+)"|reads from sink "(.+)"|lists an input twice)$/.exec(
        message,
      ))
  ) {
    const at = stage(m[1]!);
    if (at.length === 0) return { path: [] };
    const input = m[3] ?? m[4];
    const inputs = stageValue(at).inputs;
    const index = input !== undefined && Array.isArray(inputs) ? inputs.indexOf(input) : -1;
    return { path: index >= 0 ? [...at, 'inputs', index] : [...at, 'inputs'] };
  }
  if ((m = /^(?:source|transform) "(.+?)" feeds no stage$/.exec(message))) {
    return { path: stage(m[1]!), key: true };
  }
  if ((m = /^buffer of "(.+?)": (.*)$/s.exec(message))) {
    const at = stage(m[1]!);
    const own = at.length > 0 && stageValue(at).buffer !== undefined;
    const base = own
      ? [...at, 'buffer']
      : root.defaultBuffer !== undefined
        ? ['defaultBuffer']
        : at;
    return { path: [...base, ...leadingPath(m[2]!)] };
  }
  if ((m = /^"(.+?)" shares "(.+?)" with /.exec(message))) {
    const at = stage(m[1]!);
    return {
      path: at.length > 0 && stageValue(at).buffer !== undefined ? [...at, 'buffer'] : at,
      key: true,
    };
  }
  if ((m = /^transforms form a cycle: (.+?) → /.exec(message))) {
    return { path: ['transforms', m[1]!], key: true };
  }
  if (/^fanOut must be/.test(message)) return { path: ['fanOut'] };
  if ((m = /^"(.+?)" and "(.+?)" both claim (port|path) (.+)$/.exec(message))) {
    const at = stage(m[1]!);
    if (at.length === 0) return { path: [] };
    const claimed = m[4]!;
    // The option that holds the claimed port or path, when the file wrote it.
    const option =
      m[3] === 'port'
        ? stageValue(at).port !== undefined
          ? ['port']
          : []
        : findString(
            stageValue(at),
            (s) => s === claimed || claimed.endsWith(s.replace(/^\.\//, '')),
          );
    return { path: [...at, ...(option ?? [])] };
  }
  // A stage's own problem: `<type> "<name>": <sentence>`.
  if ((m = /^\S+ "(.+?)": (.*)$/s.exec(message))) {
    const at = stage(m[1]!);
    if (at.length === 0) return { path: [] };
    const sentence = m[2]!;
    // The workers stage names its steps `step <type>` (`parseJson#2` for a second one).
    const step = /^step (\S+?)(?: \(\S+\))?:? (.*)$/s.exec(sentence);
    const steps = stageValue(at).steps;
    if (step && Array.isArray(steps)) {
      const index = stepIndex(steps, step[1]!);
      if (index >= 0) return { path: [...at, 'steps', index, ...leadingPath(step[2]!)] };
    }
    return { path: [...at, ...leadingPath(sentence)] };
  }
  return { path: [] };
}

/** The index of the step `label` (`parseJson`, `parseJson#2`) in a workers stage's steps. */
function stepIndex(steps: readonly unknown[], label: string): number {
  const [type, nth] = label.split('#') as [string, string | undefined];
  let seen = 0;
  const wanted = nth === undefined ? 1 : Number(nth);
  return steps.findIndex((step) => isRecord(step) && step.type === type && ++seen === wanted);
}

/** The path of the first string value under `value` that `test` accepts. */
function findString(value: unknown, test: (s: string) => boolean): ConfigPath | undefined {
  if (typeof value === 'string') return test(value) ? [] : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findString(item, test);
      if (found) return [i, ...found];
    }
    return undefined;
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = findString(item, test);
      if (found) return [key, ...found];
    }
  }
  return undefined;
}

/** For a TypeScript config, which has no document: the stage a message names, if any. */
export function stageNamed(message: string): string | undefined {
  return /"(.+?)"/.exec(message)?.[1];
}
