/**
 * The demo's embedded log backend: a loopback HTTP server that counts the NDJSON lines it is
 * sent, and that the demo can stall (hold every request unanswered until recovery — what a
 * backend in trouble looks like from the sink) and recover.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoBackend {
  readonly url: string;
  readonly stalled: boolean;
  stall(): void;
  recover(): void;
  /** Lines received so far, and requests held right now. */
  stats(): { lines: number; requests: number; held: number };
  close(): Promise<void>;
}

export async function startDemoBackend(): Promise<DemoBackend> {
  let stalled = false;
  let lines = 0;
  let requests = 0;
  // Bounded by the sinks' own bounds: each held request is one a sink has in flight.
  const held = new Set<() => void>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let count = 0;
    req.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
    });
    req.on('end', () => {
      const answer = () => {
        held.delete(answer);
        lines += count;
        requests++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      };
      if (stalled) held.add(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    get stalled() {
      return stalled;
    },
    stall() {
      stalled = true;
    },
    recover() {
      stalled = false;
      for (const answer of [...held]) answer();
    },
    stats: () => ({ lines, requests, held: held.size }),
    async close() {
      stalled = false;
      for (const answer of [...held]) answer();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
