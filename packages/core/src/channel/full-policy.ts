/**
 * What a channel does with an item that does not fit: a named, pluggable strategy.
 *
 * Built in: `block` (the sender waits; the default, because it carries pressure upstream),
 * `drop-newest` (the new item is dropped and counted) and `drop-oldest` (queued items are evicted,
 * oldest first, until the new one fits; each eviction is counted). Spilling to disk is not a
 * policy of this in-memory channel: the disk-buffer package provides a channel of its own with the
 * same sender and receiver interfaces.
 */

/** Names of the built-in policies. */
export type FullPolicyName = 'block' | 'drop-newest' | 'drop-oldest';

/** What a policy may do to the queue while deciding. */
export interface OverflowAccess<T> {
  /** True when `item` fits in the queue as it is now. */
  fits(item: T): boolean;
  /** Removes the oldest queued item, counting it as dropped under `reason`. */
  evictOldest(reason: string): T | undefined;
}

/**
 * - `wait`: park the sender until the item fits (`trySend` reports `full` instead).
 * - `drop`: drop the new item, counted under the policy's `dropReason`.
 * - `admit`: the policy made room; queue the item.
 */
export type FullDecision = 'wait' | 'drop' | 'admit';

export interface FullPolicy {
  readonly name: string;
  /** The reason under which drops decided by this policy are counted. */
  readonly dropReason: string;
  /** Called only when `item` does not fit (or earlier senders are still waiting). */
  onFull<T>(item: T, queue: OverflowAccess<T>): FullDecision;
}

export const block: FullPolicy = {
  name: 'block',
  dropReason: 'none',
  onFull: () => 'wait',
};

export const dropNewest: FullPolicy = {
  name: 'drop-newest',
  dropReason: 'full_drop_newest',
  onFull: () => 'drop',
};

export const dropOldest: FullPolicy = {
  name: 'drop-oldest',
  dropReason: 'full_drop_oldest',
  onFull(item, queue) {
    while (!queue.fits(item)) {
      if (queue.evictOldest(this.dropReason) === undefined) return 'drop';
    }
    return 'admit';
  },
};

const builtIn: Record<FullPolicyName, FullPolicy> = {
  block,
  'drop-newest': dropNewest,
  'drop-oldest': dropOldest,
};

/** Resolves a policy name to its strategy; strategies pass through. */
export function resolveFullPolicy(policy: FullPolicyName | FullPolicy | undefined): FullPolicy {
  if (policy === undefined) return block;
  if (typeof policy === 'string') {
    const found = builtIn[policy];
    if (!found) throw new TypeError(`unknown full policy "${policy as string}"`);
    return found;
  }
  return policy;
}
