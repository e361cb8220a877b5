/**
 * A FIFO list of parked callers (senders or receivers waiting on a channel), with O(1) removal
 * so that an aborted waiter leaves the line without a scan.
 *
 * ```
 *   first -> [w1] <-> [w2] <-> [w3] <- last
 * ```
 *
 * The list is bounded by its owner (`maxWaiters`): each node is a suspended caller, so the bound
 * caps how many callers may be parked at once rather than how much data is held.
 */
export interface WaitNode<T> {
  value: T;
  prev: WaitNode<T> | undefined;
  next: WaitNode<T> | undefined;
  linked: boolean;
}

export class WaitList<T> {
  #first: WaitNode<T> | undefined;
  #last: WaitNode<T> | undefined;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  get first(): WaitNode<T> | undefined {
    return this.#first;
  }

  push(value: T): WaitNode<T> {
    const node: WaitNode<T> = { value, prev: this.#last, next: undefined, linked: true };
    if (this.#last) this.#last.next = node;
    else this.#first = node;
    this.#last = node;
    this.#length++;
    return node;
  }

  shift(): T | undefined {
    const node = this.#first;
    if (!node) return undefined;
    this.remove(node);
    return node.value;
  }

  remove(node: WaitNode<T>): void {
    if (!node.linked) return;
    if (node.prev) node.prev.next = node.next;
    else this.#first = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#last = node.prev;
    node.prev = node.next = undefined;
    node.linked = false;
    this.#length--;
  }
}
