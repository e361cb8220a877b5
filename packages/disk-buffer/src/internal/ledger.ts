/**
 * The ledger: where the buffer's positions survive a restart.
 *
 * ```
 *  file "ledger", 128 bytes = two 64-byte slots, A at 0 and B at 64
 *  slot: offset size field (little endian)
 *         0     4    magic "SPLG"
 *         4     2    version (1)
 *         6     2    reserved (0)
 *         8     8    generation  (+1 per write; the valid slot with the higher one wins)
 *        16     8    writeSeq    (next record number to write, as of the last sync)
 *        24     8    readSeq     (next record number the reader would hand out)
 *        32     8    ackedSeq    (every record below it is acknowledged)
 *        40    20    reserved (0)
 *        60     4    CRC32C of bytes 0..60
 * ```
 *
 * Why two slots written in turn, rather than write-temp-fsync-rename-fsync-dir: each update is one
 * 64-byte positional write and one `fdatasync` on a file that never changes size, with no
 * directory operation at all. A write torn by a power loss can only damage the slot being
 * written; its CRC then fails and the other slot, one generation older, is used. Older only means
 * that some acknowledged records are replayed again (duplicates); it never means loss, because
 * the ledger is written after the segment data it describes has been synced.
 *
 * If both slots are damaged or the file is missing, the buffer rebuilds the positions from the
 * segment files (see `disk-buffer.ts`): everything still on disk is replayed.
 */
import { crc32c } from '@node-rs/crc32';
import type { FileHandle } from '../file-system.js';

export const LEDGER_BYTES = 128;
const SLOT_BYTES = 64;
const MAGIC = 0x474c5053; // "SPLG" read as u32 LE
const VERSION = 1;

export interface LedgerState {
  readonly writeSeq: number;
  readonly readSeq: number;
  readonly ackedSeq: number;
}

function decodeSlot(
  buf: Buffer,
  at: number,
): (LedgerState & { readonly generation: number }) | undefined {
  if (buf.length < at + SLOT_BYTES) return undefined;
  if (buf.readUInt32LE(at) !== MAGIC || buf.readUInt16LE(at + 4) !== VERSION) return undefined;
  if (buf.readUInt32LE(at + 60) !== crc32c(buf.subarray(at, at + 60))) return undefined;
  const generation = Number(buf.readBigUInt64LE(at + 8));
  const writeSeq = Number(buf.readBigUInt64LE(at + 16));
  const readSeq = Number(buf.readBigUInt64LE(at + 24));
  const ackedSeq = Number(buf.readBigUInt64LE(at + 32));
  // A slot that passes its CRC but is inconsistent was written by something else: not ours.
  if (!(ackedSeq <= readSeq && readSeq <= writeSeq)) return undefined;
  return { generation, writeSeq, readSeq, ackedSeq };
}

/** The ledger file, open for the life of the buffer. */
export class Ledger {
  readonly #handle: FileHandle;
  readonly #slot = Buffer.alloc(SLOT_BYTES);
  #generation: number;

  private constructor(handle: FileHandle, generation: number) {
    this.#handle = handle;
    this.#generation = generation;
  }

  /**
   * Opens the ledger, creating it when missing. `state` is undefined when no slot is valid
   * (missing, truncated or damaged file): the caller rebuilds the positions from the segments.
   */
  static async open(
    open: (flags: 'r+' | 'w+') => Promise<FileHandle>,
  ): Promise<{ ledger: Ledger; state: LedgerState | undefined }> {
    let handle: FileHandle;
    try {
      handle = await open('r+');
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      handle = await open('w+');
    }
    const buf = Buffer.alloc(LEDGER_BYTES);
    let filled = 0;
    while (filled < LEDGER_BYTES) {
      const { bytesRead } = await handle.read(buf, filled, LEDGER_BYTES - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const slots = buf.subarray(0, filled);
    const a = decodeSlot(slots, 0);
    const b = decodeSlot(slots, SLOT_BYTES);
    const best = a && b ? (a.generation >= b.generation ? a : b) : (a ?? b);
    const ledger = new Ledger(handle, best?.generation ?? 0);
    return {
      ledger,
      state: best && {
        writeSeq: best.writeSeq,
        readSeq: best.readSeq,
        ackedSeq: best.ackedSeq,
      },
    };
  }

  /** Writes `state` into the older slot; `sync` makes it durable before resolving. */
  async write(state: LedgerState, sync: boolean): Promise<void> {
    const generation = ++this.#generation;
    const slot = this.#slot;
    slot.fill(0);
    slot.writeUInt32LE(MAGIC, 0);
    slot.writeUInt16LE(VERSION, 4);
    slot.writeBigUInt64LE(BigInt(generation), 8);
    slot.writeBigUInt64LE(BigInt(state.writeSeq), 16);
    slot.writeBigUInt64LE(BigInt(state.readSeq), 24);
    slot.writeBigUInt64LE(BigInt(state.ackedSeq), 32);
    slot.writeUInt32LE(crc32c(slot.subarray(0, 60)), 60);
    const at = (generation % 2) * SLOT_BYTES;
    for (let done = 0; done < SLOT_BYTES; ) {
      done += (await this.#handle.write(slot, done, SLOT_BYTES - done, at + done)).bytesWritten;
    }
    if (sync) await this.#handle.datasync();
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}
