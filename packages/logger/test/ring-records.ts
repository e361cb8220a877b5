// The records of the two-thread ring tests: fixed-size NDJSON lines that carry their sequence
// number twice, at both ends, so that a record torn or spliced from two writes is caught:
//   {"seq":0000000042,"msg":"………","end":0000000042}
// The producer stamps the numbers into one reused template, so it allocates nothing per write.

const HEAD = '{"seq":';
const DIGITS = 10;
const MIDDLE_START = '","end":';
const TAIL = '}';

/** A 100-byte record template whose two numbers are stamped by `stamp()`. */
export function recordTemplate(bytes = 100): Uint8Array {
  const fixed = HEAD.length + DIGITS + ',"msg":"'.length + MIDDLE_START.length + DIGITS + 1;
  const text = `${HEAD}${'0'.repeat(DIGITS)},"msg":"${'x'.repeat(bytes - fixed)}${MIDDLE_START}${'0'.repeat(DIGITS)}${TAIL}`;
  return new TextEncoder().encode(text);
}

const endDigits = (length: number) => length - TAIL.length - DIGITS;

/** Writes `seq` into both number fields of `record`, in place. */
export function stamp(record: Uint8Array, seq: number): void {
  const end = endDigits(record.length);
  let n = seq;
  for (let i = DIGITS - 1; i >= 0; i--) {
    const digit = 0x30 + (n % 10);
    record[HEAD.length + i] = digit;
    record[end + i] = digit;
    n = Math.floor(n / 10);
  }
}

/**
 * The sequence number of the record in `data[start, end)`, or -1 when it is not an intact
 * record shaped like `template` (wrong length, numbers that differ, any other byte changed).
 */
export function checkRecord(
  data: Uint8Array,
  start: number,
  end: number,
  template: Uint8Array,
): number {
  if (end - start !== template.length) return -1;
  const second = endDigits(template.length);
  let seq = 0;
  for (let i = 0; i < DIGITS; i++) {
    const digit = data[start + HEAD.length + i]!;
    if (digit < 0x30 || digit > 0x39 || data[start + second + i] !== digit) return -1;
    seq = seq * 10 + (digit - 0x30);
  }
  for (let i = 0; i < template.length; i++) {
    const inNumber =
      (i >= HEAD.length && i < HEAD.length + DIGITS) || (i >= second && i < second + DIGITS);
    if (!inNumber && data[start + i] !== template[i]) return -1;
  }
  return seq;
}
