/** Child processes and unreachable backends, for the tests of exits, signals and outages. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * A URL on 127.0.0.1 where nothing listens, so connections to it are refused: a backend that is
 * down. The port was free a moment ago; another process could take it, which on a test machine
 * it practically never does.
 */
export async function refusingUrl(path = '/'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}${path}`;
}

/** How a child process ended, and what it wrote. */
export interface ScriptResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly ms: number;
}

export interface RunScriptOptions {
  /** Sees each chunk of the child's stdout as it comes, e.g. to signal it once it is ready. */
  onStdout?: (text: string, child: ChildProcess) => void;
  /** SIGKILL after this long, so that a hung child fails the test instead of hanging it. Default 30 s. */
  killAfterMs?: number;
}

/** Runs `script` with this Node binary, stdin closed; resolves once it has exited and its output ended. */
export function runScript(
  script: string,
  args: readonly string[],
  options: RunScriptOptions = {},
): Promise<ScriptResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    stdout += text;
    options.onStdout?.(text, child);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 30_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
