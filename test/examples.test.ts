// Every example runs, as a user would run it, in a child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examples = join(import.meta.dirname, '..', '..', 'examples', 'dist');

it('compose: the README example runs to the end', async () => {
  const { stdout } = await run(process.execPath, [join(examples, 'compose.js')]);
  assert.match(stdout, /→ \d+ slow requests/);
  assert.match(stdout, /generated 10000 events/);
});

it('demo (npm start): the stall reaches the generator and every event is accounted for', async () => {
  const { stdout } = await run(
    process.execPath,
    [join(examples, 'demo.js'), '--seconds', '5', '--stall-every', '3', '--stall-for', '2'],
    { timeout: 30_000 },
  );
  assert.match(stdout, /backend STALLED/);
  assert.match(stdout, /blocked +100%/, 'the generator was held back while the backend stalled');
  const summary = /stopped: generated (\d+), delivered (\d+), undelivered at deadline (\d+)/.exec(
    stdout,
  );
  assert.ok(summary, stdout);
  const [, generated, delivered, undelivered] = summary.map(Number);
  assert.ok(generated! > 0);
  assert.equal(delivered! + undelivered!, generated, 'nothing vanished without being counted');
});
