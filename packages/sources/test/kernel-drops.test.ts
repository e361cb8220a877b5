// The /proc/net/udp reader against tables written by the test (so it runs anywhere), and
// against the real table where there is one.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KernelDropReader } from '../src/internal/kernel-drops.js';

const HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';

/** A /proc/net/udp row: address bytes in host order per 32-bit word, as the kernel prints them. */
function row(sl: number, addressBytes: number[], port: number, inode: number, drops: number) {
  const bytes = Buffer.from(addressBytes);
  if (endianness() === 'LE')
    for (let w = 0; w < bytes.length; w += 4) bytes.subarray(w, w + 4).reverse();
  const local = `${bytes.toString('hex').toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${String(sl).padStart(5)}: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 2 0000000000000000 ${drops}\n`;
}

function fakeProc(t: { after(fn: () => unknown): void }, udp: string, udp6 = HEADER): string {
  const root = mkdtempSync(join(tmpdir(), 'spillway-proc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net', 'udp'), udp);
  writeFileSync(join(root, 'net', 'udp6'), udp6);
  return root;
}

describe('kernel drop reader', () => {
  it('is undefined where there is no /proc table', () => {
    const reader = new KernelDropReader(
      { address: '127.0.0.1', port: 514, family: 'IPv4' },
      join(tmpdir(), 'no-such-proc'),
    );
    assert.equal(reader.read(), undefined);
  });

  it('finds the row by local port and address (IPv4 and IPv6), drops being the last field', (t) => {
    const root = fakeProc(
      t,
      HEADER +
        row(1, [10, 0, 0, 1], 514, 1001, 7) +
        row(2, [127, 0, 0, 1], 514, 1002, 42) +
        row(3, [127, 0, 0, 1], 515, 1003, 9),
      HEADER + row(1, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 514, 2001, 5),
    );
    assert.equal(
      new KernelDropReader({ address: '127.0.0.1', port: 514, family: 'IPv4' }, root).read(),
      42,
    );
    assert.equal(
      new KernelDropReader({ address: '10.0.0.1', port: 514, family: 'IPv4' }, root).read(),
      7,
    );
    assert.equal(
      new KernelDropReader({ address: '::1', port: 514, family: 'IPv6' }, root).read(),
      5,
    );
    assert.equal(
      new KernelDropReader({ address: '127.0.0.1', port: 516, family: 'IPv4' }, root).read(),
      undefined,
    );
  });

  it('reads a real socket from /proc/net/udp', { skip: !existsSync('/proc/net/udp') }, async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      assert.equal(new KernelDropReader(socket.address()).read(), 0);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });
});
