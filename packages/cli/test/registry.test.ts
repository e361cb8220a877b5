// The registry and the reference generated from it cannot go stale: every verb the transforms
// package exports is registered, every registered type has its option table (the compiler
// checks each table against the stage's options type), every encoder the HTTP sink knows is
// documented, and docs/configuration.md is exactly what `spillway config-reference` prints.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { resolveEncoder } from '@spillway/sinks';
import * as transforms from '@spillway/transforms';
import { configReference } from '../src/commands/config-reference.js';
import { STAGE_KEYS } from '../src/config/from-data.js';
import {
  encoderOptions,
  sinkOptions,
  sourceOptions,
  transformOptions,
} from '../src/config/option-docs.js';
import { allStageTypes, lookupStageType, registry } from '../src/index.js';

describe('the registry', () => {
  it('registers every verb @spillway/transforms exports, under its type', () => {
    const verbs = Object.entries(transforms).flatMap(([name, value]) => {
      if (typeof value !== 'function') return [];
      try {
        // A verb factory makes a definition from any options; validation comes later.
        const made = (value as (o: unknown) => { kind?: unknown; type?: unknown })({});
        return made?.kind === 'transform' && made.type === name ? [name] : [];
      } catch {
        return []; // a helper, not a factory
      }
    });
    assert.ok(verbs.length >= 13, `found the verbs: ${verbs.join(', ')}`);
    for (const verb of verbs) {
      assert.ok(lookupStageType('transforms', verb), `${verb} is registered`);
    }
    assert.deepEqual(
      [...registry.transforms.keys()].filter((t) => t !== 'workers').sort(),
      verbs.sort(),
      'and nothing else but workers',
    );
  });

  it('registers the sources, sinks and CPU stage of the brief', () => {
    assert.deepEqual(
      [...registry.sources.keys()],
      ['generator', 'file', 'udp', 'tcp', 'otlp', 'http', 'stdin'],
    );
    assert.deepEqual([...registry.sinks.keys()], ['http', 'file', 'stdout', 'blackhole']);
    assert.ok(registry.transforms.has('workers'));
  });

  it('has an option table for exactly the registered types of each section', () => {
    assert.deepEqual(Object.keys(sourceOptions), [...registry.sources.keys()]);
    assert.deepEqual(Object.keys(transformOptions), [...registry.transforms.keys()]);
    assert.deepEqual(Object.keys(sinkOptions), [...registry.sinks.keys()]);
  });

  it('gives every registered type a summary and an option table, none shadowing a stage key', () => {
    for (const t of allStageTypes()) {
      const label = `${t.section} ${t.type}`;
      assert.equal(t.create({}).type, t.type, `${label}: its factory makes a ${t.type}`);
      assert.ok(t.summary.length > 10, `${label} has a summary`);
      const options = Object.entries(t.options);
      assert.ok(options.length > 0, `${label} has an option table`);
      for (const [name, doc] of options) {
        assert.ok(!STAGE_KEYS[t.section].includes(name), `${label}: ${name} is a stage key`);
        assert.ok(
          doc.type.length > 0 && doc.description.length > 0,
          `${label}: ${name} documented`,
        );
        assert.ok(
          !(doc.required && doc.default !== undefined),
          `${label}: ${name} required with a default`,
        );
      }
    }
  });

  it('documents every encoder the http sink resolves by type', () => {
    const required: Record<string, Record<string, unknown>> = {
      envelope: { template: { event: '{{record}}' } },
      loki: { labels: ['service'] },
      elasticsearchBulk: { index: 'logs' },
      otlp: { encoding: 'json' },
    };
    for (const type of Object.keys(encoderOptions)) {
      const encoder = resolveEncoder({ type, ...required[type] } as never);
      assert.ok(encoder, `${type} is an encoder the sink knows`);
      assert.deepEqual(encoder.validate(), [], `${type}: the documented required options suffice`);
    }
    assert.equal(resolveEncoder({ type: 'nope' } as never), undefined);
  });
});

describe('the configuration reference', () => {
  it('has a section for every registered type and every encoder', () => {
    const page = configReference();
    for (const t of allStageTypes()) {
      const kind = { sources: 'source', transforms: 'transform', sinks: 'sink' }[t.section];
      assert.match(page, new RegExp(`^### ${kind} \`${t.type}\`$`, 'm'), `${t.section} ${t.type}`);
      for (const [name, doc] of Object.entries(t.options)) {
        const row = doc.codeOnly ? `\`${name}\` (` : `| \`${name}\` |`;
        assert.ok(page.includes(row), `${t.type}.${name} is listed`);
      }
    }
    for (const type of Object.keys(encoderOptions)) {
      assert.match(page, new RegExp(`^##### encoder \`${type}\`$`, 'm'));
    }
  });

  it('is what docs/configuration.md holds (regenerate it with `spillway config-reference`)', async () => {
    const docs = await readFile(
      new URL('../../../../docs/configuration.md', import.meta.url),
      'utf8',
    );
    assert.equal(docs, configReference());
  });
});
