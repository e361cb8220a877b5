import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { Counters, SpillwayError } from '@spillway/core';
import { type TcpOptions, tcp } from '../src/tcp.js';
import { type Harness, num, startNetPipeline, total } from './net-fixtures.js';
import { waitFor } from './support.js';

type T = { after(fn: () => unknown): void };

function start(t: T, options: Omit<TcpOptions, 'port' | 'onListening'>, capacity = 64) {
  return startNetPipeline(
    (onListening) =>
      tcp({ host: '127.0.0.1', port: 0, batch: { lingerMs: 2 }, ...options, onListening }),
    t,
    { capacity },
  );
}

async function connect(t: T, h: Harness): Promise<Socket> {
  const socket = netConnect(h.address.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

const octets = (message: string) => `${Buffer.byteLength(message)} ${message}`;
const messages = (h: Harness) => h.received.events.map((e) => e.message);

describe('tcp source', () => {
  it('newline framing: parses syslog lines, CRLF or LF, and the last line at end of stream', async (t) => {
    const h = await start(t, { format: 'syslog', framing: 'newline', rfc3164TimeZone: 'utc' });
    const client = await connect(t, h);
    client.write('<165>1 2024-05-06T07:08:09.123Z web-1 nginx 812 ACCESS - GET /\r\n');
    client.write('<38>Mar  9 14:02:51 bastion sshd[2231]: session opened\n\n');
    client.end('<11>1 - - - - - - unterminated last line');
    await waitFor(() => h.received.events.length === 3, 'three events');
    assert.deepEqual(messages(h), ['GET /', 'session opened', 'unterminated last line']);
    const [first, second, third] = h.received.events;
    assert.equal(first!.attributes!['syslog.app_name'], 'nginx');
    assert.equal(first!.timestamp, Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    assert.equal(second!.attributes!['syslog.hostname'], 'bastion');
    assert.equal(second!.attributes!['net.peer.address'], '127.0.0.1');
    assert.equal(third!.severity, 'error');
    await waitFor(() => num(h.stats(), 'connections_open') === 0, 'the connection to close');
    const s = h.stats();
    assert.equal(num(s, 'connections_total'), 1);
    assert.equal(num(s, 'frames_received'), 3);
    assert.equal(num(s, 'frames_accepted'), 3);
    assert.deepEqual(s.drops, {});
  });

  it('octet counting, detected from the first byte: frames may hold newlines and span writes', async (t) => {
    const h = await start(t, { format: 'syslog' });
    const client = await connect(t, h);
    const frames = [
      '<34>1 2024-01-02T03:04:05Z host app - - - first',
      '<34>1 2024-01-02T03:04:05Z host app - - - line one\nline two',
      '<13>Jan  5 10:00:00 box cron[9]: ünïcödé',
    ];
    const stream = Buffer.from(frames.map(octets).join('') + `\n${octets(frames[0]!)}`);
    // One byte at a time: every boundary falls inside a length, a body or between frames.
    for (const byte of stream) {
      client.write(Buffer.from([byte]));
      if (byte % 7 === 0) await delay(0);
    }
    client.end();
    await waitFor(() => h.received.events.length === 4, 'four events');
    assert.deepEqual(messages(h), ['first', 'line one\nline two', 'ünïcödé', 'first']);
    assert.equal(h.received.events[2]!.attributes!['syslog.app_name'], 'cron');
    assert.deepEqual(h.stats().drops, {});
  });

  it('raw format defaults to newline framing, even for lines that start with a digit', async (t) => {
    const h = await start(t, {});
    const client = await connect(t, h);
    client.end('12 apples\n3 pears\n');
    await waitFor(() => h.received.events.length === 2, 'two lines');
    assert.deepEqual(messages(h), ['12 apples', '3 pears']);
  });

  for (const framing of ['newline', 'octet-counting'] as const) {
    it(`${framing}: oversize frames are truncated or dropped, and the stream stays in sync`, async (t) => {
      const long = 'L'.repeat(100);
      const encode = (m: string) => (framing === 'newline' ? `${m}\n` : octets(m));
      const payload = ['before', long, 'after'].map(encode).join('');

      const truncating = await start(t, { framing, maxFrameBytes: 16, onOversize: 'truncate' });
      (await connect(t, truncating)).end(payload);
      await waitFor(() => truncating.received.events.length === 3, 'three lines');
      assert.deepEqual(messages(truncating), ['before', 'L'.repeat(16), 'after']);
      assert.equal(num(truncating.stats(), 'frames_truncated'), 1);
      assert.deepEqual(truncating.stats().drops, {});

      const dropping = await start(t, { framing, maxFrameBytes: 16, onOversize: 'drop' });
      (await connect(t, dropping)).end(payload);
      await waitFor(() => dropping.received.events.length === 2, 'two lines');
      await waitFor(() => num(dropping.stats(), 'connections_open') === 0, 'close');
      assert.deepEqual(messages(dropping), ['before', 'after']);
      const s = dropping.stats();
      assert.deepEqual(s.drops, { oversize: 1 });
      assert.equal(num(s, 'frames_received'), num(s, 'frames_accepted') + total(s.drops));
    });
  }

  it('a malformed octet count closes the connection and is counted', async (t) => {
    const h = await start(t, { framing: 'octet-counting' });
    const client = await connect(t, h);
    client.write(`${octets('good')}12x oops`);
    await once(client, 'close');
    await waitFor(() => h.received.events.length === 1, 'the good frame');
    assert.deepEqual(messages(h), ['good']);
    assert.equal(num(h.stats(), 'framing_errors'), 1);
    assert.deepEqual(h.stats().drops, { framing_error: 1 }, 'the frame it broke off');
  });

  it('refuses connections beyond maxConnections and counts them', async (t) => {
    const h = await start(t, { maxConnections: 2 });
    const a = await connect(t, h);
    const b = await connect(t, h);
    a.write('from a\n');
    b.write('from b\n');
    await waitFor(() => h.received.events.length === 2, 'both accepted connections deliver');
    const c = netConnect(h.address.port, '127.0.0.1');
    t.after(() => c.destroy());
    c.on('error', () => {}); // the refusal may surface as ECONNRESET
    await once(c, 'close');
    await waitFor(() => num(h.stats(), 'connections_refused') === 1, 'the refusal count');
    a.end('a again\n');
    await waitFor(() => h.received.events.length === 3, 'the first connection still works');
    const s = h.stats();
    assert.equal(num(s, 'connections_total'), 2);
    assert.deepEqual(messages(h).sort(), ['a again', 'from a', 'from b']);
  });

  it('closes idle connections after emitting what they sent', async (t) => {
    const h = await start(t, { idleTimeoutMs: 50 });
    const client = await connect(t, h);
    client.write('hello\n');
    await once(client, 'end'); // the server closed it
    await waitFor(() => h.received.events.length === 1, 'the line');
    assert.deepEqual(messages(h), ['hello']);
    assert.equal(num(h.stats(), 'idle_timeouts'), 1);
  });

  it('TLS: round trip with a self-signed certificate', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath]
        .concat(['-days', '1', '-subj', '/CN=localhost'])
        .concat(['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    const key = readFileSync(keyPath);
    const cert = readFileSync(certPath);
    const h = await start(t, { format: 'syslog', tls: { key, cert } });
    const client = tlsConnect({ host: '127.0.0.1', port: h.address.port, ca: cert });
    t.after(() => client.destroy());
    await once(client, 'secureConnect');
    assert.equal(client.authorized, true);
    client.end(octets('<14>1 2024-01-02T03:04:05Z tls-host app - - - over tls'));
    await waitFor(() => h.received.events.length === 1, 'the event');
    assert.equal(h.received.events[0]!.message, 'over tls');
    assert.equal(h.received.events[0]!.attributes!['syslog.hostname'], 'tls-host');

    // A plain-text client cannot complete a handshake: counted, not delivered.
    const plain = netConnect(h.address.port, '127.0.0.1');
    t.after(() => plain.destroy());
    plain.on('error', () => {});
    plain.write('<14>1 - - - - - - not tls\n');
    await once(plain, 'close');
    await waitFor(() => num(h.stats(), 'tls_errors') === 1, 'the handshake error');
    assert.equal(h.received.events.length, 1);

    assert.throws(
      () =>
        tcp({ port: 0, tls: { key: 'not a key', cert: 'not a cert' } }).build({
          name: 'x',
          signal: new AbortController().signal,
          counters: new Counters(),
        }),
      (err) => SpillwayError.is(err, 'ERR_INVALID_OPTION'),
    );
  });

  it('a stalled sink backs up the sender, bounded here, and loses nothing on recovery', async (t) => {
    const maxFrameBytes = 1024;
    const batchBytes = 16 * 1024;
    const h = await startNetPipeline(
      (onListening) =>
        tcp({
          host: '127.0.0.1',
          port: 0,
          maxFrameBytes,
          batch: { maxEvents: 100, maxBytes: batchBytes, lingerMs: 5 },
          onListening,
        }),
      t,
      { capacity: 1 },
    );
    h.gate.close();
    const client = await connect(t, h);
    let drains = 0;
    client.on('drain', () => drains++);
    const lines = 200_000;
    const line = (i: number) => `${i} ${'x'.repeat(90)}`;
    let totalBytes = 0;
    let refused = false;
    for (let i = 0; i < lines; i += 1000) {
      let chunk = '';
      for (let k = i; k < i + 1000; k++) chunk += `${line(k)}\n`;
      totalBytes += chunk.length;
      if (!client.write(chunk)) refused = true;
    }

    // Wait until the server has stopped taking bytes: its reads are paused behind the stall.
    let last = -1;
    let stableSince = performance.now();
    await waitFor(() => {
      const received = num(h.stats(), 'bytes_received');
      if (received !== last) {
        last = received;
        stableSince = performance.now();
      }
      return num(h.stats(), 'connections_paused') === 1 && performance.now() - stableSince > 200;
    }, 'the server to stop reading');

    const stalled = h.stats();
    assert.equal(refused, true, 'write() returned false');
    assert.equal(drains, 0, 'no drain while the sink is stalled');
    assert.ok(client.writableLength > 0, 'the sender holds what TCP would not take');
    assert.ok(num(stalled, 'bytes_received') < totalBytes, 'the server stopped reading');
    // Per connection at most: partial frame + one read chunk (decoder), the open batch, the
    // batch being emitted, and Node's readable buffer (high-water mark + a chunk).
    const bound = maxFrameBytes + 64 * 1024 + 2 * (batchBytes + maxFrameBytes) + 2 * 64 * 1024;
    assert.ok(
      num(stalled, 'buffered_bytes') <= bound,
      `buffered ${stalled.buffered_bytes} ≤ ${bound}`,
    );
    assert.ok(
      num(stalled, 'peak_connection_buffered_bytes') <= bound,
      `peak ${stalled.peak_connection_buffered_bytes} ≤ ${bound}`,
    );
    assert.deepEqual(stalled.drops, {});

    // Recovery: the sender drains, and every line arrives once, in order.
    h.gate.open();
    await once(client, 'drain');
    client.end();
    await waitFor(() => h.received.events.length === lines, 'every line', 30_000);
    const got = messages(h);
    for (let i = 0; i < lines; i++) {
      if (got[i] !== line(i)) assert.fail(`line ${i} is ${JSON.stringify(got[i]?.slice(0, 20))}`);
    }
    const end = h.stats();
    assert.equal(num(end, 'bytes_received'), totalBytes);
    assert.equal(num(end, 'frames_accepted'), lines);
    assert.ok(num(end, 'paused_ms') > 0);
    assert.deepEqual(end.drops, {});
  });

  it('stops gracefully: emits complete lines, counts a cut-off one, closes its connections', async (t) => {
    const h = await start(t, {});
    const client = await connect(t, h);
    client.on('error', () => {});
    const sent = 'one\ntwo\nthree-without-newline';
    client.write(sent);
    await waitFor(() => num(h.stats(), 'bytes_received') === sent.length, 'the bytes');
    const closed = once(client, 'close');
    const result = await h.pipeline.stop({ deadline: 2000 });
    assert.equal(result.drained, true);
    await closed;
    assert.deepEqual(messages(h), ['one', 'two']);
    const s = h.stats();
    assert.deepEqual(s.drops, { incomplete_frame: 1 });
    assert.equal(num(s, 'connections_open'), 0);
    assert.equal(num(s, 'frames_received'), num(s, 'frames_accepted') + total(s.drops));
  });

  it('claims its port and validates its options', () => {
    assert.deepEqual(tcp({ host: '::1', port: 6514 }).resources(), [
      { kind: 'port', id: 'tcp:::1:6514' },
    ]);
    assert.deepEqual(tcp({ port: 0 }).resources(), []);
    assert.deepEqual(
      tcp({
        port: 1,
        framing: 'lf' as 'newline',
        maxConnections: 0,
        onOversize: 'split' as 'drop',
        tls: { key: '', cert: '' },
      })
        .validate()
        .sort(),
      [
        'framing must be "auto", "newline" or "octet-counting", not "lf"',
        'maxConnections must be a positive integer, not 0',
        'onOversize must be "truncate" or "drop", not "split"',
        'tls needs key and cert',
      ],
    );
  });
});
