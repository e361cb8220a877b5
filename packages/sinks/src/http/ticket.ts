/**
 * A ticket per `write()`: the batch's records travel in chunks (cut by the batcher's bounds,
 * by tenant, by 413 splits, by per-item retries), and the write resolves once every chunk has
 * an outcome. The batch's outcome is the worst of its chunks': a chunk given back (`requeue`)
 * sends the whole batch back to its buffer; a dead-lettered or rejected chunk makes it
 * `rejected`; otherwise it is delivered.
 */
import { type Batch, type BatchPayload, recordCount, type SinkOutcome } from '@spillway/core';

export type ChunkResult =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'requeue'; readonly reason: string };

export class Ticket {
  readonly batch: Batch;
  readonly outcome: Promise<SinkOutcome>;
  #resolve!: (outcome: SinkOutcome) => void;
  /** Chunks not settled, plus one held by the writer until `seal()`: no early outcome. */
  #open = 1;
  #rejected: string | undefined;
  #requeue: string | undefined;

  constructor(batch: Batch) {
    this.batch = batch;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /**
   * A chunk of this ticket's records. `part` names it within the batch (empty for the whole
   * batch): the same cut of the same batch gets the same name, so its request id is stable
   * across retries and replays, and different cuts never share one.
   */
  chunk(payload: BatchPayload, part = ''): Chunk {
    this.#open++;
    return new Chunk(this, payload, part);
  }

  /** Every chunk has been made: the outcome is known once they have all settled. */
  seal(): void {
    this.#finish();
  }

  /** @internal called by its chunks */
  settle(result: ChunkResult): void {
    if (result.kind === 'requeue') this.#requeue ??= result.reason;
    if (result.kind === 'rejected') this.#rejected ??= result.reason;
    this.#finish();
  }

  #finish(): void {
    if (--this.#open > 0) return;
    if (this.#requeue !== undefined) this.#resolve({ status: 'requeue', reason: this.#requeue });
    else if (this.#rejected !== undefined)
      this.#resolve({ status: 'rejected', reason: this.#rejected });
    else this.#resolve(undefined);
  }
}

/** Some records of one batch, on their way. Each chunk settles exactly once. */
export class Chunk {
  readonly ticket: Ticket;
  readonly payload: BatchPayload;
  readonly records: number;
  readonly bytes: number;
  /** Its name within the batch; see {@link Ticket.chunk}. */
  readonly part: string;
  #settled = false;

  constructor(ticket: Ticket, payload: BatchPayload, part: string) {
    this.ticket = ticket;
    this.payload = payload;
    this.part = part;
    this.records = recordCount(payload);
    this.bytes =
      payload.kind === 'raw'
        ? payload.data.byteLength
        : Math.ceil((ticket.batch.bytes * this.records) / Math.max(1, ticket.batch.count));
  }

  settle(result: ChunkResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.ticket.settle(result);
  }

  /** Replaces this chunk by chunks of the given pieces of it (the ticket waits for all). */
  replace(pieces: readonly BatchPayload[], names: readonly string[]): Chunk[] {
    const chunks = pieces.map((p, i) => this.ticket.chunk(p, `${this.part}${names[i]}`));
    this.#settled = true;
    this.ticket.settle({ kind: 'delivered' });
    return chunks;
  }
}
