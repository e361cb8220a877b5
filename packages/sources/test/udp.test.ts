import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { definePipeline } from '@spillway/core';
import { udp } from '../src/udp.js';
import { num, startNetPipeline, total } from './net-fixtures.js';
import { collect, newCollected, waitFor } from './support.js';

const onLinux = existsSync('/proc/net/udp');

async function client(t: { after(fn: () => unknown): void }): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

function send(socket: Socket, port: number, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
}

/** received = accepted + dropped (by reason) + pending, at one instant. */
function assertBooksBalance(s: Record<string, unknown>): void {
  assert.equal(total(s.drops), num(s, 'datagrams_dropped'), 'drops by reason add up');
  assert.equal(
    num(s, 'datagrams_received'),
    num(s, 'datagrams_accepted') + num(s, 'datagrams_dropped') + num(s, 'datagrams_pending'),
    `every received datagram is accepted, dropped or pending: ${JSON.stringify(s)}`,
  );
}

describe('udp source', () => {
  it('drops newest while the sink is stalled and accounts for every datagram', async (t) => {
    const h = await startNetPipeline(
      (onListening) =>
        udp({ host: '127.0.0.1', port: 0, batch: { maxEvents: 10, lingerMs: 5 }, onListening }),
      t,
    );
    h.gate.close();
    const sender = await client(t);
    const sent = 2000;
    for (let i = 0; i < sent; i += 20) {
      const group: Promise<void>[] = [];
      for (let k = i; k < i + 20; k++) group.push(send(sender, h.address.port, `d${k}`));
      await Promise.all(group);
      // Let the receiver read, so that the loss happens in-process rather than in the kernel.
      await delay(1);
      if (i % 500 === 0) assertBooksBalance(h.stats());
    }
    // Everything sent reached the process or was dropped by the kernel (a number on Linux).
    await waitFor(() => {
      const s = h.stats();
      return num(s, 'datagrams_received') + ((s.kernel_drops as number) ?? 0) === sent;
    }, 'every datagram received or dropped by the kernel');
    await waitFor(() => num(h.stats(), 'datagrams_pending') === 0, 'the linger flush');

    const stalled = h.stats();
    assertBooksBalance(stalled);
    const drops = stalled.drops as Record<string, number>;
    assert.ok((drops.channel_full ?? 0) > 0, 'the stalled sink made the source drop');
    assert.equal(num(stalled, 'bytes_received') > 0, true);
    if (onLinux) {
      assert.equal(typeof stalled.kernel_drops, 'number');
      assert.ok((stalled.kernel_drops as number) >= 0);
    } else {
      assert.equal(stalled.kernel_drops, undefined);
    }
    assert.ok(num(stalled, 'receive_buffer_bytes') > 0);

    // Recovery: what was accepted arrives, nothing more and nothing twice.
    h.gate.open();
    const result = await h.pipeline.stop({ deadline: 5000 });
    assert.equal(result.drained, true);
    const end = h.stats();
    assertBooksBalance(end);
    assert.equal(num(end, 'datagrams_received'), num(stalled, 'datagrams_received'));
    assert.equal(h.received.events.length, num(end, 'datagrams_accepted'));
    assert.equal(num(end, 'events_out'), num(end, 'datagrams_accepted'));
    const messages = h.received.events.map((e) => e.message);
    assert.equal(new Set(messages).size, messages.length, 'no datagram delivered twice');
    assert.ok(messages.every((m) => /^d\d+$/.test(m) && Number(m.slice(1)) < sent));
  });

  it('reports the kernel drops of a receive buffer overrun', { skip: !onLinux }, async (t) => {
    const h = await startNetPipeline(
      (onListening) =>
        udp({
          host: '127.0.0.1',
          port: 0,
          receiveBufferBytes: 1,
          onListening,
          batch: { lingerMs: 1 },
        }),
      t,
    );
    const sender = await client(t);
    const sent = 500;
    // All sends go out before this process's event loop reads again, into the smallest receive
    // buffer the kernel allows: it must drop most of them.
    const done: Promise<void>[] = [];
    for (let i = 0; i < sent; i++) done.push(send(sender, h.address.port, `k${i}`));
    await Promise.all(done);
    await waitFor(() => {
      const s = h.stats();
      return num(s, 'datagrams_received') + num(s, 'kernel_drops') === sent;
    }, 'sent = received + kernel drops');
    const s = h.stats();
    assert.ok(num(s, 'kernel_drops') > 0, 'the kernel dropped datagrams');
    assert.equal(num(s, 'datagrams_received') + num(s, 'kernel_drops'), sent);
    assert.equal(num(s, 'datagrams_dropped'), 0, 'nothing dropped in-process');
    await waitFor(() => h.received.events.length === num(s, 'datagrams_received'), 'delivery');
  });

  for (const onParseError of ['keep-raw', 'drop'] as const) {
    it(`syslog format: garbage datagrams are ${onParseError === 'drop' ? 'dropped' : 'kept raw'} and counted`, async (t) => {
      const h = await startNetPipeline(
        (onListening) =>
          udp({
            host: '127.0.0.1',
            port: 0,
            format: 'syslog',
            onParseError,
            rfc3164TimeZone: 'utc',
            batch: { maxEvents: 4, lingerMs: 1 },
            onListening,
          }),
        t,
        { capacity: 64 },
      );
      const sender = await client(t);
      const valid = [
        '<165>1 2024-05-06T07:08:09.123Z web-1 nginx 812 ACCESS [req@32473 id="7"] GET /',
        '<38>Mar  9 14:02:51 bastion sshd[2231]: session opened',
      ];
      const garbage = [Buffer.from([0xff, 0x00, 0x3c]), 'no pri here', '<999>x', '<34>1 bad'];
      for (const payload of [...valid, ...garbage, valid[0]!])
        await send(sender, h.address.port, payload);
      const sent = valid.length + garbage.length + 1;
      await waitFor(() => num(h.stats(), 'datagrams_received') === sent, 'all datagrams');
      await waitFor(() => num(h.stats(), 'datagrams_pending') === 0, 'the linger flush');
      const s = h.stats();
      assertBooksBalance(s);
      assert.equal(num(s, 'parse_errors'), garbage.length, 'counted either way');
      const kept = onParseError === 'keep-raw' ? sent : sent - garbage.length;
      await waitFor(() => h.received.events.length === kept, 'delivery');
      const events = h.received.events;
      const parsed = events.filter((e) => e.attributes?.['syslog.format'] !== undefined);
      assert.equal(parsed.length, valid.length + 1);
      assert.equal(parsed[0]!.attributes!['syslog.hostname'], 'web-1');
      assert.equal(parsed[0]!.attributes!['net.peer.address'], '127.0.0.1');
      assert.equal(parsed[0]!.severity, 'info');
      assert.equal(parsed[1]!.attributes!['syslog.app_name'], 'sshd');
      const raw = events.filter((e) => e.attributes?.parse_error !== undefined);
      if (onParseError === 'drop') {
        assert.equal(raw.length, 0);
        assert.equal((s.drops as Record<string, number>).parse_error, garbage.length);
      } else {
        assert.equal(raw.length, garbage.length);
        assert.deepEqual(
          raw.map((e) => e.attributes!.parse_error_code),
          ['ERR_SYSLOG_PRI', 'ERR_SYSLOG_PRI', 'ERR_SYSLOG_PRI', 'ERR_SYSLOG_HEADER'],
        );
        assert.equal(raw[1]!.message, 'no pri here', 'kept as received');
        assert.match(String(raw[0]!.attributes!.parse_error), /^syslog: /);
        assert.equal(num(s, 'datagrams_dropped'), 0);
      }
    });
  }

  it('drops oversize datagrams and splits multi-line raw datagrams', async (t) => {
    const h = await startNetPipeline(
      (onListening) =>
        udp({
          host: '127.0.0.1',
          port: 0,
          maxMessageBytes: 16,
          batch: { lingerMs: 1 },
          onListening,
        }),
      t,
      { capacity: 64 },
    );
    const sender = await client(t);
    await send(sender, h.address.port, 'short\n');
    await send(sender, h.address.port, 'x'.repeat(17));
    await send(sender, h.address.port, 'a\nb\r\n');
    await waitFor(() => h.received.events.length === 3, 'delivery');
    const s = h.stats();
    assertBooksBalance(s);
    assert.deepEqual(s.drops, { oversize: 1 });
    assert.deepEqual(
      h.received.events.map((e) => e.message),
      ['short', 'a', 'b'],
    );
  });

  it('claims its port, not port 0, and fails to start on a port in use', async (t) => {
    assert.deepEqual(udp({ host: '127.0.0.1', port: 5514 }).resources(), [
      { kind: 'port', id: 'udp:127.0.0.1:5514' },
    ]);
    assert.deepEqual(udp({ port: 514 }).resources(), [{ kind: 'port', id: 'udp:0.0.0.0:514' }]);
    assert.deepEqual(udp({ port: 0 }).resources(), []);
    assert.deepEqual(
      udp({ port: 70000, format: 'json' as 'raw', receiveBufferBytes: 0, batch: { maxEvents: 0 } })
        .validate()
        .sort(),
      [
        'batch.maxEvents must be a positive integer, not 0',
        'format must be "raw" or "syslog", not "json"',
        'port must be an integer between 0 and 65535, not 70000',
        'receiveBufferBytes must be a positive integer, not 0',
      ],
    );

    const taken = await client(t);
    const port = taken.address().port;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const pipeline = await definePipeline({
      sources: { net: udp({ host: '127.0.0.1', port }) },
      sinks: {
        out: {
          inputs: ['net'],
          stage: collect({ into: newCollected() }),
        },
      },
    }).build();
    pipeline.start();
    await pipeline.done();
    const failures = pipeline.metrics.snapshot().entries.find((e) => e.kind === 'pipeline')?.stats;
    assert.equal(failures?.stage_failures, 1);
    await waitFor(() => warnings.length > 0, 'the stage failure warning');
    const cause = (warnings[0] as Error & { cause?: Error & { cause?: NodeJS.ErrnoException } })
      .cause;
    assert.equal((cause as { code?: string } | undefined)?.code, 'ERR_STAGE_FAILED');
    assert.match(String(cause?.message), /cannot listen on 127\.0\.0\.1/);
    assert.equal(cause?.cause?.code, 'EADDRINUSE');
  });
});
