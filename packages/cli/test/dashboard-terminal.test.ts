// The dashboard on a real terminal: tmux runs dashboard-fixture.js (a generator → HTTP sink →
// loopback backend, with the view on) in a 120×40 pane, and the test reads the screen back with
// `capture-pane`. It stalls the backend and watches the picture change as a person would: the
// sink's buffer bar goes from nearly empty to FULL, the lamp leaves `healthy`, the generator is
// held back; on recovery the bar drains and the lamp turns healthy; on quit the screen is given
// back. tmux is required, not optional: without it this test fails (CI installs it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./dashboard-fixture.js', import.meta.url));
const SESSION = 'dashboard';
// A server of our own (-L), without the user's configuration (-f): nothing of theirs is touched.
const socket = `spillway-test-${process.pid}`;

function tmux(...args: string[]): string {
  const env = { ...process.env };
  // The fixture is not a test file; it must not think it runs under the test runner.
  delete env.NODE_TEST_CONTEXT;
  const result = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
    encoding: 'utf8',
    env,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`tmux ${args[0]}: ${result.stderr.trim()}`);
  return result.stdout;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The sink buffer's `depth/capacity` and FULL mark, and the sink's lamp, as the screen shows. */
function read(screen: string) {
  const channel = screen.split('\n').find((l) => l.includes('▼ http.in'));
  const sink = screen.split('\n').find((l) => l.includes('◆ http'));
  const source = screen.split('\n').find((l) => l.includes('◆ gen'));
  const fill = channel && /batches [█░]+ (\d+)\/(\d+)/.exec(channel);
  return {
    depth: fill ? Number(fill[1]) : undefined,
    capacity: fill ? Number(fill[2]) : undefined,
    full: channel?.includes('FULL') ?? false,
    lamp: sink && /● (healthy|degraded|DOWN)/.exec(sink)?.[1],
    blocked: source ? Number(/blocked (\d+)%/.exec(source)?.[1] ?? Number.NaN) : undefined,
  };
}

/** Captures the pane until `ok` holds; `history` includes the lines scrolled off the top. */
async function until(
  what: string,
  ms: number,
  ok: (screen: string) => boolean,
  history = false,
): Promise<string> {
  const deadline = Date.now() + ms;
  let screen = '';
  while (Date.now() < deadline) {
    screen = tmux('capture-pane', '-p', ...(history ? ['-S', '-'] : []), '-t', SESSION);
    if (ok(screen)) return screen;
    await delay(100);
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}; the screen:\n${screen}`);
}

it('the dashboard on a real terminal shows the sink buffer fill when the backend stalls', {
  timeout: 90_000,
}, async () => {
  const version = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (version.error) {
    assert.fail(
      'tmux is required for the dashboard terminal test and was not found on PATH: install it ' +
        '(Debian: apt-get install -y tmux; .ci/run does this in CI)',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'spillway-dashboard-'));
  const control = join(dir, 'control');
  await writeFile(control, 'run');
  try {
    const command = [process.execPath, FIXTURE, control].map(quote).join(' ');
    // remain-on-exit keeps the pane after the fixture exits, so its last screen can be read.
    tmux(
      'new-session',
      '-d',
      '-s',
      SESSION,
      '-x',
      '120',
      '-y',
      '40',
      command,
      ';',
      'set-option',
      '-w',
      '-t',
      SESSION,
      'remain-on-exit',
      'on',
    );

    let screen = await until('the view, flowing', 20_000, (s) => {
      const r = read(s);
      return r.lamp === 'healthy' && r.depth !== undefined && r.depth <= 2 && /\d+ ev\/s/.test(s);
    });
    assert.ok(screen.includes('fixture · pipeline terminal · running'), screen);
    assert.equal(read(screen).capacity, 8);
    assert.ok(!read(screen).full, screen);

    await writeFile(control, 'stall');
    screen = await until('the sink buffer full, the sink unhealthy', 20_000, (s) => {
      const r = read(s);
      return r.depth === 8 && r.full && (r.lamp === 'degraded' || r.lamp === 'DOWN');
    });
    screen = await until('the generator held back', 10_000, (s) => (read(s).blocked ?? 0) >= 50);
    assert.equal(read(screen).depth, 8, screen);

    await writeFile(control, 'run');
    screen = await until('the buffer drained, the sink healthy', 30_000, (s) => {
      const r = read(s);
      return r.lamp === 'healthy' && r.depth !== undefined && r.depth <= 2 && !r.full;
    });

    await writeFile(control, 'quit');
    // The normal screen, as it was before the view took over, with the fixture's last word
    // under it. With the history: once the fixture has exited, tmux writes "Pane is dead" on
    // the last row, which scrolls the first line off the top.
    screen = await until(
      'the screen given back',
      20_000,
      (s) => /^fixture ready\nfixture done\n/.test(s) && !s.includes('▼ http.in'),
      true,
    );
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // Already gone: nothing to clean up.
    }
    await rm(dir, { recursive: true, force: true });
  }
});
