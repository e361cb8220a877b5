/**
 * The counting backend's server, run in a worker thread by `counting-backend.ts` (which states
 * the message protocol): a keep-alive `node:http` server on 127.0.0.1 that reads each body,
 * counts its newline bytes and bytes, and answers 200 `{}`. The counts are added when a body
 * has ended, before the answer, so a client that has its 200 has been counted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort } from 'node:worker_threads';
import type { BackendMessage, ResetMessage } from './counting-backend.js';

const parent = parentPort!;
const ANSWER = Buffer.from('{}');
const NEWLINE = 0x0a;

let expected = Number.POSITIVE_INFINITY;
let lines = 0;
let bytes = 0;
let requests = 0;
let reported = false;

const post = (message: BackendMessage) => parent.postMessage(message);

const server = createServer((req, res) => {
  let bodyLines = 0;
  let bodyBytes = 0;
  req.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.byteLength;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) bodyLines++;
  });
  req.on('end', () => {
    lines += bodyLines;
    bytes += bodyBytes;
    requests++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.byteLength });
    res.end(ANSWER);
    if (!reported && lines >= expected) {
      reported = true;
      post({ kind: 'reached', lines, bytes, requests });
    }
  });
});

parent.on('message', (message: ResetMessage) => {
  expected = message.expected;
  lines = 0;
  bytes = 0;
  requests = 0;
  reported = false;
  post({ kind: 'ready' });
});

server.listen(0, '127.0.0.1', () => {
  post({ kind: 'listening', port: (server.address() as AddressInfo).port });
});
