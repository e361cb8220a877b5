// An HTTP application that logs every request it serves through a shipper, for the latency
// test: per request it does a little work (a hash, a JSON body), writes one access-log record
// with `shipper.write()` and answers 200. The shipper keeps its default hooks.
//
// argv: the shipper's options as JSON (the test derives its memory budget from them).
// stdout, one JSON object per line: `{ "port": n }` once listening; then, for each line read
// on stdin, `{ "rss": bytes, "served": n, "stats": shipper.stats() }`. The process exits when
// stdin ends.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createShipper, type ShipperOptions } from '../src/index.js';

const options = JSON.parse(process.argv[2]!) as ShipperOptions;
const shipper = createShipper(options);
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

let served = 0;
const server = createServer((req, res) => {
  const started = performance.now();
  const url = req.url ?? '/';
  const etag = createHash('sha1').update(url).digest('hex');
  const body = JSON.stringify({ ok: true, item: url.slice(url.lastIndexOf('/') + 1), etag });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    etag,
  });
  res.end(body);
  served++;
  shipper.write({
    time: new Date().toISOString(),
    level: 'info',
    msg: 'request completed',
    req: {
      id: served,
      method: req.method,
      url,
      remoteAddress: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      accept: req.headers.accept,
    },
    res: { status: 200, etag, bytes: body.length },
    ms: Math.round((performance.now() - started) * 1000) / 1000,
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => say({ port: (server.address() as AddressInfo).port }));

const commands = createInterface({ input: process.stdin });
commands.on('line', () => say({ rss: process.memoryUsage().rss, served, stats: shipper.stats() }));
commands.on('close', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
