/**
 * Catches a stage touching acknowledgements that are not its to touch.
 *
 * `watch(batch)` replaces `settle` and `retain` on that batch's acknowledgement (as own
 * properties, shadowing the class's methods) with versions that note every call the kit did
 * not make itself, then carry it out as before — so the stage sees what the pipeline would
 * show it, e.g. `ERR_ACK_SETTLED` when the kit settles after it. The kit's own calls go
 * through {@link AckWatch.settle}.
 */
import type { Acknowledgement, Batch, DeliveryStatus } from '@spillway/core';

const watched = new WeakMap<Acknowledgement, AckWatch>();

export class AckWatch {
  /** What the stage did, one sentence per call, in order. */
  readonly misuse: string[] = [];
  #ours = false;

  /** Notes every settle or retain of `batch.ack` made by anyone but this watch from now on. */
  watch(batch: Batch): void {
    const ack = batch.ack;
    if (watched.has(ack)) return;
    watched.set(ack, this);
    const settle = ack.settle.bind(ack);
    const retain = ack.retain.bind(ack);
    Object.assign(ack, {
      settle: (status: DeliveryStatus, reason?: string) => {
        if (!this.#ours) {
          this.misuse.push(`settled the acknowledgement of batch ${batch.id} (${status})`);
        }
        settle(status, reason);
      },
      retain: (n?: number) => {
        if (!this.#ours) {
          this.misuse.push(`retained the acknowledgement of batch ${batch.id}`);
        }
        retain(n);
      },
    });
  }

  /** Settles as the pipeline would; quietly does nothing if the stage settled it already. */
  settle(batch: Batch, status: DeliveryStatus, reason?: string): void {
    if (batch.ack.settled) return;
    this.#ours = true;
    try {
      batch.ack.settle(status, reason);
    } catch {
      // Settled too often because the stage settled a reference itself: already noted.
    } finally {
      this.#ours = false;
    }
  }
}
