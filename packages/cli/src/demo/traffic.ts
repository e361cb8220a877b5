/**
 * The demo's outside world: an application appending to a log file, a device sending UDP
 * datagrams, and an OpenTelemetry client exporting over OTLP/HTTP — each at a steady pace, each
 * keeping score of what pressure did to it (OTLP answers 429 with Retry-After when the pipeline
 * is over its budget; UDP drops are the source's to count).
 */
import { createSocket } from 'node:dgram';
import { appendFile } from 'node:fs/promises';
import { request } from 'undici';

export interface TrafficScore {
  fileLines: number;
  datagrams: number;
  otlpRequests: number;
  otlpRecords: number;
  /** OTLP answers by status (200, 429, 503…). */
  otlpStatuses: Record<string, number>;
}

export interface Traffic {
  readonly score: TrafficScore;
  stop(): Promise<void>;
}

/** One JSON access-log line. */
function line(source: string, seq: number): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    level: seq % 50 === 0 ? 'warn' : 'info',
    msg: `GET /api/items/${seq % 1000} 200 ${seq % 97}ms`,
    source,
    seq,
  });
}

/** Starts the three clients; `tickMs` apart, each sends one round. */
export function startTraffic(o: {
  logFile: string;
  udpPort: () => number | undefined;
  otlpUrl: () => string | undefined;
  perTick: { fileLines: number; datagrams: number; otlpRecords: number };
  tickMs?: number;
}): Traffic {
  const score: TrafficScore = {
    fileLines: 0,
    datagrams: 0,
    otlpRequests: 0,
    otlpRecords: 0,
    otlpStatuses: {},
  };
  const socket = createSocket('udp4');
  let seq = 0;
  let otlpInFlight = 0;
  const tick = async () => {
    const lines: string[] = [];
    for (let i = 0; i < o.perTick.fileLines; i++) lines.push(line('file', seq++));
    await appendFile(o.logFile, `${lines.join('\n')}\n`);
    score.fileLines += lines.length;
    const port = o.udpPort();
    if (port !== undefined) {
      for (let i = 0; i < o.perTick.datagrams; i++) {
        socket.send(`${line('udp', seq++)}\n`, port, '127.0.0.1');
        score.datagrams++;
      }
    }
    const url = o.otlpUrl();
    // A few exports in flight at most, like a handful of SDKs' batch processors.
    if (url !== undefined && otlpInFlight < 4) {
      otlpInFlight++;
      void exportOnce(url, o.perTick.otlpRecords, score).finally(() => {
        otlpInFlight--;
      });
    }
  };
  const timer = setInterval(() => void tick().catch(() => {}), o.tickMs ?? 100);
  return {
    score,
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

async function exportOnce(url: string, records: number, score: TrafficScore): Promise<void> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const logRecords = Array.from({ length: records }, (_, i) => ({
    timeUnixNano: String(now + BigInt(i)),
    severityNumber: 9,
    body: { stringValue: `checkout step ${i} done` },
    attributes: [{ key: 'source', value: { stringValue: 'otlp' } }],
  }));
  const body = JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'demo-shop' } }] },
        scopeLogs: [{ scope: { name: 'demo' }, logRecords }],
      },
    ],
  });
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5000),
    });
    await response.body.dump();
    const status = String(response.statusCode);
    score.otlpStatuses[status] = (score.otlpStatuses[status] ?? 0) + 1;
    score.otlpRequests++;
    if (response.statusCode === 200) score.otlpRecords += records;
  } catch {
    score.otlpStatuses.error = (score.otlpStatuses.error ?? 0) + 1;
  }
}
