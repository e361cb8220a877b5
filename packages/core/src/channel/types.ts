/** The sending and receiving sides of a channel, as separate types so a stage gets only its side. */

/** Result of a non-blocking send. A refused item is handed back to its owner. */
export type TrySendResult<T> =
  | { readonly ok: true; readonly outcome: 'queued' | 'dropped' }
  | { readonly ok: false; readonly reason: 'full' | 'closed'; readonly item: T };

export interface ChannelSender<T> {
  /**
   * Queues `item`, waiting while the channel is full (under the `block` policy). Resolves with
   * `dropped` when a drop policy discarded the item (it is counted, and `onDrop` has seen it).
   * Rejects with `ERR_CHANNEL_CLOSED` once the channel is closed, or with the signal's reason.
   */
  send(item: T, signal?: AbortSignal): Promise<'queued' | 'dropped'>;
  /** Never waits. A refused item is handed back with the reason. */
  trySend(item: T): TrySendResult<T>;
  /** No more sends; receivers drain what is queued, then see the end. */
  close(): void;
  readonly closed: boolean;
}

export interface ChannelReceiver<T> extends AsyncIterable<T> {
  /** The next item, waiting while empty; `undefined` once closed and drained. */
  recv(signal?: AbortSignal): Promise<T | undefined>;
  /** The next item if one is queued now. */
  tryRecv(): T | undefined;
}

/** Counters and gauges of one channel. Totals only grow. */
export interface ChannelStats {
  readonly name: string;
  readonly policy: string;
  /** Items queued now. */
  readonly depth: number;
  /** Bytes queued now. */
  readonly bytes: number;
  readonly capacity: number;
  readonly maxBytes: number;
  /** The larger of depth/capacity and bytes/maxBytes, in [0, 1]. */
  readonly fillRatio: number;
  readonly totalIn: number;
  readonly totalOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Senders parked right now. */
  readonly blockedSenders: number;
  /** Total milliseconds senders spent parked, including those parked now. */
  readonly blockedMs: number;
  /** Items dropped, by reason. */
  readonly drops: Readonly<Record<string, number>>;
  readonly droppedBytes: number;
}

/** A channel that a pipeline can put between two stages: both sides, stats and a hard stop. */
export interface BufferChannel<T> extends ChannelSender<T>, ChannelReceiver<T> {
  readonly name: string;
  stats(): ChannelStats;
  /**
   * Ends the channel now: parked senders and receivers are rejected with `reason`, and the items
   * still queued are handed back to the caller (not counted as drops: the caller decides).
   */
  abort(reason?: unknown): T[];
  /**
   * Offered each item a consumer was still working on when the pipeline stopped hard (a sink
   * write cut short at the deadline). Return true to take it over — the buffer then settles its
   * acknowledgement — e.g. to persist it for the next start; false leaves it counted as lost.
   */
  reclaim?(item: T): boolean;
  /**
   * Takes back an item its consumer could not deliver for now (a sink whose retries ran out),
   * to be received again later, while the pipeline runs. Resolves true when the buffer took it
   * over (and settles its acknowledgement from then on), false when it cannot (then the
   * consumer keeps it). Must not wait for room the consumer itself would have to make.
   */
  requeue?(item: T, signal: AbortSignal): Promise<boolean>;
  /**
   * Called once at the end of `pipeline.stop()`, after every stage has ended: a buffer that
   * keeps data across restarts persists what it still holds here and releases its files.
   */
  shutdown?(signal: AbortSignal): Promise<void>;
}
