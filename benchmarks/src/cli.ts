/**
 * `npm run bench -- [scenario...] [--json] [--quick] [--write-docs] [--list]`
 *
 * stdout carries results only (with `--json`, exactly one JSON object); progress goes to
 * stderr, so `npm run bench -- channel --json > out.json` captures clean JSON.
 *
 * The CLI re-executes itself under `node --expose-gc` so the harness can collect garbage
 * between contenders (see `race.ts`); the root `bench` script stays a plain `node cli.js`.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ScenarioRecord, toRecord, writeDocs } from './docs.js';
import { describeMachine } from './machine.js';
import { scenarios } from './registry.js';
import type { ScenarioDefinition } from './scenario.js';

const USAGE = `Usage: npm run bench -- [scenario...] [options]

Runs the named scenarios (all when none is named) and regenerates docs/benchmarks.md.

Options:
  --json        print one JSON object {scenario, results, ratios}; takes exactly one scenario;
                does not touch the docs unless --write-docs is given
  --quick       small input, one round: checks that a scenario works, measures nothing;
                does not touch the docs unless --write-docs is given
  --write-docs  update docs/benchmarks.{json,md} with this run's results
  --list        list the scenarios and exit
  -h, --help    show this help

Scenarios: ${scenarios.map((s) => s.name).join(', ')}`;

const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url));

/** Thrown for bad arguments: reported with the usage and exit code 2. */
class UsageError extends Error {}

const log = (line: string) => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: readonly string[], signal: AbortSignal): Promise<void> {
  const { values, positionals } = parseUsage(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.list) {
    for (const s of scenarios) process.stdout.write(`${s.name}\t${s.description}\n`);
    return;
  }
  const selected = positionals.length === 0 ? scenarios : positionals.map(findScenario);
  if (values.json && selected.length !== 1) {
    throw new UsageError('--json takes exactly one scenario');
  }
  const machine = describeMachine();
  log(`node ${machine.node} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB)`);
  const records: ScenarioRecord[] = [];
  for (const definition of selected) {
    log(`\n${definition.name}${values.quick ? ' (quick)' : ''}: ${definition.description}`);
    const result = await definition.run({ signal, quick: values.quick, log });
    records.push(toRecord(definition, result, machine, new Date()));
    if (values.json) {
      const { results, ratios } = result;
      process.stdout.write(`${JSON.stringify({ scenario: definition.name, results, ratios })}\n`);
    } else {
      process.stdout.write(summarise(definition.name, result.results, result.ratios));
    }
  }
  if (values['write-docs'] || (!values.json && !values.quick)) {
    await writeDocs(
      DOCS_DIR,
      records,
      scenarios.map((s) => s.name),
    );
    log(`\nwrote ${DOCS_DIR}benchmarks.md and benchmarks.json`);
  }
}

function parseUsage(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        'write-docs': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function findScenario(name: string): ScenarioDefinition {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new UsageError(`unknown scenario "${name}"`);
  return found;
}

function summarise(
  name: string,
  results: ScenarioRecord['results'],
  ratios: ScenarioRecord['ratios'],
): string {
  const lines = [`\n${name}`];
  for (const r of results) {
    lines.push(
      `  ${r.name.padEnd(22)} ${r.eventsPerSec.toLocaleString('en-US').padStart(13)} events/s`,
    );
  }
  for (const [ratio, value] of Object.entries(ratios))
    lines.push(`  ${ratio.padEnd(30)} ${value}×`);
  return `${lines.join('\n')}\n`;
}

/** Runs this file again under `--expose-gc`, passing signals on, and exits as the child does. */
function reexecWithGc(): void {
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => {
    process.exit(code ?? 128 + (sig ? constants.signals[sig] : 1));
  });
}

if ((globalThis as { gc?: unknown }).gc === undefined) {
  reexecWithGc();
} else {
  const controller = new AbortController();
  // The first signal stops the run cleanly; a second one kills as usual.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => controller.abort(new Error(`interrupted by ${sig}`)));
  }
  main(process.argv.slice(2), controller.signal).catch((err: unknown) => {
    if (err instanceof UsageError) {
      log(`${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      log(
        controller.signal.aborted
          ? String(controller.signal.reason)
          : String((err as Error)?.stack ?? err),
      );
      process.exitCode = 1;
    }
  });
}
