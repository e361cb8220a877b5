/**
 * A fixed-capacity FIFO ring. Never grows: `push` on a full ring is a programming error.
 *
 * ```
 *        head (next to shift)          tail = (head + length) % capacity (next to push)
 *          v                              v
 *   [ . . a b c d e . . . ]  capacity 10, length 5
 * ```
 *
 * Slots are cleared on `shift` so the ring never keeps a reference to an item it no longer holds.
 */
export class Ring<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.#slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  get full(): boolean {
    return this.#length === this.capacity;
  }

  push(item: T): void {
    if (this.#length === this.capacity) throw new RangeError('ring is full');
    this.#slots[(this.#head + this.#length) % this.capacity] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** The item `index` places behind the head (0 = head). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#slots[(this.#head + index) % this.capacity];
  }

  /** Removes the item at `index` (0 = head), keeping the order of the rest. O(length). */
  removeAt(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    const item = this.at(index);
    for (let i = index; i < this.#length - 1; i++) {
      this.#slots[(this.#head + i) % this.capacity] =
        this.#slots[(this.#head + i + 1) % this.capacity];
    }
    this.#slots[(this.#head + this.#length - 1) % this.capacity] = undefined;
    this.#length--;
    return item;
  }

  clear(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined || this.#length > 0; item = this.shift()) {
      out.push(item as T);
    }
    return out;
  }
}
