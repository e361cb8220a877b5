/**
 * The record: how one batch is framed in a segment file, and how a reader finds its way back to
 * valid records after damage.
 *
 * ```
 *  offset size  field (little endian)
 *   0     4     magic  C1 F5 53 50   (0xC1 is never a msgpack type byte, 0xC1/0xF5 never UTF-8)
 *   4     4     bodyLength           (idLength + payload length)
 *   8     8     seq                  (u32 low, u32 high; record number, +1 per record, never reused)
 *  16     4     events               (batch.count, so a scan can count events without decoding)
 *  20     2     idLength             (bytes of the batch id, UTF-8)
 *  22     2     flags                (0; reserved)
 *  24     4     bodyCrc              CRC32C of the body
 *  28     4     headerCrc            CRC32C of bytes 0..28
 *  32     …     body = batch id ++ payload (core's `encodeBatch`)
 * ```
 *
 * Why a header checksum of its own: a length field that was damaged cannot be trusted to skip
 * the record, and a reader that follows it lands in the middle of the next one. With its own CRC
 * a header is either trusted whole (then a bad body is skipped by its length, and its `seq` says
 * which record was lost) or not at all, and then the reader *resynchronises*: it looks for the
 * next magic whose header checks out, bounded by `maxBody`, and goes on from there. The seq
 * numbers are consecutive, so the records lost in between are counted exactly from the gap.
 */
import { crc32c } from '@node-rs/crc32';

export const HEADER_BYTES = 32;
const MAGIC = 0x5053f5c1; // bytes C1 F5 53 50 read as u32 LE
const MAGIC_BYTES = Buffer.from([0xc1, 0xf5, 0x53, 0x50]);
const TWO_32 = 2 ** 32;

/** A record ready to write: the body is built once, its CRC with it. */
export interface RecordInput {
  readonly id: Uint8Array;
  readonly payload: Uint8Array;
  readonly events: number;
}

export function recordBytes(input: RecordInput): number {
  return HEADER_BYTES + input.id.byteLength + input.payload.byteLength;
}

/** Writes the record for `input` with number `seq` at `out[at]`; returns the offset after it. */
export function writeRecord(out: Buffer, at: number, seq: number, input: RecordInput): number {
  const idLength = input.id.byteLength;
  const bodyLength = idLength + input.payload.byteLength;
  const body = at + HEADER_BYTES;
  out.set(input.id, body);
  out.set(input.payload, body + idLength);
  out.writeUInt32LE(MAGIC, at);
  out.writeUInt32LE(bodyLength, at + 4);
  out.writeUInt32LE(seq % TWO_32, at + 8);
  out.writeUInt32LE(Math.floor(seq / TWO_32), at + 12);
  out.writeUInt32LE(input.events, at + 16);
  out.writeUInt16LE(idLength, at + 20);
  out.writeUInt16LE(0, at + 22);
  out.writeUInt32LE(crc32c(out.subarray(body, body + bodyLength)), at + 24);
  out.writeUInt32LE(crc32c(out.subarray(at, at + 28)), at + 28);
  return body + bodyLength;
}

/** One step of a scan over `buf` from `pos`. */
export type ScanStep =
  /** A valid record spans [pos, next). `body` is a view into the scanned buffer. */
  | {
      readonly kind: 'record';
      readonly seq: number;
      readonly events: number;
      readonly id: string;
      readonly payload: Buffer;
      readonly next: number;
    }
  /**
   * Bytes [pos, next) are unreadable. `seq` is set when the header was intact and only the body
   * failed its checksum. `next` may be short of a valid record when the buffer ran out: scan on.
   */
  | { readonly kind: 'corrupt'; readonly seq: number | undefined; readonly next: number }
  /** A record (or its header) starting at `pos` continues past the end of `buf`: read more. */
  | { readonly kind: 'partial'; readonly need: number };

/** The header at `pos` checks out (magic, bounded length, CRC). Assumes HEADER_BYTES are there. */
function headerValid(buf: Buffer, pos: number, maxBody: number): boolean {
  if (buf.readUInt32LE(pos) !== MAGIC) return false;
  if (buf.readUInt32LE(pos + 28) !== crc32c(buf.subarray(pos, pos + 28))) return false;
  const bodyLength = buf.readUInt32LE(pos + 4);
  return bodyLength <= maxBody && buf.readUInt16LE(pos + 20) <= bodyLength;
}

/**
 * Reads the record at `pos` in `buf[0, end)`. Never throws on bad data: damage is reported as a
 * `corrupt` step, and an incomplete tail as `partial` (the caller decides, knowing whether more
 * bytes can come, if it is a torn write).
 */
export function scanRecord(buf: Buffer, pos: number, end: number, maxBody: number): ScanStep {
  if (end - pos < HEADER_BYTES) return { kind: 'partial', need: HEADER_BYTES };
  if (!headerValid(buf, pos, maxBody)) return resync(buf, pos, end, maxBody);
  const bodyLength = buf.readUInt32LE(pos + 4);
  const next = pos + HEADER_BYTES + bodyLength;
  if (next > end) return { kind: 'partial', need: HEADER_BYTES + bodyLength };
  const seq = buf.readUInt32LE(pos + 8) + buf.readUInt32LE(pos + 12) * TWO_32;
  const body = buf.subarray(pos + HEADER_BYTES, next);
  if (crc32c(body) !== buf.readUInt32LE(pos + 24)) return { kind: 'corrupt', seq, next };
  const idLength = buf.readUInt16LE(pos + 20);
  return {
    kind: 'record',
    seq,
    events: buf.readUInt32LE(pos + 16),
    id: body.toString('utf8', 0, idLength),
    payload: body.subarray(idLength),
    next,
  };
}

/**
 * Finds the next offset after `pos` where a valid header starts. Bytes before it are corrupt.
 * When none is found the whole rest is reported corrupt except the last HEADER_BYTES - 1 bytes,
 * which could be the start of a header that the next read completes.
 */
function resync(buf: Buffer, pos: number, end: number, maxBody: number): ScanStep {
  for (let at = buf.indexOf(MAGIC_BYTES, pos + 1); at !== -1 && at < end; ) {
    if (end - at < HEADER_BYTES) return { kind: 'corrupt', seq: undefined, next: at };
    if (headerValid(buf, at, maxBody)) return { kind: 'corrupt', seq: undefined, next: at };
    at = buf.indexOf(MAGIC_BYTES, at + 1);
  }
  return { kind: 'corrupt', seq: undefined, next: Math.max(pos + 1, end - (HEADER_BYTES - 1)) };
}
