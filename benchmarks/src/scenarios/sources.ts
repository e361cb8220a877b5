/**
 * Scenario `sources`: what a source costs over the physical limit of its input.
 *
 * ```
 *   file_tail     file source (fresh checkpoints) ─▶ [out.in] ─▶ blackhole sink    (timed: start → all lines → stop)
 *   raw_read      open ─▶ read 256 KiB chunks ─▶ count newlines ─▶ close          (timed)
 *   otlp_receiver keep-alive client, 8 requests in flight ─▶ otlp source ─▶ blackhole, 200 after queued
 *   bare_http     the same client ─▶ node:http server that reads each body and answers 200
 *   bare_http_parse  the same, and JSON.parse of each body: the floor of any JSON receiver
 *   otlp_receiver_protobuf / bare_http_protobuf   the same two with the protobuf encoding
 *   udp_receiver  one client socket, windows of 256 datagrams ─▶ udp source ─▶ blackhole
 *   bare_dgram    the same client ─▶ a node:dgram socket that counts datagrams
 * ```
 *
 * The file is written once before the race and read from the page cache by both contenders:
 * the ratio is the cost of the source's code (line splitting, batches, acknowledgements,
 * checkpoints, the channel hop and the sink) over the cheapest possible pass over the same
 * bytes, not disk speed. Both count lines with `Buffer.indexOf`, and both use 256 KiB reads.
 * The file source's timed run includes its start (first scan, checkpoint store) and its stop
 * (waiting for the last acknowledgements, the final atomic checkpoint write with its fsyncs).
 *
 * OTLP: every server gets identical requests (an OTLP/HTTP export of 100 log records, built
 * once) from the same client, 8 at a time over keep-alive connections; the server is started
 * before the clock. The receiver parses every record into an event, batches it and answers only
 * once the batch is queued; the bare server only reads the body. Events are records. The bare
 * server that also parses shows how much of the gap is `JSON.parse` alone, which no JSON
 * receiver can skip; the protobuf pair races the encoding OTLP exporters send by default (the
 * same records, written by the small writer below so the benchmark needs no protobuf library).
 *
 * UDP: the client sends windows of 256 datagrams and waits until the server has counted them
 * before the next window, so no contender is measured while the kernel drops: the rate is what
 * each accepts with zero drops. The udp source must report zero in-process and kernel drops,
 * else the run fails.
 */
import { createSocket } from 'node:dgram';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline, defineSink, type Pipeline, type SourceDefinition } from '@spillway/core';
import { otlp, udp } from '@spillway/sources';
import { fileContender } from '../file-contender.js';
import { writeLineFile } from '../line-file.js';
import { byName, type Contender, race, round2 } from '../race.js';
import type { ScenarioDefinition } from '../scenario.js';

const FULL = { lines: 2_000_000, requests: 4000, datagrams: 200_000, rounds: 5, warmupRounds: 1 };
const QUICK = { lines: 20_000, requests: 40, datagrams: 2048, rounds: 1, warmupRounds: 0 };
const RECORDS_PER_REQUEST = 100;
const REQUESTS_IN_FLIGHT = 8;
const DATAGRAM_WINDOW = 256;
const CHUNK_BYTES = 256 * 1024;

export const sourcesScenario: ScenarioDefinition = {
  name: 'sources',
  description:
    'Pass-through throughput of sources into a blackhole sink. `file_tail`: the file source ' +
    'reads a file of access-log lines (~110 bytes each) from its start with fresh checkpoints, ' +
    'through one bounded channel, until the sink has every line; start and stop (final ' +
    'checkpoint write) are inside the clock. `otlp_receiver`: OTLP/HTTP JSON exports of 100 ' +
    'log records, 8 requests in flight over keep-alive, each parsed into events and answered ' +
    'once queued; `otlp_receiver_protobuf`: the same records in binary protobuf. ' +
    '`udp_receiver`: 100-byte datagrams in windows of 256, counted with zero drops.',
  peers:
    '`raw_read`: a plain `FileHandle.read` loop over the same file in 256 KiB chunks that only ' +
    'counts newlines — the physical-limit proxy for any file reader. `bare_http`: a `node:http` ' +
    'server that only reads the same bodies and answers 200; `bare_http_parse` also ' +
    '`JSON.parse`s each body, the floor of any JSON receiver; `bare_http_protobuf` reads the ' +
    'protobuf bodies. `bare_dgram`: a `node:dgram` socket that only counts the same datagrams.',
  targets: [
    { ratio: 'file_vs_raw_read', atLeast: 0.7 },
    { ratio: 'otlp_vs_bare_http', atLeast: 0.7 },
  ],
  async run({ signal, quick, log }) {
    const params = quick ? QUICK : FULL;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-bench-sources-'));
    try {
      const path = join(dir, 'access.log');
      const bytes = await writeLineFile(
        path,
        params.lines,
        (i) =>
          `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z web-${i % 8} GET /api/items/${i % 10_000}?page=${i % 7} 200 ${i % 97}ms ua=bench/1.0`,
      );
      log(`  ${params.lines.toLocaleString('en-US')} lines, ${(bytes / 1e6).toFixed(1)} MB`);
      const raced = (contenders: Contender[], events: number, bytes: number) =>
        race(contenders, {
          signal,
          log,
          rounds: params.rounds,
          warmupRounds: params.warmupRounds,
          expectedEvents: events,
          expectedBytes: bytes,
        });
      const files = await raced(
        [
          fileContender({ name: 'file_tail', path, lines: params.lines, chunkBytes: CHUNK_BYTES }),
          rawReadContender(path),
        ],
        params.lines,
        bytes,
      );
      const body = Buffer.from(JSON.stringify(otlpExport(RECORDS_PER_REQUEST)));
      const records = params.requests * RECORDS_PER_REQUEST;
      const json = { body, contentType: 'application/json', requests: params.requests };
      const https = await raced(
        [
          otlpContender('otlp_receiver', json),
          bareHttpContender('bare_http', json, false),
          bareHttpContender('bare_http_parse', json, true),
        ],
        records,
        params.requests * body.length,
      );
      const proto = {
        body: protobufExport(otlpExport(RECORDS_PER_REQUEST)),
        contentType: 'application/x-protobuf',
        requests: params.requests,
      };
      const protos = await raced(
        [
          otlpContender('otlp_receiver_protobuf', proto),
          bareHttpContender('bare_http_protobuf', proto, false),
        ],
        records,
        params.requests * proto.body.length,
      );
      const datagram = Buffer.from(`${'x'.repeat(99)}\n`);
      const dgrams = await raced(
        [udpContender(datagram, params.datagrams), bareDgramContender(datagram, params.datagrams)],
        params.datagrams,
        params.datagrams * datagram.length,
      );
      const results = [...files, ...https, ...protos, ...dgrams];
      const rate = (name: string) => byName(results, name).eventsPerSec;
      return {
        results,
        ratios: {
          file_vs_raw_read: round2(rate('file_tail') / rate('raw_read')),
          otlp_vs_bare_http: round2(rate('otlp_receiver') / rate('bare_http')),
          otlp_vs_bare_parse: round2(rate('otlp_receiver') / rate('bare_http_parse')),
          otlp_protobuf_vs_bare_http: round2(
            rate('otlp_receiver_protobuf') / rate('bare_http_protobuf'),
          ),
          udp_vs_bare_dgram: round2(rate('udp_receiver') / rate('bare_dgram')),
        },
        setup: {
          lines: params.lines,
          'MB per file run': round2(bytes / 1e6),
          'read size': `${CHUNK_BYTES / 1024} KiB`,
          'OTLP requests per run': `${params.requests} × ${RECORDS_PER_REQUEST} records (${body.length} bytes JSON, ${proto.body.length} bytes protobuf)`,
          'requests in flight': REQUESTS_IN_FLIGHT,
          'datagrams per run': `${params.datagrams} × ${datagram.length} bytes, windows of ${DATAGRAM_WINDOW}`,
          'channel capacity': '16 batches',
          rounds: params.rounds,
          'warm-up rounds': params.warmupRounds,
          'temp dir': tmpdir(),
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

function rawReadContender(path: string): Contender {
  return {
    name: 'raw_read',
    async run() {
      const handle = await open(path, 'r');
      let lines = 0;
      try {
        for (;;) {
          const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES);
          if (bytesRead === 0) break;
          const chunk = buffer.subarray(0, bytesRead);
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        }
      } finally {
        await handle.close();
      }
      return lines;
    },
  };
}

interface ExportRecord {
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: { key: string; value: { intValue?: string; stringValue?: string } }[];
}

interface Export {
  resourceLogs: {
    resource: { attributes: { key: string; value: { stringValue: string } }[] };
    scopeLogs: { scope: { name: string }; logRecords: ExportRecord[] }[];
  }[];
}

/** An OTLP logs export of `records` access-log records, in the OTLP/JSON shape. */
function otlpExport(records: number): Export {
  const logRecords = Array.from({ length: records }, (_, i) => ({
    timeUnixNano: String(1_735_689_600_000_000_000n + BigInt(i) * 1_000_000n),
    severityNumber: 9,
    severityText: 'INFO',
    body: { stringValue: `GET /api/items/${i} 200 ${i % 97}ms` },
    attributes: [
      { key: 'http.status_code', value: { intValue: '200' } },
      { key: 'host', value: { stringValue: `web-${i % 8}` } },
    ],
  }));
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeLogs: [{ scope: { name: 'bench' }, logRecords }],
      },
    ],
  };
}

/**
 * The same export in binary protobuf, written field by field (the field numbers of
 * opentelemetry-proto `logs/v1`): just what {@link otlpExport} uses, no more.
 */
function protobufExport(request: Export): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  const field = (number: number, value: Buffer) =>
    Buffer.concat([varint((number << 3) | 2), varint(value.length), value]);
  const text = (number: number, value: string) => field(number, Buffer.from(value));
  const anyValue = (v: { intValue?: string; stringValue?: string }) =>
    v.intValue === undefined
      ? text(1, v.stringValue ?? '')
      : Buffer.concat([varint(3 << 3), varint(Number(v.intValue))]);
  const keyValue = (kv: ExportRecord['attributes'][number]) =>
    Buffer.concat([text(1, kv.key), field(2, anyValue(kv.value))]);
  const record = (r: ExportRecord) => {
    const time = Buffer.alloc(9);
    time[0] = (1 << 3) | 1; // fixed64
    time.writeBigUInt64LE(BigInt(r.timeUnixNano), 1);
    return Buffer.concat([
      time,
      varint(2 << 3),
      varint(r.severityNumber),
      text(3, r.severityText),
      field(5, anyValue(r.body)),
      ...r.attributes.map((kv) => field(6, keyValue(kv))),
    ]);
  };
  return Buffer.concat(
    request.resourceLogs.map((rl) =>
      field(
        1,
        Buffer.concat([
          field(1, Buffer.concat(rl.resource.attributes.map((kv) => field(1, keyValue(kv))))),
          ...rl.scopeLogs.map((sl) =>
            field(
              2,
              Buffer.concat([
                field(1, text(1, sl.scope.name)),
                ...sl.logRecords.map((r) => field(2, record(r))),
              ]),
            ),
          ),
        ]),
      ),
    ),
  );
}

/** What every HTTP contender sends: `requests` POSTs of one body. */
interface HttpWorkload {
  readonly body: Buffer;
  readonly contentType: string;
  readonly requests: number;
}

/** Sends the workload's POSTs, `REQUESTS_IN_FLIGHT` at a time; every answer must be 200. */
async function postAll(port: number, { body, contentType, requests }: HttpWorkload): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: REQUESTS_IN_FLIGHT });
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          agent,
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/v1/logs',
          headers: { 'content-type': contentType, 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < requests) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker));
  } finally {
    agent.destroy();
  }
}

/** A pipeline `<source> ─▶ blackhole` that counts events; started before the clock. */
class CountingPipeline {
  pipeline: Pipeline | undefined;
  port = 0;
  events = 0;

  async start(source: (onListening: (address: { port: number }) => void) => SourceDefinition) {
    this.events = 0;
    const listening = new Promise<number>((resolve) => {
      this.pipeline = undefined;
      const counted = defineSink<Record<string, never>>({
        type: 'count',
        build: () => ({
          write: async (batch) => {
            this.events += batch.count;
            return undefined;
          },
        }),
      });
      void definePipeline({
        sources: { in: source((a) => resolve(a.port)) },
        sinks: { out: { inputs: ['in'], stage: counted({}) } },
      })
        .build()
        .then((p) => {
          this.pipeline = p;
          p.start();
        });
    });
    this.port = await listening;
  }

  /** The source's stats. */
  sourceStats(): Record<string, unknown> {
    const entry = this.pipeline?.metrics.snapshot().entries.find((e) => e.id === 'in');
    return (entry?.stats ?? {}) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    await this.pipeline?.stop({ deadline: 5000 });
    this.pipeline = undefined;
  }
}

function otlpContender(name: string, workload: HttpWorkload): Contender {
  const server = new CountingPipeline();
  return {
    name,
    prepare: () => server.start((onListening) => otlp({ port: 0, onListening })),
    async run() {
      await postAll(server.port, workload);
      return server.events;
    },
    cleanup: () => server.stop(),
  };
}

/** A `node:http` server that reads each body (and with `parse`, `JSON.parse`s it), then 200. */
function bareHttpContender(name: string, workload: HttpWorkload, parse: boolean): Contender {
  let http: ReturnType<typeof createServer> | undefined;
  return {
    name,
    async prepare() {
      http = createServer(
        parse
          ? (req, res) => {
              const chunks: Buffer[] = [];
              req.on('data', (chunk: Buffer) => chunks.push(chunk));
              req.on('end', () => {
                JSON.parse(Buffer.concat(chunks).toString());
                res.end();
              });
            }
          : (req, res) => {
              req.on('data', () => {});
              req.on('end', () => res.end());
            },
      );
      await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    },
    async run() {
      await postAll((http!.address() as AddressInfo).port, workload);
      return workload.requests * RECORDS_PER_REQUEST;
    },
    async cleanup() {
      http?.closeAllConnections();
      await new Promise((resolve) => http?.close(resolve));
    },
  };
}

/** Sends `count` datagrams in windows, waiting for `received()` to catch up after each. */
async function sendWindows(port: number, datagram: Buffer, count: number, received: () => number) {
  const client = createSocket('udp4');
  try {
    for (let sent = 0; sent < count; ) {
      const window = Math.min(DATAGRAM_WINDOW, count - sent);
      await Promise.all(
        Array.from(
          { length: window },
          () =>
            new Promise<void>((resolve, reject) =>
              client.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
            ),
        ),
      );
      sent += window;
      for (let spins = 0; received() < sent; spins++) {
        if (spins > 20_000) throw new Error(`datagrams lost: ${received()} of ${sent} arrived`);
        await delay(0);
      }
    }
  } finally {
    client.close();
  }
}

function udpContender(datagram: Buffer, count: number): Contender {
  const server = new CountingPipeline();
  return {
    name: 'udp_receiver',
    prepare: () =>
      server.start((onListening) =>
        udp({ port: 0, onListening, receiveBufferBytes: 4 * 1024 * 1024 }),
      ),
    async run() {
      // Windows wait for the socket to have received them, as with the bare socket; the batches
      // still lingering (20 ms) at the end are awaited before the clock stops.
      await sendWindows(server.port, datagram, count, () =>
        Number(server.sourceStats().datagrams_received ?? 0),
      );
      while (server.events < count) await delay(1);
      const stats = server.sourceStats();
      const drops = Object.values((stats.drops ?? {}) as Record<string, number>);
      if (stats.kernel_drops || drops.some((n) => n > 0)) {
        throw new Error(`the udp source dropped datagrams: ${JSON.stringify(stats)}`);
      }
      return server.events;
    },
    cleanup: () => server.stop(),
  };
}

function bareDgramContender(datagram: Buffer, count: number): Contender {
  let socket: ReturnType<typeof createSocket> | undefined;
  let received = 0;
  return {
    name: 'bare_dgram',
    async prepare() {
      received = 0;
      socket = createSocket('udp4');
      socket.on('message', () => received++);
      await new Promise<void>((resolve) => socket!.bind(0, '127.0.0.1', resolve));
    },
    async run() {
      await sendWindows(socket!.address().port, datagram, count, () => received);
      return received;
    },
    async cleanup() {
      await new Promise<void>((resolve) => socket?.close(() => resolve()));
    },
  };
}
