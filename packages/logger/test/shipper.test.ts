// The shipper end to end with real worker threads, real child processes and a real loopback
// backend: records written in the application reach the backend; an exit, a SIGTERM or a crash
// during an outage ends the process on time with the undelivered records on disk; the next
// start ships them first; the crash record carries the stack; exit codes and stderr are the
// program's own.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
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
import { createShipper } from '../src/index.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-logger-'));
  dirs.push(dir);
  return dir;
};

const CHILD = fileURLToPath(new URL('./shipper-child.js', import.meta.url));
const NO_HOOKS = { exit: false, signals: false, crash: false };

function runChild(
  args: string[],
  onStdout?: (text: string, child: ChildProcess) => void,
): Promise<ScriptResult> {
  return runScript(CHILD, args, onStdout ? { onStdout } : {});
}

const recordsAt = (backend: Backend) =>
  backend.requests.flatMap(
    (r) => parseNdjson(r.body) as { message: string; attributes?: Record<string, unknown> }[],
  );

/** Starts a child that ships from `dir` to a healthy backend; resolves with what arrived. */
async function shipLeftovers(dir: string, expected: number) {
  const backend = await startBackend();
  const run = runChild(['ship', backend.url, dir, '0']);
  while (recordsAt(backend).length < expected) await new Promise((r) => setTimeout(r, 20));
  await run;
  const records = recordsAt(backend);
  await backend.close();
  return records;
}

describe('createShipper', () => {
  it('ships what the application writes, from a worker thread', async () => {
    await using backend = await startBackend();
    const shipper = createShipper({
      http: { url: backend.url, batch: { lingerMs: 5 } },
      hooks: NO_HOOKS,
    });
    for (let i = 0; i < 1000; i++)
      assert.equal(shipper.write({ level: 'info', msg: `m${i}`, i }), true);
    assert.equal(shipper.write('{"level":"warn","msg":"as text"}'), true);
    assert.equal(
      shipper.write({ big: 1n }),
      false,
      'a record that is not JSON is refused, not thrown',
    );
    const result = await shipper.close();
    assert.deepEqual(result, { answered: true, undelivered: { batches: 0, events: 0 } });
    const records = recordsAt(backend);
    assert.equal(records.length, 1001);
    assert.equal(records[0]!.message, 'm0');
    assert.equal(records[0]!.attributes?.i, 0);
    assert.equal(records[1000]!.message, 'as text');
    assert.deepEqual(shipper.stats(), {
      written: 1001,
      dropped: {},
      unencodable: 1,
      state: 'closed',
    });
    assert.equal(shipper.write({ msg: 'after close' }), false);
  });

  it('refuses options it cannot honour, all at once', () => {
    assert.throws(
      () =>
        createShipper({
          http: { url: 'ftp://x', encoder: { encode: () => new Uint8Array(), name: 'x' } as never },
          handOff: { bytes: 10, whenFull: 'sometimes' as never },
        }),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_INVALID_OPTION' &&
        /url must use http/.test(err.message) &&
        /handOff.bytes/.test(err.message) &&
        /handOff.whenFull/.test(err.message) &&
        /encoder must be a spec/.test(err.message),
    );
  });
});

describe('exit, signals and crashes during an outage', { timeout: 60_000 }, () => {
  it('process.exit() ends on time, leaves the records on disk, and the next start ships them', async () => {
    const dir = await tempDir();
    const result = await runChild(['exit', await refusingUrl(), dir, '200']);
    assert.equal(result.code, 0);
    assert.ok(result.ms < 10_000, `ended in ${Math.round(result.ms)} ms`);
    const records = await shipLeftovers(dir, 200);
    assert.deepEqual(
      new Set(records.map((r) => r.attributes?.seq)),
      new Set(Array.from({ length: 200 }, (_, i) => i)),
    );
  });

  it('SIGTERM flushes, then the process dies by the signal as it would have', async () => {
    const dir = await tempDir();
    const result = await runChild(['signal', await refusingUrl(), dir, '100'], (line, child) => {
      if (line.includes('ready')) child.kill('SIGTERM');
    });
    assert.equal(result.signal, 'SIGTERM', 'killed by the signal, not exited');
    const records = await shipLeftovers(dir, 100);
    assert.equal(new Set(records.map((r) => r.attributes?.seq)).size, 100);
  });

  for (const mode of ['crash', 'reject'] as const) {
    it(`an ${mode === 'crash' ? 'uncaught exception' : 'unhandled rejection'} keeps its exit code and stderr; its record and the queue ship next start`, async () => {
      const dir = await tempDir();
      const url = await refusingUrl();
      const result = await runChild([mode, url, dir, '50']);
      assert.equal(result.code, 1, 'the exit code Node gives an uncaught error');
      const expected =
        mode === 'crash' ? 'boom: the thing that broke' : 'rejected: nobody caught this';
      assert.match(result.stderr, new RegExp(`Error: ${expected}`));
      assert.match(result.stderr, /shipper-child\.js:\d+/, 'the stack, as Node prints it');
      const records = await shipLeftovers(dir, 51);
      const crash = records.find((r) => r.attributes?.origin !== undefined);
      assert.ok(crash, 'the crash record arrived');
      assert.equal(
        crash.attributes?.origin,
        mode === 'crash' ? 'uncaughtException' : 'unhandledRejection',
      );
      assert.match(
        String((crash.attributes?.err as { stack?: string } | undefined)?.stack),
        /shipper-child\.js/,
      );
      assert.equal(
        new Set(records.map((r) => r.attributes?.seq).filter((s) => s !== undefined)).size,
        50,
      );
    });
  }
});
