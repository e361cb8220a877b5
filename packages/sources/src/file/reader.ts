/**
 * One tailed file: an open handle, the offset read so far, the partial last line, and the
 * acknowledgement watermark whose committed offset becomes the checkpoint.
 *
 * ```
 *   file:  ...line\nline\nline\npart│ial        (not written yet)
 *                    ▲              ▲  ▲
 *        committed ──┘   emitted ───┘  └── offset (read); "part" waits in `carry`
 * ```
 *
 * A chunk is read into a fresh buffer after the carried partial line, and the complete lines
 * in it are handed on as a view of that buffer: no copy per line, one small copy of the tail.
 */

import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { AckWatermark, isCommittable } from '@spillway/core';
import { type FileIdentity, identityKey } from './checkpoints.js';

export type LongLinePolicy = 'split' | 'truncate';

export interface ReaderLimits {
  readonly chunkBytes: number;
  readonly maxLineBytes: number;
  readonly longLines: LongLinePolicy;
  readonly fingerprintBytes: number;
  readonly maxInFlightBatches: number;
}

/** Complete lines read from a file, ready to become a raw batch. */
export interface Lines {
  readonly data: Uint8Array;
  readonly lines: number;
  /** File offset just after the last byte these lines account for: the batch's position. */
  readonly end: number;
}

export interface LineCounters {
  longLinesSplit: number;
  longLinesTruncated: number;
}

const NEWLINE = 0x0a;

export class FileReader {
  readonly key: string;
  /** Mutable only while the file is shorter than the fingerprint: see `refreshFingerprint()`. */
  identity: FileIdentity;
  readonly watermark: AckWatermark<number>;
  path: string;
  /** Next byte to read. */
  offset: number;
  /** No longer found under any matching path: read to the end, then release. */
  orphaned = false;
  readonly #handle: FileHandle;
  readonly #limits: ReaderLimits;
  readonly #counters: LineCounters;
  /** The partial last line, not emitted yet; starts at `offset - carry.length`. */
  #carry: Buffer | undefined;
  /** Skipping the rest of a line that was truncated. */
  #discarding = false;
  /** The carried partial line continues a line already split (counted once, not per piece). */
  #continuing = false;

  constructor(
    handle: FileHandle,
    path: string,
    identity: FileIdentity,
    offset: number,
    limits: ReaderLimits,
    counters: LineCounters,
    onCommit: (reader: FileReader, offset: number) => void,
  ) {
    this.#handle = handle;
    this.path = path;
    this.identity = identity;
    this.key = identityKey(identity);
    this.offset = offset;
    this.#limits = limits;
    this.#counters = counters;
    this.watermark = new AckWatermark<number>({
      maxInFlight: limits.maxInFlightBatches,
      commitWhen: isCommittable,
      onCommit: (position) => onCommit(this, position),
    });
  }

  /** The offset up to which lines have been handed on (the start of the carried partial line). */
  get consumed(): number {
    return this.offset - (this.#carry?.length ?? 0);
  }

  get handle(): FileHandle {
    return this.#handle;
  }

  /**
   * Reads one chunk. Returns the complete lines in it, `undefined` when it held no complete
   * line (a long partial line keeps growing in `carry`, up to `maxLineBytes`), or `'eof'`.
   */
  async read(): Promise<Lines | undefined | 'eof'> {
    const carried = this.#carry?.length ?? 0;
    const buffer = Buffer.allocUnsafe(carried + this.#limits.chunkBytes);
    if (this.#carry) this.#carry.copy(buffer, 0);
    const { bytesRead } = await this.#handle.read(
      buffer,
      carried,
      this.#limits.chunkBytes,
      this.offset,
    );
    if (bytesRead === 0) return 'eof';
    this.offset += bytesRead;
    this.#carry = undefined;
    return this.#split(buffer.subarray(0, carried + bytesRead));
  }

  /**
   * Hands on the partial last line, newline-terminated: for a file that will not grow any more
   * (rotated away or deleted), where waiting for the rest of the line would wait forever.
   */
  takePartial(): Lines | undefined {
    const carry = this.#carry;
    this.#carry = undefined;
    if (!carry || carry.length === 0) return undefined;
    return { data: withNewline(carry), lines: 1, end: this.offset };
  }

  /** The file was truncated in place (copytruncate): start again from its beginning. */
  restart(): void {
    this.offset = 0;
    this.#carry = undefined;
    this.#discarding = false;
  }

  /**
   * A file opened while shorter than `fingerprintBytes` has a weak fingerprint (an empty file's
   * matches any file); it is taken again as the file grows, until it covers the full length.
   */
  async refreshFingerprint(): Promise<void> {
    if (this.identity.fingerprintBytes >= this.#limits.fingerprintBytes) return;
    if (this.offset <= this.identity.fingerprintBytes) return;
    this.identity = {
      ...this.identity,
      ...(await fingerprint(this.#handle, this.#limits.fingerprintBytes)),
    };
  }

  close(): Promise<void> {
    return this.#handle.close();
  }

  #split(view: Buffer): Lines | undefined {
    const { maxLineBytes } = this.#limits;
    if (this.#discarding) {
      const nl = view.indexOf(NEWLINE);
      if (nl === -1) return undefined;
      this.#discarding = false;
      view = view.subarray(nl + 1);
    }
    const last = view.lastIndexOf(NEWLINE);
    const continuing = this.#continuing;
    if (last !== -1) this.#continuing = false;
    const complete = view.subarray(0, last + 1);
    let tail = view.subarray(last + 1);
    // Count lines and look for long ones in one pass; the common case hands on `complete` as is.
    let lines = 0;
    let long = false;
    for (
      let start = 0, nl = complete.indexOf(NEWLINE);
      nl !== -1;
      nl = complete.indexOf(NEWLINE, start)
    ) {
      if (nl - start > maxLineBytes) long = true;
      lines++;
      start = nl + 1;
    }
    const parts: Buffer[] = [];
    if (long) lines = this.#limitLines(complete, parts, continuing);
    else if (complete.length > 0) parts.push(complete);
    // A partial line that reached the limit cannot wait for its newline any longer.
    while (tail.length > maxLineBytes) {
      parts.push(withNewline(tail.subarray(0, maxLineBytes)));
      lines++;
      if (this.#limits.longLines === 'truncate') {
        this.#counters.longLinesTruncated++;
        this.#discarding = true;
        tail = tail.subarray(tail.length);
      } else {
        if (!this.#continuing) this.#counters.longLinesSplit++;
        this.#continuing = true;
        tail = tail.subarray(maxLineBytes);
      }
    }
    if (tail.length > 0) this.#carry = Buffer.from(tail);
    if (lines === 0) return undefined;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return { data, lines, end: this.consumed };
  }

  /** Rebuilds `complete` with every line longer than `maxLineBytes` split or truncated. */
  #limitLines(complete: Buffer, parts: Buffer[], continuing: boolean): number {
    const { maxLineBytes, longLines } = this.#limits;
    let lines = 0;
    // Runs of lines within the limit are kept as one view each.
    let run = 0;
    for (
      let start = 0, nl = complete.indexOf(NEWLINE);
      nl !== -1;
      nl = complete.indexOf(NEWLINE, start)
    ) {
      const line = complete.subarray(start, nl);
      start = nl + 1;
      lines++;
      if (line.length <= maxLineBytes) continue;
      if (nl - line.length > run) parts.push(complete.subarray(run, nl - line.length));
      run = start;
      lines--;
      if (longLines === 'truncate') {
        parts.push(withNewline(line.subarray(0, maxLineBytes)));
        lines++;
        this.#counters.longLinesTruncated++;
      } else {
        for (let at = 0; at < line.length; at += maxLineBytes) {
          parts.push(withNewline(line.subarray(at, at + maxLineBytes)));
          lines++;
        }
        // The first line may be the end of one split in an earlier read: counted there.
        if (!(continuing && line.byteOffset === complete.byteOffset)) {
          this.#counters.longLinesSplit++;
        }
      }
    }
    if (run < complete.length) parts.push(complete.subarray(run));
    return lines;
  }
}

/** The fingerprint of a file: CRC-32 of its first `bytes` bytes (fewer if it is shorter). */
export async function fingerprint(
  handle: FileHandle,
  bytes: number,
): Promise<{ fingerprint: number; fingerprintBytes: number }> {
  const buffer = Buffer.alloc(bytes);
  const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
  return { fingerprint: crc32(buffer.subarray(0, bytesRead)), fingerprintBytes: bytesRead };
}

function withNewline(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + 1);
  out.set(bytes, 0);
  out[bytes.length] = NEWLINE;
  return out;
}
