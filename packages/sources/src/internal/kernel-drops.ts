/**
 * The kernel's count of datagrams it dropped for one UDP socket — the loss a UDP receiver cannot
 * see in-process: when the socket's receive buffer (SO_RCVBUF) is full because the event loop
 * did not read in time, the kernel discards the datagram and increments the socket's `drops`.
 *
 * Linux only: read from `/proc/net/udp` (`/proc/net/udp6` for IPv6 sockets), one row per socket:
 *
 * ```
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 *  123: 0100007F:E106 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 44920 2 000000003e952245 17
 * ```
 *
 * The local address is hex in host byte order per 32-bit word, the port hex in network order;
 * `drops` is the last field. The row is found by local port and address; when several sockets
 * share them (SO_REUSEADDR/SO_REUSEPORT across processes), by the inode of the socket, which
 * only this process's fds (`/proc/self/fd/* → socket:[inode]`) can tell. The inode, once known,
 * selects the row from then on. Node does not expose a dgram socket's fd, hence the search; two
 * sockets of this same process on one address and port cannot be told apart (the first wins).
 *
 * Where /proc is not there (macOS, Windows, a sandbox), `read()` returns undefined.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BlockList } from 'node:net';
import { endianness } from 'node:os';

export interface UdpSocketAddress {
  address: string;
  port: number;
  family: string;
}

export class KernelDropReader {
  readonly #table: string;
  readonly #port: number;
  readonly #address: string;
  readonly #ipv6: boolean;
  #inode: string | undefined;

  constructor(local: UdpSocketAddress, procRoot = '/proc') {
    this.#ipv6 = local.family === 'IPv6' || (local.family as unknown) === 6;
    this.#table = `${procRoot}/net/${this.#ipv6 ? 'udp6' : 'udp'}`;
    this.#port = local.port;
    this.#address = local.address;
  }

  /** The socket's kernel drop count, or undefined when it cannot be read. Never throws. */
  read(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.#table, 'latin1');
    } catch {
      return undefined;
    }
    const rows = parseRows(text);
    if (this.#inode !== undefined) {
      const row = rows.find((r) => r.inode === this.#inode);
      if (row) return row.drops;
      this.#inode = undefined; // the socket is gone, or this was never it: search again
    }
    const candidates = rows.filter((r) => r.port === this.#port && this.#sameAddress(r.address));
    if (candidates.length === 0) return undefined;
    let row = candidates[0];
    if (candidates.length > 1) {
      const mine = ownSocketInodes();
      row = candidates.find((r) => mine.has(r.inode));
      if (!row) return undefined;
    }
    this.#inode = row!.inode;
    return row!.drops;
  }

  #sameAddress(hex: string): boolean {
    const decoded = decodeAddress(hex);
    if (decoded === undefined) return false;
    if (!this.#ipv6) return decoded === this.#address;
    try {
      const list = new BlockList();
      list.addAddress(this.#address, 'ipv6');
      return list.check(decoded, 'ipv6');
    } catch {
      return false;
    }
  }
}

interface Row {
  address: string;
  port: number;
  inode: string;
  drops: number;
}

function parseRows(text: string): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let n = 1; n < lines.length; n++) {
    const fields = lines[n]!.trim().split(/\s+/);
    // sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode, ref, pointer, drops
    if (fields.length < 13) continue;
    const local = fields[1]!;
    const colon = local.lastIndexOf(':');
    if (colon === -1) continue;
    const drops = Number(fields[fields.length - 1]);
    if (!Number.isFinite(drops)) continue;
    rows.push({
      address: local.slice(0, colon),
      port: Number.parseInt(local.slice(colon + 1), 16),
      inode: fields[9]!,
      drops,
    });
  }
  return rows;
}

/** `0100007F` → `127.0.0.1`; 32 hex digits → a full IPv6 address. Host byte order per word. */
function decodeAddress(hex: string): string | undefined {
  if (hex.length !== 8 && hex.length !== 32) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (endianness() === 'LE') {
    for (let w = 0; w < bytes.length; w += 4) bytes.subarray(w, w + 4).reverse();
  }
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/** Inodes of this process's sockets: `/proc/self/fd/<n>` links to `socket:[<inode>]`. */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed between readdir and readlink
      }
    }
  } catch {
    // no /proc/self/fd
  }
  return inodes;
}
