/**
 * Cuts a TCP byte stream into frames (RFC 6587): newline-delimited (`msg LF`, CR before LF
 * removed, empty lines skipped) or octet-counting (`<length> SP <length bytes>`, as RFC 5425
 * requires for TLS and most modern senders use). `auto` decides per connection from the first
 * byte: a digit means octet counting (a syslog message starts with `<`).
 *
 * Pull-based, so the caller can stop between frames (to wait for room downstream) without the
 * decoder buffering anything it has not been given:
 *
 * ```
 *   push(chunk) ─▶ [ partial frame ≤ maxFrameBytes | rest of chunk ] ─▶ next() → frame | undefined
 * ```
 *
 * Memory held: the partial frame (at most `maxFrameBytes`, copied out of the chunk it came from
 * so old chunks are not pinned) plus the unread rest of the one chunk pushed last. Frames that
 * lie within one chunk are returned as views of it, without a copy.
 *
 * Oversize frames (over `maxFrameBytes`) are truncated to their first `maxFrameBytes` bytes or
 * dropped, and reported through `onOversize`; either way the stream stays in sync: the rest of
 * the line (newline) or the counted bytes (octet counting) are skipped without being buffered.
 * A malformed octet count cannot be resynchronised: the decoder stops and `error` says why.
 */

export type Framing = 'newline' | 'octet-counting';

export interface FrameDecoderOptions {
  framing: Framing | 'auto';
  maxFrameBytes: number;
  onOversize: 'truncate' | 'drop';
  /** Called once per oversize frame, with what was done to it. */
  onOversizeFrame: (action: 'truncated' | 'dropped') => void;
}

export interface Frame {
  readonly data: Buffer;
  /** The frame was longer than `maxFrameBytes`; `data` is its beginning. */
  readonly truncated: boolean;
}

const LF = 10;
const CR = 13;
const SP = 32;
/** An octet count of 10 digits is already far beyond any sane frame. */
const MAX_LENGTH_DIGITS = 10;

export class FrameDecoder {
  readonly #o: FrameDecoderOptions;
  #framing: Framing | undefined;
  #chunk: Buffer | undefined;
  #pos = 0;
  /** Pieces of the frame being assembled; all but possibly the last are copies. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** The last piece of `#partial` is a view of `#chunk` (copied when the chunk is done). */
  #lastIsView = false;
  // newline framing: skipping the rest of an oversize line
  #discarding = false;
  // octet counting
  #inBody = false;
  #length = 0;
  #digits = 0;
  #remaining = 0;
  #keep = 0;
  #oversize = false;
  #error: string | undefined;

  constructor(options: FrameDecoderOptions) {
    this.#o = options;
    if (options.framing !== 'auto') this.#framing = options.framing;
  }

  /** The framing in use; undefined under `auto` until the first byte. */
  get framing(): Framing | undefined {
    return this.#framing;
  }

  /** Why the stream cannot be decoded any further (malformed octet count); undefined if fine. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Bytes held: the partial frame plus the unread rest of the last chunk. */
  get bufferedBytes(): number {
    return this.#partialBytes + (this.#chunk ? this.#chunk.length - this.#pos : 0);
  }

  /** Gives the decoder the next chunk; call `next()` until it returns undefined. */
  push(chunk: Buffer): void {
    if (this.#chunk && this.#pos < this.#chunk.length) {
      // The caller pushed before draining: keep the unread rest rather than lose it.
      this.#retire();
      this.#chunk = Buffer.concat([this.#chunk.subarray(this.#pos), chunk]);
    } else {
      this.#chunk = chunk;
    }
    this.#pos = 0;
  }

  /** The next complete frame, or undefined when more bytes are needed (or after an error). */
  next(): Frame | undefined {
    const chunk = this.#chunk;
    if (!chunk || this.#error !== undefined) return undefined;
    if (this.#framing === undefined && this.#pos < chunk.length) {
      const first = chunk[this.#pos]!;
      this.#framing = first >= 48 && first <= 57 ? 'octet-counting' : 'newline';
    }
    const frame =
      this.#framing === 'octet-counting' ? this.#nextCounted(chunk) : this.#nextLine(chunk);
    if (frame === undefined) this.#retire();
    return frame;
  }

  /**
   * Ends the stream. At end of input (`eof`), an unterminated last line is a frame; otherwise
   * (the connection is being closed under it) it is incomplete. An octet-counted frame cut short
   * is always incomplete. Returns the last frame, if any, and whether bytes were left over.
   */
  finish(eof: boolean): { frame: Frame | undefined; incomplete: boolean } {
    let frame: Frame | undefined;
    let incomplete = false;
    if (this.#framing === 'newline' && !this.#discarding && this.#partialBytes > 0) {
      if (eof) {
        const data = stripCr(Buffer.concat(this.#partial));
        if (data.length > 0) frame = { data, truncated: false };
      } else {
        incomplete = true;
      }
    } else if (this.#framing === 'octet-counting' && (this.#inBody || this.#digits > 0)) {
      incomplete = true;
    }
    this.#partial = [];
    this.#partialBytes = 0;
    this.#chunk = undefined;
    return { frame, incomplete };
  }

  #nextLine(chunk: Buffer): Frame | undefined {
    const max = this.#o.maxFrameBytes;
    while (this.#pos < chunk.length) {
      const nl = chunk.indexOf(LF, this.#pos);
      if (this.#discarding) {
        if (nl === -1) {
          this.#pos = chunk.length;
          break;
        }
        this.#pos = nl + 1;
        this.#discarding = false;
        continue;
      }
      const end = nl === -1 ? chunk.length : nl;
      if (this.#partialBytes + (end - this.#pos) > max) {
        // Oversize: keep at most `max` bytes, skip to the end of the line without buffering it.
        const room = max - this.#partialBytes;
        const head = chunk.subarray(this.#pos, this.#pos + room);
        const data = this.#takePartial(head);
        if (nl === -1) {
          this.#discarding = true;
          this.#pos = chunk.length;
        } else {
          this.#pos = nl + 1;
        }
        if (this.#o.onOversize === 'drop') {
          this.#o.onOversizeFrame('dropped');
          continue;
        }
        this.#o.onOversizeFrame('truncated');
        return { data, truncated: true };
      }
      if (nl === -1) {
        this.#append(chunk.subarray(this.#pos));
        this.#pos = chunk.length;
        break;
      }
      const data = stripCr(this.#takePartial(chunk.subarray(this.#pos, nl)));
      this.#pos = nl + 1;
      if (data.length === 0) continue; // an empty line carries nothing
      return { data, truncated: false };
    }
    return undefined;
  }

  #nextCounted(chunk: Buffer): Frame | undefined {
    while (this.#pos < chunk.length) {
      if (!this.#inBody) {
        const c = chunk[this.#pos]!;
        if (this.#digits === 0 && (c === LF || c === CR || c === SP)) {
          this.#pos++; // some senders put a line break after each counted frame
          continue;
        }
        if (c >= 48 && c <= 57) {
          if ((this.#digits === 0 && c === 48) || this.#digits === MAX_LENGTH_DIGITS) {
            this.#error = 'octet-counting: invalid frame length';
            return undefined;
          }
          this.#length = this.#length * 10 + (c - 48);
          this.#digits++;
          this.#pos++;
          continue;
        }
        if (c !== SP || this.#digits === 0) {
          this.#error = `octet-counting: expected a length and a space, found byte ${c}`;
          return undefined;
        }
        this.#pos++;
        this.#inBody = true;
        this.#remaining = this.#length;
        this.#oversize = this.#length > this.#o.maxFrameBytes;
        this.#keep = this.#oversize
          ? this.#o.onOversize === 'drop'
            ? 0
            : this.#o.maxFrameBytes
          : this.#length;
        continue;
      }
      const available = Math.min(this.#remaining, chunk.length - this.#pos);
      const wanted = Math.min(available, this.#keep - this.#partialBytes);
      const piece = wanted > 0 ? chunk.subarray(this.#pos, this.#pos + wanted) : undefined;
      this.#pos += available;
      this.#remaining -= available;
      if (this.#remaining > 0) {
        if (piece) this.#append(piece);
        break;
      }
      // The frame is complete.
      this.#inBody = false;
      this.#length = 0;
      this.#digits = 0;
      if (this.#oversize) {
        this.#o.onOversizeFrame(this.#keep === 0 ? 'dropped' : 'truncated');
        if (this.#keep === 0) continue;
      }
      return { data: this.#takePartial(piece), truncated: this.#oversize };
    }
    return undefined;
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#partial.push(piece);
    this.#partialBytes += piece.length;
    this.#lastIsView = true;
  }

  /** The partial frame followed by `tail`, as one buffer; resets the partial frame. */
  #takePartial(tail: Buffer | undefined): Buffer {
    let data: Buffer;
    if (this.#partial.length === 0) data = tail ?? Buffer.alloc(0);
    else data = Buffer.concat(tail ? [...this.#partial, tail] : this.#partial);
    this.#partial = [];
    this.#partialBytes = 0;
    this.#lastIsView = false;
    return data;
  }

  /** The chunk is used up: copy the partial frame's view of it so the chunk can be collected. */
  #retire(): void {
    if (this.#lastIsView) {
      const last = this.#partial.length - 1;
      this.#partial[last] = Buffer.from(this.#partial[last]!);
      this.#lastIsView = false;
    }
    if (this.#chunk && this.#pos >= this.#chunk.length) this.#chunk = undefined;
  }
}

function stripCr(data: Buffer): Buffer {
  return data.length > 0 && data[data.length - 1] === CR ? data.subarray(0, data.length - 1) : data;
}
