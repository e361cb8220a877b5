/**
 * Scenario `http`: what the framework costs over a hand-written shipper, file to HTTP.
 *
 * ```
 *   pipeline_raw         file source ─▶ [out.in] ─▶ http sink (NDJSON, raw lines verbatim)   ─┐
 *   pipeline_parse_json  file source ─▶ [cpu.in] ─▶ parseJson ─▶ [out.in] ─▶ http sink        ├─▶ counting backend
 *   handwritten          FileHandle.read ─▶ a string per line ─▶ join ─▶ undici request       ─┘   (worker thread)
 * ```
 *
 * All three read the same file of JSON access-log lines (page cache) and deliver every line
 * to the same backend as one NDJSON line, in requests of at most 10,000 lines or 1 MiB, with 4
 * requests in flight over 4 keep-alive connections. A run ends when the backend has counted
 * every line; the pipelines' stop (final checkpoint, the sink closing its connections) and the
 * loop's closing of its agent are inside the clock.
 *
 * The hand-written loop is what a user would write instead of a framework: decode each chunk,
 * split it into a string per line, join a request's lines back into one string, and POST it.
 * The pass-through pipeline never makes a string: the file source hands on raw line bytes and
 * the NDJSON encoder sends them as they are, so it should beat the loop (target ≥ 1). With
 * `parseJson` every line becomes an event and is written back as JSON — the price of structure,
 * reported with no target.
 *
 * The backend runs in a worker thread (see `counting-backend.ts`): its request parsing and line
 * counting are not on the contenders' event loop.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { TransformDefinition } from '@spillway/core';
import { http } from '@spillway/sinks';
import { parseJson } from '@spillway/transforms';
import { Agent, request } from 'undici';
import { type BackendCounts, CountingBackend } from '../counting-backend.js';
import { fileContender } from '../file-contender.js';
import { writeLineFile } from '../line-file.js';
import { byName, type Contender, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';

const FULL = { lines: 2_000_000, rounds: 5, warmupRounds: 1 };
const QUICK = { lines: 20_000, rounds: 1, warmupRounds: 0 };
const MIB = 1024 * 1024;
/** The bounds of a request, the same for the sink and the loop. */
const MAX_LINES = 10_000;
const MAX_BYTES = MIB;
const LINGER_MS = 5;
const CONCURRENCY = 4;
/** The file source's default read size: what a user of it gets. */
const SOURCE_CHUNK_BYTES = 256 * 1024;
const LOOP_READ_BYTES = MIB;

export const httpScenario: ScenarioDefinition = {
  name: 'http',
  description:
    'File → HTTP NDJSON into a counting loopback backend (a `node:http` server in a worker ' +
    'thread). `pipeline_raw`: file source → http sink, raw line bytes sent verbatim. ' +
    '`pipeline_parse_json`: the same with `parseJson` in between, each line sent back as an ' +
    'event in JSON. Requests of at most 10,000 lines or 1 MiB (5 ms linger), 4 in flight, no ' +
    'compression. A run ends when the backend has counted every line; start and stop are ' +
    'inside the clock.',
  peers:
    '`handwritten`: a loop that reads the same file with `FileHandle.read` in 1 MiB chunks, ' +
    'splits it into a string per line, joins each request of the same bounds and POSTs it ' +
    'with undici `request` through one `Agent({ connections: 4 })`, 4 requests in flight — ' +
    'what a user writes instead of a framework; the ratio is the framework’s overhead.',
  targets: [{ ratio: 'pipeline_vs_handwritten', atLeast: 1.0 }],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-bench-http-'));
    try {
      await using backend = await CountingBackend.start();
      const path = join(dir, 'access.log');
      const bytes = await writeLineFile(path, params.lines, (i) =>
        JSON.stringify({
          level: 30 + (i % 3) * 10,
          time: 1735689600000 + i,
          host: `web-${i % 8}`,
          req: `GET /api/items/${i % 10_000}`,
          status: 200,
          ms: i % 97,
          msg: 'request completed',
        }),
      );
      log(`  ${params.lines.toLocaleString('en-US')} JSON lines, ${(bytes / 1e6).toFixed(1)} MB`);
      // The backend's counts of each contender's latest run, for the setup line.
      const counts = new Map<string, BackendCounts>();
      const pipeline = (name: string, stage?: TransformDefinition) =>
        fileContender({
          name,
          path,
          lines: params.lines,
          chunkBytes: SOURCE_CHUNK_BYTES,
          ...(stage ? { stage } : {}),
          async sink(lines) {
            const { reached } = await backend.expect(lines);
            return {
              stage: http({
                url: backend.url,
                batch: { maxEvents: MAX_LINES, maxBytes: MAX_BYTES, lingerMs: LINGER_MS },
                concurrency: CONCURRENCY,
                compression: 'none',
                // As the loop's plain Agent: a proxy from the environment must not sit between
                // the sink and a loopback backend.
                proxy: 'none',
              }),
              delivered: reached.then((c) => {
                counts.set(name, c);
                return c.lines;
              }),
            };
          },
        });
      const results = await race(
        [
          pipeline('pipeline_raw'),
          pipeline('pipeline_parse_json', parseJson({})),
          handwrittenContender(path, params.lines, backend, counts),
        ],
        {
          signal,
          log,
          rounds: params.rounds,
          warmupRounds: params.warmupRounds,
          expectedEvents: params.lines,
          expectedBytes: bytes,
        },
      );
      const rate = (name: string) => byName(results, name).eventsPerSec;
      return {
        results,
        ratios: {
          pipeline_vs_handwritten: round2(rate('pipeline_raw') / rate('handwritten')),
          parse_json_vs_handwritten: round2(rate('pipeline_parse_json') / rate('handwritten')),
        },
        setup: {
          lines: params.lines,
          'MB per run': round2(bytes / 1e6),
          'line size': `~${Math.round(bytes / params.lines)} bytes of JSON`,
          'request bounds': `${MAX_LINES.toLocaleString('en-US')} lines or ${MAX_BYTES / MIB} MiB`,
          linger: `${LINGER_MS} ms`,
          'requests in flight': CONCURRENCY,
          'requests per run': [...counts].map(([name, c]) => `${name} ${c.requests}`).join(', '),
          'read size': `file source ${SOURCE_CHUNK_BYTES / 1024} KiB, loop ${LOOP_READ_BYTES / MIB} MiB`,
          rounds: params.rounds,
          'warm-up rounds': params.warmupRounds,
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/**
 * The hand-written shipper. Its bytes bound counts UTF-16 code units, which equal bytes for
 * the ASCII lines of this scenario: a loop that made each line a string would not re-encode it
 * to measure it.
 */
function handwrittenContender(
  path: string,
  lines: number,
  backend: CountingBackend,
  counts: Map<string, BackendCounts>,
): Contender {
  const name = 'handwritten';
  let reached: Promise<BackendCounts> | undefined;
  return {
    name,
    async prepare() {
      ({ reached } = await backend.expect(lines));
    },
    async run() {
      const agent = new Agent({ connections: CONCURRENCY });
      const inFlight = new Set<Promise<void>>();
      let failure: unknown;
      const post = async (body: string) => {
        const response = await request(backend.url, {
          dispatcher: agent,
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body,
        });
        await response.body.dump();
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      };
      // Waits for a free slot, then starts a POST; a failed one is thrown at the next send.
      const send = async (body: string) => {
        if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
        if (failure !== undefined) throw failure;
        const sending: Promise<void> = post(body)
          .catch((err: unknown) => {
            failure ??= err;
          })
          .finally(() => inFlight.delete(sending));
        inFlight.add(sending);
      };
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.allocUnsafe(LOOP_READ_BYTES);
        const decoder = new StringDecoder('utf8');
        let carry = '';
        let batch: string[] = [];
        let batchBytes = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, LOOP_READ_BYTES);
          if (bytesRead === 0) break;
          const split = (carry + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
          carry = split.pop()!;
          for (const line of split) {
            if (batch.length === MAX_LINES || batchBytes + line.length + 1 > MAX_BYTES) {
              await send(`${batch.join('\n')}\n`);
              batch = [];
              batchBytes = 0;
            }
            batch.push(line);
            batchBytes += line.length + 1;
          }
        }
        if (carry !== '') batch.push(carry);
        if (batch.length > 0) await send(`${batch.join('\n')}\n`);
        await Promise.all(inFlight);
        if (failure !== undefined) throw failure;
        const counted = await reached!;
        counts.set(name, counted);
        return counted.lines;
      } finally {
        await handle.close();
        await agent.close();
      }
    },
    async cleanup() {
      reached = undefined;
    },
  };
}
