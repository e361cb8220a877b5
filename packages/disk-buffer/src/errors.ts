/**
 * Errors of the disk buffer. Conditions core already names (an invalid option, an item too large,
 * a closed channel) are raised as core's `SpillwayError` with core's code; the conditions only a
 * disk buffer has get a `DiskBufferError` with a code of its own, so core's closed `ErrorCode`
 * union stays untouched.
 *
 * A `DiskBufferError` carries core's `Symbol.for('spillway.error')` brand, so
 * `SpillwayError.is(err)` recognises it too; match its code with `DiskBufferError.is(err, code)`.
 */

import { errorFamily } from '@spillway/core';

/** Every stable code a `DiskBufferError` carries. */
export type DiskBufferErrorCode =
  /** Another live process holds the buffer's directory (see the `lock` file). */
  | 'ERR_DISK_BUFFER_LOCKED'
  /** The buffer was closed; nothing more can be appended. */
  | 'ERR_DISK_BUFFER_CLOSED'
  /** A file operation failed; `cause` is the file system's error (ENOSPC, EIO …). */
  | 'ERR_DISK_BUFFER_IO';

/**
 * An error only a disk buffer raises or reports. Write errors do not reject appends: they are
 * counted and passed to the buffer's `onError` option (with the file system's error as `cause`),
 * then the buffer's full-policy decides what happens to the data.
 *
 * @example
 * ```ts
 * try { await DiskBuffer.open({ dir }); }
 * catch (err) { if (DiskBufferError.is(err, 'ERR_DISK_BUFFER_LOCKED')) process.exit(2); throw err; }
 * ```
 */
export class DiskBufferError extends errorFamily<DiskBufferErrorCode>(
  'DiskBufferError',
  'spillway.disk-buffer.error',
) {}
