/**
 * The hand-off ring between the application thread and the shipping thread. See
 * `record-ring.ts` for its design and invariants.
 */
export {
  type LineBatch,
  type RecordBatch,
  RecordRing,
  RecordRingConsumer,
  type RecordRingOptions,
  type RecordRingStats,
  type RingDropReason,
  type WhenFull,
  type WriteResult,
} from './record-ring.js';
