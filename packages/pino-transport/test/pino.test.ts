// pino end to end, through its own transport machinery: a child process (pino-child.ts) logs
// with `pino({ transport: { target: '@spillway/pino-transport' } })` and ends normally. pino's
// exit handler then flushes its worker-thread stream and ends it (thread-stream's `end()`
// blocks the exiting thread until the transport's stream has closed); our transport's `close()`
// stops the shipping pipeline within `exitDeadlineMs`, delivering what it can and, with a
// `dir`, persisting the rest. So: with a healthy backend every line has arrived by the time the
// process is gone; with the backend refusing connections the process still ends promptly, and
// the next run ships what the first one left on disk.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  parseNdjson,
  refusingUrl,
  runScript,
  type ScriptResult,
  startBackend,
} from '@spillway/testing';

const CHILD = fileURLToPath(new URL('./pino-child.js', import.meta.url));
const LINES = 1000;
/** Far above the child's 500 ms exit deadline, far below thread-stream's own 10 s give-up. */
const PROMPT_EXIT_MS = 8000;

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-pino-'));
  dirs.push(dir);
  return dir;
};

type End = 'normal' | 'crash' | 'crash-plain' | 'signal';

/** Runs pino-child.js with url, dir ('' for none), run tag and how to end; SIGTERM at `ready`. */
function runChild(
  url: string,
  dir: string,
  run: string,
  end: End = 'normal',
): Promise<ScriptResult> {
  return runScript(CHILD, [url, dir, String(LINES), run, end], {
    onStdout: (text, child) => {
      if (text.includes('ready')) child.kill('SIGTERM');
    },
  });
}

interface Shipped {
  message: string;
  severity?: string;
  timestamp?: unknown;
  attributes?: {
    seq?: number;
    run?: string;
    pid?: number;
    hostname?: string;
    origin?: string;
    err?: { stack?: string };
  };
}

const recordsAt = (backend: Backend) =>
  backend.requests.flatMap((r) => parseNdjson(r.body) as Shipped[]);

/** The `seq`s of `run`'s lines among `records`, which must be exactly 0..LINES-1, once each. */
function assertEveryLine(records: readonly Shipped[], run: string): void {
  const seqs = records
    .filter((r) => r.attributes?.run === run && r.attributes.seq !== undefined)
    .map((r) => r.attributes!.seq!);
  assert.equal(seqs.length, LINES, `${run}: ${seqs.length} lines arrived, expected ${LINES}`);
  assert.deepEqual(
    new Set(seqs),
    new Set(Array.from({ length: LINES }, (_, i) => i)),
    `${run}: every line once`,
  );
  const done = records.filter((r) => r.attributes?.run === run && r.message === 'done');
  assert.equal(done.length, 1, `${run}: the last line arrived`);
}

describe('pino with the spillway transport', { timeout: 60_000 }, () => {
  it('ships every line, parsed (msg → message, level → severity), before the process is gone', async () => {
    await using backend = await startBackend();
    const result = await runChild(backend.url, '', 'healthy');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const records = recordsAt(backend);
    assertEveryLine(records, 'healthy');
    assert.equal(records.length, LINES + 1, 'nothing else, nothing twice');
    const first = records.find((r) => r.attributes?.seq === 0)!;
    assert.equal(first.message, 'line 0');
    assert.equal(first.severity, 'info');
    assert.equal(typeof first.attributes?.pid, 'number', "pino's own fields are attributes");
    assert.equal(records.find((r) => r.message === 'done')!.severity, 'warn');
  });

  it('ends promptly when the backend refuses connections; the next run ships what it persisted', async () => {
    const dir = await tempDir();
    const outage = await runChild(await refusingUrl(), dir, 'outage');
    assert.equal(outage.code, 0, outage.stderr);
    // thread-stream's `end()` returns once our stream has closed, i.e. once `close()` has
    // stopped the pipeline: an exit this early means it did so by its deadline.
    assert.ok(
      outage.ms < PROMPT_EXIT_MS,
      `ended in ${Math.round(outage.ms)} ms (exit deadline 500 ms)`,
    );

    await using backend = await startBackend();
    const next = await runChild(backend.url, dir, 'next');
    assert.equal(next.code, 0, next.stderr);
    const records = recordsAt(backend);
    // The lines the outage left on disk (spilled while the backend refused, or persisted by
    // `close()` at the deadline) arrived, and so did the new run's own lines.
    assertEveryLine(records, 'outage');
    assertEveryLine(records, 'next');
    assert.equal(records.length, 2 * (LINES + 1), 'nothing twice');
    assert.equal(records[0]!.attributes?.run, 'outage', 'the persisted lines go first');
  });

  it('without a dir, an outage delays the exit by the deadline, not by the backend', async () => {
    const result = await runChild(await refusingUrl(), '', 'no-dir');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.ms < PROMPT_EXIT_MS, `ended in ${Math.round(result.ms)} ms`);
  });

  it('an uncaught exception keeps its exit code and stderr; its record and the lines ship next start', async () => {
    const url = await refusingUrl();
    const dir = await tempDir();
    const crashed = await runChild(url, dir, 'crash', 'crash');
    const plain = await runChild(url, '', 'plain', 'crash-plain');
    assert.equal(crashed.code, 1, 'the exit code Node gives an uncaught error');
    assert.equal(crashed.code, plain.code);
    assert.equal(crashed.stderr, plain.stderr, 'stderr as without the hooks');
    assert.match(crashed.stderr, /Error: boom: the thing that broke/);
    assert.ok(crashed.ms < PROMPT_EXIT_MS, `ended in ${Math.round(crashed.ms)} ms`);

    await using backend = await startBackend();
    await runChild(backend.url, dir, 'next');
    const records = recordsAt(backend);
    assertEveryLine(records, 'crash');
    const crash = records.find((r) => r.attributes?.origin !== undefined);
    assert.ok(crash, 'the crash record arrived');
    assert.equal(crash.severity, 'fatal');
    assert.equal(crash.attributes?.origin, 'uncaughtException');
    assert.match(crash.message, /uncaught exception: boom/);
    assert.match(String(crash.attributes?.err?.stack), /pino-child\.js:\d+/, 'with its stack');
  });

  it('SIGTERM during an outage: the lines are persisted, then the signal kills the process', async () => {
    const dir = await tempDir();
    const result = await runChild(await refusingUrl(), dir, 'term', 'signal');
    assert.equal(result.signal, 'SIGTERM', 'killed by the signal, not exited');
    assert.ok(result.ms < PROMPT_EXIT_MS, `ended in ${Math.round(result.ms)} ms`);

    await using backend = await startBackend();
    await runChild(backend.url, dir, 'next');
    assertEveryLine(recordsAt(backend), 'term');
  });
});
