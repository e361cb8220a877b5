/**
 * A binary `ExportLogsServiceRequest` read into plain objects: the shape OTLP/JSON parses into,
 * so that one walker maps both encodings (see `decode.ts`). Written by hand because it is a
 * receiver's hot path: protobufjs first decodes into message instances and `toObject` then
 * copies every one of them; this reads each field once, and only the fields the mapping uses.
 *
 * Wire format (protobuf.dev/programming-guides/encoding): a message is a run of fields, each a
 * varint tag `field << 3 | wire type` and a value:
 *
 * ```
 *   wire type 0 varint · 1 eight bytes · 2 varint length + bytes · 5 four bytes
 *             3 / 4 start / end of a group (deprecated): skipped, with what it holds
 * ```
 *
 * What comes out, field by field:
 * - Only the fields present on the wire are set (to `undefined` otherwise), so an AnyValue of
 *   an empty string is told apart from an empty AnyValue, as the mapping requires.
 * - The `fixed64` nanosecond times become whole milliseconds, divided exactly (they are past
 *   2^53, so a number of nanoseconds would round); `int64` a number when it is a safe integer,
 *   else a signed decimal string; `bytes` a view into the input (the walker turns it into a
 *   string before the input is released); `string` UTF-8 decoded, invalid sequences replaced
 *   with U+FFFD.
 * - Unknown fields are skipped, and so is a known field sent with another wire type: it is
 *   taken for an unknown field that happens to share the number, not read as garbage.
 * - A message field sent twice keeps the last, as does a oneof (AnyValue) with two members.
 *
 * Invariants: never reads past the input (a length past its end throws); nesting is bounded at
 * {@link MAX_DEPTH} messages, the bound protobufjs applies, so a hostile body cannot exhaust
 * the stack. Every failure is a plain `Error` that the caller reports as a malformed body.
 */

/** Messages nested in one another at most (protobufjs's `recursionLimit`). */
const MAX_DEPTH = 100;
/** Strings up to this many bytes are decoded in JavaScript when they are ASCII. */
const SHORT_STRING = 12;
/** Keys up to this many bytes are remembered, in this many slots (a power of two). */
const MAX_KEY = 64;
const KEY_SLOTS = 32;

type Obj = Record<string, unknown>;

// Tags (field << 3 | wire type) shared by several messages: fields 1–3, length-delimited.
const T1_LEN = 0x0a;
const T2_LEN = 0x12;
const T3_LEN = 0x1a;

/** Reads one `ExportLogsServiceRequest`; throws an `Error` for bytes that are not one. */
export function readLogsRequest(bytes: Uint8Array): Obj {
  return new Reader(bytes).request();
}

class Reader {
  readonly #buf: Buffer;
  #pos = 0;
  #depth = 0;
  /** The high 32 bits of the last varint read. */
  #hi = 0;
  /** Keys read lately, by a hash of their bytes (see `#key`). */
  readonly #keys: ({ bytes: Uint8Array; text: string } | undefined)[] = [];

  constructor(bytes: Uint8Array) {
    this.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  request(): Obj {
    const end = this.#buf.length;
    const resourceLogs: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) resourceLogs.push(this.#resourceLogs());
      else this.#skip(t);
    }
    return { resourceLogs };
  }

  #resourceLogs(): Obj {
    const end = this.#open();
    let resource: Obj | undefined;
    const scopeLogs: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) resource = this.#attributesOnly();
      else if (t === T2_LEN) scopeLogs.push(this.#scopeLogs());
      else this.#skip(t);
    }
    this.#close(end);
    return { resource, scopeLogs };
  }

  /** A `Resource`: its attributes (field 1). */
  #attributesOnly(): Obj {
    const end = this.#open();
    const attributes: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) attributes.push(this.#keyValue());
      else this.#skip(t);
    }
    this.#close(end);
    return { attributes };
  }

  #scopeLogs(): Obj {
    const end = this.#open();
    let scope: Obj | undefined;
    const logRecords: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) scope = this.#scope();
      else if (t === T2_LEN) logRecords.push(this.#logRecord());
      else this.#skip(t);
    }
    this.#close(end);
    return { scope, logRecords };
  }

  #scope(): Obj {
    const end = this.#open();
    let name: string | undefined;
    let version: string | undefined;
    const attributes: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) name = this.#string();
      else if (t === T2_LEN) version = this.#string();
      else if (t === T3_LEN) attributes.push(this.#keyValue());
      else this.#skip(t);
    }
    this.#close(end);
    return { name, version, attributes };
  }

  #logRecord(): Obj {
    const end = this.#open();
    let timeUnixNano: number | undefined;
    let severityNumber: number | undefined;
    let severityText: string | undefined;
    let body: Obj | undefined;
    let attributes: Obj[] | undefined;
    let flags: number | undefined;
    let traceId: Uint8Array | undefined;
    let spanId: Uint8Array | undefined;
    let observedTimeUnixNano: number | undefined;
    let eventName: string | undefined;
    while (this.#pos < end) {
      const t = this.#varint();
      switch (t) {
        case 0x09: // 1 timeUnixNano, fixed64
          timeUnixNano = this.#nanosToMs();
          break;
        case 0x10: // 2 severityNumber, varint
          // An enum is an int32 on the wire: the low 32 bits, signed.
          severityNumber = this.#varint() | 0;
          break;
        case 0x1a: // 3 severityText
          severityText = this.#key();
          break;
        case 0x2a: // 5 body
          body = this.#anyValue();
          break;
        case 0x32: // 6 attributes
          (attributes ??= []).push(this.#keyValue());
          break;
        case 0x45: // 8 flags, fixed32
          flags = this.#buf.readUInt32LE(this.#advance(4));
          break;
        case 0x4a: // 9 traceId
          traceId = this.#bytes();
          break;
        case 0x52: // 10 spanId
          spanId = this.#bytes();
          break;
        case 0x59: // 11 observedTimeUnixNano, fixed64
          observedTimeUnixNano = this.#nanosToMs();
          break;
        case 0x62: // 12 eventName
          eventName = this.#string();
          break;
        default:
          this.#skip(t);
      }
    }
    this.#close(end);
    return {
      timeUnixNano,
      severityNumber,
      severityText,
      body,
      attributes,
      flags,
      traceId,
      spanId,
      observedTimeUnixNano,
      eventName,
    };
  }

  #keyValue(): Obj {
    const end = this.#open();
    let key: string | undefined;
    let value: Obj | undefined;
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) key = this.#key();
      else if (t === T2_LEN) value = this.#anyValue();
      else this.#skip(t);
    }
    this.#close(end);
    return { key, value };
  }

  /** An AnyValue with its one member set (the last one sent); none set when it is empty. */
  #anyValue(): Obj {
    const end = this.#open();
    let field = 0;
    let value: unknown;
    while (this.#pos < end) {
      const t = this.#varint();
      switch (t) {
        case 0x0a: // 1 stringValue
          value = this.#string();
          break;
        case 0x10: // 2 boolValue, varint
          value = this.#varint() !== 0 || this.#hi !== 0;
          break;
        case 0x18: // 3 intValue, varint
          value = this.#int64();
          break;
        case 0x21: // 4 doubleValue, fixed64
          value = this.#buf.readDoubleLE(this.#advance(8));
          break;
        case 0x2a: // 5 arrayValue
          value = this.#arrayValue();
          break;
        case 0x32: // 6 kvlistValue
          value = this.#keyValueList();
          break;
        case 0x3a: // 7 bytesValue
          value = this.#bytes();
          break;
        default:
          this.#skip(t);
          continue;
      }
      field = t >>> 3;
    }
    this.#close(end);
    return {
      stringValue: field === 1 ? value : undefined,
      boolValue: field === 2 ? value : undefined,
      intValue: field === 3 ? value : undefined,
      doubleValue: field === 4 ? value : undefined,
      arrayValue: field === 5 ? value : undefined,
      kvlistValue: field === 6 ? value : undefined,
      bytesValue: field === 7 ? value : undefined,
    };
  }

  #arrayValue(): Obj {
    const end = this.#open();
    const values: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) values.push(this.#anyValue());
      else this.#skip(t);
    }
    this.#close(end);
    return { values };
  }

  #keyValueList(): Obj {
    const end = this.#open();
    const values: Obj[] = [];
    while (this.#pos < end) {
      const t = this.#varint();
      if (t === T1_LEN) values.push(this.#keyValue());
      else this.#skip(t);
    }
    this.#close(end);
    return { values };
  }

  /** Enters an embedded message (its length just ahead): returns where it ends. */
  #open(): number {
    if (++this.#depth > MAX_DEPTH) throw new Error('max depth exceeded');
    const length = this.#varint();
    if (length > this.#buf.length - this.#pos) {
      throw new Error(`index out of range: ${this.#pos} + ${length} > ${this.#buf.length}`);
    }
    return this.#pos + length;
  }

  /** Leaves the message that ends at `end`, which its last field must not overrun. */
  #close(end: number): void {
    if (this.#pos !== end) throw new Error(`a field runs past the end of its message at ${end}`);
    this.#depth--;
  }

  /**
   * A string that repeats from record to record (an attribute key, a severity text): the same
   * bytes as a recent one give the same string back. Besides the decoding, this saves V8 from
   * looking a new copy of the key up again in every record's attributes object.
   */
  #key(): string {
    const length = this.#varint();
    if (length === 0 || length > MAX_KEY) return this.#text(length);
    const start = this.#advance(length);
    const buf = this.#buf;
    const slot = (length + buf[start]! * 7 + buf[start + length - 1]! * 31) & (KEY_SLOTS - 1);
    const cached = this.#keys[slot];
    if (cached !== undefined && cached.bytes.length === length) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = cached.bytes[i] === buf[start + i];
      if (same) return cached.text;
    }
    this.#pos = start;
    const text = this.#text(length);
    this.#keys[slot] = { bytes: buf.subarray(start, start + length), text };
    return text;
  }

  #string(): string {
    return this.#text(this.#varint());
  }

  /** The UTF-8 text of the next `length` bytes. */
  #text(length: number): string {
    const start = this.#advance(length);
    const buf = this.#buf;
    // Short ASCII strings (keys, severity texts) are built here: a third of the cost of a call
    // into the UTF-8 decoder, which is paid per string whatever its length.
    if (length <= SHORT_STRING) {
      let text = '';
      for (let i = start; i < start + length; i++) {
        const byte = buf[i]!;
        if (byte >= 0x80) return buf.toString('utf8', start, start + length);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return buf.toString('utf8', start, start + length);
  }

  #bytes(): Uint8Array {
    const length = this.#varint();
    const start = this.#advance(length);
    return this.#buf.subarray(start, start + length);
  }

  /** Moves past `length` bytes; returns where they start. */
  #advance(length: number): number {
    const start = this.#pos;
    if (length > this.#buf.length - start) {
      throw new Error(`index out of range: ${start} + ${length} > ${this.#buf.length}`);
    }
    this.#pos = start + length;
    return start;
  }

  /**
   * Reads a varint of up to ten bytes: returns its low 32 bits, unsigned, and leaves the high
   * 32 bits in `#hi`. Bits past 64 are dropped, as every protobuf reader drops them.
   */
  #varint(): number {
    const buf = this.#buf;
    const length = buf.length;
    let pos = this.#pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= length) throw new Error(`index out of range: varint at ${this.#pos}`);
      const byte = buf[pos++]!;
      if (shift < 28) lo |= (byte & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (byte & 0x0f) << 28;
        hi = (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (shift - 32);
      if (byte < 0x80) {
        this.#pos = pos;
        this.#hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    throw new Error(`invalid varint encoding at ${this.#pos}`);
  }

  /** An int64 varint: a number when it is a safe integer, else a signed decimal string. */
  #int64(): number | string {
    const lo = this.#varint();
    const hi = this.#hi;
    // Non-negative and below 2^53: no BigInt needed.
    if (hi < 0x200000) return hi * 0x1_0000_0000 + lo;
    const value = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }

  /** A fixed64 count of nanoseconds as whole milliseconds, exactly. */
  #nanosToMs(): number {
    const start = this.#advance(8);
    const lo = this.#buf.readUInt32LE(start);
    const hi = this.#buf.readUInt32LE(start + 4);
    // hi · 2^32 + lo = hi · 4294 · 10^6 + (hi · 967296 + lo), and every term stays below
    // 2^53: the division by 10^6 is exact without a BigInt.
    return hi * 4294 + Math.floor((hi * 967_296 + lo) / 1e6);
  }

  /** Skips a field of wire type `t & 7` (its tag already read). */
  #skip(t: number): void {
    switch (t & 7) {
      case 0:
        this.#varint();
        return;
      case 1:
        this.#advance(8);
        return;
      case 2:
        this.#advance(this.#varint());
        return;
      case 3: {
        // A group runs to the end-group tag of the same field number; groups nest.
        if (++this.#depth > MAX_DEPTH) throw new Error('max depth exceeded');
        const endTag = ((t & ~7) | 4) >>> 0;
        for (;;) {
          const inner = this.#varint();
          if (inner === endTag) break;
          this.#skip(inner);
        }
        this.#depth--;
        return;
      }
      case 5:
        this.#advance(4);
        return;
      default:
        throw new Error(`invalid wire type ${t & 7} at offset ${this.#pos}`);
    }
  }
}
