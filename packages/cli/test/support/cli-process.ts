// The compiled `spillway` bin as a real child process (`process.execPath` running
// dist/src/bin.js), with its output collected and helpers to wait for what it says; temporary
// directories whose `node_modules` points at the repository's, so that a TypeScript config
// written there imports `@spillway/*` as a user's would.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** dist/src/bin.js, next to this file's compiled dist/test/support. */
export const BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url));
const REPO_NODE_MODULES = fileURLToPath(new URL('../../../../../node_modules', import.meta.url));

/** A running `spillway` and what it has written so far. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], options: { cwd: string; env?: Record<string, string> }) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  /** Resolves once stderr matches `pattern`; rejects after `ms` with what stderr holds. */
  async waitForStderr(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = performance.now() + ms;
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (performance.now() > deadline) {
        throw new Error(`stderr never matched ${pattern} within ${ms} ms:\n${this.stderr}`);
      }
      await delay(20);
    }
  }

  /** Kills the process if it is still running: a failed test must not leave it behind. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** The exit code, killing the process if it has not exited within `ms`. */
  async exit(ms = 15_000): Promise<number | null> {
    const cancel = new AbortController();
    const timeout = delay(ms, undefined, { signal: cancel.signal }).then(
      () => undefined,
      () => undefined,
    );
    const result = await Promise.race([this.exited.then((code) => ({ code })), timeout]);
    cancel.abort();
    if (result === undefined) {
      this.child.kill('SIGKILL');
      throw new Error(`spillway did not exit within ${ms} ms:\n${this.stderr}`);
    }
    return result.code;
  }
}

/** Runs `spillway args…` to its end. */
export async function runCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args, options);
  const code = await cli.exit();
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/** A temporary directory (removed by `cleanup()`), with `node_modules` linked to the repo's. */
export async function workDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-cli-'));
  await symlink(REPO_NODE_MODULES, join(dir, 'node_modules'), 'dir');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** True when `port` on 127.0.0.1 can be bound now (nobody holds it). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** Polls `check` every 20 ms until it returns a value, for at most `ms`. */
export async function until<T>(
  what: string,
  ms: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** The lines of every request body a backend received, in arrival order. */
export function receivedLines(requests: readonly { body: Buffer }[]): string[] {
  return requests.flatMap((r) => r.body.toString('utf8').split('\n').filter(Boolean));
}
