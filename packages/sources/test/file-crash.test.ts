// Crash safety of the file source with real process deaths: a child tails a file and is
// SIGKILLed at random moments, over and over, while the file keeps growing; each run resumes
// from the checkpoint the previous one left. Every line must be delivered at least once across
// all runs; duplicates (lines sent but not acknowledged at the kill) are allowed and reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support.js';

const child = fileURLToPath(new URL('./file-crash-child.js', import.meta.url));
const RUNS = 20;
/** About 60 batches: a run is killed while it is still reading. */
const LINES_PER_RUN = 20_000;

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

/** Runs the child; kills it `killAfterMs` after it is ready, or once `enough()` holds. */
function runChild(
  args: string[],
  delivered: Map<number, number>,
  killAfterMs: number,
  enough: () => boolean = () => false,
) {
  return new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
        else if (line.startsWith('d ')) {
          for (const n of line.slice(2).split(' ')) {
            delivered.set(Number(n), (delivered.get(Number(n)) ?? 0) + 1);
          }
          if (enough()) proc.kill('SIGKILL');
        }
      }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    proc.on('error', reject);
    proc.on('close', () => {
      clearTimeout(timer);
      resolve(stderr);
    });
  });
}

describe('file source crash loop', () => {
  it('SIGKILL at random moments loses no line', { timeout: 120_000 }, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'app.log');
    const delivered = new Map<number, number>();
    await writeFile(path, numbered(0, LINES_PER_RUN));
    let written = LINES_PER_RUN;
    for (let run = 0; run < RUNS; run++) {
      const stderr = await runChild([dir, path], delivered, 20 + Math.floor(Math.random() * 150));
      assert.ok(!stderr.includes('Error'), stderr);
      // The writer goes on while the reader is down, as a real application would.
      await appendFile(path, numbered(written, written + LINES_PER_RUN));
      written += LINES_PER_RUN;
    }
    await runChild([dir, path], delivered, 60_000, () => delivered.size === written);
    const missing = [];
    for (let n = 0; n < written; n++) if (!delivered.has(n)) missing.push(n);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${written} lines lost`);
    let duplicates = 0;
    for (const count of delivered.values()) duplicates += count - 1;
    t.diagnostic(`${written} lines, ${RUNS} kills, ${duplicates} delivered more than once`);
  });
});
