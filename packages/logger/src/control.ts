/**
 * The control words the application thread and the shipping thread share, beside the ring:
 * how the application asks for a stop (exit, signal, crash) and waits for it synchronously —
 * an `exit` listener cannot await, but it can `Atomics.wait` while the shipping thread works.
 *
 * ```
 *   [STATE]     0 running · 1 stop asked · 2 stopped (the worker's answer)
 *   [DEADLINE]  milliseconds the stop may take before the rest is persisted
 *   [UNDELIVERED_BATCHES] [UNDELIVERED_EVENTS]  what the stop could neither deliver nor persist
 * ```
 */
export const STATE = 0;
export const DEADLINE = 1;
export const UNDELIVERED_BATCHES = 2;
export const UNDELIVERED_EVENTS = 3;
const WORDS = 4;

export const RUNNING = 0;
export const STOP_ASKED = 1;
export const STOPPED = 2;

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT));
}
